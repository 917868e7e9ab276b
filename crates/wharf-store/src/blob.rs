//! Blob files: object and part bodies on disk.
//!
//! A body is written to `tmp/<id>`, fsync'd, then renamed to `blobs/<xx>/<id>` and the directory
//! fsync'd, all before the metadata row that names it is committed. Names are random ids, never
//! derived from a key. A crash can therefore leave only (a) files in `tmp/`, which are all
//! garbage, and (b) renamed blobs that no committed row names; the start-up sweep removes both.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::Stream;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::error::{StoreError, StoreResult};

/// Random id of a blob file (32 hex characters).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct BlobId(String);

impl BlobId {
    pub fn random() -> StoreResult<Self> {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b)
            .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?;
        Ok(Self(hex::encode(b)))
    }

    /// Accepts only what [`BlobId::random`] makes, so a corrupt row can never name a path.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 32
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
        .then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Size of the reads that feed a GET. Large enough to keep syscalls and task hops rare.
const READ_CHUNK: usize = 1 << 20;

/// The blob directory tree under the data directory.
#[derive(Debug, Clone)]
pub struct BlobDir {
    root: PathBuf,
}

impl BlobDir {
    /// Opens (creating if needed) `blobs/` and `tmp/` under `data_dir`.
    pub fn open(data_dir: &Path) -> StoreResult<Self> {
        let root = data_dir.to_path_buf();
        std::fs::create_dir_all(root.join("tmp"))?;
        for i in 0..=255u8 {
            std::fs::create_dir_all(root.join("blobs").join(format!("{i:02x}")))?;
        }
        Ok(Self { root })
    }

    pub fn tmp_path(&self, id: &BlobId) -> PathBuf {
        self.root.join("tmp").join(id.as_str())
    }

    fn fanout_dir(&self, id: &BlobId) -> PathBuf {
        self.root.join("blobs").join(&id.as_str()[..2])
    }

    pub fn blob_path(&self, id: &BlobId) -> PathBuf {
        self.fanout_dir(id).join(id.as_str())
    }

    /// Moves a fsync'd staging file into place and makes the rename itself durable.
    pub async fn publish(&self, id: &BlobId) -> StoreResult<()> {
        let (from, to, dir) = (self.tmp_path(id), self.blob_path(id), self.fanout_dir(id));
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            std::fs::rename(&from, &to)?;
            std::fs::File::open(&dir)?.sync_all()
        })
        .await
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))??;
        Ok(())
    }

    /// Removes blobs whose rows are gone. Failures are logged, not returned: a leftover file is
    /// garbage the next sweep collects, never a correctness problem.
    pub fn delete_later(&self, ids: Vec<BlobId>) {
        if ids.is_empty() {
            return;
        }
        let paths: Vec<_> = ids.iter().map(|id| self.blob_path(id)).collect();
        tokio::task::spawn_blocking(move || {
            for p in paths {
                if let Err(e) = std::fs::remove_file(&p)
                    && e.kind() != std::io::ErrorKind::NotFound
                {
                    tracing::warn!(path = %p.display(), error = %e, "could not delete blob");
                }
            }
        });
    }

    /// Start-up sweep: empties `tmp/` and deletes every blob that `is_live` does not claim.
    /// Returns how many files were removed.
    pub fn sweep(&self, is_live: &dyn Fn(&BlobId) -> bool) -> StoreResult<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(self.root.join("tmp"))? {
            std::fs::remove_file(entry?.path())?;
            removed += 1;
        }
        for i in 0..=255u8 {
            let dir = self.root.join("blobs").join(format!("{i:02x}"));
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                let name = entry.file_name();
                let live = name
                    .to_str()
                    .and_then(BlobId::parse)
                    .is_some_and(|id| is_live(&id));
                if !live {
                    std::fs::remove_file(entry.path())?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// Opens a blob for reading `len` bytes from `offset`.
    pub async fn open_range(&self, id: &BlobId, offset: u64, len: u64) -> StoreResult<BlobReader> {
        let mut file = tokio::fs::File::open(self.blob_path(id)).await?;
        if offset > 0 {
            file.seek(std::io::SeekFrom::Start(offset)).await?;
        }
        Ok(BlobReader {
            file,
            remaining: len,
        })
    }
}

/// An open blob with the byte count still to be read.
pub struct BlobReader {
    file: tokio::fs::File,
    remaining: u64,
}

impl BlobReader {
    /// The bytes as a stream of chunks of at most [`READ_CHUNK`].
    pub fn into_stream(self) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
        futures::stream::try_unfold(self, |mut r| async move {
            if r.remaining == 0 {
                return Ok(None);
            }
            let want = usize::try_from(r.remaining.min(READ_CHUNK as u64)).unwrap_or(READ_CHUNK);
            let mut buf = vec![0u8; want];
            let mut filled = 0;
            while filled < want {
                let n = r.file.read(&mut buf[filled..]).await?;
                if n == 0 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "blob shorter than its row says",
                    ));
                }
                filled += n;
            }
            r.remaining -= want as u64;
            Ok(Some((Bytes::from(buf), r)))
        })
    }
}
