//! PutBucketVersioning and GetBucketVersioning: a bucket is unversioned until versioning is
//! enabled, then enabled or suspended, never unversioned again.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use wharf_store::Versioning;

use crate::WharfS3;
use crate::access::BucketRole;
use crate::error::StoreResultExt;

fn malformed() -> s3s::S3Error {
    s3_error!(
        MalformedXML,
        "The XML you provided was not well-formed or did not validate against our published schema"
    )
}

pub async fn put_bucket_versioning(
    s3: &WharfS3,
    req: S3Request<PutBucketVersioningInput>,
) -> S3Result<S3Response<PutBucketVersioningOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    s3.owned_bucket(&caller, &input.bucket, BucketRole::Target)
        .await?;
    let config = input.versioning_configuration;
    // MFA delete is not built yet: refused, never accepted and ignored.
    if config
        .mfa_delete
        .as_ref()
        .is_some_and(|m| m.as_str() != MFADelete::DISABLED)
        || input.mfa.is_some()
    {
        return Err(s3_error!(
            NotImplemented,
            "A header you provided implies functionality that is not implemented: MFA delete. Wharf refuses it rather than ignore it."
        ));
    }
    let state = match config.status.as_ref().map(BucketVersioningStatus::as_str) {
        Some(BucketVersioningStatus::ENABLED) => Versioning::Enabled,
        Some(BucketVersioningStatus::SUSPENDED) => Versioning::Suspended,
        _ => return Err(malformed()),
    };
    s3.store.set_versioning(&input.bucket, state).await.s3()?;
    Ok(S3Response::new(PutBucketVersioningOutput::default()))
}

pub async fn get_bucket_versioning(
    s3: &WharfS3,
    req: S3Request<GetBucketVersioningInput>,
) -> S3Result<S3Response<GetBucketVersioningOutput>> {
    let caller = s3.caller(&req).await?;
    let (_, b) = s3
        .owned_bucket(&caller, &req.input.bucket, BucketRole::Target)
        .await?;
    Ok(S3Response::new(GetBucketVersioningOutput {
        status: b
            .versioning
            .as_status()
            .map(|s| BucketVersioningStatus::from(s.to_owned())),
        mfa_delete: None,
    }))
}
