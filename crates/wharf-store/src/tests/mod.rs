//! Tests of the engine as a whole, with real blob files (bodies above the inline limit).

mod blobs;
mod faults;

use std::path::Path;

use bytes::Bytes;
use futures::TryStreamExt;

use crate::staging::INLINE_MAX;
use crate::{BodyLimits, BucketRecord, ObjectAttrs, ObjectRecord, Store, WriteCondition};

const OWNER: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
/// A body stored in a blob file, not inline.
const BLOB_SIZE: usize = 3 * INLINE_MAX + 17;

fn body(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

async fn store_with_bucket(dir: &Path) -> Store {
    let store = Store::open(dir).await.unwrap();
    store
        .create_bucket(BucketRecord {
            name: "b".into(),
            owner: OWNER.into(),
            created_ms: 0,
            region: "us-east-1".into(),
            versioning: Default::default(),
        })
        .await
        .unwrap();
    store
}

async fn put(store: &Store, key: &str, data: &[u8]) -> ObjectRecord {
    let chunks: Vec<Result<Bytes, std::io::Error>> = data
        .chunks(10_000)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let staged = store
        .stage(
            futures::stream::iter(chunks),
            None,
            BodyLimits {
                expected_len: Some(data.len() as u64),
                max_len: crate::MAX_OBJECT_SIZE,
                force_file: false,
            },
        )
        .await
        .unwrap();
    store
        .put_object(
            "b",
            key,
            OWNER,
            ObjectAttrs::default(),
            staged,
            None,
            WriteCondition::default(),
        )
        .await
        .unwrap()
}

async fn read_all(store: &Store, o: &ObjectRecord) -> Vec<u8> {
    let chunks: Vec<Bytes> = store
        .read_body(o, 0..o.size)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    chunks.concat()
}

fn blob_files(dir: &Path) -> usize {
    walk(&dir.join("blobs"))
}

fn walk(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk(&e.path())
            } else {
                1
            }
        })
        .sum()
}
