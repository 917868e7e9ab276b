//! Object operations: put, read (with ranges), delete, copy.

use std::ops::Range;
use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::blob::BlobId;
use crate::checksum::{Checksum, ChecksumAlgorithm, etag_of_md5};
use crate::error::{StoreError, StoreResult};
use crate::meta::{BlobRef, BodyLayout, ObjectAttrs, ObjectRecord, PutCondition};
use crate::staging::{BodyLimits, StagedBody, StagedContent, stage_body};
use crate::{Store, now_ms};

/// S3: a single PUT (or copy) is at most 5 GiB.
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// An object's bytes on their way out.
pub type BodyStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + 'static>>;

impl Store {
    /// Receives a body into the staging area (see [`crate::staging`]).
    pub async fn stage<S, E>(
        &self,
        body: S,
        algorithm: Option<ChecksumAlgorithm>,
        limits: BodyLimits,
    ) -> StoreResult<StagedBody>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        stage_body(&self.blobs, body, algorithm, limits).await
    }

    /// Makes a staged body's file permanent and returns how the row should name it.
    pub(crate) async fn publish(&self, staged: &mut StagedBody) -> StoreResult<BodyLayout> {
        match staged.take_content() {
            Some(StagedContent::Inline(b)) => Ok(BodyLayout::Inline(b)),
            Some(StagedContent::File(id)) => {
                if let Err(e) = self.blobs.publish(&id).await {
                    let _ = std::fs::remove_file(self.blobs.tmp_path(&id));
                    return Err(e);
                }
                Ok(BodyLayout::Blobs(vec![BlobRef {
                    id,
                    len: staged.size,
                }]))
            }
            None => Err(StoreError::Corrupt("staged body already used".into())),
        }
    }

    /// Commits a staged body as `bucket/key`. The caller has verified checksums.
    #[allow(clippy::too_many_arguments)]
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        owner: &str,
        attrs: ObjectAttrs,
        mut staged: StagedBody,
        checksum: Option<Checksum>,
        cond: PutCondition,
    ) -> StoreResult<ObjectRecord> {
        let body = self.publish(&mut staged).await?;
        let record = ObjectRecord {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size: staged.size,
            etag: etag_of_md5(&staged.digests.md5),
            last_modified_ms: now_ms(),
            owner: owner.to_owned(),
            attrs,
            checksum,
            body,
            parts: Vec::new(),
        };
        self.commit_record(record, cond).await
    }

    /// Writes a complete record; on failure its new blobs are removed, on success the replaced ones.
    async fn commit_record(
        &self,
        record: ObjectRecord,
        cond: PutCondition,
    ) -> StoreResult<ObjectRecord> {
        let new_blobs = record.body.blob_ids();
        match self.meta.put_object(record.clone(), cond).await {
            Ok(replaced) => {
                self.blobs.delete_later(replaced);
                Ok(record)
            }
            Err(e) => {
                self.blobs.delete_later(new_blobs);
                Err(e)
            }
        }
    }

    pub async fn get_object(&self, bucket: &str, key: &str) -> StoreResult<Option<ObjectRecord>> {
        self.meta.get_object(bucket, key).await
    }

    /// Deletes `bucket/key` if `cond` holds (checked atomically with the delete); `Ok(false)`
    /// if it did not exist (S3 answers 204 either way).
    pub async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        cond: PutCondition,
    ) -> StoreResult<bool> {
        match self.meta.delete_object(bucket, key, cond).await? {
            Some(blobs) => {
                self.blobs.delete_later(blobs);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Streams `range` (end exclusive, within the object) of an object's body.
    ///
    /// Every blob the range touches is opened before this returns, so an overwrite that lands
    /// while the body streams cannot pull the bytes away (an open file outlives its unlink).
    pub async fn read_body(
        &self,
        object: &ObjectRecord,
        range: Range<u64>,
    ) -> StoreResult<BodyStream> {
        let end = range.end.min(object.size);
        let start = range.start.min(end);
        match &object.body {
            BodyLayout::Inline(b) => {
                let (s, e) = (
                    usize::try_from(start).unwrap_or(0),
                    usize::try_from(end).unwrap_or(0),
                );
                let slice = b.get(s..e).map(Bytes::copy_from_slice).unwrap_or_default();
                Ok(Box::pin(futures::stream::once(async move { Ok(slice) })))
            }
            BodyLayout::Blobs(refs) => {
                let mut readers = Vec::new();
                let mut offset = 0u64;
                for r in refs {
                    let (b_start, b_end) = (offset, offset + r.len);
                    offset = b_end;
                    if b_end <= start || b_start >= end {
                        continue;
                    }
                    let from = start.max(b_start) - b_start;
                    let to = end.min(b_end) - b_start;
                    readers.push(self.blobs.open_range(&r.id, from, to - from).await?);
                }
                Ok(Box::pin(
                    futures::stream::iter(readers).flat_map(|r| r.into_stream()),
                ))
            }
        }
    }

    /// Copies `src` (or `range` of it) to `bucket/key` with `attrs`, streaming the bytes.
    ///
    /// Copying an object onto itself without a range rewrites only its row (metadata change).
    #[allow(clippy::too_many_arguments)]
    pub async fn copy_object(
        &self,
        src: &ObjectRecord,
        bucket: &str,
        key: &str,
        owner: &str,
        attrs: ObjectAttrs,
        checksum_algorithm: Option<ChecksumAlgorithm>,
        cond: PutCondition,
    ) -> StoreResult<ObjectRecord> {
        let same = src.bucket == bucket && src.key == key;
        if same
            && checksum_algorithm
                .is_none_or(|a| src.checksum.as_ref().is_some_and(|c| c.algorithm == a))
        {
            let mut record = src.clone();
            record.attrs = attrs;
            record.last_modified_ms = now_ms();
            // Guard against a concurrent overwrite: the row must still be the one we read.
            let cond = PutCondition {
                if_match: Some(cond.if_match.unwrap_or_else(|| src.etag.clone())),
                ..cond
            };
            return self.commit_record(record, cond).await;
        }
        let body = self.read_body(src, 0..src.size).await?;
        let algorithm = checksum_algorithm.or(src.checksum.as_ref().map(|c| c.algorithm));
        let staged = self
            .stage(
                body,
                algorithm,
                BodyLimits {
                    expected_len: Some(src.size),
                    max_len: MAX_OBJECT_SIZE,
                    force_file: false,
                },
            )
            .await?;
        let checksum = staged.digests.checksum.clone();
        // S3 keeps a multipart source's ETag only for an exact-part copy; a copy is a new single-part object.
        self.put_object(bucket, key, owner, attrs, staged, checksum, cond)
            .await
    }

    /// Blobs named nowhere any more (used by multipart when parts are replaced).
    pub(crate) fn discard(&self, ids: Vec<BlobId>) {
        self.blobs.delete_later(ids);
    }
}
