//! Object operations: put, read (with ranges), delete, copy.

use std::ops::Range;
use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};

use crate::blob::BlobId;
use crate::checksum::{Checksum, ChecksumAlgorithm, etag_of_md5};
use crate::error::{StoreError, StoreResult};
use crate::meta::{
    AttrsUpdate, BlobRef, BodyLayout, DeleteMarker, Deletion, ObjectAttrs, ObjectRecord,
    RemovedVersion, SourceVersion, Versioning, WriteCondition,
};
use crate::staging::{BodyLimits, StagedBody, StagedContent, stage_body};
use crate::{Store, now_ms};

/// Why a read found no object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    NoSuchBucket,
    NoSuchKey,
    NoSuchVersion,
    /// A version id this store could never have issued.
    InvalidVersionId,
    /// The key's current version is a delete marker, or the read named one (`named`).
    DeleteMarker {
        marker: DeleteMarker,
        named: bool,
    },
}
use wharf_model::VersionId;

/// S3: a single PUT (or copy) is at most 5 GiB.
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// An object's bytes on their way out.
pub type BodyStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + 'static>>;

impl Store {
    /// Receives a body into the staging area (see [`crate::staging`]); refused at once while
    /// the disk is full.
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
        self.capacity.check_writable()?;
        self.capacity
            .watch(stage_body(&self.blobs, body, algorithm, limits).await)
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
        cond: WriteCondition,
    ) -> StoreResult<ObjectRecord> {
        self.capacity.check_writable()?;
        let body = self.publish(&mut staged).await?;
        let fresh = body.blob_ids();
        let record = ObjectRecord {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            version_id: ObjectRecord::uncommitted_version_id(),
            null_version: true,
            size: staged.size,
            etag: etag_of_md5(&staged.digests.md5),
            last_modified_ms: now_ms(),
            owner: owner.to_owned(),
            attrs,
            checksum,
            body,
            parts: Vec::new(),
            upload_id: None,
        };
        self.commit(record, cond, fresh).await
    }

    /// Stores `body`, a whole object the caller holds in memory (a demo page, an access log
    /// file), as `bucket/key` with a CRC64NVME checksum, owned by `owner`.
    pub async fn put_bytes(
        &self,
        bucket: &str,
        key: &str,
        owner: &str,
        body: Bytes,
        content_type: Option<String>,
    ) -> StoreResult<ObjectRecord> {
        let limits = BodyLimits {
            expected_len: Some(body.len() as u64),
            max_len: MAX_OBJECT_SIZE,
            force_file: false,
        };
        let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(body) });
        let staged = self
            .stage(stream, Some(ChecksumAlgorithm::Crc64Nvme), limits)
            .await?;
        let checksum = staged.digests.checksum.clone();
        let attrs = ObjectAttrs {
            content_type,
            ..ObjectAttrs::default()
        };
        self.put_object(
            bucket,
            key,
            owner,
            attrs,
            staged,
            checksum,
            WriteCondition::default(),
        )
        .await
    }

    /// Commits a record. `fresh` are the blobs published for it alone: if the commit surely did
    /// not happen, nothing can name them, so they go at once. (Shared blobs are never touched
    /// here: a failed copy leaves its source whole.)
    async fn commit(
        &self,
        record: ObjectRecord,
        cond: WriteCondition,
        fresh: Vec<BlobId>,
    ) -> StoreResult<ObjectRecord> {
        let result = self
            .capacity
            .watch(self.meta.put_object(record, cond).await);
        if let Err(e) = &result {
            self.discard_uncommitted(e, fresh).await;
        }
        result
    }

    /// Removes blob files published for a write that failed, unless the failure leaves it
    /// unknown whether the write committed (a database error at COMMIT): those are left for the
    /// start-up sweep, which removes them only if no row names them.
    pub(crate) async fn discard_uncommitted(&self, e: &StoreError, fresh: Vec<BlobId>) {
        if fresh.is_empty() || matches!(e, StoreError::Db(_) | StoreError::Closed) {
            return;
        }
        let blobs = self.blobs.clone();
        let _ = tokio::task::spawn_blocking(move || blobs.remove_files(&fresh)).await;
    }

    pub async fn get_object(&self, bucket: &str, key: &str) -> StoreResult<Option<ObjectRecord>> {
        self.meta.get_object(bucket, key).await
    }

    /// The object a read names: the key's current version, or the version `version_id` names
    /// (`null`: the null version); or why there is none, as S3 tells readers apart.
    pub async fn find_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> StoreResult<Result<ObjectRecord, Missing>> {
        if let Some(v) = version_id
            && v != wharf_model::NULL_VERSION
            && VersionId::parse(v).is_none()
        {
            return Ok(Err(Missing::InvalidVersionId));
        }
        let found = match version_id {
            Some(v) => self.meta.get_version(bucket, key, v).await?,
            None => self.meta.get_object(bucket, key).await?,
        };
        if let Some(o) = found {
            return Ok(Ok(o));
        }
        let Some(b) = self.meta.get_bucket(bucket).await? else {
            return Ok(Err(Missing::NoSuchBucket));
        };
        // Only a bucket that has been versioned holds delete markers.
        if b.versioning.names_versions()
            && let Some(marker) = self.meta.get_delete_marker(bucket, key, version_id).await?
        {
            return Ok(Err(Missing::DeleteMarker {
                marker,
                named: version_id.is_some(),
            }));
        }
        Ok(Err(if version_id.is_some() {
            Missing::NoSuchVersion
        } else {
            Missing::NoSuchKey
        }))
    }

    /// The version S3 names `version_id` (`null` for the null version).
    pub async fn get_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> StoreResult<Option<ObjectRecord>> {
        self.meta.get_version(bucket, key, version_id).await
    }

    /// A simple DELETE of `bucket/key` if `cond` holds (checked atomically with the delete):
    /// removes the null version, or adds a delete marker owned by `owner` when the bucket is
    /// versioned (see [`MetaStore::delete_object`]). Allowed while the disk is full.
    pub async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        owner: &str,
        cond: WriteCondition,
    ) -> StoreResult<Deletion> {
        self.capacity
            .watch(self.meta.delete_object(bucket, key, owner, cond).await)
    }

    /// Removes the version S3 names `version_id` (an object or a delete marker) for good.
    pub async fn delete_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
        cond: WriteCondition,
    ) -> StoreResult<Option<RemovedVersion>> {
        self.capacity.watch(
            self.meta
                .delete_version(bucket, key, version_id, cond)
                .await,
        )
    }

    /// Sets a bucket's versioning (`Enabled` or `Suspended`).
    pub async fn set_versioning(&self, bucket: &str, state: Versioning) -> StoreResult<()> {
        self.capacity.check_writable()?;
        self.capacity
            .watch(self.meta.set_versioning(bucket, state).await)
    }

    /// Changes one version's attributes (its tags, a restore) in one transaction; `false` if
    /// the version is gone.
    pub async fn update_attrs(
        &self,
        bucket: &str,
        key: &str,
        version_id: &VersionId,
        update: AttrsUpdate,
    ) -> StoreResult<bool> {
        self.capacity.check_writable()?;
        self.capacity.watch(
            self.meta
                .update_attrs(bucket, key, version_id, update)
                .await,
        )
    }

    /// Sets (`None`: removes) a bucket's configuration of `kind` (refused while the disk is
    /// full, except removals).
    pub async fn set_bucket_config(
        &self,
        bucket: &str,
        kind: &str,
        value: Option<String>,
    ) -> StoreResult<()> {
        if value.is_some() {
            self.capacity.check_writable()?;
        }
        self.capacity
            .watch(self.meta.set_bucket_config(bucket, kind, value).await)
    }

    /// Streams `range` (end exclusive, within the object) of an object's body.
    ///
    /// The blobs the range touches are leased for as long as the stream lives, so the garbage
    /// collector leaves them alone even if the object is overwritten meanwhile; the first is
    /// opened before this returns, the others one at a time as the stream reaches them (a
    /// 10,000-part object does not hold 10,000 open files).
    pub async fn read_body(
        &self,
        object: &ObjectRecord,
        range: Range<u64>,
    ) -> StoreResult<BodyStream> {
        let end = range.end.min(object.size);
        let start = range.start.min(end);
        let refs = match &object.body {
            BodyLayout::Inline(b) => {
                let (s, e) = (
                    usize::try_from(start).unwrap_or(0),
                    usize::try_from(end).unwrap_or(0),
                );
                let slice = b.get(s..e).map(Bytes::copy_from_slice).unwrap_or_default();
                return Ok(Box::pin(futures::stream::once(async move { Ok(slice) })));
            }
            BodyLayout::Blobs(refs) => refs,
        };
        // (blob, offset in it, length) for each blob the range touches.
        let mut segments = Vec::new();
        let mut offset = 0u64;
        for r in refs {
            let (b_start, b_end) = (offset, offset + r.len);
            offset = b_end;
            if b_end <= start || b_start >= end {
                continue;
            }
            let from = start.max(b_start) - b_start;
            let to = end.min(b_end) - b_start;
            segments.push((r.id.clone(), from, to - from));
        }
        let lease = self
            .leases
            .acquire(segments.iter().map(|(id, _, _)| id.clone()).collect());
        let mut segments = segments.into_iter();
        let Some((id, from, len)) = segments.next() else {
            return Ok(Box::pin(futures::stream::empty()));
        };
        let first = self.blobs.open_range(&id, from, len).await?;
        let blobs = self.blobs.clone();
        let rest = futures::stream::iter(segments)
            .then(move |(id, from, len)| {
                let blobs = blobs.clone();
                async move {
                    blobs
                        .open_range(&id, from, len)
                        .await
                        .map(|r| r.into_stream())
                        .map_err(|e| std::io::Error::other(e.to_string()))
                }
            })
            .try_flatten();
        let body = first.into_stream().chain(rest).map(move |chunk| {
            // The lease lives as long as the stream.
            let _held = &lease;
            chunk
        });
        Ok(Box::pin(body))
    }

    /// Copies `src` (or `range` of it) to `bucket/key` with `attrs`.
    ///
    /// No bytes are copied when none change: a copy onto itself (a metadata change), or of a
    /// single-part object keeping its checksum, shares the source's blobs, on condition that
    /// the source version still exists when the copy commits. If it does not,
    /// [`StoreError::SourceChanged`] is returned and the caller may read the source again.
    #[allow(clippy::too_many_arguments)]
    pub async fn copy_object(
        &self,
        src: &ObjectRecord,
        bucket: &str,
        key: &str,
        owner: &str,
        attrs: ObjectAttrs,
        checksum_algorithm: Option<ChecksumAlgorithm>,
        cond: WriteCondition,
    ) -> StoreResult<ObjectRecord> {
        self.capacity.check_writable()?;
        let same_key = src.bucket == bucket && src.key == key;
        let same_checksum = checksum_algorithm
            .is_none_or(|a| src.checksum.as_ref().is_some_and(|c| c.algorithm == a));
        // A multipart source copied elsewhere becomes a single-part object (a new ETag from its
        // bytes); onto itself it keeps its parts.
        if same_checksum && (same_key || src.parts.is_empty()) {
            let mut record = src.clone();
            record.bucket = bucket.to_owned();
            record.key = key.to_owned();
            record.owner = owner.to_owned();
            record.attrs = attrs;
            record.last_modified_ms = now_ms();
            record.upload_id = None;
            let cond = WriteCondition {
                source: Some(SourceVersion {
                    bucket: src.bucket.clone(),
                    key: src.key.clone(),
                    version_id: src.version_id.clone(),
                }),
                ..cond
            };
            return self.commit(record, cond, Vec::new()).await;
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
        self.put_object(bucket, key, owner, attrs, staged, checksum, cond)
            .await
    }
}
