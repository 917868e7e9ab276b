//! The conformance suite every [`MetaStore`] implementation must pass (Garage's `db/test.rs` is
//! the model): each check drives a fresh store through one family of operations and asserts
//! what the trait promises, blob reference counts included.

use std::collections::BTreeMap;

use bytes::Bytes;
use wharf_model::{AccessKey, User, VersionId};

use super::*;
use crate::checksum::{Checksum, ChecksumAlgorithm};
use crate::error::StoreError;

/// Runs every check against stores made by `new_store` (one fresh store per check).
pub async fn run_all<F, Fut>(new_store: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Box<dyn MetaStore>>,
{
    users_and_keys(new_store().await.as_ref()).await;
    settings(new_store().await.as_ref()).await;
    buckets(new_store().await.as_ref()).await;
    versions_and_overwrites(new_store().await.as_ref()).await;
    versioning_and_delete_markers(new_store().await.as_ref()).await;
    suspended_versioning(new_store().await.as_ref()).await;
    tags_and_bucket_configs(new_store().await.as_ref()).await;
    mfa_devices(new_store().await.as_ref()).await;
    locked_versions_stay(new_store().await.as_ref()).await;
    write_conditions(new_store().await.as_ref()).await;
    blob_references(new_store().await.as_ref()).await;
    shared_blobs_and_failed_copies(new_store().await.as_ref()).await;
    listings(new_store().await.as_ref()).await;
    multipart(new_store().await.as_ref()).await;
    bucket_deletion_releases_uploads(new_store().await.as_ref()).await;
}

const OWNER: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn blob(n: u8) -> BlobId {
    BlobId::parse(&format!("{n:02x}{}", "0".repeat(30))).unwrap()
}

fn object(bucket: &str, key: &str, body: BodyLayout) -> ObjectRecord {
    let size = match &body {
        BodyLayout::Inline(b) => b.len() as u64,
        BodyLayout::Blobs(b) => b.iter().map(|r| r.len).sum(),
    };
    ObjectRecord {
        bucket: bucket.into(),
        key: key.into(),
        version_id: ObjectRecord::uncommitted_version_id(),
        null_version: true,
        size,
        etag: format!("etag-{key}-{size}"),
        last_modified_ms: 1_700_000_000_000,
        owner: OWNER.into(),
        attrs: ObjectAttrs::default(),
        checksum: None,
        body,
        parts: Vec::new(),
        upload_id: None,
    }
}

fn inline(bucket: &str, key: &str, data: &'static [u8]) -> ObjectRecord {
    object(bucket, key, BodyLayout::Inline(Bytes::from_static(data)))
}

fn in_blobs(bucket: &str, key: &str, ids: &[BlobId]) -> ObjectRecord {
    object(
        bucket,
        key,
        BodyLayout::Blobs(
            ids.iter()
                .map(|id| BlobRef {
                    id: id.clone(),
                    len: 100,
                })
                .collect(),
        ),
    )
}

async fn bucket(m: &dyn MetaStore, name: &str) {
    m.create_bucket(BucketRecord {
        name: name.into(),
        owner: OWNER.into(),
        created_ms: 1,
        region: "us-east-1".into(),
        versioning: Default::default(),
    })
    .await
    .unwrap();
}

/// Blobs unreferenced at any time up to now.
async fn garbage(m: &dyn MetaStore) -> Vec<BlobId> {
    let mut g = m.unreferenced_blobs(i64::MAX, 10_000).await.unwrap();
    g.sort();
    g
}

async fn users_and_keys(m: &dyn MetaStore) {
    let alice = User {
        name: "alice".into(),
        canonical_id: OWNER.into(),
        display_name: "alice".into(),
    };
    let key = AccessKey::given("alice", "AKIAALICE0001", "secret-secret").unwrap();
    m.create_user(alice.clone(), key.clone()).await.unwrap();
    assert!(matches!(
        m.create_user(alice.clone(), key.clone()).await,
        Err(StoreError::UserAlreadyExists(_))
    ));
    assert!(matches!(
        m.add_access_key(key.clone()).await,
        Err(StoreError::AccessKeyAlreadyExists)
    ));
    let orphan = AccessKey::given("nobody", "AKIANOBODY01", "secret-secret").unwrap();
    assert!(matches!(
        m.add_access_key(orphan).await,
        Err(StoreError::NoSuchUser(_))
    ));
    let second = AccessKey::given("alice", "AKIAALICE0002", "secret-secret-2").unwrap();
    m.add_access_key(second).await.unwrap();
    assert_eq!(m.get_user("alice").await.unwrap(), Some(alice.clone()));
    let (k, u) = m.lookup_access_key("AKIAALICE0002").await.unwrap().unwrap();
    assert_eq!(
        (k.secret_access_key.as_str(), u),
        ("secret-secret-2", alice.clone())
    );
    let listed = m.list_users().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].1, vec!["AKIAALICE0001", "AKIAALICE0002"]);
    m.delete_user("alice").await.unwrap();
    assert!(
        m.lookup_access_key("AKIAALICE0001")
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        m.delete_user("alice").await,
        Err(StoreError::NoSuchUser(_))
    ));
}

async fn settings(m: &dyn MetaStore) {
    assert_eq!(m.setting("account_id").await.unwrap(), None);
    assert_eq!(m.init_setting("account_id", "111").await.unwrap(), "111");
    assert_eq!(
        m.setting("account_id").await.unwrap().as_deref(),
        Some("111")
    );
    // The first value stays.
    assert_eq!(m.init_setting("account_id", "222").await.unwrap(), "111");
    assert_eq!(m.init_setting("other", "x").await.unwrap(), "x");
}

async fn buckets(m: &dyn MetaStore) {
    bucket(m, "b1").await;
    let again = BucketRecord {
        name: "b1".into(),
        owner: OWNER.into(),
        created_ms: 2,
        region: "us-east-1".into(),
        versioning: Default::default(),
    };
    assert!(matches!(
        m.create_bucket(again.clone()).await,
        Err(StoreError::BucketAlreadyOwnedByYou)
    ));
    let other = BucketRecord {
        owner: "other".into(),
        ..again
    };
    assert!(matches!(
        m.create_bucket(other).await,
        Err(StoreError::BucketAlreadyExists)
    ));
    bucket(m, "a0").await;
    let names: Vec<_> = m
        .list_buckets(OWNER)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, vec!["a0", "b1"]);
    m.put_object(inline("b1", "k", b"x"), WriteCondition::default())
        .await
        .unwrap();
    assert!(matches!(
        m.delete_bucket("b1").await,
        Err(StoreError::BucketNotEmpty)
    ));
    m.delete_object("b1", "k", OWNER, WriteCondition::default())
        .await
        .unwrap();
    m.delete_bucket("b1").await.unwrap();
    assert!(m.get_bucket("b1").await.unwrap().is_none());
    assert!(matches!(
        m.delete_bucket("b1").await,
        Err(StoreError::NoSuchBucket)
    ));
    assert!(matches!(
        m.put_object(inline("b1", "k", b"x"), WriteCondition::default())
            .await,
        Err(StoreError::NoSuchBucket)
    ));
}

async fn versions_and_overwrites(m: &dyn MetaStore) {
    bucket(m, "b").await;
    let mut rec = inline("b", "key", b"first");
    rec.attrs = ObjectAttrs {
        content_type: Some("text/plain".into()),
        user_metadata: BTreeMap::from([("color".into(), "blue".into())]),
        ..Default::default()
    };
    rec.checksum = Some(Checksum::full_object(
        ChecksumAlgorithm::Crc32,
        &[1, 2, 3, 4],
    ));
    rec.parts = vec![PartSummary {
        part_number: 1,
        size: 5,
        checksum: None,
    }];
    let first = m
        .put_object(rec.clone(), WriteCondition::default())
        .await
        .unwrap();
    assert!(first.null_version);
    assert_ne!(first.version_id, ObjectRecord::uncommitted_version_id());
    assert_eq!(first.s3_version_id(), "null");
    // Everything written is read back.
    let got = m.get_object("b", "key").await.unwrap().unwrap();
    assert_eq!(got, first);
    assert_eq!(
        got,
        ObjectRecord {
            version_id: first.version_id.clone(),
            ..rec
        }
    );
    assert_eq!(
        m.get_version("b", "key", "null").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        m.get_version("b", "key", first.version_id.as_str())
            .await
            .unwrap(),
        Some(first.clone())
    );
    assert_eq!(m.get_version("b", "key", "bogus").await.unwrap(), None);
    // An overwrite replaces the null version with a newer one.
    let second = m
        .put_object(inline("b", "key", b"second"), WriteCondition::default())
        .await
        .unwrap();
    assert!(second.version_id < first.version_id, "newer ids sort first");
    assert_ne!(second.version_id, first.version_id);
    assert_eq!(
        m.get_object("b", "key").await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(
        m.get_version("b", "key", first.version_id.as_str())
            .await
            .unwrap(),
        None
    );
    let all = m
        .list_versions("b", "", VersionBound::Keys(KeyBound::Unbounded), 10)
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert!(all[0].is_latest && all[0].null_version);
    // Deleting returns the version removed; a second delete finds nothing.
    let gone = m
        .delete_object("b", "key", OWNER, WriteCondition::default())
        .await
        .unwrap();
    assert_eq!(gone.removed, Some(second));
    assert_eq!(gone.marker, None, "no delete markers without versioning");
    assert_eq!(
        m.delete_object("b", "key", OWNER, WriteCondition::default())
            .await
            .unwrap(),
        Deletion::default()
    );
    assert_eq!(m.get_object("b", "key").await.unwrap(), None);
}

/// The ids S3 shows of every version of `b`, newest first per key, markers as `M:id`, the
/// current one with a `*`.
async fn version_list(m: &dyn MetaStore) -> Vec<String> {
    m.list_versions("b", "", VersionBound::Keys(KeyBound::Unbounded), 100)
        .await
        .unwrap()
        .iter()
        .map(|v| {
            format!(
                "{}{}{}",
                if v.delete_marker { "M:" } else { "" },
                v.s3_version_id(),
                if v.is_latest { "*" } else { "" }
            )
        })
        .collect()
}

async fn versioning_and_delete_markers(m: &dyn MetaStore) {
    bucket(m, "b").await;
    // Unversioned stays unversioned; the first write is the null version.
    m.set_versioning("b", Versioning::Unversioned)
        .await
        .unwrap();
    let null = m
        .put_object(inline("b", "k", b"null"), WriteCondition::default())
        .await
        .unwrap();
    assert!(null.null_version);
    m.set_versioning("b", Versioning::Enabled).await.unwrap();
    assert_eq!(
        m.get_bucket("b").await.unwrap().unwrap().versioning,
        Versioning::Enabled
    );
    assert!(matches!(
        m.set_versioning("b", Versioning::Unversioned).await,
        Err(StoreError::InvalidRequest(_))
    ));
    assert!(matches!(
        m.set_versioning("nope", Versioning::Enabled).await,
        Err(StoreError::NoSuchBucket)
    ));
    // Each write adds a version; the null version stays.
    let v1 = m
        .put_object(in_blobs("b", "k", &[blob(1)]), WriteCondition::default())
        .await
        .unwrap();
    let v2 = m
        .put_object(inline("b", "k", b"two"), WriteCondition::default())
        .await
        .unwrap();
    assert!(!v1.null_version && !v2.null_version);
    assert!(v2.version_id < v1.version_id && v1.version_id < null.version_id);
    assert_eq!(m.get_object("b", "k").await.unwrap(), Some(v2.clone()));
    let get = |id: String| async move { m.get_version("b", "k", &id).await.unwrap() };
    assert_eq!(get(v1.version_id.to_string()).await, Some(v1.clone()));
    assert_eq!(get("null".into()).await, Some(null.clone()));
    let (id1, id2) = (v1.version_id.to_string(), v2.version_id.to_string());
    assert_eq!(
        version_list(m).await,
        [format!("{id2}*"), id1.clone(), "null".into()]
    );
    // A simple DELETE adds a delete marker: the key is gone from reads and the listing of
    // current objects, and every version is still there.
    let d = m
        .delete_object("b", "k", OWNER, WriteCondition::default())
        .await
        .unwrap();
    assert_eq!(d.removed, None);
    let mk = d.marker.unwrap();
    assert!(!mk.null_version && mk.is_latest && mk.version_id < v2.version_id);
    let idm = mk.version_id.to_string();
    assert_eq!(m.get_object("b", "k").await.unwrap(), None);
    assert_eq!(get(idm.clone()).await, None, "a marker is no object");
    assert_eq!(
        m.get_delete_marker("b", "k", None).await.unwrap(),
        Some(mk.clone())
    );
    assert_eq!(
        m.get_delete_marker("b", "k", Some(&idm)).await.unwrap(),
        Some(mk.clone())
    );
    assert_eq!(
        m.get_delete_marker("b", "k", Some(&id2)).await.unwrap(),
        None
    );
    assert!(
        m.list_objects("b", "", KeyBound::Unbounded, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        version_list(m).await,
        [format!("M:{idm}*"), id2.clone(), id1.clone(), "null".into()]
    );
    // A DELETE of a current marker adds another; removing a marker by id undeletes.
    let d2 = m
        .delete_object("b", "k", OWNER, WriteCondition::default())
        .await
        .unwrap()
        .marker
        .unwrap();
    let idm2 = d2.version_id.to_string();
    let removed = m
        .delete_version("b", "k", &idm2, WriteCondition::default())
        .await
        .unwrap();
    assert_eq!(removed, Some(RemovedVersion::Marker(d2)));
    assert_eq!(
        m.get_delete_marker("b", "k", None).await.unwrap(),
        Some(mk.clone()),
        "the older marker is current again"
    );
    let removed = m
        .delete_version("b", "k", &idm, WriteCondition::default())
        .await
        .unwrap();
    assert!(matches!(removed, Some(RemovedVersion::Marker(_))));
    assert_eq!(m.get_object("b", "k").await.unwrap(), Some(v2.clone()));
    assert_eq!(
        version_list(m).await,
        [format!("{id2}*"), id1.clone(), "null".into()]
    );
    // Removing a version for good: an older one is current again, and its blobs are released
    // only when the version naming them goes.
    let removed = m
        .delete_version("b", "k", &id2, WriteCondition::default())
        .await
        .unwrap();
    assert_eq!(removed, Some(RemovedVersion::Object(Box::new(v2))));
    assert_eq!(m.get_object("b", "k").await.unwrap(), Some(v1.clone()));
    assert!(garbage(m).await.is_empty());
    // A condition on the version named.
    let wrong = WriteCondition {
        if_match: Some(EtagCondition::parse("\"other\"")),
        ..Default::default()
    };
    assert!(matches!(
        m.delete_version("b", "k", &id1, wrong).await,
        Err(StoreError::PreconditionFailed)
    ));
    let removed = m
        .delete_version("b", "k", &id1, WriteCondition::default())
        .await
        .unwrap();
    assert_eq!(removed, Some(RemovedVersion::Object(Box::new(v1))));
    assert_eq!(garbage(m).await, vec![blob(1)]);
    assert_eq!(m.get_object("b", "k").await.unwrap(), Some(null));
    // Versions that do not exist, or ids that are none.
    for id in [id1.as_str(), "not-an-id", ""] {
        assert_eq!(
            m.delete_version("b", "k", id, WriteCondition::default())
                .await
                .unwrap(),
            None
        );
    }
    // A bucket keeps refusing deletion while any version or marker remains.
    m.delete_object("b", "k", OWNER, WriteCondition::default())
        .await
        .unwrap();
    m.delete_version("b", "k", "null", WriteCondition::default())
        .await
        .unwrap();
    assert!(matches!(
        m.delete_bucket("b").await,
        Err(StoreError::BucketNotEmpty)
    ));
    let left = m
        .list_versions("b", "", VersionBound::Keys(KeyBound::Unbounded), 10)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert!(left[0].delete_marker);
    let id = left[0].version_id.to_string();
    m.delete_version("b", "k", &id, WriteCondition::default())
        .await
        .unwrap();
    m.delete_bucket("b").await.unwrap();
}

async fn suspended_versioning(m: &dyn MetaStore) {
    bucket(m, "b").await;
    m.set_versioning("b", Versioning::Enabled).await.unwrap();
    let v1 = m
        .put_object(inline("b", "k", b"one"), WriteCondition::default())
        .await
        .unwrap();
    m.set_versioning("b", Versioning::Suspended).await.unwrap();
    // A write while suspended is the null version, on top of the others.
    let s1 = m
        .put_object(in_blobs("b", "k", &[blob(2)]), WriteCondition::default())
        .await
        .unwrap();
    assert!(s1.null_version && s1.version_id < v1.version_id);
    let id1 = v1.version_id.to_string();
    assert_eq!(version_list(m).await, ["null*".to_string(), id1.clone()]);
    // The next replaces it (its blobs released) and leaves the others.
    let s2 = m
        .put_object(inline("b", "k", b"s2"), WriteCondition::default())
        .await
        .unwrap();
    assert_eq!(garbage(m).await, vec![blob(2)]);
    assert_eq!(
        m.get_version("b", "k", "null").await.unwrap(),
        Some(s2.clone())
    );
    assert_eq!(version_list(m).await, ["null*".to_string(), id1.clone()]);
    // A simple DELETE removes the null version and adds a marker that is the null version.
    let d = m
        .delete_object("b", "k", OWNER, WriteCondition::default())
        .await
        .unwrap();
    assert_eq!(d.removed, Some(s2));
    let mk = d.marker.unwrap();
    assert!(mk.null_version && mk.is_latest);
    assert_eq!(m.get_version("b", "k", "null").await.unwrap(), None);
    assert_eq!(
        m.get_delete_marker("b", "k", Some("null")).await.unwrap(),
        Some(mk)
    );
    assert_eq!(version_list(m).await, ["M:null*".to_string(), id1.clone()]);
    // A write replaces the null marker; the enabled-era version stays.
    let s3 = m
        .put_object(inline("b", "k", b"s3"), WriteCondition::default())
        .await
        .unwrap();
    assert_eq!(m.get_object("b", "k").await.unwrap(), Some(s3));
    assert_eq!(version_list(m).await, ["null*".to_string(), id1.clone()]);
    // Enabled again: new versions pile up on the null one.
    m.set_versioning("b", Versioning::Enabled).await.unwrap();
    let v2 = m
        .put_object(inline("b", "k", b"two"), WriteCondition::default())
        .await
        .unwrap();
    assert_eq!(
        version_list(m).await,
        [format!("{}*", v2.version_id), "null".into(), id1]
    );
}

fn set_tags(tags: Vec<(String, String)>) -> AttrsUpdate {
    Box::new(move |a: &mut ObjectAttrs| {
        a.tags = tags;
        true
    })
}

async fn tags_and_bucket_configs(m: &dyn MetaStore) {
    bucket(m, "b").await;
    m.set_versioning("b", Versioning::Enabled).await.unwrap();
    let mut rec = inline("b", "k", b"one");
    rec.attrs.tags = vec![("a".into(), "1".into())];
    let v1 = m.put_object(rec, WriteCondition::default()).await.unwrap();
    let v2 = m
        .put_object(inline("b", "k", b"two"), WriteCondition::default())
        .await
        .unwrap();
    assert!(v2.attrs.tags.is_empty());
    // Tags belong to one version; the others keep theirs.
    let tags = vec![("x".into(), "y z".into()), ("a".into(), String::new())];
    assert!(
        m.update_attrs("b", "k", &v2.version_id, set_tags(tags.clone()))
            .await
            .unwrap()
    );
    assert_eq!(
        m.get_object("b", "k").await.unwrap().unwrap().attrs.tags,
        tags
    );
    let old = m
        .get_version("b", "k", v1.version_id.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.attrs.tags, vec![("a".to_string(), "1".to_string())]);
    assert_eq!(old.body, v1.body, "tagging leaves the body alone");
    // A marker or a missing version has no tags to set.
    let marker = m
        .delete_object("b", "k", OWNER, WriteCondition::default())
        .await
        .unwrap()
        .marker
        .unwrap();
    assert!(
        !m.update_attrs("b", "k", &marker.version_id, set_tags(tags.clone()))
            .await
            .unwrap()
    );
    assert!(
        !m.update_attrs("b", "nope", &v1.version_id, set_tags(tags))
            .await
            .unwrap()
    );
    // Bucket configurations by kind.
    assert_eq!(m.bucket_config("b", "tagging").await.unwrap(), None);
    m.set_bucket_config("b", "tagging", Some("[1]".into()))
        .await
        .unwrap();
    m.set_bucket_config("b", "other", Some("x".into()))
        .await
        .unwrap();
    assert_eq!(
        m.bucket_config("b", "tagging").await.unwrap().as_deref(),
        Some("[1]")
    );
    m.set_bucket_config("b", "tagging", None).await.unwrap();
    assert_eq!(m.bucket_config("b", "tagging").await.unwrap(), None);
    assert_eq!(
        m.bucket_config("b", "other").await.unwrap().as_deref(),
        Some("x")
    );
    assert!(matches!(
        m.bucket_config("nope", "tagging").await,
        Err(StoreError::NoSuchBucket)
    ));
    assert!(matches!(
        m.set_bucket_config("nope", "tagging", Some("x".into()))
            .await,
        Err(StoreError::NoSuchBucket)
    ));
}

async fn mfa_devices(m: &dyn MetaStore) {
    let alice = User {
        name: "alice".into(),
        canonical_id: OWNER.into(),
        display_name: "alice".into(),
    };
    let key = AccessKey::given("alice", "AKIAALICE0001", "secret-secret").unwrap();
    m.create_user(alice, key).await.unwrap();
    let d = MfaDevice {
        serial: "arn:aws:iam::111:mfa/alice".into(),
        user: "alice".into(),
        secret: "GEZDGNBV".into(),
        last_step: 0,
    };
    m.create_mfa_device(d.clone()).await.unwrap();
    assert!(
        m.create_mfa_device(d.clone()).await.is_err(),
        "a serial is one device"
    );
    let nobody = MfaDevice {
        serial: "x".into(),
        user: "nobody".into(),
        ..d.clone()
    };
    assert!(matches!(
        m.create_mfa_device(nobody).await,
        Err(StoreError::NoSuchUser(_))
    ));
    assert_eq!(m.mfa_device(&d.serial).await.unwrap(), Some(d.clone()));
    assert_eq!(m.mfa_device("none").await.unwrap(), None);
    // Each step is used once, and never one before the last used.
    assert!(m.use_mfa_step(&d.serial, 100).await.unwrap());
    assert!(!m.use_mfa_step(&d.serial, 100).await.unwrap());
    assert!(!m.use_mfa_step(&d.serial, 99).await.unwrap());
    assert!(m.use_mfa_step(&d.serial, 101).await.unwrap());
    assert_eq!(
        m.mfa_device(&d.serial).await.unwrap().unwrap().last_step,
        101
    );
    // A deleted user's devices go with it.
    m.delete_user("alice").await.unwrap();
    assert_eq!(m.mfa_device(&d.serial).await.unwrap(), None);
}

async fn locked_versions_stay(m: &dyn MetaStore) {
    bucket(m, "b").await;
    m.set_versioning("b", Versioning::Enabled).await.unwrap();
    let far = crate::now_ms() + 86_400_000;
    let put = |key: &'static str, attrs: ObjectAttrs| async move {
        let mut r = inline("b", key, b"x");
        r.attrs = attrs;
        m.put_object(r, WriteCondition::default()).await.unwrap()
    };
    let lock = |mode, until_ms| ObjectAttrs {
        retention: Some(Retention { mode, until_ms }),
        ..Default::default()
    };
    let compliance = put("c", lock(LockMode::Compliance, far)).await;
    let governance = put("g", lock(LockMode::Governance, far)).await;
    let held = put(
        "h",
        ObjectAttrs {
            legal_hold: Some(true),
            ..Default::default()
        },
    )
    .await;
    let expired = put("e", lock(LockMode::Compliance, crate::now_ms() - 1)).await;
    let bypass = WriteCondition {
        bypass_governance: true,
        ..Default::default()
    };
    for (v, key) in [(&compliance, "c"), (&held, "h")] {
        for cond in [WriteCondition::default(), bypass.clone()] {
            assert!(matches!(
                m.delete_version("b", key, v.version_id.as_str(), cond)
                    .await,
                Err(StoreError::ObjectLocked)
            ));
        }
    }
    assert!(matches!(
        m.delete_version(
            "b",
            "g",
            governance.version_id.as_str(),
            WriteCondition::default()
        )
        .await,
        Err(StoreError::ObjectLocked)
    ));
    assert!(
        m.delete_version("b", "g", governance.version_id.as_str(), bypass)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        m.delete_version(
            "b",
            "e",
            expired.version_id.as_str(),
            WriteCondition::default()
        )
        .await
        .unwrap()
        .is_some()
    );
    // A simple DELETE adds a marker whatever the locks.
    assert!(
        m.delete_object("b", "c", OWNER, WriteCondition::default())
            .await
            .unwrap()
            .marker
            .is_some()
    );
    assert!(
        m.get_version("b", "c", compliance.version_id.as_str())
            .await
            .unwrap()
            .is_some()
    );
}

async fn write_conditions(m: &dyn MetaStore) {
    bucket(m, "b").await;
    let any = || EtagCondition::Any;
    let tag = |v: &str| {
        EtagCondition::Tags(vec![EntityTag {
            weak: false,
            value: v.into(),
        }])
    };
    let create_only = WriteCondition {
        if_none_match: Some(any()),
        ..Default::default()
    };
    let v1 = m
        .put_object(inline("b", "k", b"one"), create_only.clone())
        .await
        .unwrap();
    assert!(matches!(
        m.put_object(inline("b", "k", b"two"), create_only).await,
        Err(StoreError::PreconditionFailed)
    ));
    let wrong = WriteCondition {
        if_match: Some(tag("nope")),
        ..Default::default()
    };
    assert!(matches!(
        m.put_object(inline("b", "k", b"two"), wrong.clone()).await,
        Err(StoreError::PreconditionFailed)
    ));
    assert!(matches!(
        m.delete_object("b", "k", OWNER, wrong).await,
        Err(StoreError::PreconditionFailed)
    ));
    assert_eq!(m.get_object("b", "k").await.unwrap(), Some(v1.clone()));
    let right = WriteCondition {
        if_match: Some(tag(&v1.etag)),
        ..Default::default()
    };
    let v2 = m.put_object(inline("b", "k", b"two"), right).await.unwrap();
    // If-Match on a key with no current version fails.
    let on_missing = WriteCondition {
        if_match: Some(any()),
        ..Default::default()
    };
    assert!(matches!(
        m.put_object(inline("b", "absent", b"x"), on_missing).await,
        Err(StoreError::PreconditionFailed)
    ));
    // A source version that is gone fails the write and changes nothing.
    let stale = WriteCondition {
        source: Some(SourceVersion {
            bucket: "b".into(),
            key: "k".into(),
            version_id: v1.version_id.clone(),
        }),
        ..Default::default()
    };
    assert!(matches!(
        m.put_object(inline("b", "copy", b"one"), stale).await,
        Err(StoreError::SourceChanged)
    ));
    assert_eq!(m.get_object("b", "copy").await.unwrap(), None);
    assert_eq!(m.get_object("b", "k").await.unwrap(), Some(v2));
}

async fn blob_references(m: &dyn MetaStore) {
    bucket(m, "b").await;
    let (a, b, c) = (blob(0xa0), blob(0xb0), blob(0xc0));
    m.put_object(
        in_blobs("b", "k", &[a.clone(), b.clone()]),
        WriteCondition::default(),
    )
    .await
    .unwrap();
    assert!(garbage(m).await.is_empty());
    assert!(m.known_blobs("a0").await.unwrap().contains(&a));
    assert!(m.known_blobs("b").await.unwrap().contains(&b));
    assert!(!m.known_blobs("c").await.unwrap().contains(&a));
    // The overwrite releases both blobs, but does not forget them.
    m.put_object(
        in_blobs("b", "k", std::slice::from_ref(&c)),
        WriteCondition::default(),
    )
    .await
    .unwrap();
    assert_eq!(garbage(m).await, vec![a.clone(), b.clone()]);
    // Not yet garbage for a collector whose grace period reaches before the release.
    assert!(m.unreferenced_blobs(0, 10).await.unwrap().is_empty());
    // Forgetting skips what is referenced again.
    let forgotten = m.forget_blobs(vec![a.clone(), c.clone()]).await.unwrap();
    assert_eq!(forgotten, vec![a.clone()]);
    assert!(!m.known_blobs("a").await.unwrap().contains(&a));
    assert_eq!(garbage(m).await, vec![b.clone()]);
    m.delete_object("b", "k", OWNER, WriteCondition::default())
        .await
        .unwrap();
    assert_eq!(garbage(m).await, vec![b, c]);
}

async fn shared_blobs_and_failed_copies(m: &dyn MetaStore) {
    bucket(m, "b").await;
    let x = blob(0x11);
    let src = m
        .put_object(
            in_blobs("b", "src", std::slice::from_ref(&x)),
            WriteCondition::default(),
        )
        .await
        .unwrap();
    let shares = |v: &ObjectRecord| WriteCondition {
        source: Some(SourceVersion {
            bucket: "b".into(),
            key: v.key.clone(),
            version_id: v.version_id.clone(),
        }),
        ..Default::default()
    };
    // A copy to another key shares the blob: two references.
    m.put_object(in_blobs("b", "dst", std::slice::from_ref(&x)), shares(&src))
        .await
        .unwrap();
    m.delete_object("b", "src", OWNER, WriteCondition::default())
        .await
        .unwrap();
    assert!(garbage(m).await.is_empty(), "the copy still names the blob");
    // A copy onto itself (a metadata change) keeps the blob referenced once.
    let dst = m.get_object("b", "dst").await.unwrap().unwrap();
    let mut changed = in_blobs("b", "dst", std::slice::from_ref(&x));
    changed.attrs.content_type = Some("image/png".into());
    let replaced = m.put_object(changed, shares(&dst)).await.unwrap();
    assert!(garbage(m).await.is_empty());
    // A copy onto itself that loses a race fails, and the object keeps its blob.
    let stale = m
        .put_object(in_blobs("b", "dst", std::slice::from_ref(&x)), shares(&dst))
        .await;
    assert!(matches!(stale, Err(StoreError::SourceChanged)));
    assert_eq!(m.get_object("b", "dst").await.unwrap(), Some(replaced));
    assert!(garbage(m).await.is_empty());
    m.delete_object("b", "dst", OWNER, WriteCondition::default())
        .await
        .unwrap();
    assert_eq!(garbage(m).await, vec![x]);
}

async fn listings(m: &dyn MetaStore) {
    bucket(m, "b").await;
    bucket(m, "other").await;
    for k in ["a", "b/1", "b/2", "c", "\u{e9}"] {
        m.put_object(inline("b", k, b"x"), WriteCondition::default())
            .await
            .unwrap();
    }
    m.put_object(inline("other", "b/0", b"x"), WriteCondition::default())
        .await
        .unwrap();
    let keys = |v: Vec<ObjectSummary>| v.into_iter().map(|o| o.key).collect::<Vec<_>>();
    assert_eq!(
        keys(
            m.list_objects("b", "", KeyBound::Unbounded, 10)
                .await
                .unwrap()
        ),
        vec!["a", "b/1", "b/2", "c", "\u{e9}"]
    );
    assert_eq!(
        keys(
            m.list_objects("b", "b/", KeyBound::Unbounded, 10)
                .await
                .unwrap()
        ),
        vec!["b/1", "b/2"]
    );
    assert_eq!(
        keys(
            m.list_objects("b", "", KeyBound::After(b"b/1".to_vec()), 2)
                .await
                .unwrap()
        ),
        vec!["b/2", "c"]
    );
    assert_eq!(
        keys(
            m.list_objects("b", "", KeyBound::AtOrAfter(b"b0".to_vec()), 10)
                .await
                .unwrap()
        ),
        vec!["c", "\u{e9}"]
    );
    let all = m
        .list_versions("b", "", VersionBound::Keys(KeyBound::Unbounded), 10)
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
    let after_b1 = m
        .list_versions(
            "b",
            "b/",
            VersionBound::AfterVersion(b"b/1".to_vec(), all[1].version_id.clone()),
            10,
        )
        .await
        .unwrap();
    assert_eq!(keys(after_b1), vec!["b/2"]);
    // A marker before the prefix starts at the prefix.
    let from_prefix = m
        .list_versions(
            "b",
            "c",
            VersionBound::AfterVersion(b"a".to_vec(), VersionId::from_sequence(1, 1)),
            10,
        )
        .await
        .unwrap();
    assert_eq!(keys(from_prefix), vec!["c"]);
}

fn part(upload: &str, n: u32, id: &BlobId) -> PartRecord {
    PartRecord {
        upload_id: upload.into(),
        part_number: n,
        size: 100,
        etag: format!("p{n}"),
        last_modified_ms: 1,
        blob: id.clone(),
        checksum: None,
    }
}

fn upload(id: &str, key: &str) -> UploadRecord {
    UploadRecord {
        upload_id: id.into(),
        bucket: "b".into(),
        key: key.into(),
        initiated_ms: 1,
        owner: OWNER.into(),
        attrs: ObjectAttrs::default(),
        checksum_algorithm: None,
        checksum_type: None,
    }
}

/// Completes with the parts numbered in `use_parts`, in order.
fn builder(use_parts: Vec<u32>) -> CompleteFn {
    Box::new(move |u: &UploadRecord, stored: &[PartRecord]| {
        let ids: Vec<BlobId> = use_parts
            .iter()
            .map(|n| {
                stored
                    .iter()
                    .find(|p| p.part_number == *n)
                    .map(|p| p.blob.clone())
                    .ok_or_else(|| StoreError::InvalidPart(format!("{n}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(in_blobs(&u.bucket, &u.key, &ids))
    })
}

async fn multipart(m: &dyn MetaStore) {
    bucket(m, "b").await;
    assert!(matches!(
        m.create_upload(UploadRecord {
            bucket: "none".into(),
            ..upload("u0", "k")
        })
        .await,
        Err(StoreError::NoSuchBucket)
    ));
    m.create_upload(upload("u1", "k")).await.unwrap();
    m.create_upload(upload("u2", "j")).await.unwrap();
    let (p1, p1b, p2, p3) = (blob(0x01), blob(0x02), blob(0x03), blob(0x04));
    m.put_part(part("u1", 1, &p1)).await.unwrap();
    // Replacing a part releases the blob it had.
    m.put_part(part("u1", 1, &p1b)).await.unwrap();
    assert_eq!(garbage(m).await, vec![p1.clone()]);
    m.put_part(part("u1", 2, &p2)).await.unwrap();
    m.put_part(part("u1", 3, &p3)).await.unwrap();
    assert!(matches!(
        m.put_part(part("nope", 1, &p3)).await,
        Err(StoreError::NoSuchUpload)
    ));
    let listed = m.list_parts("u1", 1, 10).await.unwrap();
    assert_eq!(
        listed.iter().map(|p| p.part_number).collect::<Vec<_>>(),
        vec![2, 3]
    );
    let uploads = m.list_uploads("b", "", None, 10).await.unwrap();
    assert_eq!(
        uploads.iter().map(|u| u.key.as_str()).collect::<Vec<_>>(),
        vec!["j", "k"]
    );
    assert_eq!(
        m.list_uploads("b", "", Some((b"j".to_vec(), "u2".into())), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    // A completion whose condition fails leaves the upload as it was.
    let fails = WriteCondition {
        if_match: Some(EtagCondition::Any),
        ..Default::default()
    };
    assert!(matches!(
        m.complete_upload("u1", builder(vec![1, 3]), fails).await,
        Err(StoreError::PreconditionFailed)
    ));
    assert_eq!(m.list_parts("u1", 0, 10).await.unwrap().len(), 3);
    // Completing with parts 1 and 3: part 2 is released, the others now belong to the object.
    let done = m
        .complete_upload("u1", builder(vec![1, 3]), WriteCondition::default())
        .await
        .unwrap();
    assert_eq!(done.upload_id.as_deref(), Some("u1"));
    assert_eq!(done.body.blob_ids(), vec![p1b.clone(), p3.clone()]);
    assert_eq!(garbage(m).await, vec![p1.clone(), p2.clone()]);
    assert!(m.get_upload("u1").await.unwrap().is_none());
    assert!(matches!(
        m.complete_upload("u1", builder(vec![1]), WriteCondition::default())
            .await,
        Err(StoreError::NoSuchUpload)
    ));
    // Aborting releases every part.
    let q = blob(0x05);
    m.put_part(part("u2", 1, &q)).await.unwrap();
    m.abort_upload("u2").await.unwrap();
    assert!(garbage(m).await.contains(&q));
    assert!(matches!(
        m.abort_upload("u2").await,
        Err(StoreError::NoSuchUpload)
    ));
    m.delete_object("b", "k", OWNER, WriteCondition::default())
        .await
        .unwrap();
    assert_eq!(garbage(m).await, vec![p1, p1b, p2, p3, q]);
}

async fn bucket_deletion_releases_uploads(m: &dyn MetaStore) {
    bucket(m, "b").await;
    m.create_upload(upload("u", "k")).await.unwrap();
    let p = blob(0x77);
    m.put_part(part("u", 1, &p)).await.unwrap();
    m.delete_bucket("b").await.unwrap();
    assert_eq!(garbage(m).await, vec![p]);
    assert!(m.get_upload("u").await.unwrap().is_none());
}
