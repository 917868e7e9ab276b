//! PutPublicAccessBlock, GetPublicAccessBlock and DeletePublicAccessBlock on a bucket (see
//! [`crate::public_access`] for what the flags do).

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};

use crate::WharfS3;
use crate::access::{Access, BucketRole};
use crate::error::{StoreResultExt, custom_error};
use crate::public_access::{BUCKET_PUBLIC_ACCESS_BLOCK, PublicAccessBlock};

pub async fn put_public_access_block(
    s3: &WharfS3,
    req: S3Request<PutPublicAccessBlockInput>,
) -> S3Result<S3Response<PutPublicAccessBlockOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let access = Access::bucket("s3:PutBucketPublicAccessBlock");
    s3.authorize(&caller, &input.bucket, BucketRole::Target, access)
        .await?;
    let block = PublicAccessBlock::from_dto(&input.public_access_block_configuration);
    s3.set_access_config(
        &input.bucket,
        BUCKET_PUBLIC_ACCESS_BLOCK,
        Some(block.to_json()),
    )
    .await?;
    Ok(S3Response::new(PutPublicAccessBlockOutput {}))
}

pub async fn get_public_access_block(
    s3: &WharfS3,
    req: S3Request<GetPublicAccessBlockInput>,
) -> S3Result<S3Response<GetPublicAccessBlockOutput>> {
    let caller = s3.caller(&req).await?;
    let bucket = req.input.bucket;
    let access = Access::bucket("s3:GetBucketPublicAccessBlock");
    s3.authorize(&caller, &bucket, BucketRole::Target, access)
        .await?;
    let Some(text) = s3
        .store
        .meta()
        .bucket_config(&bucket, BUCKET_PUBLIC_ACCESS_BLOCK)
        .await
        .s3()?
    else {
        return Err(custom_error(
            "NoSuchPublicAccessBlockConfiguration",
            "The public access block configuration was not found",
            http::StatusCode::NOT_FOUND,
        ));
    };
    Ok(S3Response::new(GetPublicAccessBlockOutput {
        public_access_block_configuration: Some(PublicAccessBlock::from_json(&text).to_dto()),
    }))
}

pub async fn delete_public_access_block(
    s3: &WharfS3,
    req: S3Request<DeletePublicAccessBlockInput>,
) -> S3Result<S3Response<DeletePublicAccessBlockOutput>> {
    let caller = s3.caller(&req).await?;
    let bucket = req.input.bucket;
    let access = Access::bucket("s3:PutBucketPublicAccessBlock");
    s3.authorize(&caller, &bucket, BucketRole::Target, access)
        .await?;
    s3.set_access_config(&bucket, BUCKET_PUBLIC_ACCESS_BLOCK, None)
        .await?;
    Ok(S3Response::new(DeletePublicAccessBlockOutput {}))
}
