//! Versioning: versions and the null version, delete markers, suspension, per-version tags and
//! bucket configurations, and what Object Lock keeps.

use super::*;
use crate::error::StoreError;

/// The ids S3 shows of every version of `b`, newest first per key, markers as `M:id`, the
/// current one with a `*`.
pub(super) async fn version_list(m: &dyn MetaStore) -> Vec<String> {
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

pub(super) async fn versioning_and_delete_markers(m: &dyn MetaStore) {
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

pub(super) async fn suspended_versioning(m: &dyn MetaStore) {
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

pub(super) fn set_tags(tags: Vec<(String, String)>) -> AttrsUpdate {
    Box::new(move |a: &mut ObjectAttrs| {
        a.tags = tags;
        true
    })
}

pub(super) async fn tags_and_bucket_configs(m: &dyn MetaStore) {
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

pub(super) async fn locked_versions_stay(m: &dyn MetaStore) {
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
