//! The conformance suite every [`MetaStore`] implementation must pass (Garage's `db/test.rs` is
//! the model): each check drives a fresh store through one family of operations and asserts
//! what the trait promises, blob reference counts included. The checks live by family:
//! [`accounts`] (users, settings, buckets, MFA devices), [`objects`] (writes, conditions, blob
//! references, listings, multipart) and [`versioning`] (versions, delete markers, suspension,
//! tags and bucket configurations, Object Lock).

mod accounts;
mod objects;
mod versioning;

use bytes::Bytes;

use super::*;
use accounts::*;
use objects::*;
use versioning::*;

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

pub(super) const OWNER: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

pub(super) fn blob(n: u8) -> BlobId {
    BlobId::parse(&format!("{n:02x}{}", "0".repeat(30))).unwrap()
}

pub(super) fn object(bucket: &str, key: &str, body: BodyLayout) -> ObjectRecord {
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

pub(super) fn inline(bucket: &str, key: &str, data: &'static [u8]) -> ObjectRecord {
    object(bucket, key, BodyLayout::Inline(Bytes::from_static(data)))
}

pub(super) fn in_blobs(bucket: &str, key: &str, ids: &[BlobId]) -> ObjectRecord {
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

pub(super) async fn bucket(m: &dyn MetaStore, name: &str) {
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
pub(super) async fn garbage(m: &dyn MetaStore) -> Vec<BlobId> {
    let mut g = m.unreferenced_blobs(i64::MAX, 10_000).await.unwrap();
    g.sort();
    g
}
