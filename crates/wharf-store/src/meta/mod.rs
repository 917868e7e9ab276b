//! The metadata store: buckets, objects, multipart uploads and users.
//!
//! [`MetaStore`] is the seam between the engine and the database that holds its rows. The SQLite
//! implementation ([`sqlite::SqliteMeta`]) is the embedded default; a PostgreSQL one is planned
//! for scale-out (DESIGN.md section 7). Every write is atomic: conditional PUTs and multipart
//! completion are checked and applied inside one transaction, so two racing writers can never
//! both win. Object keys cross this seam as strings but are compared as bytes (UTF-8 binary
//! order, which is S3's listing order).

mod group_commit;
pub mod sqlite;

use std::collections::{BTreeMap, HashSet};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use wharf_model::{AccessKey, User};

use crate::blob::BlobId;
use crate::checksum::{Checksum, ChecksumAlgorithm, ChecksumType};
use crate::error::StoreResult;

/// Version of the row formats written by this build (stored as SQLite's `user_version`).
pub const FORMAT_VERSION: i64 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketRecord {
    pub name: String,
    /// Canonical ID of the owning user.
    pub owner: String,
    pub created_ms: i64,
    pub region: String,
}

/// System headers and user metadata stored with an object, returned as S3 returns them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectAttrs {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub content_encoding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub content_disposition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub content_language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cache_control: Option<String>,
    /// Milliseconds since the epoch of the `Expires` header given on upload.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expires_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub website_redirect_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub storage_class: Option<String>,
    /// `x-amz-meta-*` pairs, names lower-cased.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub user_metadata: BTreeMap<String, String>,
}

/// One blob file of an object's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRef {
    pub id: BlobId,
    pub len: u64,
}

/// Where an object's bytes are: inline in its row, or in blob files read in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyLayout {
    Inline(Bytes),
    Blobs(Vec<BlobRef>),
}

impl BodyLayout {
    pub fn blob_ids(&self) -> Vec<BlobId> {
        match self {
            Self::Inline(_) => Vec::new(),
            Self::Blobs(b) => b.iter().map(|r| r.id.clone()).collect(),
        }
    }
}

/// A part of a completed multipart object, kept for `partNumber` reads and GetObjectAttributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartSummary {
    pub part_number: u32,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub checksum: Option<Checksum>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRecord {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    /// Without quotes.
    pub etag: String,
    pub last_modified_ms: i64,
    pub owner: String,
    pub attrs: ObjectAttrs,
    pub checksum: Option<Checksum>,
    pub body: BodyLayout,
    /// Empty for single-part objects.
    pub parts: Vec<PartSummary>,
}

/// What listings need of an object (never its body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSummary {
    pub key: String,
    pub size: u64,
    pub etag: String,
    pub last_modified_ms: i64,
    pub owner: String,
    pub storage_class: Option<String>,
    pub checksum: Option<Checksum>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    pub upload_id: String,
    pub bucket: String,
    pub key: String,
    pub initiated_ms: i64,
    pub owner: String,
    pub attrs: ObjectAttrs,
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    pub checksum_type: Option<ChecksumType>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRecord {
    pub upload_id: String,
    pub part_number: u32,
    pub size: u64,
    pub etag: String,
    pub last_modified_ms: i64,
    pub blob: BlobId,
    pub checksum: Option<Checksum>,
}

/// Conditions of a conditional write, checked atomically with the write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutCondition {
    /// `If-None-Match: *`: fail if the key exists.
    pub if_none_match_any: bool,
    /// `If-Match: "etag"` (unquoted) or `*`: fail unless the key exists with that ETag.
    pub if_match: Option<String>,
}

impl PutCondition {
    pub fn check(&self, current: Option<&str>) -> bool {
        if self.if_none_match_any && current.is_some() {
            return false;
        }
        match (&self.if_match, current) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(want), Some(have)) => want == "*" || want == have,
        }
    }
}

/// Where a key-ordered listing starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyBound {
    Unbounded,
    /// Keys strictly greater than this.
    After(Vec<u8>),
    /// Keys greater than or equal to this.
    AtOrAfter(Vec<u8>),
}

/// Builds the completed object from the upload and its stored parts, inside the completing
/// transaction; returns the object and the parts' blobs it does not use.
pub type CompleteFn = Box<
    dyn FnOnce(&UploadRecord, &[PartRecord]) -> StoreResult<(ObjectRecord, Vec<BlobId>)> + Send,
>;

#[async_trait::async_trait]
pub trait MetaStore: Send + Sync + 'static {
    // Users and access keys.
    async fn create_user(&self, user: User, key: AccessKey) -> StoreResult<()>;
    async fn add_access_key(&self, key: AccessKey) -> StoreResult<()>;
    async fn delete_user(&self, name: &str) -> StoreResult<()>;
    async fn get_user(&self, name: &str) -> StoreResult<Option<User>>;
    async fn list_users(&self) -> StoreResult<Vec<(User, Vec<String>)>>;
    async fn lookup_access_key(
        &self,
        access_key_id: &str,
    ) -> StoreResult<Option<(AccessKey, User)>>;

    // Buckets.
    async fn create_bucket(&self, bucket: BucketRecord) -> StoreResult<()>;
    async fn get_bucket(&self, name: &str) -> StoreResult<Option<BucketRecord>>;
    async fn list_buckets(&self, owner: &str) -> StoreResult<Vec<BucketRecord>>;
    /// Fails with `BucketNotEmpty` if it holds objects; aborts its uploads and returns their blobs.
    async fn delete_bucket(&self, name: &str) -> StoreResult<Vec<BlobId>>;

    // Objects.
    async fn get_object(&self, bucket: &str, key: &str) -> StoreResult<Option<ObjectRecord>>;
    /// Writes `object` if `cond` holds and the bucket exists; returns the replaced body's blobs.
    async fn put_object(
        &self,
        object: ObjectRecord,
        cond: PutCondition,
    ) -> StoreResult<Vec<BlobId>>;
    /// Deletes the key if `cond` holds (only its `if_match` applies); returns the deleted
    /// body's blobs, or `None` if there was no such key.
    async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        cond: PutCondition,
    ) -> StoreResult<Option<Vec<BlobId>>>;
    /// Up to `limit` objects with `prefix` from `from`, in key order.
    async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        from: KeyBound,
        limit: usize,
    ) -> StoreResult<Vec<ObjectSummary>>;

    // Multipart uploads.
    async fn create_upload(&self, upload: UploadRecord) -> StoreResult<()>;
    async fn get_upload(&self, upload_id: &str) -> StoreResult<Option<UploadRecord>>;
    /// Stores a part (replacing one of the same number); returns the replaced part's blob.
    async fn put_part(&self, part: PartRecord) -> StoreResult<Option<BlobId>>;
    async fn list_parts(
        &self,
        upload_id: &str,
        after: u32,
        limit: usize,
    ) -> StoreResult<Vec<PartRecord>>;
    /// Atomically turns an upload into an object (see [`CompleteFn`]); returns the object and
    /// the blobs to delete (unused parts and the replaced object's body).
    async fn complete_upload(
        &self,
        upload_id: &str,
        build: CompleteFn,
        cond: PutCondition,
    ) -> StoreResult<(ObjectRecord, Vec<BlobId>)>;
    async fn abort_upload(&self, upload_id: &str) -> StoreResult<Vec<BlobId>>;
    /// Uploads in (key, upload id) order after `(key, upload_id)`.
    async fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
        after: Option<(Vec<u8>, String)>,
        limit: usize,
    ) -> StoreResult<Vec<UploadRecord>>;

    /// Every blob a committed row names (for the start-up sweep).
    async fn live_blobs(&self) -> StoreResult<HashSet<BlobId>>;
}
