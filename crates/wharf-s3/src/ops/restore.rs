//! RestoreObject: makes an archived version (storage class GLACIER or DEEP_ARCHIVE) readable
//! for `Days` days. The restore completes after the configured delay (`[api] restore_secs`);
//! until then HEAD shows `x-amz-restore: ongoing-request="true"` and a second request is
//! `409 RestoreAlreadyInProgress`; once ready, a request sets the copy's lifetime anew (200).

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use wharf_store::Restore as RestoreState;

use super::object::{change_attrs, readable_object};
use crate::WharfS3;
use crate::access::BucketRole;
use crate::endpoint::StatusOverride;
use crate::error::custom_error;
use wharf_store::ARCHIVED_CLASSES;

/// What the request did to the version's restore.
enum Outcome {
    Started,
    Extended,
}

pub async fn restore_object(
    s3: &WharfS3,
    req: S3Request<RestoreObjectInput>,
) -> S3Result<S3Response<RestoreObjectOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let request = input.restore_request.unwrap_or_default();
    if request.type_.is_some()
        || request.select_parameters.is_some()
        || request.output_location.is_some()
    {
        return Err(s3_error!(
            NotImplemented,
            "A header you provided implies functionality that is not implemented: S3 Select restores. Wharf refuses it rather than ignore it."
        ));
    }
    let (obj, _) = readable_object(
        s3,
        &caller,
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
        BucketRole::Target,
        ("s3:RestoreObject", "s3:RestoreObject"),
    )
    .await?;
    if !obj
        .attrs
        .storage_class
        .as_deref()
        .is_some_and(|c| ARCHIVED_CLASSES.contains(&c))
    {
        return Err(s3_error!(
            InvalidObjectState,
            "Restore is not allowed for the object's current storage class"
        ));
    }
    let days = match request.days {
        Some(d) if d >= 1 => u32::try_from(d).unwrap_or(u32::MAX),
        Some(_) => {
            return Err(s3_error!(
                InvalidArgument,
                "Days must be a positive integer"
            ));
        }
        None => {
            return Err(s3_error!(
                MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema"
            ));
        }
    };
    let delay = i64::try_from(s3.restore_delay.as_millis()).unwrap_or(i64::MAX);
    let outcome = change_attrs(s3, &obj, input.version_id.is_some(), move |a| {
        let now = wharf_store::now_ms();
        let (outcome, restore) = match a.restore {
            Some(r) if now < r.ready_ms => {
                return Err(custom_error(
                    "RestoreAlreadyInProgress",
                    "Object restore is already in progress",
                    http::StatusCode::CONFLICT,
                ));
            }
            Some(r) if now < r.expiry_ms() => (Outcome::Extended, RestoreState { days, ..r }),
            _ => (
                Outcome::Started,
                RestoreState {
                    ready_ms: now.saturating_add(delay),
                    days,
                },
            ),
        };
        a.restore = Some(restore);
        Ok(outcome)
    })
    .await?;
    Ok(match outcome {
        Outcome::Started => {
            StatusOverride::answer(RestoreObjectOutput::default(), http::StatusCode::ACCEPTED)
        }
        Outcome::Extended => S3Response::new(RestoreObjectOutput::default()),
    })
}
