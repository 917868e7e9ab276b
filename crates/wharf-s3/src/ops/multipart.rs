//! CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload,
//! AbortMultipartUpload, ListParts, ListMultipartUploads.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use wharf_auth::User;
use wharf_store::{
    BodyLimits, BucketRecord, ChecksumAlgorithm, ChecksumType as StoreChecksumType,
    CompletedPart as StorePart, MAX_OBJECT_SIZE, UploadRecord,
};

use super::conditional::EtagHeaders;
use super::copy::copy_source;
use super::list::{enc, url_encoding};
use super::object::{ChecksumPlan, MAX_PART_NUMBER, content_md5, receive_body, validate_key};
use crate::access::{Access, BucketRole, Caller};
use crate::convert::{
    ChecksumFields, etag, header_checksum, owner_of, parse_algorithm, storage_class, timestamp,
};
use crate::error::StoreResultExt;
use crate::features::refuse_unbuilt;
use crate::normalize::trailers_of;
use crate::{WharfS3, set_checksums};

/// S3 returns at most 1,000 parts or uploads a page.
const MAX_PAGE: usize = 1000;

fn no_such_upload() -> s3s::S3Error {
    s3_error!(
        NoSuchUpload,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
    )
}

/// The upload named by `upload_id`, which must belong to `bucket/key`, with the caller and
/// the bucket.
async fn upload_of(
    s3: &WharfS3,
    caller: &Caller,
    bucket: &str,
    key: &str,
    upload_id: &str,
    action: &'static str,
) -> S3Result<(User, BucketRecord, UploadRecord)> {
    let access = Access::object(action, key);
    let (user, b) = s3
        .authorize(caller, bucket, BucketRole::Target, access)
        .await?;
    validate_key(key)?;
    match s3.store.get_upload(upload_id).await.s3()? {
        Some(u) if u.bucket == bucket && u.key == key => Ok((user, b, u)),
        _ => Err(no_such_upload()),
    }
}

fn check_part_number(n: i32) -> S3Result<u32> {
    if (1..=MAX_PART_NUMBER).contains(&n) {
        Ok(u32::try_from(n).unwrap_or(1))
    } else {
        Err(s3_error!(
            InvalidArgument,
            "Part number must be an integer between 1 and 10000, inclusive"
        ))
    }
}

fn page_size(v: Option<i32>) -> S3Result<usize> {
    match v {
        None => Ok(MAX_PAGE),
        Some(n) if n < 0 => Err(s3_error!(InvalidArgument, "max value cannot be negative")),
        Some(n) => Ok(usize::try_from(n).unwrap_or(0).min(MAX_PAGE)),
    }
}

pub async fn create_multipart_upload(
    s3: &WharfS3,
    req: S3Request<CreateMultipartUploadInput>,
) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
    let caller = s3.caller(&req).await?;
    let headers = req.headers;
    let input = req.input;
    let (user, bucket) = s3
        .authorize(
            &caller,
            &input.bucket,
            BucketRole::Target,
            Access::object("s3:PutObject", &input.key),
        )
        .await?;
    validate_key(&input.key)?;
    refuse_unbuilt(&headers)?;
    let owner = super::acl::new_object_owner(s3, &bucket, &user.canonical_id, &headers).await?;
    let acl = super::acl::requested_acl(s3, &bucket, &headers, None, &owner)
        .await?
        .unwrap_or_default();
    let algorithm = input
        .checksum_algorithm
        .as_ref()
        .map(parse_algorithm)
        .transpose()?;
    let kind = match (&input.checksum_type, algorithm) {
        (Some(_), None) => {
            return Err(s3_error!(
                InvalidRequest,
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."
            ));
        }
        (Some(t), Some(alg)) => {
            let t = StoreChecksumType::parse(t.as_str()).ok_or_else(|| {
                s3_error!(
                    InvalidRequest,
                    "Value for x-amz-checksum-type header is invalid."
                )
            })?;
            let valid = match t {
                StoreChecksumType::FullObject => matches!(
                    alg,
                    ChecksumAlgorithm::Crc32
                        | ChecksumAlgorithm::Crc32c
                        | ChecksumAlgorithm::Crc64Nvme
                ),
                StoreChecksumType::Composite => alg != ChecksumAlgorithm::Crc64Nvme,
            };
            if !valid {
                return Err(s3_error!(
                    InvalidRequest,
                    "The {} checksum type cannot be used with the {} checksum algorithm.",
                    t.as_str(),
                    alg.as_str()
                ));
            }
            Some(t)
        }
        (None, Some(ChecksumAlgorithm::Crc64Nvme)) => Some(StoreChecksumType::FullObject),
        (None, Some(_)) => Some(StoreChecksumType::Composite),
        (None, None) => None,
    };
    let tags = super::tagging::from_header(input.tagging.as_deref())?;
    let mut attrs = crate::attr_input!(input).into_attrs()?;
    attrs.tags = tags;
    attrs.acl = acl;
    super::object_lock::new_version_lock(s3, &bucket, &headers, &mut attrs, false).await?;
    let upload = s3
        .store
        .create_upload(&input.bucket, &input.key, &owner, attrs, algorithm, kind)
        .await
        .s3()?;
    Ok(S3Response::new(CreateMultipartUploadOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(upload.upload_id),
        checksum_algorithm: algorithm
            .map(|a| s3s::dto::ChecksumAlgorithm::from(a.as_str().to_owned())),
        checksum_type: kind.map(|t| ChecksumType::from(t.as_str().to_owned())),
        ..Default::default()
    }))
}

pub async fn upload_part(
    s3: &WharfS3,
    req: S3Request<UploadPartInput>,
) -> S3Result<S3Response<UploadPartOutput>> {
    let caller = s3.caller(&req).await?;
    let trailers = trailers_of(&req);
    let headers = req.headers;
    let input = req.input;
    refuse_unbuilt(&headers)?;
    let part_number = check_part_number(input.part_number)?;
    let (_, _, upload) = upload_of(
        s3,
        &caller,
        &input.bucket,
        &input.key,
        &input.upload_id,
        "s3:PutObject",
    )
    .await?;
    let md5 = content_md5(input.content_md5.as_deref())?;
    let given = header_checksum(
        &input.checksum_crc32,
        &input.checksum_crc32c,
        &input.checksum_crc64nvme,
        &input.checksum_sha1,
        &input.checksum_sha256,
    )?;
    let plan = ChecksumPlan::of(
        &headers,
        given,
        input.checksum_algorithm.as_ref(),
        upload.checksum_algorithm,
    )?;
    if let (Some(want), Some(got)) = (upload.checksum_algorithm, plan.algorithm)
        && want != got
    {
        return Err(s3_error!(
            InvalidRequest,
            "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
            want.as_str(),
            got.as_str()
        ));
    }
    let expected_len = input.content_length.map(|n| u64::try_from(n).unwrap_or(0));
    let limits = BodyLimits {
        expected_len,
        max_len: MAX_OBJECT_SIZE,
        force_file: true,
    };
    let staged = receive_body(s3, input.body, &plan, md5, trailers.as_ref(), limits).await?;
    let checksum = staged.digests.checksum.clone();
    let part = s3
        .store
        .put_part(&upload.upload_id, part_number, staged, checksum)
        .await
        .s3()?;
    let mut out = UploadPartOutput {
        e_tag: Some(etag(&part.etag)),
        ..Default::default()
    };
    set_checksums!(out, ChecksumFields::of(part.checksum.as_ref()));
    Ok(S3Response::new(out))
}

/// Parses `x-amz-copy-source-range: bytes=first-last` against the source size.
pub fn copy_range(v: Option<&str>, size: u64) -> S3Result<std::ops::Range<u64>> {
    let Some(v) = v else { return Ok(0..size) };
    let bad = || {
        s3_error!(
            InvalidArgument,
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy"
        )
    };
    let (a, b) = v
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .ok_or_else(bad)?;
    let (first, last): (u64, u64) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if first > last {
        return Err(bad());
    }
    if last >= size {
        return Err(s3_error!(
            InvalidRange,
            "The requested range is not satisfiable"
        ));
    }
    Ok(first..last + 1)
}

pub async fn upload_part_copy(
    s3: &WharfS3,
    req: S3Request<UploadPartCopyInput>,
) -> S3Result<S3Response<UploadPartCopyOutput>> {
    let caller = s3.caller(&req).await?;
    let etags = EtagHeaders::of(&req);
    refuse_unbuilt(&req.headers)?;
    let input = req.input;
    let part_number = check_part_number(input.part_number)?;
    let (_, _, upload) = upload_of(
        s3,
        &caller,
        &input.bucket,
        &input.key,
        &input.upload_id,
        "s3:PutObject",
    )
    .await?;
    let src = copy_source(
        s3,
        &caller,
        &input.copy_source,
        etags.copy_source(
            input.copy_source_if_modified_since.as_ref(),
            input.copy_source_if_unmodified_since.as_ref(),
        ),
    )
    .await?;
    let range = copy_range(input.copy_source_range.as_deref(), src.size)?;
    let len = range.end - range.start;
    if len > MAX_OBJECT_SIZE {
        return Err(s3_error!(
            InvalidRequest,
            "The specified copy range is larger than the maximum part size"
        ));
    }
    let body = s3.store.read_body(&src, range).await.s3()?;
    let limits = BodyLimits {
        expected_len: Some(len),
        max_len: MAX_OBJECT_SIZE,
        force_file: true,
    };
    let staged = s3
        .store
        .stage(body, upload.checksum_algorithm, limits)
        .await
        .s3()?;
    let checksum = staged.digests.checksum.clone();
    let part = s3
        .store
        .put_part(&upload.upload_id, part_number, staged, checksum)
        .await
        .s3()?;
    let mut result = CopyPartResult {
        e_tag: Some(etag(&part.etag)),
        last_modified: Some(timestamp(part.last_modified_ms)),
        ..Default::default()
    };
    set_checksums!(result, ChecksumFields::of(part.checksum.as_ref()));
    Ok(S3Response::new(UploadPartCopyOutput {
        copy_part_result: Some(result),
        ..Default::default()
    }))
}

fn part_checksum(p: &CompletedPart, alg: Option<ChecksumAlgorithm>) -> Option<String> {
    match alg? {
        ChecksumAlgorithm::Crc32 => p.checksum_crc32.clone(),
        ChecksumAlgorithm::Crc32c => p.checksum_crc32c.clone(),
        ChecksumAlgorithm::Crc64Nvme => p.checksum_crc64nvme.clone(),
        ChecksumAlgorithm::Sha1 => p.checksum_sha1.clone(),
        ChecksumAlgorithm::Sha256 => p.checksum_sha256.clone(),
    }
}

pub async fn complete_multipart_upload(
    s3: &WharfS3,
    req: S3Request<CompleteMultipartUploadInput>,
) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
    let caller = s3.caller(&req).await?;
    let etags = EtagHeaders::of(&req);
    let input = req.input;
    let (bucket, upload) = match upload_of(
        s3,
        &caller,
        &input.bucket,
        &input.key,
        &input.upload_id,
        "s3:PutObject",
    )
    .await
    {
        Ok((_, b, u)) => (b, u),
        Err(e) if *e.code() == s3s::S3ErrorCode::NoSuchUpload => {
            // The bucket was found and is the caller's: only the upload is gone (a retry).
            let (_, bucket) = s3
                .authorize(
                    &caller,
                    &input.bucket,
                    BucketRole::Target,
                    Access::object("s3:PutObject", &input.key),
                )
                .await?;
            return completed_again(s3, &bucket, &input, e).await;
        }
        Err(e) => return Err(e),
    };
    let cond = etags.write_condition();
    let parts = input
        .multipart_upload
        .as_ref()
        .and_then(|m| m.parts.clone())
        .unwrap_or_default();
    if parts.is_empty() {
        return Err(s3_error!(
            MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema"
        ));
    }
    let mut requested = Vec::with_capacity(parts.len());
    for p in &parts {
        let (Some(n), Some(e)) = (p.part_number, &p.e_tag) else {
            return Err(s3_error!(
                MalformedXML,
                "Each part needs a PartNumber and an ETag"
            ));
        };
        requested.push(StorePart {
            part_number: check_part_number(n)?,
            etag: e.value().to_owned(),
            checksum: part_checksum(p, upload.checksum_algorithm),
        });
    }
    let full = header_checksum(
        &input.checksum_crc32,
        &input.checksum_crc32c,
        &input.checksum_crc64nvme,
        &input.checksum_sha1,
        &input.checksum_sha256,
    )?;
    let full = match (full, upload.checksum_algorithm) {
        (Some((sent, _)), Some(alg)) if sent != alg => {
            return Err(s3_error!(
                InvalidRequest,
                "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
                alg.as_str().to_ascii_lowercase(),
                sent.as_str().to_ascii_lowercase()
            ));
        }
        (full, Some(_)) => full.map(|(_, v)| v),
        // An upload created without a checksum algorithm has no parts' checksums to check
        // the whole object's against.
        (_, None) => None,
    };
    match s3
        .store
        .complete_upload(&upload.upload_id, requested, full, cond)
        .await
    {
        Ok(record) => Ok(S3Response::new(completion_output(&bucket, &record))),
        // Completed by a concurrent request meanwhile: answer as for a retry.
        Err(wharf_store::StoreError::NoSuchUpload) => {
            completed_again(
                s3,
                &bucket,
                &input,
                crate::error::store_error(wharf_store::StoreError::NoSuchUpload),
            )
            .await
        }
        Err(e) => Err(crate::error::store_error(e)),
    }
}

/// A retried CompleteMultipartUpload of an upload that already completed: S3 answers with the
/// same result while the object it made is current, and `NoSuchUpload` after that.
async fn completed_again(
    s3: &WharfS3,
    b: &BucketRecord,
    input: &CompleteMultipartUploadInput,
    no_such_upload: s3s::S3Error,
) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
    match s3
        .store
        .completed_upload(&input.bucket, &input.key, &input.upload_id)
        .await
        .s3()?
    {
        Some(record) => Ok(S3Response::new(completion_output(b, &record))),
        None => Err(no_such_upload),
    }
}

fn completion_output(
    bucket: &BucketRecord,
    record: &wharf_store::ObjectRecord,
) -> CompleteMultipartUploadOutput {
    let mut out = CompleteMultipartUploadOutput {
        location: Some(format!("/{}/{}", record.bucket, record.key)),
        bucket: Some(record.bucket.clone()),
        key: Some(record.key.clone()),
        e_tag: Some(etag(&record.etag)),
        version_id: super::object::version_header(bucket, record),
        ..Default::default()
    };
    let fields = ChecksumFields::of(record.checksum.as_ref());
    out.checksum_type = fields.kind.clone();
    set_checksums!(out, fields);
    out
}

pub async fn abort_multipart_upload(
    s3: &WharfS3,
    req: S3Request<AbortMultipartUploadInput>,
) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let (_, _, upload) = upload_of(
        s3,
        &caller,
        &input.bucket,
        &input.key,
        &input.upload_id,
        "s3:AbortMultipartUpload",
    )
    .await?;
    s3.store.abort_upload(&upload.upload_id).await.s3()?;
    Ok(S3Response::with_status(
        AbortMultipartUploadOutput::default(),
        http::StatusCode::NO_CONTENT,
    ))
}

pub async fn list_parts(
    s3: &WharfS3,
    req: S3Request<ListPartsInput>,
) -> S3Result<S3Response<ListPartsOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let (user, _, upload) = upload_of(
        s3,
        &caller,
        &input.bucket,
        &input.key,
        &input.upload_id,
        "s3:ListMultipartUploadParts",
    )
    .await?;
    let max = page_size(input.max_parts)?;
    let marker = input
        .part_number_marker
        .map_or(0, |m| u32::try_from(m).unwrap_or(0));
    let mut stored = s3
        .store
        .list_parts(&upload.upload_id, marker, max + 1)
        .await
        .s3()?;
    let truncated = stored.len() > max;
    stored.truncate(max);
    let next = stored
        .last()
        .map(|p| i32::try_from(p.part_number).unwrap_or(0));
    let parts = stored
        .iter()
        .map(|p| {
            let mut part = Part {
                part_number: i32::try_from(p.part_number).ok(),
                e_tag: Some(etag(&p.etag)),
                size: i64::try_from(p.size).ok(),
                last_modified: Some(timestamp(p.last_modified_ms)),
                ..Default::default()
            };
            set_checksums!(part, ChecksumFields::of(p.checksum.as_ref()));
            part
        })
        .collect::<Vec<_>>();
    Ok(S3Response::new(ListPartsOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(upload.upload_id),
        part_number_marker: input.part_number_marker,
        next_part_number_marker: next,
        max_parts: Some(i32::try_from(max).unwrap_or(1000)),
        is_truncated: Some(truncated),
        parts: (!parts.is_empty()).then_some(parts),
        owner: Some(owner_of(&user)),
        initiator: Some(Initiator {
            id: Some(user.canonical_id.clone()),
            display_name: Some(user.display_name.clone()),
        }),
        storage_class: Some(StorageClass::from(storage_class(
            upload.attrs.storage_class.as_deref(),
        ))),
        checksum_algorithm: upload
            .checksum_algorithm
            .map(|a| s3s::dto::ChecksumAlgorithm::from(a.as_str().to_owned())),
        checksum_type: upload
            .checksum_type
            .map(|t| ChecksumType::from(t.as_str().to_owned())),
        ..Default::default()
    }))
}

pub async fn list_multipart_uploads(
    s3: &WharfS3,
    req: S3Request<ListMultipartUploadsInput>,
) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let (user, _) = s3
        .authorize(
            &caller,
            &input.bucket,
            BucketRole::Target,
            Access::bucket("s3:ListBucketMultipartUploads"),
        )
        .await?;
    let url = url_encoding(input.encoding_type.as_ref())?;
    let max = page_size(input.max_uploads)?;
    let prefix = input.prefix.clone().unwrap_or_default();
    // S3: without upload-id-marker, the key marker's uploads are all skipped.
    let after =
        input
            .key_marker
            .clone()
            .filter(|k| !k.is_empty())
            .map(|k| match &input.upload_id_marker {
                Some(u) if !u.is_empty() => (k, u.clone()),
                _ => (k, "\u{10FFFF}".to_owned()),
            });
    let page = s3
        .store
        .list_uploads(
            &input.bucket,
            &prefix,
            input.delimiter.as_deref(),
            after,
            max,
        )
        .await
        .s3()?;
    let last = page.uploads.last().cloned();
    let uploads = page
        .uploads
        .into_iter()
        .map(|u| MultipartUpload {
            key: Some(enc(url, &u.key)),
            upload_id: Some(u.upload_id),
            initiated: Some(timestamp(u.initiated_ms)),
            owner: Some(owner_of(&user)),
            initiator: Some(Initiator {
                id: Some(user.canonical_id.clone()),
                display_name: Some(user.display_name.clone()),
            }),
            storage_class: Some(StorageClass::from(storage_class(
                u.attrs.storage_class.as_deref(),
            ))),
            checksum_algorithm: u
                .checksum_algorithm
                .map(|a| s3s::dto::ChecksumAlgorithm::from(a.as_str().to_owned())),
            checksum_type: u
                .checksum_type
                .map(|t| ChecksumType::from(t.as_str().to_owned())),
        })
        .collect::<Vec<_>>();
    let prefixes: Vec<CommonPrefix> = page
        .common_prefixes
        .iter()
        .map(|p| CommonPrefix {
            prefix: Some(enc(url, p)),
        })
        .collect();
    Ok(S3Response::new(ListMultipartUploadsOutput {
        bucket: Some(input.bucket),
        prefix: Some(enc(url, &prefix)),
        delimiter: input
            .delimiter
            .filter(|d| !d.is_empty())
            .map(|d| enc(url, &d)),
        key_marker: Some(input.key_marker.unwrap_or_default()),
        upload_id_marker: Some(input.upload_id_marker.unwrap_or_default()),
        next_key_marker: page
            .is_truncated
            .then(|| last.as_ref().map(|u| enc(url, &u.key)))
            .flatten(),
        next_upload_id_marker: page
            .is_truncated
            .then(|| last.as_ref().map(|u| u.upload_id.clone()))
            .flatten(),
        max_uploads: Some(i32::try_from(max).unwrap_or(1000)),
        is_truncated: Some(page.is_truncated),
        uploads: (!uploads.is_empty()).then_some(uploads),
        common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
        encoding_type: input.encoding_type,
        ..Default::default()
    }))
}
