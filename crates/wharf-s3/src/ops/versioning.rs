//! PutBucketVersioning and GetBucketVersioning: a bucket is unversioned until versioning is
//! enabled, then enabled or suspended, never unversioned again; with MFA delete (see
//! [`super::mfa`]).

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use wharf_store::Versioning;

use super::mfa;
use crate::WharfS3;
use crate::access::{Access, BucketRole};
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
    let (_, bucket) = s3
        .authorize(
            &caller,
            &input.bucket,
            BucketRole::Target,
            Access::bucket("s3:PutBucketVersioning"),
        )
        .await?;
    let config = input.versioning_configuration;
    let state = match config.status.as_ref().map(BucketVersioningStatus::as_str) {
        Some(BucketVersioningStatus::ENABLED) => Versioning::Enabled,
        Some(BucketVersioningStatus::SUSPENDED) => Versioning::Suspended,
        _ => return Err(malformed()),
    };
    let mfa_delete = match config.mfa_delete.as_ref().map(MFADelete::as_str) {
        None => None,
        Some(m @ (MFADelete::ENABLED | MFADelete::DISABLED)) => Some(m.to_owned()),
        Some(_) => return Err(malformed()),
    };
    // Naming MfaDelete, or changing a bucket whose MFA delete is on, takes a code (as does any
    // request that brings one: a code given is never ignored).
    if mfa_delete.is_some() || input.mfa.is_some() || mfa::enabled(s3, &input.bucket).await? {
        mfa::check(s3, &bucket, input.mfa.as_deref()).await?;
    }
    super::object_lock::check_versioning_change(s3, &input.bucket, state).await?;
    s3.store.set_versioning(&input.bucket, state).await.s3()?;
    if let Some(m) = mfa_delete {
        s3.store
            .set_bucket_config(&input.bucket, mfa::MFA_DELETE, Some(m))
            .await
            .s3()?;
    }
    Ok(S3Response::new(PutBucketVersioningOutput::default()))
}

pub async fn get_bucket_versioning(
    s3: &WharfS3,
    req: S3Request<GetBucketVersioningInput>,
) -> S3Result<S3Response<GetBucketVersioningOutput>> {
    let caller = s3.caller(&req).await?;
    let (_, b) = s3
        .authorize(
            &caller,
            &req.input.bucket,
            BucketRole::Target,
            Access::bucket("s3:GetBucketVersioning"),
        )
        .await?;
    Ok(S3Response::new(GetBucketVersioningOutput {
        status: b
            .versioning
            .as_status()
            .map(|s| BucketVersioningStatus::from(s.to_owned())),
        // Shown once it has been configured, as S3 does.
        mfa_delete: mfa::state(s3, &b.name).await?.map(MFADeleteStatus::from),
    }))
}
