//! CopyObject and the copy source shared with UploadPartCopy.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use wharf_store::{MAX_OBJECT_SIZE, ObjectRecord, StoreError};

use super::conditional::EtagHeaders;
use super::conditional::{Outcome, Preconditions, precondition_failed};
use super::object::{readable_object, validate_key};
use crate::access::{Access, BucketRole, Caller};
use crate::convert::{ChecksumFields, etag, parse_algorithm, timestamp};
use crate::error::StoreResultExt;
use crate::features::refuse_unbuilt;
use crate::{WharfS3, set_checksums};

/// How often a copy reads its source again when the source changed under it.
const MAX_COPY_ATTEMPTS: usize = 3;

/// The attributes of the copy: the source's (COPY), or those of the request (REPLACE), with a
/// new storage class or redirect location applied. Refuses a copy onto itself that changes
/// nothing, as S3 does.
fn copy_attrs(input: &CopyObjectInput, src: &ObjectRecord) -> S3Result<wharf_store::ObjectAttrs> {
    if src.size > MAX_OBJECT_SIZE {
        return Err(s3_error!(
            InvalidRequest,
            "The specified copy source is larger than the maximum allowable size for a copy source: {}",
            MAX_OBJECT_SIZE
        ));
    }
    if let Some(d) = &input.metadata_directive
        && !matches!(
            d.as_str(),
            MetadataDirective::REPLACE | MetadataDirective::COPY
        )
    {
        return Err(s3_error!(InvalidArgument, "Unknown metadata directive."));
    }
    let replace = input
        .metadata_directive
        .as_ref()
        .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
    let same = src.bucket == input.bucket && src.key == input.key;
    let changes_something = replace
        || input.storage_class.is_some()
        || input.website_redirect_location.is_some()
        || input.checksum_algorithm.is_some()
        || input.server_side_encryption.is_some();
    if same && !changes_something {
        return Err(s3_error!(
            InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."
        ));
    }
    // The tagging directive is independent of the metadata directive: COPY (the default) keeps
    // the source's tags, REPLACE takes `x-amz-tagging`.
    let tags = match input
        .tagging_directive
        .as_ref()
        .map(TaggingDirective::as_str)
    {
        None | Some(TaggingDirective::COPY) => src.attrs.tags.clone(),
        Some(TaggingDirective::REPLACE) => super::tagging::from_header(input.tagging.as_deref())?,
        Some(_) => return Err(s3_error!(InvalidArgument, "Unknown tagging directive.")),
    };
    if replace {
        let mut a = crate::attr_input!(input.clone()).into_attrs()?;
        a.tags = tags;
        return Ok(a);
    }
    let mut a = src.attrs.clone();
    a.tags = tags;
    // The copy is a new object: the source's restore and locks are its own.
    a.restore = None;
    a.retention = None;
    a.legal_hold = None;
    // A copy is STANDARD unless the request names a class, as in S3.
    a.storage_class = None;
    if let Some(sc) = &input.storage_class {
        if !crate::convert::STORAGE_CLASSES.contains(&sc.as_str()) {
            return Err(s3_error!(
                InvalidStorageClass,
                "The storage class you specified is not valid"
            ));
        }
        a.storage_class = Some(sc.as_str().to_owned()).filter(|s| s != "STANDARD");
    }
    if input.website_redirect_location.is_some() {
        a.website_redirect_location = input.website_redirect_location.clone();
    }
    Ok(a)
}

/// Loads the copy source the requester may read and checks its conditions (all fail with 412).
pub async fn copy_source(
    s3: &WharfS3,
    caller: &Caller,
    src: &CopySource,
    pre: Preconditions<'_>,
) -> S3Result<ObjectRecord> {
    let CopySource::Bucket {
        bucket,
        key,
        version_id,
    } = src
    else {
        return Err(s3_error!(
            NotImplemented,
            "Access point copy sources are not supported"
        ));
    };
    let (obj, _) = readable_object(
        s3,
        caller,
        bucket,
        key,
        version_id.as_deref(),
        BucketRole::CopySource,
        super::object::READ,
    )
    .await?;
    if !obj.attrs.readable_at(wharf_store::now_ms()) {
        return Err(s3_error!(
            InvalidObjectState,
            "The source object of the COPY action is not in the active tier and is only stored in Amazon S3 Glacier."
        ));
    }
    match pre.evaluate(&obj.etag, obj.last_modified_ms) {
        Outcome::Proceed => Ok(obj),
        Outcome::NotModified | Outcome::PreconditionFailed => Err(precondition_failed()),
    }
}

pub async fn copy_object(
    s3: &WharfS3,
    req: S3Request<CopyObjectInput>,
) -> S3Result<S3Response<CopyObjectOutput>> {
    let caller = s3.caller(&req).await?;
    let etags = EtagHeaders::of(&req);
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
    // A copy's ACL is the request's (private by default), never the source's.
    let acl = super::acl::requested_acl(s3, &bucket, &headers, None, &owner)
        .await?
        .unwrap_or_default();
    // A source overwritten between our read and the copy's commit is read again: the copy then
    // takes place after that overwrite, as if it had started later.
    let mut attempts = 0;
    let (record, source_version) = loop {
        attempts += 1;
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
        let mut attrs = copy_attrs(&input, &src)?;
        attrs.acl = acl.clone();
        super::object_lock::new_version_lock(s3, &bucket, &headers, &mut attrs, false).await?;
        let algorithm = input
            .checksum_algorithm
            .as_ref()
            .map(parse_algorithm)
            .transpose()?;
        // S3 takes If-Match and If-None-Match on the destination of a copy too.
        let cond = etags.write_condition();
        match s3
            .store
            .copy_object(
                &src,
                &input.bucket,
                &input.key,
                &owner,
                attrs,
                algorithm,
                cond,
            )
            .await
        {
            Err(StoreError::SourceChanged) if attempts < MAX_COPY_ATTEMPTS => continue,
            // The version copied, as S3 names it when the source is versioned.
            other => {
                break (
                    other.s3()?,
                    (!src.null_version).then(|| src.s3_version_id().to_owned()),
                );
            }
        }
    };
    let mut result = CopyObjectResult {
        e_tag: Some(etag(&record.etag)),
        last_modified: Some(timestamp(record.last_modified_ms)),
        ..Default::default()
    };
    let fields = ChecksumFields::of(record.checksum.as_ref());
    result.checksum_type = fields.kind.clone();
    set_checksums!(result, fields);
    Ok(S3Response::new(CopyObjectOutput {
        copy_object_result: Some(result),
        version_id: super::object::version_header(&bucket, &record),
        copy_source_version_id: source_version,
        ..Default::default()
    }))
}
