//! The one place store and model errors become S3 error codes.

use s3s::{S3Error, S3ErrorCode};
use wharf_model::NameError;
use wharf_store::StoreError;

/// An error whose code s3s does not know (`InvalidTag`, `RestoreAlreadyInProgress`, …), with
/// the status S3 answers it with (s3s would answer 500).
pub fn custom_error(code: &'static str, message: &str, status: http::StatusCode) -> S3Error {
    let mut e = S3Error::with_message(S3ErrorCode::Custom(code.into()), message.to_owned());
    e.set_status_code(status);
    e
}

pub fn store_error(e: StoreError) -> S3Error {
    use S3ErrorCode as C;
    let (code, msg): (S3ErrorCode, String) = match &e {
        StoreError::NoSuchBucket => (C::NoSuchBucket, e.to_string()),
        StoreError::ObjectLocked => (C::AccessDenied, e.to_string()),
        StoreError::NoSuchKey => (C::NoSuchKey, e.to_string()),
        StoreError::NoSuchUpload => (C::NoSuchUpload, e.to_string()),
        StoreError::BucketAlreadyExists => (C::BucketAlreadyExists, e.to_string()),
        StoreError::BucketAlreadyOwnedByYou => (C::BucketAlreadyOwnedByYou, e.to_string()),
        StoreError::BucketNotEmpty => (C::BucketNotEmpty, e.to_string()),
        StoreError::PreconditionFailed => (C::PreconditionFailed, e.to_string()),
        StoreError::InvalidPart(detail) => (
            C::InvalidPart,
            format!(
                "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag. ({detail})"
            ),
        ),
        StoreError::InvalidPartOrder => (C::InvalidPartOrder, e.to_string()),
        StoreError::EntityTooSmall => (C::EntityTooSmall, e.to_string()),
        StoreError::EntityTooLarge => (C::EntityTooLarge, e.to_string()),
        StoreError::IncompleteBody => (C::IncompleteBody, e.to_string()),
        StoreError::BadDigest(_) => (C::BadDigest, e.to_string()),
        StoreError::InvalidRequest(m) => (C::InvalidRequest, m.clone()),
        // A body stream that failed is the client's doing (disconnect, bad chunk signature).
        StoreError::Body(m) if m.contains("signature") || m.contains("Signature") => {
            (C::SignatureDoesNotMatch, m.clone())
        }
        StoreError::Body(_) => (C::IncompleteBody, e.to_string()),
        StoreError::NoSuchUser(_)
        | StoreError::UserAlreadyExists(_)
        | StoreError::AccessKeyAlreadyExists => (C::InvalidRequest, e.to_string()),
        StoreError::StorageFull => {
            let mut e = S3Error::with_message(
                C::Custom("InsufficientStorage".into()),
                "The storage holding this bucket is full, so nothing was written. Delete objects or add space, then retry.",
            );
            e.set_status_code(http::StatusCode::INSUFFICIENT_STORAGE);
            return e;
        }
        StoreError::SourceChanged => (
            C::OperationAborted,
            "A conflicting conditional operation is currently in progress against this resource. Please try again.".to_owned(),
        ),
        StoreError::Io(_)
        | StoreError::Db(_)
        | StoreError::Corrupt(_)
        | StoreError::Closed
        | StoreError::DataDirInUse(_) => {
            tracing::warn!(error = %e, "internal store error");
            (
                C::InternalError,
                "We encountered an internal error. Please try again.".to_owned(),
            )
        }
    };
    S3Error::with_message(code, msg)
}

pub fn name_error(e: NameError) -> S3Error {
    match e {
        NameError::InvalidBucketName => {
            S3Error::with_message(S3ErrorCode::InvalidBucketName, e.to_string())
        }
        NameError::KeyTooLong => S3Error::with_message(S3ErrorCode::KeyTooLongError, e.to_string()),
        NameError::EmptyKey | NameError::InvalidKeyCharacter => {
            S3Error::with_message(S3ErrorCode::InvalidArgument, e.to_string())
        }
    }
}

/// `?`-friendly conversion for store results.
pub trait StoreResultExt<T> {
    fn s3(self) -> s3s::S3Result<T>;
}

impl<T> StoreResultExt<T> for Result<T, StoreError> {
    fn s3(self) -> s3s::S3Result<T> {
        self.map_err(store_error)
    }
}
