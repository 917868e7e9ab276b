//! The SQLite implementation against the conformance suite, and its migrations.

use rusqlite::Connection;

use super::SqliteMeta;
use crate::meta::conformance;
use crate::meta::*;

#[tokio::test]
async fn sqlite_passes_the_conformance_suite() {
    let dirs = std::sync::Mutex::new(Vec::new());
    conformance::run_all(|| {
        let dir = tempfile::tempdir().unwrap();
        let meta = SqliteMeta::open(&dir.path().join("meta.sqlite3")).unwrap();
        dirs.lock().unwrap().push(dir);
        async move { Box::new(meta) as Box<dyn MetaStore> }
    })
    .await;
}

#[tokio::test]
async fn format_1_is_migrated_with_its_reference_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("meta.sqlite3");
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch(super::schema::tests::SCHEMA_V1).unwrap();
        c.execute_batch(
            "INSERT INTO buckets VALUES ('b', 'owner', 1, 'us-east-1');
             INSERT INTO objects VALUES ('b', CAST('small' AS BLOB), 2, 'e1', 5, 'owner', '{}', NULL, CAST('hi' AS BLOB), NULL, NULL);
             INSERT INTO objects VALUES ('b', CAST('big' AS BLOB), 200, 'e2', 6, 'owner', '{\"content_type\":\"text/plain\"}', NULL, NULL,
                 '[{\"id\":\"aa000000000000000000000000000000\",\"len\":100},{\"id\":\"bb000000000000000000000000000000\",\"len\":100}]', NULL);
             INSERT INTO uploads VALUES ('u', 'b', CAST('up' AS BLOB), 1, 'owner', '{}', NULL, NULL);
             INSERT INTO parts VALUES ('u', 1, 100, 'p', 1, 'cc000000000000000000000000000000', NULL);",
        )
        .unwrap();
    }
    let m = SqliteMeta::open(&path).unwrap();
    let big = m.get_object("b", "big").await.unwrap().unwrap();
    assert!(big.null_version);
    assert_eq!(big.attrs.content_type.as_deref(), Some("text/plain"));
    assert_eq!(big.body.blob_ids().len(), 2);
    let small = m.get_object("b", "small").await.unwrap().unwrap();
    assert_eq!(
        small.body,
        BodyLayout::Inline(bytes::Bytes::from_static(b"hi"))
    );
    assert_ne!(small.version_id, big.version_id);
    let known = |p: &'static str| {
        let m = &m;
        async move { m.known_blobs(p).await.unwrap().len() }
    };
    assert_eq!(known("aa").await + known("bb").await + known("cc").await, 3);
    assert!(m.unreferenced_blobs(i64::MAX, 10).await.unwrap().is_empty());
    // The counts are right: removing the rows releases each blob.
    m.delete_object("b", "big", "owner", WriteCondition::default())
        .await
        .unwrap();
    m.abort_upload("u").await.unwrap();
    assert_eq!(m.unreferenced_blobs(i64::MAX, 10).await.unwrap().len(), 3);
    drop(m);
    // Opening again changes nothing.
    let again = SqliteMeta::open(&path).unwrap();
    assert!(again.get_object("b", "small").await.unwrap().is_some());
}

#[tokio::test]
async fn format_2_is_migrated_to_keys_and_unversioned_buckets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("meta.sqlite3");
    let id = wharf_model::VersionId::from_sequence(5, 7);
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch(super::schema::tests::SCHEMA_V2).unwrap();
        c.execute(
            "INSERT INTO buckets VALUES ('b', 'owner', 1, 'us-east-1')",
            [],
        )
        .unwrap();
        c.execute(
            "INSERT INTO versions (bucket, key, version_id, null_version, is_latest, size, etag, \
             last_modified_ms, owner, attrs, inline_body) \
             VALUES ('b', CAST('k' AS BLOB), ?1, 1, 1, 2, 'e', 5, 'owner', '{}', CAST('hi' AS BLOB))",
            [id.as_str()],
        )
        .unwrap();
    }
    let m = SqliteMeta::open(&path).unwrap();
    let b = m.get_bucket("b").await.unwrap().unwrap();
    assert_eq!(b.versioning, Versioning::Unversioned);
    let k = m.get_object("b", "k").await.unwrap().unwrap();
    assert_eq!((k.version_id.clone(), k.null_version), (id, true));
    assert_eq!(m.get_version("b", "k", "null").await.unwrap(), Some(k));
    let listed = m
        .list_objects("b", "", KeyBound::Unbounded, 10)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].is_latest);
    // Versioning works on a migrated bucket.
    m.set_versioning("b", Versioning::Enabled).await.unwrap();
    let d = m
        .delete_object("b", "k", "owner", WriteCondition::default())
        .await
        .unwrap();
    assert!(d.marker.is_some() && d.removed.is_none());
    assert!(m.get_version("b", "k", "null").await.unwrap().is_some());
}

#[test]
fn a_newer_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("meta.sqlite3");
    Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99")
        .unwrap();
    assert!(SqliteMeta::open(&path).is_err());
}
