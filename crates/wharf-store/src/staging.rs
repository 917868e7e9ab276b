//! Taking a request body in: hashing it as it streams and staging it durably.
//!
//! Small bodies (up to [`INLINE_MAX`]) stay in memory and are committed inside the metadata row,
//! so a burst of small PUTs costs one group-committed fsync rather than one per object. Larger
//! bodies stream through a bounded buffer into `tmp/<id>`, which is fsync'd before staging
//! returns. A [`StagedBody`] that is dropped without being committed removes its file, so a
//! client that vanishes mid-upload or a failed checksum leaves nothing behind.

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use crate::blob::{BlobDir, BlobId};
use crate::checksum::{BodyDigests, BodyHasher, ChecksumAlgorithm};
use crate::error::{StoreError, StoreResult};

/// Bodies up to this size are stored inline in the metadata DB.
pub const INLINE_MAX: usize = 64 * 1024;
/// Write buffer between the network and the staging file.
const WRITE_BUFFER: usize = 1 << 20;

/// Where a staged body lives until its metadata row is committed.
#[derive(Debug)]
pub enum StagedContent {
    Inline(Bytes),
    /// A fsync'd file in `tmp/`, not yet published.
    File(BlobId),
}

/// A body that has been fully received, hashed and made durable, but is not yet visible.
#[derive(Debug)]
pub struct StagedBody {
    pub size: u64,
    pub digests: BodyDigests,
    content: Option<StagedContent>,
    blobs: BlobDir,
}

impl StagedBody {
    /// Takes the content out; after this, dropping the body no longer deletes anything.
    pub(crate) fn take_content(&mut self) -> Option<StagedContent> {
        self.content.take()
    }
}

impl Drop for StagedBody {
    fn drop(&mut self) {
        if let Some(StagedContent::File(id)) = self.content.take() {
            let _ = std::fs::remove_file(self.blobs.tmp_path(&id));
        }
    }
}

/// Limits and expectations for one body.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// The Content-Length (or decoded length) the client declared, if any.
    pub expected_len: Option<u64>,
    /// The largest body accepted (S3: 5 GiB for a PUT or a part).
    pub max_len: u64,
    /// Never inline (multipart parts are always files).
    pub force_file: bool,
}

/// Streams `body` into the store's staging area, hashing it on the way.
pub async fn stage_body<S, E>(
    blobs: &BlobDir,
    body: S,
    algorithm: Option<ChecksumAlgorithm>,
    limits: BodyLimits,
) -> StoreResult<StagedBody>
where
    S: Stream<Item = Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    if limits.expected_len.is_some_and(|n| n > limits.max_len) {
        return Err(StoreError::EntityTooLarge);
    }
    let mut body = std::pin::pin!(body);
    let mut hasher = BodyHasher::new(algorithm);
    let mut size: u64 = 0;
    let inline_cap = if limits.force_file { 0 } else { INLINE_MAX };
    let mut head = BytesMut::new();
    let mut file: Option<(BlobId, tokio::io::BufWriter<tokio::fs::File>)> = None;
    // The guard deletes a half-written staging file on any early return.
    let mut guard = StagedBody {
        size: 0,
        digests: BodyHasher::new(None).finalize(),
        content: None,
        blobs: blobs.clone(),
    };

    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| StoreError::Body(e.to_string()))?;
        size += chunk.len() as u64;
        if size > limits.max_len || limits.expected_len.is_some_and(|n| size > n) {
            return Err(if size > limits.max_len {
                StoreError::EntityTooLarge
            } else {
                StoreError::IncompleteBody
            });
        }
        hasher.update(&chunk);
        match &mut file {
            Some((_, w)) => w.write_all(&chunk).await?,
            None if head.len() + chunk.len() <= inline_cap => head.extend_from_slice(&chunk),
            None => {
                let id = BlobId::random()?;
                let f = create_staging_file(&blobs.tmp_path(&id)).await?;
                guard.content = Some(StagedContent::File(id.clone()));
                let mut w = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, f);
                w.write_all(&head).await?;
                w.write_all(&chunk).await?;
                head = BytesMut::new();
                file = Some((id, w));
            }
        }
    }
    if limits.expected_len.is_some_and(|n| size != n) {
        return Err(StoreError::IncompleteBody);
    }
    let content = match file {
        Some((id, mut w)) => {
            w.flush().await?;
            // Durability before acknowledgement: the bytes are on disk before any row names them.
            w.get_mut().sync_all().await?;
            StagedContent::File(id)
        }
        None if limits.force_file => {
            let id = BlobId::random()?;
            guard.content = Some(StagedContent::File(id.clone()));
            let mut f = create_staging_file(&blobs.tmp_path(&id)).await?;
            f.write_all(&head).await?;
            f.sync_all().await?;
            StagedContent::File(id)
        }
        None => StagedContent::Inline(head.freeze()),
    };
    guard.size = size;
    guard.digests = hasher.finalize();
    guard.content = Some(content);
    Ok(guard)
}

/// A new staging file, private to the server (mode 0600).
async fn create_staging_file(path: &std::path::Path) -> std::io::Result<tokio::fs::File> {
    tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(crate::permissions::FILE_MODE)
        .open(path)
        .await
}
