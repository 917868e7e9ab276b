//! DeleteObjects (quiet and verbose).

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use crate::WharfS3;
use crate::access::BucketRole;
use crate::error::store_error;
use crate::ops::object::validate_key;

/// S3: one DeleteObjects request names at most 1,000 keys.
const MAX_DELETE_KEYS: usize = 1000;

pub async fn delete_objects(
    s3: &WharfS3,
    req: S3Request<DeleteObjectsInput>,
) -> S3Result<S3Response<DeleteObjectsOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    s3.owned_bucket(&caller, &input.bucket, BucketRole::Target)
        .await?;
    let objects = input.delete.objects;
    if objects.is_empty() || objects.len() > MAX_DELETE_KEYS {
        return Err(s3_error!(
            MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema"
        ));
    }
    let quiet = input.delete.quiet.unwrap_or(false);
    let mut deleted = Vec::new();
    let mut errors = Vec::new();
    for o in objects {
        let fail = |code: &str, message: String| Error {
            code: Some(code.to_owned()),
            key: Some(o.key.clone()),
            message: Some(message),
            version_id: o.version_id.clone(),
        };
        if let Err(e) = validate_key(&o.key) {
            errors.push(fail(
                e.code().as_str(),
                e.message().unwrap_or_default().to_owned(),
            ));
            continue;
        }
        // Without versioning, only the "null" version exists; deleting any other is a no-op.
        let result = match o.version_id.as_deref() {
            None | Some("null") => s3
                .store
                .delete_object(
                    &input.bucket,
                    &o.key,
                    wharf_store::WriteCondition::default(),
                )
                .await
                .map(|_| ()),
            Some(_) => Ok(()),
        };
        match result {
            Ok(()) if !quiet => deleted.push(DeletedObject {
                key: Some(o.key.clone()),
                version_id: o.version_id.clone(),
                ..Default::default()
            }),
            Ok(()) => {}
            Err(e) => {
                let e = store_error(e);
                errors.push(fail(
                    e.code().as_str(),
                    e.message().unwrap_or_default().to_owned(),
                ));
            }
        }
    }
    Ok(S3Response::new(DeleteObjectsOutput {
        deleted: (!deleted.is_empty()).then_some(deleted),
        errors: (!errors.is_empty()).then_some(errors),
        ..Default::default()
    }))
}
