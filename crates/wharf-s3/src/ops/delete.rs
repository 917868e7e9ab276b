//! DeleteObject and DeleteObjects (quiet and verbose): a simple DELETE adds a delete marker on a
//! versioned bucket, a DELETE by version id removes that version for good (MFA delete and
//! Object Lock permitting).

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use crate::WharfS3;
use wharf_store::{BucketRecord, RemovedVersion, WriteCondition};

use crate::access::{Access, BucketRole, Caller, access_denied};
use crate::error::StoreResultExt;
use crate::ops::conditional::EtagHeaders;
use crate::ops::object::{valid_version_id, validate_key};

/// S3: one DeleteObjects request names at most 1,000 keys.
const MAX_DELETE_KEYS: usize = 1000;

pub async fn delete_objects(
    s3: &WharfS3,
    req: S3Request<DeleteObjectsInput>,
) -> S3Result<S3Response<DeleteObjectsOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    // DeleteObjects has no action of its own: each key is a DeleteObject (or a
    // DeleteObjectVersion), allowed or denied on its own, as on S3.
    let bucket = s3
        .bucket(&caller, &input.bucket, BucketRole::Target)
        .await?;
    let user = s3.acting_user(&caller, &bucket).await?;
    let may_bypass = input.bypass_governance_retention == Some(true);
    let objects = input.delete.objects;
    if objects.is_empty() || objects.len() > MAX_DELETE_KEYS {
        return Err(s3_error!(
            MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema"
        ));
    }
    // With MFA delete, a request removing any version for good needs a code, and a code given
    // is checked whatever the request: either fails the whole request, as in S3.
    if input.mfa.is_some()
        || (objects.iter().any(|o| o.version_id.is_some())
            && super::mfa::enabled(s3, &input.bucket).await?)
    {
        super::mfa::check(s3, &bucket, input.mfa.as_deref()).await?;
    }
    let quiet = input.delete.quiet.unwrap_or(false);
    let mut deleted = Vec::new();
    let mut errors = Vec::new();
    for o in objects {
        let result = delete_allowed_key(s3, &caller, &bucket, &user, &o, may_bypass).await;
        match result {
            Ok(d) if !quiet => deleted.push(DeletedObject {
                key: Some(o.key.clone()),
                version_id: o.version_id.clone(),
                delete_marker: d.delete_marker.then_some(true),
                // The marker a simple DELETE added, or the one a DELETE by id removed.
                delete_marker_version_id: d.version_id.filter(|_| d.delete_marker),
            }),
            Ok(_) => {}
            Err(e) => errors.push(Error {
                code: Some(e.code().as_str().to_owned()),
                key: Some(o.key.clone()),
                message: Some(e.message().unwrap_or_default().to_owned()),
                version_id: o.version_id.clone(),
            }),
        }
    }
    Ok(S3Response::new(DeleteObjectsOutput {
        deleted: (!deleted.is_empty()).then_some(deleted),
        errors: (!errors.is_empty()).then_some(errors),
        ..Default::default()
    }))
}

/// One key of a DeleteObjects request, if the caller may delete it.
async fn delete_allowed_key(
    s3: &WharfS3,
    caller: &Caller,
    bucket: &wharf_store::BucketRecord,
    user: &wharf_model::User,
    o: &ObjectIdentifier,
    bypass: bool,
) -> S3Result<Deleted> {
    let access = Access::version(
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        &o.key,
        o.version_id.as_deref(),
    );
    if !s3.allowed(caller, bucket, &access).await? {
        return Err(access_denied());
    }
    let cond = wharf_store::WriteCondition {
        bypass_governance: bypass && s3.may_bypass_governance(caller, bucket, &o.key).await?,
        ..Default::default()
    };
    delete_key(
        s3,
        bucket,
        &user.canonical_id,
        &o.key,
        o.version_id.as_deref(),
        cond,
    )
    .await
}

/// What a DELETE did, as DeleteObject and DeleteObjects report it.
pub struct Deleted {
    /// `x-amz-version-id` / `VersionId`: the version removed, or the marker added.
    pub version_id: Option<String>,
    /// A delete marker was added or removed.
    pub delete_marker: bool,
}

/// A DELETE of `key` (of its version `version_id`, for good), if `cond` holds.
pub async fn delete_key(
    s3: &WharfS3,
    bucket: &BucketRecord,
    owner: &str,
    key: &str,
    version_id: Option<&str>,
    cond: WriteCondition,
) -> S3Result<Deleted> {
    validate_key(key)?;
    valid_version_id(version_id)?;
    if let Some(v) = version_id {
        // Deleting a version that does not exist succeeds in S3.
        let removed = s3
            .store
            .delete_version(&bucket.name, key, v, cond)
            .await
            .s3()?;
        return Ok(Deleted {
            version_id: Some(v.to_owned()),
            delete_marker: matches!(removed, Some(RemovedVersion::Marker(_))),
        });
    }
    let d = s3
        .store
        .delete_object(&bucket.name, key, owner, cond)
        .await
        .s3()?;
    Ok(match d.marker {
        Some(m) => Deleted {
            version_id: Some(m.s3_version_id().to_owned()),
            delete_marker: true,
        },
        None => Deleted {
            version_id: None,
            delete_marker: false,
        },
    })
}

pub async fn delete_object(
    s3: &WharfS3,
    req: S3Request<DeleteObjectInput>,
) -> S3Result<S3Response<DeleteObjectOutput>> {
    let caller = s3.caller(&req).await?;
    let etags = EtagHeaders::of(&req);
    let input = req.input;
    let (user, bucket) = s3
        .authorize(
            &caller,
            &input.bucket,
            BucketRole::Target,
            Access::version(
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
                &input.key,
                input.version_id.as_deref(),
            ),
        )
        .await?;
    // Removing a version for good from a bucket with MFA delete takes a code; a code given is
    // checked whatever the request.
    if input.mfa.is_some()
        || (input.version_id.is_some() && super::mfa::enabled(s3, &bucket.name).await?)
    {
        super::mfa::check(s3, &bucket, input.mfa.as_deref()).await?;
    }
    // If-Match is checked inside the delete's transaction, like conditional PUTs.
    let cond = WriteCondition {
        if_match: etags.if_match,
        bypass_governance: input.bypass_governance_retention == Some(true)
            && s3
                .may_bypass_governance(&caller, &bucket, &input.key)
                .await?,
        ..Default::default()
    };
    let d = delete_key(
        s3,
        &bucket,
        &user.canonical_id,
        &input.key,
        input.version_id.as_deref(),
        cond,
    )
    .await?;
    Ok(S3Response::with_status(
        DeleteObjectOutput {
            version_id: d.version_id,
            delete_marker: d.delete_marker.then_some(true),
            ..Default::default()
        },
        http::StatusCode::NO_CONTENT,
    ))
}
