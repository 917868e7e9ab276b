//! Blob lifetime: overwrites, reads that race them, garbage collection, lazy opening of parts,
//! and the start-up sweep.

use std::time::Duration;

use futures::StreamExt;

use super::*;
use crate::meta::{BlobRef, BodyLayout};

#[tokio::test]
async fn blob_bodies_round_trip_and_overwrites_are_collected_after_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_bucket(dir.path()).await;
    let first = body(1, BLOB_SIZE);
    let v1 = put(&store, "k", &first).await;
    assert!(matches!(v1.body, BodyLayout::Blobs(_)));
    assert_eq!(read_all(&store, &v1).await, first);
    assert_eq!(blob_files(dir.path()), 1);
    let second = body(2, BLOB_SIZE + 1);
    let v2 = put(&store, "k", &second).await;
    assert_eq!(read_all(&store, &v2).await, second);
    // The old blob stays until its grace period is over.
    assert_eq!(
        store
            .collect_garbage(Duration::from_secs(3600))
            .await
            .unwrap(),
        0
    );
    assert_eq!(blob_files(dir.path()), 2);
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(store.collect_garbage(Duration::ZERO).await.unwrap(), 1);
    assert_eq!(blob_files(dir.path()), 1);
    store
        .delete_object("b", "k", "owner", WriteCondition::default())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    store.collect_garbage(Duration::ZERO).await.unwrap();
    assert_eq!(blob_files(dir.path()), 0);
}

#[tokio::test]
async fn a_read_that_raced_an_overwrite_finishes_with_its_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_bucket(dir.path()).await;
    let old = body(3, 4 << 20);
    let v1 = put(&store, "k", &old).await;
    let mut stream = store.read_body(&v1, 0..v1.size).await.unwrap();
    let mut got = stream.next().await.unwrap().unwrap().to_vec();
    // Overwritten and deleted while the first read streams, and the collector runs with no
    // grace at all: the lease keeps the old blob.
    put(&store, "k", &body(4, BLOB_SIZE)).await;
    store
        .delete_object("b", "k", "owner", WriteCondition::default())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(store.collect_garbage(Duration::ZERO).await.unwrap(), 1);
    while let Some(chunk) = stream.next().await {
        got.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(got, old);
    drop(stream);
    assert_eq!(store.collect_garbage(Duration::ZERO).await.unwrap(), 1);
    assert_eq!(blob_files(dir.path()), 0);
}

/// Files of `dir`'s blob tree this process has open (other tests' files do not count).
fn open_blobs(dir: &std::path::Path) -> usize {
    let blobs = dir.join("blobs");
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| {
        d.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .filter(|target| target.starts_with(&blobs))
            .count()
    })
}

#[tokio::test]
async fn a_many_part_body_opens_its_parts_as_the_stream_reaches_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_bucket(dir.path()).await;
    // 400 blobs of 3 bytes each, named by one version (as a 400-part upload would be).
    let mut refs = Vec::new();
    let mut expected = Vec::new();
    for i in 0..400u32 {
        let data = i.to_be_bytes()[1..].to_vec();
        let mut staged = store
            .stage(
                futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from(data.clone()))]),
                None,
                BodyLimits {
                    expected_len: Some(3),
                    max_len: 3,
                    force_file: true,
                },
            )
            .await
            .unwrap();
        let BodyLayout::Blobs(mut r) = store.publish(&mut staged).await.unwrap() else {
            panic!("parts are files");
        };
        refs.append(&mut r);
        expected.extend(data);
    }
    let mut record = ObjectRecord {
        bucket: "b".into(),
        key: "many".into(),
        version_id: ObjectRecord::uncommitted_version_id(),
        null_version: true,
        size: expected.len() as u64,
        etag: "x".into(),
        last_modified_ms: 0,
        owner: OWNER.into(),
        attrs: ObjectAttrs::default(),
        checksum: None,
        body: BodyLayout::Blobs(refs.clone()),
        parts: Vec::new(),
        upload_id: None,
    };
    record = store
        .meta()
        .put_object(record, WriteCondition::default())
        .await
        .unwrap();
    let mut stream = store.read_body(&record, 0..record.size).await.unwrap();
    assert_eq!(
        open_blobs(dir.path()),
        1,
        "only the first part is opened up front"
    );
    let mut got = Vec::new();
    while let Some(chunk) = stream.next().await {
        got.extend_from_slice(&chunk.unwrap());
        assert!(
            open_blobs(dir.path()) <= 2,
            "parts stay open behind the stream"
        );
    }
    drop(stream);
    assert_eq!(open_blobs(dir.path()), 0);
    assert_eq!(got, expected);
    // A range in the middle touches only its parts.
    let mid: Vec<Bytes> = store
        .read_body(&record, 599..604)
        .await
        .unwrap()
        .map(|c| c.unwrap())
        .collect()
        .await;
    assert_eq!(mid.concat(), expected[599..604]);
    let _: &[BlobRef] = &refs;
}

#[tokio::test]
async fn the_start_up_sweep_keeps_what_rows_name_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = store_with_bucket(dir.path()).await;
        let data = body(5, BLOB_SIZE);
        put(&store, "kept", &data).await;
        put(&store, "replaced", &body(6, BLOB_SIZE)).await;
        put(&store, "replaced", &body(7, BLOB_SIZE)).await;
        // What a crash leaves: a staging file and a published blob no row names.
        std::fs::write(dir.path().join("tmp/0123"), b"partial").unwrap();
        std::fs::write(
            dir.path().join("blobs/ab/ab000000000000000000000000000001"),
            b"orphan",
        )
        .unwrap();
        assert_eq!(blob_files(dir.path()), 4);
    }
    let store = Store::open(dir.path()).await.unwrap();
    assert_eq!(blob_files(dir.path()), 2);
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );
    let kept = store.get_object("b", "kept").await.unwrap().unwrap();
    assert_eq!(read_all(&store, &kept).await, body(5, BLOB_SIZE));
    let replaced = store.get_object("b", "replaced").await.unwrap().unwrap();
    assert_eq!(read_all(&store, &replaced).await, body(7, BLOB_SIZE));
}
