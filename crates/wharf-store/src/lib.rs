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
//! - **Strong read-after-write consistency** for objects and listings: a reply is sent only
//!   after the commit, and reads go to the same database.
//! - **Streaming.** Bodies pass through bounded buffers (at most a few MiB per request).

pub mod blob;
pub mod checksum;
pub mod error;
mod list;
pub mod meta;
mod multipart;
mod object;
pub mod staging;

use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use blob::{BlobDir, BlobId};
pub use checksum::{Checksum, ChecksumAlgorithm, ChecksumType};
pub use error::{StoreError, StoreResult};
pub use list::{ListEntry, ListPage, ListQuery, UploadListPage};
pub use meta::{
    BodyLayout, BucketRecord, KeyBound, MetaStore, ObjectAttrs, ObjectRecord, ObjectSummary,
    PartRecord, PartSummary, PutCondition, UploadRecord,
};
pub use multipart::{CompletedPart, MIN_PART_SIZE};
pub use object::{BodyStream, MAX_OBJECT_SIZE};
pub use staging::{BodyLimits, StagedBody};

/// The storage engine.
#[derive(Clone)]
pub struct Store {
    meta: Arc<dyn MetaStore>,
    blobs: BlobDir,
}

/// File name of the metadata database under the data directory.
const META_DB: &str = "meta.sqlite3";

impl Store {
    /// Opens the store under `data_dir` (creating it), and sweeps what a crash left behind.
    pub async fn open(data_dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(data_dir)?;
        let meta = Arc::new(meta::sqlite::SqliteMeta::open(&data_dir.join(META_DB))?);
        let store = Self {
            meta,
            blobs: BlobDir::open(data_dir)?,
        };
        let live = store.meta.live_blobs().await?;
        let blobs = store.blobs.clone();
        let removed = tokio::task::spawn_blocking(move || blobs.sweep(&|id| live.contains(id)))
            .await
            .map_err(|e| StoreError::Io(std::io::Error::other(e)))??;
        if removed > 0 {
            tracing::info!(removed, "start-up sweep removed orphan blob files");
        }
        Ok(store)
    }

    /// Opens only the metadata database (for admin commands that must not sweep blobs while a
    /// server may be running).
    pub fn open_meta(data_dir: &Path) -> StoreResult<Arc<dyn MetaStore>> {
        std::fs::create_dir_all(data_dir)?;
        Ok(Arc::new(meta::sqlite::SqliteMeta::open(
            &data_dir.join(META_DB),
        )?))
    }

    pub fn meta(&self) -> &dyn MetaStore {
        self.meta.as_ref()
    }

    pub fn blobs(&self) -> &BlobDir {
        &self.blobs
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
