//! CopyObject and the copy source shared with UploadPartCopy.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use wharf_auth::User;
use wharf_store::{MAX_OBJECT_SIZE, ObjectRecord};

use super::conditional::{Outcome, Preconditions, precondition_failed};
use super::object::{put_condition, readable_object, validate_key};
use crate::convert::{ChecksumFields, etag, parse_algorithm, timestamp};
use crate::error::StoreResultExt;
use crate::{WharfS3, set_checksums};

/// Loads the copy source the requester may read and checks its conditions (all fail with 412).
pub async fn copy_source(
    s3: &WharfS3,
    user: &User,
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
    if version_id.as_deref().is_some_and(|v| v != "null") {
        return Err(s3_error!(
            NoSuchVersion,
            "The specified version does not exist."
        ));
    }
    let obj = readable_object(s3, user, bucket, key).await?;
    match pre.evaluate(&obj.etag, obj.last_modified_ms) {
        Outcome::Proceed => Ok(obj),
        Outcome::NotModified | Outcome::PreconditionFailed => Err(precondition_failed()),
    }
}

pub async fn copy_object(
    s3: &WharfS3,
    req: S3Request<CopyObjectInput>,
) -> S3Result<S3Response<CopyObjectOutput>> {
    let user = s3.identities.requester(&req).await?;
    let input = req.input;
    s3.owned_bucket(&user, &input.bucket).await?;
    validate_key(&input.key)?;
    let src = copy_source(
        s3,
        &user,
        &input.copy_source,
        crate::preconditions!(copy_source input),
    )
    .await?;
    if src.size > MAX_OBJECT_SIZE {
        return Err(s3_error!(
            InvalidRequest,
            "The specified copy source is larger than the maximum allowable size for a copy source: {}",
            MAX_OBJECT_SIZE
        ));
    }
    let replace = input
        .metadata_directive
        .as_ref()
        .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
    if let Some(d) = &input.metadata_directive
        && !matches!(
            d.as_str(),
            MetadataDirective::REPLACE | MetadataDirective::COPY
        )
    {
        return Err(s3_error!(InvalidArgument, "Unknown metadata directive."));
    }
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
    let attrs = if replace {
        crate::attr_input!(input).into_attrs()?
    } else {
        let mut a = src.attrs.clone();
        if let Some(sc) = input.storage_class {
            a.storage_class = Some(sc.as_str().to_owned()).filter(|s| s != "STANDARD");
        }
        if input.website_redirect_location.is_some() {
            a.website_redirect_location = input.website_redirect_location;
        }
        a
    };
    let algorithm = input
        .checksum_algorithm
        .as_ref()
        .map(parse_algorithm)
        .transpose()?;
    let cond = put_condition(None, None)?;
    let record = s3
        .store
        .copy_object(
            &src,
            &input.bucket,
            &input.key,
            &user.canonical_id,
            attrs,
            algorithm,
            cond,
        )
        .await
        .s3()?;
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
        ..Default::default()
    }))
}
