//! DeleteObjects (quiet and verbose).

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use crate::WharfS3;
use crate::access::BucketRole;
use crate::ops::object::delete_key;

/// S3: one DeleteObjects request names at most 1,000 keys.
const MAX_DELETE_KEYS: usize = 1000;

pub async fn delete_objects(
    s3: &WharfS3,
    req: S3Request<DeleteObjectsInput>,
) -> S3Result<S3Response<DeleteObjectsOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let (user, bucket) = s3
        .owned_bucket(&caller, &input.bucket, BucketRole::Target)
        .await?;
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
        let result = delete_key(
            s3,
            &bucket,
            &user.canonical_id,
            &o.key,
            o.version_id.as_deref(),
            wharf_store::WriteCondition {
                bypass_governance: input.bypass_governance_retention == Some(true),
                ..Default::default()
            },
        )
        .await;
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
