//! PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy and GetBucketPolicyStatus. A policy is
//! checked as S3 checks it (`MalformedPolicy` with the reason) and kept as the text given, which
//! GetBucketPolicy returns unchanged; [`crate::access`] applies it to every request.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use wharf_auth::policy::{Policy, PolicyKind, PrincipalId, Principals};

use crate::WharfS3;
use crate::access::{Access, BucketRole};
use crate::bucket_policy::BUCKET_POLICY;
use crate::error::StoreResultExt;

fn no_such_bucket_policy() -> s3s::S3Error {
    s3_error!(NoSuchBucketPolicy, "The bucket policy does not exist")
}

pub async fn put_bucket_policy(
    s3: &WharfS3,
    req: S3Request<PutBucketPolicyInput>,
) -> S3Result<S3Response<PutBucketPolicyOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let access = Access::bucket("s3:PutBucketPolicy");
    let (_, b) = s3
        .authorize(&caller, &input.bucket, BucketRole::Target, access)
        .await?;
    let policy = match Policy::parse(&input.policy, PolicyKind::Bucket(&input.bucket)) {
        Ok(p) => p,
        Err(e) => return Err(s3_error!(MalformedPolicy, "{}", e.0)),
    };
    // As on AWS, a principal of this account must exist.
    let users = format!("arn:aws:iam::{}:user/", s3.store.account_id());
    for s in &policy.statements {
        let Some((Principals::Named(ids), _)) = &s.principal else {
            continue;
        };
        for id in ids {
            if let PrincipalId::Arn(arn) = id
                && let Some(name) = arn.strip_prefix(&users)
                && s3.store.meta().get_user(name).await.s3()?.is_none()
            {
                return Err(s3_error!(MalformedPolicy, "Invalid principal in policy"));
            }
        }
    }
    if policy.is_public() {
        let rules = s3.policies.of(&b).await?;
        if s3.policies.block_for(&rules).await?.block_public_policy {
            return Err(s3_error!(
                AccessDenied,
                "User is not authorized to perform: s3:PutBucketPolicy on resource: \"arn:aws:s3:::{}\" because public policies are blocked by the BlockPublicPolicy block public access setting.",
                input.bucket
            ));
        }
    }
    s3.set_access_config(&input.bucket, BUCKET_POLICY, Some(input.policy))
        .await?;
    Ok(S3Response::new(PutBucketPolicyOutput {}))
}

async fn stored_policy(s3: &WharfS3, bucket: &str) -> S3Result<String> {
    s3.store
        .meta()
        .bucket_config(bucket, BUCKET_POLICY)
        .await
        .s3()?
        .ok_or_else(no_such_bucket_policy)
}

pub async fn get_bucket_policy(
    s3: &WharfS3,
    req: S3Request<GetBucketPolicyInput>,
) -> S3Result<S3Response<GetBucketPolicyOutput>> {
    let caller = s3.caller(&req).await?;
    let bucket = req.input.bucket;
    let access = Access::bucket("s3:GetBucketPolicy");
    s3.authorize(&caller, &bucket, BucketRole::Target, access)
        .await?;
    Ok(S3Response::new(GetBucketPolicyOutput {
        policy: Some(stored_policy(s3, &bucket).await?),
    }))
}

pub async fn delete_bucket_policy(
    s3: &WharfS3,
    req: S3Request<DeleteBucketPolicyInput>,
) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
    let caller = s3.caller(&req).await?;
    let bucket = req.input.bucket;
    let access = Access::bucket("s3:DeleteBucketPolicy");
    s3.authorize(&caller, &bucket, BucketRole::Target, access)
        .await?;
    // Deleting a policy that is not there succeeds, as on S3.
    s3.set_access_config(&bucket, BUCKET_POLICY, None).await?;
    Ok(S3Response::new(DeleteBucketPolicyOutput {}))
}

pub async fn get_bucket_policy_status(
    s3: &WharfS3,
    req: S3Request<GetBucketPolicyStatusInput>,
) -> S3Result<S3Response<GetBucketPolicyStatusOutput>> {
    let caller = s3.caller(&req).await?;
    let bucket = req.input.bucket;
    let access = Access::bucket("s3:GetBucketPolicyStatus");
    let (_, b) = s3
        .authorize(&caller, &bucket, BucketRole::Target, access)
        .await?;
    let rules = s3.policies.of(&b).await?;
    if rules.policy.is_none() {
        return Err(no_such_bucket_policy());
    }
    Ok(S3Response::new(GetBucketPolicyStatusOutput {
        policy_status: Some(PolicyStatus {
            is_public: Some(rules.policy_is_public),
        }),
    }))
}
