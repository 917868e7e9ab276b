//! Blob files: object and part bodies on disk.
//!
//! A body is written to `tmp/<id>`, fsync'd, then renamed to `blobs/<xx>/<id>` and the directory
//! fsync'd, all before the metadata row that names it is committed. Names are random ids, never
//! derived from a key. A crash can therefore leave only (a) files in `tmp/`, which are all
//! garbage, and (b) renamed blobs that no committed row names; the start-up sweep removes both.
//! Files whose rows are gone are deleted by the garbage collector ([`crate::gc`]), never by the
//! write that released them.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::Stream;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::error::{StoreError, StoreResult};
use crate::permissions::create_private_dir;

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
        create_private_dir(&root.join("tmp"))?;
        for prefix in Self::prefixes() {
            create_private_dir(&root.join("blobs").join(prefix))?;
        }
        Ok(Self { root })
    }

    /// The fan-out directory names, `00` to `ff`: a blob lives in the one its id starts with.
    pub fn prefixes() -> impl Iterator<Item = String> {
        (0..=255u8).map(|i| format!("{i:02x}"))
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

    /// Deletes the files of blobs no row names any more (the garbage collector decided).
    /// Failures are logged: a leftover file is garbage the start-up sweep collects.
    pub fn remove_files(&self, ids: &[BlobId]) {
        for id in ids {
            let p = self.blob_path(id);
            if let Err(e) = std::fs::remove_file(&p)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(path = %p.display(), error = %e, "could not delete blob");
            }
        }
    }

    /// Start-up sweep, part 1: empties `tmp/` (bodies whose requests died with the process).
    pub fn sweep_tmp(&self) -> StoreResult<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(self.root.join("tmp"))? {
            std::fs::remove_file(entry?.path())?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Start-up sweep, part 2, for one fan-out directory: deletes every file there that is not
    /// among `known` (blobs published before a crash, never named by a committed row).
    pub fn sweep_orphans(
        &self,
        prefix: &str,
        known: &std::collections::HashSet<BlobId>,
    ) -> StoreResult<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(self.root.join("blobs").join(prefix))? {
            let entry = entry?;
            let name = entry.file_name();
            let live = name
                .to_str()
                .and_then(BlobId::parse)
                .is_some_and(|id| known.contains(&id));
            if !live {
                std::fs::remove_file(entry.path())?;
                removed += 1;
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
