//! Multipart uploads: each part is its own blob; completion writes a manifest naming the parts'
//! blobs in order and copies no bytes.

use crate::blob::BlobId;
use crate::checksum::{Checksum, ChecksumAlgorithm, ChecksumType, combine_parts, multipart_etag};
use crate::error::{StoreError, StoreResult};
use crate::meta::{
    BlobRef, BodyLayout, ObjectAttrs, ObjectRecord, PartRecord, PartSummary, UploadRecord,
    WriteCondition,
};
use crate::staging::StagedBody;
use crate::{Store, now_ms};

/// S3: every part but the last must be at least 5 MiB.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

/// A part as the client lists it in CompleteMultipartUpload.
#[derive(Debug, Clone)]
pub struct CompletedPart {
    pub part_number: u32,
    /// Unquoted.
    pub etag: String,
    /// Checksum value the client sent for this part, if any (base64).
    pub checksum: Option<String>,
}

impl Store {
    #[allow(clippy::too_many_arguments)]
    pub async fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        owner: &str,
        attrs: ObjectAttrs,
        checksum_algorithm: Option<ChecksumAlgorithm>,
        checksum_type: Option<ChecksumType>,
    ) -> StoreResult<UploadRecord> {
        self.capacity.check_writable()?;
        let upload = UploadRecord {
            upload_id: BlobId::random()?.as_str().to_owned(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            initiated_ms: now_ms(),
            owner: owner.to_owned(),
            attrs,
            checksum_algorithm,
            checksum_type,
        };
        self.capacity
            .watch(self.meta.create_upload(upload.clone()).await)?;
        Ok(upload)
    }

    pub async fn get_upload(&self, upload_id: &str) -> StoreResult<Option<UploadRecord>> {
        self.meta.get_upload(upload_id).await
    }

    /// Commits a staged part (replacing an earlier part of the same number).
    pub async fn put_part(
        &self,
        upload_id: &str,
        part_number: u32,
        mut staged: StagedBody,
        checksum: Option<Checksum>,
    ) -> StoreResult<PartRecord> {
        self.capacity.check_writable()?;
        let BodyLayout::Blobs(mut refs) = self.publish(&mut staged).await? else {
            return Err(StoreError::Corrupt(
                "parts are always staged as files".into(),
            ));
        };
        let Some(BlobRef { id, .. }) = refs.pop() else {
            return Err(StoreError::Corrupt("part without blob".into()));
        };
        let part = PartRecord {
            upload_id: upload_id.to_owned(),
            part_number,
            size: staged.size,
            etag: crate::checksum::etag_of_md5(&staged.digests.md5),
            last_modified_ms: now_ms(),
            blob: id.clone(),
            checksum,
        };
        match self.capacity.watch(self.meta.put_part(part.clone()).await) {
            Ok(()) => Ok(part),
            Err(e) => {
                self.discard_uncommitted(&e, vec![id]).await;
                Err(e)
            }
        }
    }

    pub async fn list_parts(
        &self,
        upload_id: &str,
        after: u32,
        limit: usize,
    ) -> StoreResult<Vec<PartRecord>> {
        self.meta.list_parts(upload_id, after, limit).await
    }

    /// AbortMultipartUpload (allowed while the disk is full: it frees space).
    pub async fn abort_upload(&self, upload_id: &str) -> StoreResult<()> {
        self.capacity.watch(self.meta.abort_upload(upload_id).await)
    }

    /// CompleteMultipartUpload: validates the part list by S3's rules and commits the object.
    ///
    /// `full_checksum` is a whole-object checksum the client sent with the request, checked for
    /// FULL_OBJECT uploads.
    pub async fn complete_upload(
        &self,
        upload_id: &str,
        requested: Vec<CompletedPart>,
        full_checksum: Option<String>,
        cond: WriteCondition,
    ) -> StoreResult<ObjectRecord> {
        let build = Box::new(move |upload: &UploadRecord, stored: &[PartRecord]| {
            build_object(upload, stored, &requested, full_checksum)
        });
        self.capacity
            .watch(self.meta.complete_upload(upload_id, build, cond).await)
    }

    /// The key's current version if upload `upload_id` made it: S3 answers a retried
    /// CompleteMultipartUpload with the same result while that object is current.
    pub async fn completed_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> StoreResult<Option<ObjectRecord>> {
        Ok(self
            .meta
            .get_object(bucket, key)
            .await?
            .filter(|o| o.upload_id.as_deref() == Some(upload_id)))
    }
}

fn build_object(
    upload: &UploadRecord,
    stored: &[PartRecord],
    requested: &[CompletedPart],
    full_checksum: Option<String>,
) -> StoreResult<ObjectRecord> {
    if requested.is_empty() {
        return Err(StoreError::InvalidRequest(
            "You must specify at least one part".into(),
        ));
    }
    if requested
        .windows(2)
        .any(|w| w[0].part_number >= w[1].part_number)
    {
        return Err(StoreError::InvalidPartOrder);
    }
    let mut chosen: Vec<&PartRecord> = Vec::with_capacity(requested.len());
    for r in requested {
        let part = stored
            .iter()
            .find(|p| p.part_number == r.part_number && p.etag == r.etag)
            .ok_or_else(|| {
                StoreError::InvalidPart(format!(
                    "part {} with ETag {:?} was not uploaded",
                    r.part_number, r.etag
                ))
            })?;
        if let (Some(sent), Some(have)) = (&r.checksum, &part.checksum)
            && *sent != have.value
        {
            return Err(StoreError::InvalidPart(format!(
                "part {} checksum does not match",
                r.part_number
            )));
        }
        chosen.push(part);
    }
    if chosen[..chosen.len() - 1]
        .iter()
        .any(|p| p.size < MIN_PART_SIZE)
    {
        return Err(StoreError::EntityTooSmall);
    }
    let etag = multipart_etag(&chosen.iter().map(|p| p.etag.clone()).collect::<Vec<_>>())
        .ok_or_else(|| StoreError::Corrupt("part ETag is not hex".into()))?;
    let checksum = match upload.checksum_algorithm {
        Some(alg) => {
            let kind = upload.checksum_type.unwrap_or(ChecksumType::Composite);
            let raws: Option<Vec<(Vec<u8>, u64)>> = chosen
                .iter()
                .map(|p| Some((p.checksum.as_ref()?.raw()?, p.size)))
                .collect();
            let raws = raws.ok_or_else(|| {
                StoreError::InvalidPart("a part has no checksum of the upload's algorithm".into())
            })?;
            let c = combine_parts(alg, kind, &raws);
            // The whole object's checksum, if the client sent one: a composite one may come with
            // or without its `-N` suffix.
            if let (Some(sent), Some(c)) = (&full_checksum, &c) {
                let bare = c.value.split_once('-').map_or(c.value.as_str(), |(v, _)| v);
                if *sent != c.value && *sent != bare {
                    return Err(StoreError::BadDigest(alg.as_str()));
                }
            }
            c
        }
        None => None,
    };
    Ok(ObjectRecord {
        bucket: upload.bucket.clone(),
        key: upload.key.clone(),
        version_id: ObjectRecord::uncommitted_version_id(),
        null_version: true,
        size: chosen.iter().map(|p| p.size).sum(),
        etag,
        last_modified_ms: now_ms(),
        owner: upload.owner.clone(),
        attrs: upload.attrs.clone(),
        checksum,
        body: BodyLayout::Blobs(
            chosen
                .iter()
                .map(|p| BlobRef {
                    id: p.blob.clone(),
                    len: p.size,
                })
                .collect(),
        ),
        parts: chosen
            .iter()
            .map(|p| PartSummary {
                part_number: p.part_number,
                size: p.size,
                checksum: p.checksum.clone(),
            })
            .collect(),
        upload_id: Some(upload.upload_id.clone()),
    })
}
