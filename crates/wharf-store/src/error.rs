//! The store's one error type. wharf-s3 maps each variant to S3's error code in its `error.rs`.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("The specified bucket does not exist")]
    NoSuchBucket,
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
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("metadata database error: {0}")]
    Db(String),
    #[error("corrupt metadata: {0}")]
    Corrupt(String),
    #[error("the store is shutting down")]
    Closed,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Db(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        Self::Corrupt(e.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
