//! PutBucketCors, GetBucketCors and DeleteBucketCors (what the rules do: [`crate::cors`]).

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};

use crate::WharfS3;
use crate::access::{Access, BucketRole};
use crate::cors::{BUCKET_CORS, rules_from, validate};
use crate::error::custom_error;

pub async fn put_bucket_cors(
    s3: &WharfS3,
    req: S3Request<PutBucketCorsInput>,
) -> S3Result<S3Response<PutBucketCorsOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let access = Access::bucket("s3:PutBucketCORS");
    s3.authorize(&caller, &input.bucket, BucketRole::Target, access)
        .await?;
    let rules = rules_from(input.cors_configuration);
    if let Err((code, message)) = validate(&rules) {
        return Err(custom_error(code, &message, http::StatusCode::BAD_REQUEST));
    }
    let json = serde_json::to_string(&rules).map_err(|e| s3s::s3_error!(InternalError, "{e}"))?;
    s3.set_access_config(&input.bucket, BUCKET_CORS, Some(json))
        .await?;
    Ok(S3Response::new(PutBucketCorsOutput {}))
}

pub async fn get_bucket_cors(
    s3: &WharfS3,
    req: S3Request<GetBucketCorsInput>,
) -> S3Result<S3Response<GetBucketCorsOutput>> {
    let caller = s3.caller(&req).await?;
    let bucket = req.input.bucket;
    let access = Access::bucket("s3:GetBucketCORS");
    let (_, b) = s3
        .authorize(&caller, &bucket, BucketRole::Target, access)
        .await?;
    let Some(rules) = s3.policies.of(&b).await?.cors.clone() else {
        return Err(s3s::s3_error!(
            NoSuchCORSConfiguration,
            "The CORS configuration does not exist"
        ));
    };
    let none_if_empty = |v: Vec<String>| (!v.is_empty()).then_some(v);
    Ok(S3Response::new(GetBucketCorsOutput {
        cors_rules: Some(
            rules
                .into_iter()
                .map(|r| CORSRule {
                    id: r.id,
                    allowed_origins: r.allowed_origins,
                    allowed_methods: r.allowed_methods,
                    allowed_headers: none_if_empty(r.allowed_headers),
                    expose_headers: none_if_empty(r.expose_headers),
                    max_age_seconds: r.max_age_seconds,
                })
                .collect(),
        ),
    }))
}

pub async fn delete_bucket_cors(
    s3: &WharfS3,
    req: S3Request<DeleteBucketCorsInput>,
) -> S3Result<S3Response<DeleteBucketCorsOutput>> {
    let caller = s3.caller(&req).await?;
    let bucket = req.input.bucket;
    // S3 checks s3:PutBucketCORS for a delete.
    let access = Access::bucket("s3:PutBucketCORS");
    s3.authorize(&caller, &bucket, BucketRole::Target, access)
        .await?;
    s3.set_access_config(&bucket, BUCKET_CORS, None).await?;
    Ok(S3Response::new(DeleteBucketCorsOutput {}))
}
