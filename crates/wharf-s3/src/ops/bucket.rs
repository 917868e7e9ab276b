//! ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use wharf_model::BucketName;
use wharf_store::{BucketRecord, StoreError, now_ms};

use crate::features::refuse_unbuilt;

use crate::WharfS3;
use crate::access::{Access, BucketRole};
use crate::convert::{owner_of, timestamp};
use crate::error::{StoreResultExt, name_error};

/// The region where S3 keeps its legacy answers (GetBucketLocation's empty constraint,
/// CreateBucket of an owned bucket succeeding).
const US_EAST_1: &str = "us-east-1";

/// S3: ListBuckets returns at most 10,000 buckets a page.
const MAX_BUCKETS_PAGE: usize = 10_000;

pub async fn list_buckets(
    s3: &WharfS3,
    req: S3Request<ListBucketsInput>,
) -> S3Result<S3Response<ListBucketsOutput>> {
    let caller = s3.caller(&req).await?;
    s3.account_action_allowed(&caller, "s3:ListAllMyBuckets", "*".into())?;
    let user = caller.signed_in()?;
    let input = req.input;
    let prefix = input.prefix.clone().unwrap_or_default();
    let max = input.max_buckets.map_or(MAX_BUCKETS_PAGE, |m| {
        usize::try_from(m).unwrap_or(1).clamp(1, MAX_BUCKETS_PAGE)
    });
    let after = input.continuation_token.clone().unwrap_or_default();
    let all = s3
        .store
        .meta()
        .list_buckets(&user.canonical_id)
        .await
        .s3()?;
    let mut page: Vec<&BucketRecord> = all
        .iter()
        .filter(|b| b.name.starts_with(&prefix) && b.name > after)
        .collect();
    let next = (page.len() > max).then(|| page[max - 1].name.clone());
    page.truncate(max);
    let buckets = page
        .into_iter()
        .map(|b| Bucket {
            name: Some(b.name.clone()),
            creation_date: Some(timestamp(b.created_ms)),
            bucket_region: Some(b.region.clone()),
        })
        .collect();
    Ok(S3Response::new(ListBucketsOutput {
        buckets: Some(buckets),
        owner: Some(owner_of(user)),
        prefix: input.prefix,
        continuation_token: next,
    }))
}

pub async fn create_bucket(
    s3: &WharfS3,
    req: S3Request<CreateBucketInput>,
) -> S3Result<S3Response<CreateBucketOutput>> {
    let caller = s3.caller(&req).await?;
    let user = caller.signed_in()?;
    refuse_unbuilt(&req.headers)?;
    let headers = req.headers;
    let input = req.input;
    let name = BucketName::new(&input.bucket).map_err(name_error)?;
    s3.account_action_allowed(
        &caller,
        "s3:CreateBucket",
        format!("arn:aws:s3:::{}", input.bucket),
    )?;
    // Object Lock turns versioning on for good.
    let object_lock = input.object_lock_enabled_for_bucket == Some(true);
    let region = match input
        .create_bucket_configuration
        .and_then(|c| c.location_constraint)
    {
        Some(lc) if !lc.as_str().is_empty() => {
            if !s3.regions.iter().any(|r| r == lc.as_str()) {
                return Err(s3_error!(
                    InvalidLocationConstraint,
                    "The specified location-constraint is not valid"
                ));
            }
            lc.as_str().to_owned()
        }
        _ => s3.region.clone(),
    };
    // Every new bucket blocks public access and has ACLs disabled (BucketOwnerEnforced) unless
    // the request says otherwise, as S3's buckets since April 2023.
    let ownership = input
        .object_ownership
        .as_ref()
        .map_or(super::acl::BUCKET_OWNER_ENFORCED, |o| o.as_str());
    if !super::acl::valid_ownership(ownership) {
        return Err(s3_error!(
            InvalidArgument,
            "Invalid x-amz-object-ownership header: {ownership}"
        ));
    }
    // The bucket's ACL: none beyond the owner's with ACLs disabled; never a public one, which
    // the new bucket's Block Public Access blocks.
    let mut grants = crate::acl::from_headers(&headers, &user.canonical_id)
        .map_err(|(code, message)| {
            crate::error::custom_error(code, &message, http::StatusCode::BAD_REQUEST)
        })?
        .unwrap_or_default();
    grants.retain(|(who, p)| !(who == &format!("id={}", user.canonical_id) && p == "FULL_CONTROL"));
    if !grants.is_empty() && ownership == super::acl::BUCKET_OWNER_ENFORCED {
        return Err(crate::error::custom_error(
            "InvalidBucketAclWithObjectOwnership",
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
            http::StatusCode::BAD_REQUEST,
        ));
    }
    if crate::acl::is_public(&grants) {
        return Err(s3_error!(
            AccessDenied,
            "Access Denied: public ACLs are blocked by the BlockPublicAcls block public access setting."
        ));
    }
    let mut configs = vec![
        (
            crate::public_access::BUCKET_PUBLIC_ACCESS_BLOCK.to_owned(),
            crate::public_access::PublicAccessBlock::ALL.to_json(),
        ),
        (
            super::acl::BUCKET_OWNERSHIP.to_owned(),
            ownership.to_owned(),
        ),
    ];
    if !grants.is_empty() {
        let json = serde_json::to_string(&grants).unwrap_or_default();
        configs.push((super::acl::BUCKET_ACL.to_owned(), json));
    }
    let record = BucketRecord {
        name: name.as_str().to_owned(),
        owner: user.canonical_id.clone(),
        created_ms: now_ms(),
        region,
        versioning: if object_lock {
            wharf_store::Versioning::Enabled
        } else {
            wharf_store::Versioning::Unversioned
        },
    };
    let created = s3.store.create_bucket_with(record, configs).await;
    match created {
        Ok(()) if object_lock => {
            super::object_lock::enable_on_new_bucket(s3, name.as_str()).await?;
        }
        Ok(()) => {}
        // S3's legacy behaviour in us-east-1: creating a bucket you already own there succeeds.
        Err(StoreError::BucketAlreadyOwnedByYou)
            if s3
                .store
                .meta()
                .get_bucket(name.as_str())
                .await
                .s3()?
                .is_some_and(|b| b.region == US_EAST_1) => {}
        Err(e) => return Err(crate::error::store_error(e)),
    }
    Ok(S3Response::new(CreateBucketOutput {
        location: Some(format!("/{name}")),
    }))
}

pub async fn head_bucket(
    s3: &WharfS3,
    req: S3Request<HeadBucketInput>,
) -> S3Result<S3Response<HeadBucketOutput>> {
    let caller = s3.caller(&req).await?;
    let (_, b) = s3
        .authorize(
            &caller,
            &req.input.bucket,
            BucketRole::Target,
            Access::bucket("s3:ListBucket"),
        )
        .await?;
    Ok(S3Response::new(HeadBucketOutput {
        bucket_region: Some(b.region),
        ..Default::default()
    }))
}

pub async fn delete_bucket(
    s3: &WharfS3,
    req: S3Request<DeleteBucketInput>,
) -> S3Result<S3Response<DeleteBucketOutput>> {
    let caller = s3.caller(&req).await?;
    s3.authorize(
        &caller,
        &req.input.bucket,
        BucketRole::Target,
        Access::bucket("s3:DeleteBucket"),
    )
    .await?;
    s3.store.delete_bucket(&req.input.bucket).await.s3()?;
    s3.policies.forget(&req.input.bucket);
    Ok(S3Response::new(DeleteBucketOutput {}))
}

pub async fn get_bucket_location(
    s3: &WharfS3,
    req: S3Request<GetBucketLocationInput>,
) -> S3Result<S3Response<GetBucketLocationOutput>> {
    let caller = s3.caller(&req).await?;
    let (_, b) = s3
        .authorize(
            &caller,
            &req.input.bucket,
            BucketRole::Target,
            Access::bucket("s3:GetBucketLocation"),
        )
        .await?;
    // S3 answers an empty LocationConstraint for us-east-1.
    let lc = (b.region != US_EAST_1).then(|| BucketLocationConstraint::from(b.region));
    Ok(S3Response::new(GetBucketLocationOutput {
        location_constraint: lc,
    }))
}

pub(crate) fn no_such_bucket() -> s3s::S3Error {
    s3_error!(NoSuchBucket, "The specified bucket does not exist")
}
