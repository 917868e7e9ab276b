//! The metadata store: buckets, object versions, multipart uploads, blob references, users.
//!
//! [`MetaStore`] is the seam between the engine and the database that holds its rows. The SQLite
//! implementation ([`sqlite::SqliteMeta`]) is the embedded default; a PostgreSQL one is planned
//! for scale-out (DESIGN.md section 7). Every implementation passes the same conformance suite
//! (`conformance.rs`).
//!
//! Rules every implementation keeps:
//! - **Atomic writes.** Each write is one transaction; its [`WriteCondition`] is checked inside
//!   it, so two racing writers can never both win.
//! - **Versions.** An object is a set of version rows per key, each with a unique
//!   [`VersionId`] assigned at commit (newer ids sort first). The newest is the key's current
//!   version; it may be a delete marker. Unless the bucket's versioning is enabled, a write
//!   replaces the key's *null version*, the one S3 names `null`.
//! - **Blob references are counted in the same transaction** as the rows that name them: every
//!   object version and every stored part holds one reference per blob it names. A blob whose
//!   count falls to zero is not deleted by the write; the garbage collector removes it after a
//!   grace period ([`crate::gc`]). So no committed row ever names a missing blob, and a read
//!   that started before an overwrite still finds its bytes.
//! - A row may share blobs with another row only if the other row is checked to still exist in
//!   the same transaction (`WriteCondition::source`, or the parts read while completing an
//!   upload): that is what makes taking a new reference on an existing blob safe.
//!
//! Object keys cross this seam as strings but are compared as bytes (UTF-8 binary order, which
//! is S3's listing order).

mod condition;
#[cfg(test)]
mod conformance;
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restored_copy_lasts_until_the_midnight_after_its_days() {
        const DAY: i64 = 86_400_000;
        let r = Restore {
            ready_ms: 10 * DAY + 5,
            days: 2,
        };
        assert_eq!(r.expiry_ms(), 13 * DAY);
        let exact = Restore {
            ready_ms: 10 * DAY,
            days: 1,
        };
        assert_eq!(exact.expiry_ms(), 11 * DAY);
        let mut a = ObjectAttrs {
            storage_class: Some("GLACIER".into()),
            ..ObjectAttrs::default()
        };
        assert!(!a.readable_at(0));
        a.restore = Some(r);
        assert!(!a.readable_at(r.ready_ms - 1));
        assert!(a.readable_at(r.ready_ms) && a.readable_at(13 * DAY - 1));
        assert!(!a.readable_at(13 * DAY));
        a.storage_class = Some("GLACIER_IR".into());
        assert!(a.readable_at(0));
    }
}
mod group_commit;
pub mod sqlite;

use std::collections::{BTreeMap, HashSet};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use wharf_model::{AccessKey, User, VersionId};

use crate::blob::BlobId;
use crate::checksum::{Checksum, ChecksumAlgorithm, ChecksumType};
use crate::error::StoreResult;

pub use condition::{EntityTag, EtagCondition, SourceVersion, WriteCondition};

/// Version of the row formats written by this build (stored as SQLite's `user_version`).
/// 1: one row per key. 2: version rows and counted blob references. 3: buckets' versioning.
/// 4: users' identity policies.
pub const FORMAT_VERSION: i64 = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketRecord {
    pub name: String,
    /// Canonical ID of the owning user.
    pub owner: String,
    pub created_ms: i64,
    pub region: String,
    pub versioning: Versioning,
}

/// A bucket's versioning state. A bucket starts unversioned; once versioning has been enabled
/// it is only ever enabled or suspended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Versioning {
    #[default]
    Unversioned,
    /// Every write adds a version; a simple DELETE adds a delete marker.
    Enabled,
    /// Writes replace the null version; a simple DELETE makes the null version a delete marker.
    Suspended,
}

impl Versioning {
    /// As S3 spells it (`Status` of a VersioningConfiguration), none when never enabled.
    pub fn as_status(self) -> Option<&'static str> {
        match self {
            Self::Unversioned => None,
            Self::Enabled => Some("Enabled"),
            Self::Suspended => Some("Suspended"),
        }
    }

    /// Whether responses name versions (`x-amz-version-id`): once versioning has been on.
    pub fn names_versions(self) -> bool {
        self != Self::Unversioned
    }
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
    /// The object's tag set (key, value), in the order given.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub tags: Vec<(String, String)>,
    /// A restore of an archived object (storage class GLACIER or DEEP_ARCHIVE) requested.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub restore: Option<Restore>,
    /// Object Lock retention: the version cannot be removed before `until_ms`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub retention: Option<Retention>,
    /// Object Lock legal hold (none until one is set): the version cannot be removed while it
    /// is on.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub legal_hold: Option<bool>,
    /// ACL grants beyond the owner's full control, as (grantee, permission) in S3's words:
    /// `id=CANONICAL` or `uri=GROUP`, `READ`/`READ_ACP`/`WRITE_ACP`/`FULL_CONTROL` (the S3
    /// layer gives them meaning).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub acl: Vec<(String, String)>,
}

/// Object Lock's two retention modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LockMode {
    /// Removable before its date by a caller that bypasses governance retention.
    Governance,
    /// Removable by nobody before its date; the date can only be extended.
    Compliance,
}

impl LockMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Governance => "GOVERNANCE",
            Self::Compliance => "COMPLIANCE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "GOVERNANCE" => Some(Self::Governance),
            "COMPLIANCE" => Some(Self::Compliance),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    pub mode: LockMode,
    pub until_ms: i64,
}

impl ObjectAttrs {
    /// Whether Object Lock keeps this version from being removed at `now_ms` (a caller that
    /// bypasses governance retention may remove a version under GOVERNANCE alone).
    pub fn locked_at(&self, now_ms: i64, bypass_governance: bool) -> bool {
        self.legal_hold == Some(true)
            || self.retention.is_some_and(|r| {
                now_ms < r.until_ms && !(r.mode == LockMode::Governance && bypass_governance)
            })
    }
}

/// Storage classes whose objects are archived: read only once restored.
pub const ARCHIVED_CLASSES: &[&str] = &["GLACIER", "DEEP_ARCHIVE"];

impl ObjectAttrs {
    /// Whether the object's bytes can be read at `now_ms`: not archived, or restored and not
    /// expired again.
    pub fn readable_at(&self, now_ms: i64) -> bool {
        let archived = self
            .storage_class
            .as_deref()
            .is_some_and(|c| ARCHIVED_CLASSES.contains(&c));
        !archived
            || self
                .restore
                .is_some_and(|r| r.ready_ms <= now_ms && now_ms < r.expiry_ms())
    }
}

/// A RestoreObject of an archived version: its copy is readable from `ready_ms` for `days`
/// days (until the UTC midnight after them), then the version is archived again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restore {
    pub ready_ms: i64,
    pub days: u32,
}

impl Restore {
    /// When the restored copy goes: `days` after it was ready, rounded up to UTC midnight.
    pub fn expiry_ms(&self) -> i64 {
        const DAY: i64 = 86_400_000;
        let end = self.ready_ms + i64::from(self.days) * DAY;
        end.div_euclid(DAY) * DAY + if end.rem_euclid(DAY) == 0 { 0 } else { DAY }
    }
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

/// One version of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRecord {
    pub bucket: String,
    pub key: String,
    /// Unique per row, assigned by the metadata store when the row is committed (a record on its
    /// way to [`MetaStore::put_object`] carries [`ObjectRecord::uncommitted_version_id`]).
    pub version_id: VersionId,
    /// S3 calls this version `null` (written while versioning was off or suspended).
    pub null_version: bool,
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
    /// The multipart upload that made this version, so a retried CompleteMultipartUpload gets
    /// the same answer.
    pub upload_id: Option<String>,
}

impl ObjectRecord {
    /// The placeholder version id of a record not yet committed.
    pub fn uncommitted_version_id() -> VersionId {
        VersionId::from_sequence(0, 0)
    }

    /// The version id S3 shows: `null` for the null version.
    pub fn s3_version_id(&self) -> &str {
        s3_version_id(self.null_version, &self.version_id)
    }
}

/// The version id S3 shows: `null` for the null version.
fn s3_version_id(null_version: bool, id: &VersionId) -> &str {
    if null_version {
        wharf_model::NULL_VERSION
    } else {
        id.as_str()
    }
}

/// What listings need of an object version (never its body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSummary {
    pub key: String,
    pub version_id: VersionId,
    pub null_version: bool,
    /// Whether this is the key's current version.
    pub is_latest: bool,
    /// A delete marker (size 0, no ETag), only ever listed among versions.
    pub delete_marker: bool,
    pub size: u64,
    pub etag: String,
    pub last_modified_ms: i64,
    pub owner: String,
    pub storage_class: Option<String>,
    pub checksum: Option<Checksum>,
}

impl ObjectSummary {
    /// The version id S3 shows: `null` for the null version.
    pub fn s3_version_id(&self) -> &str {
        s3_version_id(self.null_version, &self.version_id)
    }
}

/// A user's virtual MFA device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaDevice {
    /// As AWS names it: `arn:aws:iam::ACCOUNT:mfa/USER`.
    pub serial: String,
    pub user: String,
    /// The TOTP secret, base32.
    pub secret: String,
    /// The last step whose code was used (0: none).
    pub last_step: u64,
}

/// A delete marker: the version a simple DELETE adds to a versioned key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteMarker {
    pub version_id: VersionId,
    /// The marker a DELETE made while versioning was suspended is the key's null version.
    pub null_version: bool,
    pub last_modified_ms: i64,
    /// Whether it is the key's current version (a GET of the key then answers 404).
    pub is_latest: bool,
}

impl DeleteMarker {
    /// The version id S3 shows: `null` for the null version.
    pub fn s3_version_id(&self) -> &str {
        s3_version_id(self.null_version, &self.version_id)
    }
}

/// What a simple DELETE (no version id) did to a key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deletion {
    /// The version it removed for good: the null version, unless versioning is enabled.
    pub removed: Option<ObjectRecord>,
    /// The delete marker it added (versioning enabled or suspended).
    pub marker: Option<DeleteMarker>,
}

/// One version removed for good by a DELETE that named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemovedVersion {
    Object(Box<ObjectRecord>),
    /// Removing the current marker makes the key's previous version current again.
    Marker(DeleteMarker),
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

/// Where a key-ordered listing starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyBound {
    Unbounded,
    /// Keys strictly greater than this.
    After(Vec<u8>),
    /// Keys greater than or equal to this.
    AtOrAfter(Vec<u8>),
}

/// Where a listing of versions (key order, newest version first) starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionBound {
    /// From the first key (or from `AtOrAfter` this key) on.
    Keys(KeyBound),
    /// The versions of this key older than this version, then later keys.
    AfterVersion(Vec<u8>, VersionId),
}

/// Changes a version's attributes inside the writing transaction; returns whether it did.
pub type AttrsUpdate = Box<dyn FnOnce(&mut ObjectAttrs) -> bool + Send>;

/// Builds the completed object from the upload and its stored parts, inside the completing
/// transaction.
pub type CompleteFn =
    Box<dyn FnOnce(&UploadRecord, &[PartRecord]) -> StoreResult<ObjectRecord> + Send>;

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

    // Identity policies: a user's inline policies, by name (IAM's PutUserPolicy).
    /// Sets (replacing) the user's policy `name` (`NoSuchUser` if there is no such user).
    async fn put_user_policy(&self, user: &str, name: &str, document: String) -> StoreResult<()>;
    /// Removes the user's policy `name`; returns whether there was one.
    async fn delete_user_policy(&self, user: &str, name: &str) -> StoreResult<bool>;
    /// The user's policies (name, document), by name.
    async fn user_policies(&self, user: &str) -> StoreResult<Vec<(String, String)>>;

    // Virtual MFA devices.
    /// Registers a device for user `user` (`AlreadyExists`-style error if the serial is taken).
    async fn create_mfa_device(&self, device: MfaDevice) -> StoreResult<()>;
    async fn mfa_device(&self, serial: &str) -> StoreResult<Option<MfaDevice>>;
    /// Records that the code of `step` was used, if no code of that step or a later one was:
    /// `false` otherwise (a replay, or a race with another use).
    async fn use_mfa_step(&self, serial: &str, step: u64) -> StoreResult<bool>;

    // Settings fixed when the store is made.
    /// The value of setting `name`, set to `value` first if it has none.
    async fn init_setting(&self, name: &str, value: &str) -> StoreResult<String>;
    /// The value of setting `name`, if it has one.
    async fn setting(&self, name: &str) -> StoreResult<Option<String>>;
    /// Sets (`None`: removes) an account-wide setting an operator changes (not those fixed
    /// when the store is made).
    async fn set_setting(&self, name: &str, value: Option<String>) -> StoreResult<()>;

    // Buckets.
    async fn create_bucket(&self, bucket: BucketRecord) -> StoreResult<()> {
        self.create_bucket_with(bucket, Vec::new()).await
    }
    /// Creates the bucket with configurations (kind, value), in one transaction: a bucket
    /// never exists without the settings it was made with (its Block Public Access).
    async fn create_bucket_with(
        &self,
        bucket: BucketRecord,
        configs: Vec<(String, String)>,
    ) -> StoreResult<()>;
    async fn get_bucket(&self, name: &str) -> StoreResult<Option<BucketRecord>>;
    async fn list_buckets(&self, owner: &str) -> StoreResult<Vec<BucketRecord>>;
    /// Fails with `BucketNotEmpty` while any version remains; aborts the bucket's uploads.
    async fn delete_bucket(&self, name: &str) -> StoreResult<()>;
    /// Sets the bucket's versioning state (never back to `Unversioned`: `InvalidRequest`).
    async fn set_versioning(&self, bucket: &str, state: Versioning) -> StoreResult<()>;
    /// The bucket's configuration of `kind` (its tag set, …) as the S3 layer stored it.
    async fn bucket_config(&self, bucket: &str, kind: &str) -> StoreResult<Option<String>>;
    /// Sets (`None`: removes) the bucket's configuration of `kind`.
    async fn set_bucket_config(
        &self,
        bucket: &str,
        kind: &str,
        value: Option<String>,
    ) -> StoreResult<()>;

    // Objects.
    /// The key's current version.
    async fn get_object(&self, bucket: &str, key: &str) -> StoreResult<Option<ObjectRecord>>;
    /// The version S3 names `version_id` (`null` for the null version), delete markers aside.
    async fn get_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> StoreResult<Option<ObjectRecord>>;
    /// The delete marker that is the key's current version (`version_id` none) or the version
    /// S3 names `version_id`, if that is one.
    async fn get_delete_marker(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> StoreResult<Option<DeleteMarker>>;
    /// Commits `object` as the key's current version if `cond` holds and the bucket exists;
    /// unless versioning is enabled it replaces the key's null version (and is the new null
    /// version). Returns the record as committed (with its version id).
    async fn put_object(
        &self,
        object: ObjectRecord,
        cond: WriteCondition,
    ) -> StoreResult<ObjectRecord>;
    /// Changes the attributes of version `version_id` of the key in one transaction (`update`
    /// returns whether it changed them); `false` if that version is gone (or is a delete
    /// marker).
    async fn update_attrs(
        &self,
        bucket: &str,
        key: &str,
        version_id: &VersionId,
        update: AttrsUpdate,
    ) -> StoreResult<bool>;
    /// A simple DELETE, if `cond` holds: unversioned, removes the key's (null) version;
    /// versioning enabled, adds a delete marker; suspended, removes the null version and adds
    /// a delete marker as the new null version. `owner` owns the marker.
    async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        owner: &str,
        cond: WriteCondition,
    ) -> StoreResult<Deletion>;
    /// Removes the version (object or delete marker) S3 names `version_id` for good, if `cond`
    /// holds for it; the key's next newest version becomes current if it was. `None` if the
    /// key has no such version.
    async fn delete_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
        cond: WriteCondition,
    ) -> StoreResult<Option<RemovedVersion>>;
    /// Up to `limit` current versions with `prefix` from `from`, in key order.
    async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        from: KeyBound,
        limit: usize,
    ) -> StoreResult<Vec<ObjectSummary>>;
    /// Up to `limit` versions with `prefix` from `from`, in key order and newest first per key.
    async fn list_versions(
        &self,
        bucket: &str,
        prefix: &str,
        from: VersionBound,
        limit: usize,
    ) -> StoreResult<Vec<ObjectSummary>>;

    // Multipart uploads.
    async fn create_upload(&self, upload: UploadRecord) -> StoreResult<()>;
    async fn get_upload(&self, upload_id: &str) -> StoreResult<Option<UploadRecord>>;
    /// Stores a part (replacing one of the same number, whose blob loses its reference).
    async fn put_part(&self, part: PartRecord) -> StoreResult<()>;
    async fn list_parts(
        &self,
        upload_id: &str,
        after: u32,
        limit: usize,
    ) -> StoreResult<Vec<PartRecord>>;
    /// Atomically turns an upload into the key's current version (see [`CompleteFn`]); the
    /// parts it does not use lose their references.
    async fn complete_upload(
        &self,
        upload_id: &str,
        build: CompleteFn,
        cond: WriteCondition,
    ) -> StoreResult<ObjectRecord>;
    async fn abort_upload(&self, upload_id: &str) -> StoreResult<()>;
    /// Uploads in (key, upload id) order after `(key, upload_id)`.
    async fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
        after: Option<(Vec<u8>, String)>,
        limit: usize,
    ) -> StoreResult<Vec<UploadRecord>>;

    // Blob references (for the garbage collector and the start-up sweep).
    /// Up to `limit` blobs that no row has named since before `before_ms`.
    async fn unreferenced_blobs(&self, before_ms: i64, limit: usize) -> StoreResult<Vec<BlobId>>;
    /// Forgets those of `ids` that are still unreferenced and returns them: their files may
    /// then be deleted, since no row can name them again.
    async fn forget_blobs(&self, ids: Vec<BlobId>) -> StoreResult<Vec<BlobId>>;
    /// Every blob a row names whose id starts with `prefix`.
    async fn known_blobs(&self, prefix: &str) -> StoreResult<HashSet<BlobId>>;
}
