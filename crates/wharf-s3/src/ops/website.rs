//! PutBucketWebsite, GetBucketWebsite and DeleteBucketWebsite (the configuration:
//! [`crate::website`]; the endpoint that serves it: the `website` listener).

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use crate::WharfS3;
use crate::access::{Access, BucketRole};
use crate::error::{StoreResultExt, custom_error};
use crate::website::{BUCKET_WEBSITE, WebsiteConfig};

pub async fn put_bucket_website(
    s3: &WharfS3,
    req: S3Request<PutBucketWebsiteInput>,
) -> S3Result<S3Response<PutBucketWebsiteOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let access = Access::bucket("s3:PutBucketWebsite");
    s3.authorize(&caller, &input.bucket, BucketRole::Target, access)
        .await?;
    let config = WebsiteConfig::from_dto(input.website_configuration)
        .map_err(|(code, message)| custom_error(code, &message, http::StatusCode::BAD_REQUEST))?;
    s3.store
        .set_bucket_config(&input.bucket, BUCKET_WEBSITE, Some(config.to_json()))
        .await
        .s3()?;
    Ok(S3Response::new(PutBucketWebsiteOutput {}))
}

pub async fn get_bucket_website(
    s3: &WharfS3,
    req: S3Request<GetBucketWebsiteInput>,
) -> S3Result<S3Response<GetBucketWebsiteOutput>> {
    let caller = s3.caller(&req).await?;
    let bucket = req.input.bucket;
    let access = Access::bucket("s3:GetBucketWebsite");
    s3.authorize(&caller, &bucket, BucketRole::Target, access)
        .await?;
    let config = s3
        .store
        .meta()
        .bucket_config(&bucket, BUCKET_WEBSITE)
        .await
        .s3()?
        .and_then(|t| WebsiteConfig::from_json(&t))
        .ok_or_else(|| {
            s3_error!(
                NoSuchWebsiteConfiguration,
                "The specified bucket does not have a website configuration"
            )
        })?;
    Ok(S3Response::new(config.to_dto()))
}

pub async fn delete_bucket_website(
    s3: &WharfS3,
    req: S3Request<DeleteBucketWebsiteInput>,
) -> S3Result<S3Response<DeleteBucketWebsiteOutput>> {
    let caller = s3.caller(&req).await?;
    let bucket = req.input.bucket;
    let access = Access::bucket("s3:DeleteBucketWebsite");
    s3.authorize(&caller, &bucket, BucketRole::Target, access)
        .await?;
    s3.store
        .set_bucket_config(&bucket, BUCKET_WEBSITE, None)
        .await
        .s3()?;
    Ok(S3Response::new(DeleteBucketWebsiteOutput {}))
}
