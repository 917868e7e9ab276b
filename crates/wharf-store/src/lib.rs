//! The Wharf storage engine: buckets, objects, multipart uploads, users. No HTTP lives here.
//!
//! Requests enter as calls on [`Store`] with bodies as byte streams; bodies leave as byte
//! streams. Metadata lives behind the [`meta::MetaStore`] trait (SQLite by default), bodies in
//! blob files ([`blob`]) or inline in small rows ([`staging`]).
//!
//! The rules of DESIGN.md section 4 are kept here:
//! - **Durability before acknowledgement.** A write returns only after its body is fsync'd and
//!   renamed into place and its row is committed (group commit, [`meta`]'s writer thread).
//! - **Atomicity.** A row names a body only once the body is complete; a crash leaves the old
//!   object or the new one, never a partial one. [`Store::open`] sweeps orphan files.
//! - **No lost blobs.** Rows carry unique version ids and blob references are counted in the
//!   metadata transactions; files are deleted only by the garbage collector ([`gc`]), after a
//!   grace period and once no read holds them.
//! - **Strong read-after-write consistency** for objects and listings: a reply is sent only
//!   after the commit, and reads go to the same database.
//! - **Streaming.** Bodies pass through bounded buffers (at most a few MiB per request), and a
//!   multipart body opens its parts one at a time as the stream reaches them.
//! - **One server per data directory** ([`lock`]), **private files** ([`permissions`]), and a
//!   **survivable full disk** ([`capacity`]).

pub mod blob;
pub mod capacity;
pub mod checksum;
pub mod error;
pub mod gc;
mod list;
pub mod lock;
pub mod meta;
mod multipart;
mod object;
pub mod permissions;
pub mod staging;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use blob::{BlobDir, BlobId};
pub use checksum::{Checksum, ChecksumAlgorithm, ChecksumType};
pub use error::{StoreError, StoreResult};
pub use list::{ListEntry, ListPage, ListQuery, UploadListPage, VersionListPage, VersionListQuery};
pub use meta::{
    ARCHIVED_CLASSES, AttrsUpdate, BodyLayout, BucketRecord, DeleteMarker, Deletion, EntityTag,
    EtagCondition, KeyBound, LockMode, MetaStore, MfaDevice, ObjectAttrs, ObjectRecord,
    ObjectSummary, PartRecord, PartSummary, RemovedVersion, Restore, Retention, SourceVersion,
    UploadRecord, VersionBound, Versioning, WriteCondition,
};
pub use multipart::{CompletedPart, MIN_PART_SIZE};
pub use object::{BodyStream, MAX_OBJECT_SIZE, Missing};
pub use staging::{BodyLimits, StagedBody};

/// The storage engine.
#[derive(Clone)]
pub struct Store {
    meta: Arc<dyn MetaStore>,
    blobs: BlobDir,
    leases: Arc<gc::Leases>,
    capacity: Arc<capacity::Capacity>,
    /// The AWS account ID the store answers as (12 digits, made once).
    account_id: Arc<str>,
    /// How long an unreferenced blob stays on disk ([`gc`]).
    blob_grace: std::time::Duration,
    /// Held for the store's lifetime: one server per data directory. The garbage collector's
    /// own copy of the store does not hold it, and stops once it is gone.
    lock: Option<Arc<lock::DirLock>>,
}

/// File name of the metadata database under the data directory.
const META_DB: &str = "meta.sqlite3";

impl Store {
    /// Opens the store under `data_dir` for a server: creates it (private) or makes its modes
    /// private, takes its lock, sweeps what a crash left behind, and starts the garbage
    /// collector.
    pub async fn open(data_dir: &Path) -> StoreResult<Self> {
        Self::open_with(data_dir, gc::GRACE).await
    }

    /// [`Store::open`] with the grace period unreferenced blobs get before they are deleted.
    pub async fn open_with(data_dir: &Path, blob_grace: std::time::Duration) -> StoreResult<Self> {
        permissions::create_private_dir(data_dir)?;
        let lock = lock::lock(data_dir)?;
        let fixed = permissions::secure_tree(data_dir)?;
        if fixed > 0 {
            tracing::warn!(
                fixed,
                dir = %data_dir.display(),
                "made files and directories in the data directory private (0600/0700)"
            );
        }
        let capacity = Arc::new(capacity::Capacity::open(data_dir));
        let meta = Self::open_db(data_dir)?;
        let account_id = account_id(meta.as_ref()).await?;
        let store = Self {
            meta,
            account_id,
            blob_grace,
            blobs: BlobDir::open(data_dir)?,
            leases: Arc::default(),
            capacity,
            lock: Some(Arc::new(lock)),
        };
        let removed = store.sweep().await?;
        if removed > 0 {
            tracing::info!(removed, "start-up sweep removed orphan blob files");
        }
        // The collector's first round, right away, writes the reserve if it is missing.
        store.spawn_collector();
        Ok(store)
    }

    /// Opens only the metadata database (for admin commands that run beside a server: no lock,
    /// no sweep).
    pub fn open_meta(data_dir: &Path) -> StoreResult<Arc<dyn MetaStore>> {
        permissions::create_private_dir(data_dir)?;
        Self::open_db(data_dir)
    }

    fn open_db(data_dir: &Path) -> StoreResult<Arc<dyn MetaStore>> {
        let path = data_dir.join(META_DB);
        // SQLite gives its -wal and -shm files the database file's mode: make that private first.
        {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(permissions::FILE_MODE)
                .open(&path)?;
        }
        Ok(Arc::new(meta::sqlite::SqliteMeta::open(&path)?))
    }

    /// What a crash can leave: staging files, blobs no row names any more (no read can hold
    /// them before the server answers), and files published but never committed.
    async fn sweep(&self) -> StoreResult<usize> {
        let blobs = self.blobs.clone();
        let mut removed = blocking(move || blobs.sweep_tmp()).await?;
        removed += self.collect_garbage(std::time::Duration::ZERO).await?;
        for prefix in BlobDir::prefixes() {
            let known = self.meta.known_blobs(&prefix).await?;
            let blobs = self.blobs.clone();
            removed += blocking(move || blobs.sweep_orphans(&prefix, &known)).await?;
        }
        Ok(removed)
    }

    /// The 12-digit AWS account ID this store answers as (owner of every bucket, for
    /// `x-amz-expected-bucket-owner`).
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    pub fn meta(&self) -> &dyn MetaStore {
        self.meta.as_ref()
    }

    pub fn blobs(&self) -> &BlobDir {
        &self.blobs
    }

    /// Whether the disk is full (writes are refused, reads and deletes served).
    pub fn storage_full(&self) -> bool {
        self.capacity.is_full()
    }

    /// CreateBucket (refused while the disk is full).
    pub async fn create_bucket(&self, bucket: BucketRecord) -> StoreResult<()> {
        self.create_bucket_with(bucket, Vec::new()).await
    }

    /// CreateBucket with the bucket's first configurations (kind, value), atomically.
    pub async fn create_bucket_with(
        &self,
        bucket: BucketRecord,
        configs: Vec<(String, String)>,
    ) -> StoreResult<()> {
        self.capacity.check_writable()?;
        self.capacity
            .watch(self.meta.create_bucket_with(bucket, configs).await)
    }

    /// DeleteBucket: refused while any version remains; aborts the bucket's uploads.
    pub async fn delete_bucket(&self, name: &str) -> StoreResult<()> {
        self.capacity.watch(self.meta.delete_bucket(name).await)
    }
}

/// The store's account ID, made of 12 random digits the first time.
async fn account_id(meta: &dyn MetaStore) -> StoreResult<Arc<str>> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?;
    let fresh = format!("{:012}", u64::from_le_bytes(b) % 1_000_000_000_000);
    Ok(meta.init_setting("account_id", &fresh).await?.into())
}

/// Runs blocking file work off the async runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
