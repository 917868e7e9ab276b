//! Object versions without versioning: overwrites, write conditions, blob references and
//! shared blobs, listings, multipart uploads, bucket deletion.

use std::collections::BTreeMap;

use wharf_model::VersionId;

use super::*;
use crate::checksum::{Checksum, ChecksumAlgorithm};
use crate::error::StoreError;

pub(super) async fn versions_and_overwrites(m: &dyn MetaStore) {
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

pub(super) async fn write_conditions(m: &dyn MetaStore) {
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

pub(super) async fn blob_references(m: &dyn MetaStore) {
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

pub(super) async fn shared_blobs_and_failed_copies(m: &dyn MetaStore) {
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

pub(super) async fn listings(m: &dyn MetaStore) {
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

pub(super) fn part(upload: &str, n: u32, id: &BlobId) -> PartRecord {
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

pub(super) fn upload(id: &str, key: &str) -> UploadRecord {
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
pub(super) fn builder(use_parts: Vec<u32>) -> CompleteFn {
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

pub(super) async fn multipart(m: &dyn MetaStore) {
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

pub(super) async fn bucket_deletion_releases_uploads(m: &dyn MetaStore) {
    bucket(m, "b").await;
    m.create_upload(upload("u", "k")).await.unwrap();
    let p = blob(0x77);
    m.put_part(part("u", 1, &p)).await.unwrap();
    m.delete_bucket("b").await.unwrap();
    assert_eq!(garbage(m).await, vec![p]);
    assert!(m.get_upload("u").await.unwrap().is_none());
}
