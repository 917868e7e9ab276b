//! Object Ownership (Put/Get/DeleteBucketOwnershipControls) and ACLs (Get/PutBucketAcl,
//! Get/PutObjectAcl), as far as they go here: every new bucket is `BucketOwnerEnforced`, S3's
//! default since 2023, where ACLs are disabled: they read as the owner's `FULL_CONTROL`, and a
//! request setting any other ACL fails with `AccessControlListNotSupported`. A bucket switched
//! to `ObjectWriter` or `BucketOwnerPreferred` (or one made before these settings, which S3
//! treats as `ObjectWriter`) has ACLs enabled: its objects belong to their writers, and ACLs
//! that only restate the owner's full control are accepted; ACLs granting anyone else are not
//! built yet and answer `501 NotImplemented` (after Block Public Access's `AccessDenied` for
//! public ones), never a silent 200.

use http::HeaderMap;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use wharf_store::BucketRecord;

use crate::WharfS3;
use crate::access::{Access, BucketRole};
use crate::error::{StoreResultExt, custom_error};

/// The `bucket_configs` kind of a bucket's Object Ownership setting.
pub const BUCKET_OWNERSHIP: &str = "ownership";
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

/// What an ACL in a request asks for: nothing beyond the owner's full control (the default),
/// or grants to others.
#[derive(Debug, PartialEq, Eq)]
enum Asked {
    OwnerOnly,
    Grants,
}

fn asked_by_headers(headers: &HeaderMap) -> Asked {
    let canned = headers
        .get("x-amz-acl")
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let owner_only = canned.is_none_or(|c| c == "private" || c == "bucket-owner-full-control");
    let grants = headers
        .keys()
        .any(|n| n.as_str().starts_with("x-amz-grant-"));
    if owner_only && !grants {
        Asked::OwnerOnly
    } else {
        Asked::Grants
    }
}

/// Whether a request's ACL headers grant anything beyond the owner's full control.
pub fn headers_grant(headers: &HeaderMap) -> bool {
    asked_by_headers(headers) == Asked::Grants
}

fn asked_by_policy(policy: &AccessControlPolicy, owner: &str) -> Asked {
    let only_owner = policy.grants.iter().flatten().all(|g| {
        g.permission.as_ref().map(Permission::as_str) == Some(Permission::FULL_CONTROL)
            && g.grantee
                .as_ref()
                .is_some_and(|e| e.id.as_deref() == Some(owner) && e.uri.is_none())
    });
    if only_owner {
        Asked::OwnerOnly
    } else {
        Asked::Grants
    }
}

/// Refuses an ACL a write asks for as S3 would: `AccessControlListNotSupported` on a bucket
/// whose ACLs are disabled, Block Public Access's `AccessDenied` for a public one, and 501 for
/// any other grant (not built). `None` for the policy: the ACL is in the headers.
pub async fn check_acl(
    s3: &WharfS3,
    bucket: &BucketRecord,
    headers: &HeaderMap,
    policy: Option<&AccessControlPolicy>,
    owner: &str,
) -> S3Result<()> {
    let asked = match policy {
        Some(p) => asked_by_policy(p, owner),
        None => asked_by_headers(headers),
    };
    if asked == Asked::OwnerOnly {
        return Ok(());
    }
    if ownership(s3, bucket).await? == BUCKET_OWNER_ENFORCED {
        return Err(custom_error(
            "AccessControlListNotSupported",
            "The bucket does not allow ACLs",
            http::StatusCode::BAD_REQUEST,
        ));
    }
    s3.refuse_public_acl(bucket, headers).await?;
    Err(s3_error!(
        NotImplemented,
        "A header you provided implies functionality that is not implemented: access control list grants. Wharf refuses it rather than ignore it."
    ))
}

/// An ACL that gives its owner full control and nobody anything else.
async fn owner_acl(s3: &WharfS3, canonical_id: &str) -> S3Result<(Owner, Grants)> {
    let user = s3.identities.owner_named(canonical_id).await?;
    let owner = Owner {
        id: Some(user.canonical_id.clone()),
        display_name: Some(user.display_name.clone()).filter(|d| !d.is_empty()),
    };
    let grant = Grant {
        grantee: Some(Grantee {
            type_: Type::from_static(Type::CANONICAL_USER),
            id: owner.id.clone(),
            display_name: owner.display_name.clone(),
            email_address: None,
            uri: None,
        }),
        permission: Some(Permission::from_static(Permission::FULL_CONTROL)),
    };
    Ok((owner, vec![grant]))
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
    let (owner, grants) = owner_acl(s3, &b.owner).await?;
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
    check_acl(
        s3,
        &b,
        &req.headers,
        req.input.access_control_policy.as_ref(),
        &owner,
    )
    .await?;
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
    let (owner, grants) = owner_acl(s3, &obj.owner).await?;
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
    check_acl(
        s3,
        &b,
        &headers,
        input.access_control_policy.as_ref(),
        &obj.owner,
    )
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
