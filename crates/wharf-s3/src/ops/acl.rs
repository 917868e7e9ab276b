//! Object Ownership (Put/Get/DeleteBucketOwnershipControls) and ACLs (Get/PutBucketAcl,
//! Get/PutObjectAcl, and the ACL headers of writes). Every new bucket is `BucketOwnerEnforced`,
//! S3's default since 2023, where ACLs are disabled: they read as the owner's `FULL_CONTROL`,
//! and a request setting any other ACL fails with `AccessControlListNotSupported`. A bucket
//! switched to `ObjectWriter` or `BucketOwnerPreferred` (or one made before these settings,
//! which S3 treats as `ObjectWriter`) has ACLs enabled: the grants ([`crate::acl`]) are kept on
//! the bucket and on each object version, and [`crate::access`] counts them.

use http::HeaderMap;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use wharf_store::BucketRecord;

use crate::WharfS3;
use crate::access::{Access, BucketRole};
use crate::error::{StoreResultExt, custom_error};

/// The `bucket_configs` kind of a bucket's Object Ownership setting.
pub const BUCKET_OWNERSHIP: &str = "ownership";
/// The `bucket_configs` kind of a bucket's ACL grants (JSON, beyond the owner's).
pub const BUCKET_ACL: &str = "acl";
pub const BUCKET_OWNER_ENFORCED: &str = "BucketOwnerEnforced";
const SETTINGS: [&str; 3] = [
    BUCKET_OWNER_ENFORCED,
    "BucketOwnerPreferred",
    "ObjectWriter",
];

/// Whether an Object Ownership value is one S3 has.
pub fn valid_ownership(value: &str) -> bool {
    SETTINGS.contains(&value)
}

/// The bucket's Object Ownership: its setting, or `ObjectWriter` without one (as S3 treats
/// buckets made before the setting existed).
pub async fn ownership(s3: &WharfS3, bucket: &BucketRecord) -> S3Result<String> {
    Ok(s3.policies.of(bucket).await?.ownership.clone())
}

/// Who owns an object `writer` puts in the bucket: the bucket owner under
/// `BucketOwnerEnforced`, and under `BucketOwnerPreferred` when the write gives the owner full
/// control (`bucket-owner-full-control`); else the writer.
pub async fn new_object_owner(
    s3: &WharfS3,
    bucket: &BucketRecord,
    writer: &str,
    headers: &HeaderMap,
) -> S3Result<String> {
    let to_bucket_owner = match ownership(s3, bucket).await?.as_str() {
        BUCKET_OWNER_ENFORCED => true,
        "BucketOwnerPreferred" => {
            headers.get("x-amz-acl").and_then(|v| v.to_str().ok())
                == Some("bucket-owner-full-control")
        }
        _ => false,
    };
    Ok(if to_bucket_owner {
        bucket.owner.clone()
    } else {
        writer.to_owned()
    })
}

/// The ACL a request asks for (`None`: none, so the default, private), checked as S3 checks
/// it: malformed grants with S3's errors; on a bucket whose ACLs are disabled only ACLs that
/// restate the owner's full control (`AccessControlListNotSupported` otherwise); a public one
/// refused by Block Public Access's `BlockPublicAcls`. The grants returned leave out the
/// owner's own full control. `policy`: an `AccessControlPolicy` body instead of the headers.
pub async fn requested_acl(
    s3: &WharfS3,
    bucket: &BucketRecord,
    headers: &HeaderMap,
    policy: Option<&AccessControlPolicy>,
    owner: &str,
) -> S3Result<Option<Vec<crate::acl::Grant>>> {
    let bad = |(code, message): crate::acl::AclError| {
        custom_error(code, &message, http::StatusCode::BAD_REQUEST)
    };
    let asked = match policy {
        Some(p) => Some(crate::acl::from_policy(p, owner).map_err(bad)?),
        None => crate::acl::from_headers(headers, &bucket.owner).map_err(bad)?,
    };
    let Some(mut grants) = asked else {
        return Ok(None);
    };
    // The owner's own full control is implied.
    grants.retain(|(who, p)| !(who == &format!("id={owner}") && p == "FULL_CONTROL"));
    if grants.is_empty() {
        return Ok(Some(grants));
    }
    if ownership(s3, bucket).await? == BUCKET_OWNER_ENFORCED {
        return Err(custom_error(
            "AccessControlListNotSupported",
            "The bucket does not allow ACLs",
            http::StatusCode::BAD_REQUEST,
        ));
    }
    if crate::acl::is_public(&grants) {
        let rules = s3.policies.of(bucket).await?;
        if s3.policies.block_for(&rules).await?.block_public_acls {
            return Err(s3_error!(
                AccessDenied,
                "Access Denied: public ACLs are blocked by the BlockPublicAcls block public access setting."
            ));
        }
    }
    Ok(Some(grants))
}

/// An ACL as S3 shows it: the owner's full control, then the grants.
async fn shown_acl(
    s3: &WharfS3,
    canonical_id: &str,
    grants: &[crate::acl::Grant],
) -> S3Result<(Owner, Grants)> {
    let user = s3.identities.owner_named(canonical_id).await?;
    let owner = Owner {
        id: Some(user.canonical_id.clone()),
        display_name: Some(user.display_name.clone()).filter(|d| !d.is_empty()),
    };
    let grants = crate::acl::to_dto(grants, &owner);
    Ok((owner, grants))
}

pub async fn get_bucket_acl(
    s3: &WharfS3,
    req: S3Request<GetBucketAclInput>,
) -> S3Result<S3Response<GetBucketAclOutput>> {
    let caller = s3.caller(&req).await?;
    let access = Access::bucket("s3:GetBucketAcl");
    let (_, b) = s3
        .authorize(&caller, &req.input.bucket, BucketRole::Target, access)
        .await?;
    let stored = s3.policies.of(&b).await?.acl.clone();
    let (owner, grants) = shown_acl(s3, &b.owner, &stored).await?;
    Ok(S3Response::new(GetBucketAclOutput {
        owner: Some(owner),
        grants: Some(grants),
    }))
}

pub async fn put_bucket_acl(
    s3: &WharfS3,
    req: S3Request<PutBucketAclInput>,
) -> S3Result<S3Response<PutBucketAclOutput>> {
    let caller = s3.caller(&req).await?;
    let access = Access::bucket("s3:PutBucketAcl");
    let (_, b) = s3
        .authorize(&caller, &req.input.bucket, BucketRole::Target, access)
        .await?;
    let owner = b.owner.clone();
    let policy = req.input.access_control_policy.as_ref();
    let grants = requested_acl(s3, &b, &req.headers, policy, &owner)
        .await?
        .unwrap_or_default();
    let value = (!grants.is_empty()).then(|| serde_json::to_string(&grants).unwrap_or_default());
    s3.set_access_config(&b.name, BUCKET_ACL, value).await?;
    Ok(S3Response::new(PutBucketAclOutput {}))
}

pub async fn get_object_acl(
    s3: &WharfS3,
    req: S3Request<GetObjectAclInput>,
) -> S3Result<S3Response<GetObjectAclOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let (obj, _) = super::object::readable_object(
        s3,
        &caller,
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
        BucketRole::Target,
        ("s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
    )
    .await?;
    let (owner, grants) = shown_acl(s3, &obj.owner, &obj.attrs.acl).await?;
    Ok(S3Response::new(GetObjectAclOutput {
        owner: Some(owner),
        grants: Some(grants),
        request_charged: None,
    }))
}

pub async fn put_object_acl(
    s3: &WharfS3,
    req: S3Request<PutObjectAclInput>,
) -> S3Result<S3Response<PutObjectAclOutput>> {
    let caller = s3.caller(&req).await?;
    let headers = req.headers;
    let input = req.input;
    let (obj, b) = super::object::readable_object(
        s3,
        &caller,
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
        BucketRole::Target,
        ("s3:PutObjectAcl", "s3:PutObjectVersionAcl"),
    )
    .await?;
    let policy = input.access_control_policy.as_ref();
    let grants = requested_acl(s3, &b, &headers, policy, &obj.owner)
        .await?
        .unwrap_or_default();
    let named = input.version_id.is_some();
    super::object::change_attrs(s3, &obj, named, move |a| {
        a.acl = grants;
        Ok(())
    })
    .await?;
    Ok(S3Response::new(PutObjectAclOutput {
        request_charged: None,
    }))
}

pub async fn put_bucket_ownership_controls(
    s3: &WharfS3,
    req: S3Request<PutBucketOwnershipControlsInput>,
) -> S3Result<S3Response<PutBucketOwnershipControlsOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let access = Access::bucket("s3:PutBucketOwnershipControls");
    s3.authorize(&caller, &input.bucket, BucketRole::Target, access)
        .await?;
    let rules = &input.ownership_controls.rules;
    let [rule] = rules.as_slice() else {
        return Err(s3_error!(
            MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema"
        ));
    };
    let value = rule.object_ownership.as_str();
    if !valid_ownership(value) {
        return Err(s3_error!(
            MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema"
        ));
    }
    s3.set_access_config(&input.bucket, BUCKET_OWNERSHIP, Some(value.to_owned()))
        .await?;
    Ok(S3Response::new(PutBucketOwnershipControlsOutput {}))
}

pub async fn get_bucket_ownership_controls(
    s3: &WharfS3,
    req: S3Request<GetBucketOwnershipControlsInput>,
) -> S3Result<S3Response<GetBucketOwnershipControlsOutput>> {
    let caller = s3.caller(&req).await?;
    let bucket = req.input.bucket;
    let access = Access::bucket("s3:GetBucketOwnershipControls");
    s3.authorize(&caller, &bucket, BucketRole::Target, access)
        .await?;
    let Some(value) = s3
        .store
        .meta()
        .bucket_config(&bucket, BUCKET_OWNERSHIP)
        .await
        .s3()?
    else {
        return Err(s3_error!(
            OwnershipControlsNotFoundError,
            "The bucket ownership controls were not found"
        ));
    };
    Ok(S3Response::new(GetBucketOwnershipControlsOutput {
        ownership_controls: Some(OwnershipControls {
            rules: vec![OwnershipControlsRule {
                object_ownership: ObjectOwnership::from(value),
            }],
        }),
    }))
}

pub async fn delete_bucket_ownership_controls(
    s3: &WharfS3,
    req: S3Request<DeleteBucketOwnershipControlsInput>,
) -> S3Result<S3Response<DeleteBucketOwnershipControlsOutput>> {
    let caller = s3.caller(&req).await?;
    let bucket = req.input.bucket;
    let access = Access::bucket("s3:PutBucketOwnershipControls");
    s3.authorize(&caller, &bucket, BucketRole::Target, access)
        .await?;
    s3.set_access_config(&bucket, BUCKET_OWNERSHIP, None)
        .await?;
    Ok(S3Response::new(DeleteBucketOwnershipControlsOutput {}))
}
