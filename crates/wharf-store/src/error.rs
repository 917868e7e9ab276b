//! The store's one error type. wharf-s3 maps each variant to S3's error code in its `error.rs`.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("The specified bucket does not exist")]
    NoSuchBucket,
    /// Object Lock (a retention date not reached, or a legal hold) keeps the version.
    #[error("Access Denied because object protected by object lock.")]
    ObjectLocked,
    #[error("The specified key does not exist.")]
    NoSuchKey,
    #[error("The specified upload does not exist.")]
    NoSuchUpload,
    #[error("The requested bucket name is not available.")]
    BucketAlreadyExists,
    #[error("Your previous request to create the named bucket succeeded and you already own it.")]
    BucketAlreadyOwnedByYou,
    #[error("The bucket you tried to delete is not empty")]
    BucketNotEmpty,
    #[error("At least one of the pre-conditions you specified did not hold")]
    PreconditionFailed,
    #[error("One or more of the specified parts could not be found.")]
    InvalidPart(String),
    #[error("The list of parts was not in ascending order.")]
    InvalidPartOrder,
    #[error("Your proposed upload is smaller than the minimum allowed size")]
    EntityTooSmall,
    #[error("Your proposed upload exceeds the maximum allowed size")]
    EntityTooLarge,
    #[error("You did not provide the number of bytes specified by the Content-Length HTTP header.")]
    IncompleteBody,
    #[error("The {0} you specified did not match the calculated checksum.")]
    BadDigest(&'static str),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("the user {0:?} does not exist")]
    NoSuchUser(String),
    #[error("the user {0:?} already exists")]
    UserAlreadyExists(String),
    #[error("the access key already exists")]
    AccessKeyAlreadyExists,
    /// The client's body stream failed (disconnect, bad chunk signature, timeout).
    #[error("reading the request body failed: {0}")]
    Body(String),
    /// The copy source changed (was overwritten or deleted) while it was being copied.
    #[error("the copy source changed while it was being copied")]
    SourceChanged,
    /// The disk holding the data directory is full (or its quota is spent).
    #[error("the storage is full")]
    StorageFull,
    #[error("I/O error: {0}")]
    Io(std::io::Error),
    #[error("metadata database error: {0}")]
    Db(String),
    #[error("corrupt metadata: {0}")]
    Corrupt(String),
    #[error("{0}")]
    DataDirInUse(String),
    #[error("the store is shutting down")]
    Closed,
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        use std::io::ErrorKind;
        match e.kind() {
            ErrorKind::StorageFull | ErrorKind::QuotaExceeded => Self::StorageFull,
            _ => Self::Io(e),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => Self::StorageFull,
            _ => Self::Db(e.to_string()),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        Self::Corrupt(e.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
