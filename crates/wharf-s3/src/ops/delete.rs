//! DeleteObjects (quiet and verbose).

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use crate::WharfS3;
use crate::access::{Access, BucketRole, Caller, access_denied};
use crate::ops::object::Deleted;
use crate::ops::object::delete_key;

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
