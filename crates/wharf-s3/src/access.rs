//! Who is asking, and whether they may use a bucket.
//!
//! s3s verifies signatures; everything after that is decided here, for signed and anonymous
//! requests alike (s3s's own default would refuse anonymous requests before we could answer
//! `NoSuchBucket`, as S3 does for a bucket that does not exist). A bucket belongs to the user
//! who created it and every other caller is denied (bucket policies and ACLs come later).
//! `x-amz-expected-bucket-owner` (and `x-amz-source-expected-bucket-owner` for a copy source)
//! must name the bucket owner's account, as on S3.

use s3s::access::{S3Access, S3AccessContext};
use s3s::{S3Request, S3Result, s3_error};
use wharf_model::User;
use wharf_store::BucketRecord;

use crate::WharfS3;
use crate::error::StoreResultExt;

/// Set by [`crate::normalize`] on a request it passes on after s3s verified its signature: the
/// access key that signed it.
#[derive(Debug, Clone)]
pub struct VerifiedAccessKey(pub String);

/// The caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `None`: an anonymous request.
    pub user: Option<User>,
    expected_owner: Option<String>,
    expected_source_owner: Option<String>,
}

/// Which `…expected-bucket-owner` header applies to a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketRole {
    /// The bucket the request addresses.
    Target,
    /// The bucket a copy reads from.
    CopySource,
}

impl Caller {
    /// The signed-in user; anonymous callers are refused.
    pub fn signed_in(&self) -> S3Result<&User> {
        self.user.as_ref().ok_or_else(access_denied)
    }
}

pub fn access_denied() -> s3s::S3Error {
    s3_error!(AccessDenied, "Access Denied")
}

const EXPECTED_BUCKET_OWNER: http::HeaderName =
    http::HeaderName::from_static("x-amz-expected-bucket-owner");
const SOURCE_EXPECTED_BUCKET_OWNER: http::HeaderName =
    http::HeaderName::from_static("x-amz-source-expected-bucket-owner");

fn header(req_headers: &http::HeaderMap, name: &http::HeaderName) -> Option<String> {
    req_headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

impl WharfS3 {
    /// Who signed `req` (s3s checked the signature), or an anonymous caller.
    pub(crate) async fn caller<T>(&self, req: &S3Request<T>) -> S3Result<Caller> {
        let key = req
            .credentials
            .as_ref()
            .map(|c| c.access_key.clone())
            .or_else(|| {
                req.extensions
                    .get::<VerifiedAccessKey>()
                    .map(|k| k.0.clone())
            });
        let user = match key {
            Some(k) => Some(self.identities.user_of(&k).await?),
            None => None,
        };
        Ok(Caller {
            user,
            expected_owner: header(&req.headers, &EXPECTED_BUCKET_OWNER),
            expected_source_owner: header(&req.headers, &SOURCE_EXPECTED_BUCKET_OWNER),
        })
    }

    /// The bucket, if the caller may use it: `NoSuchBucket` if it does not exist (whoever
    /// asks), else `AccessDenied` unless the caller owns it and the expected owner (if given)
    /// is the owner's account. Returns the user and the bucket.
    pub(crate) async fn owned_bucket(
        &self,
        caller: &Caller,
        bucket: &str,
        role: BucketRole,
    ) -> S3Result<(User, BucketRecord)> {
        let Some(b) = self.store.meta().get_bucket(bucket).await.s3()? else {
            return Err(crate::ops::bucket::no_such_bucket());
        };
        let user = caller.signed_in()?;
        if b.owner != user.canonical_id {
            return Err(access_denied());
        }
        let expected = match role {
            BucketRole::Target => &caller.expected_owner,
            BucketRole::CopySource => &caller.expected_source_owner,
        };
        if let Some(account) = expected
            && account != self.store.account_id()
        {
            return Err(access_denied());
        }
        Ok((user.clone(), b))
    }
}

/// Lets every request whose signature s3s accepted (or that carries none) reach the
/// operations, which decide with [`WharfS3::owned_bucket`].
pub struct DecideInOperations;

#[async_trait::async_trait]
impl S3Access for DecideInOperations {
    /// Notes the operation the request resolved to, for the metrics.
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let name = crate::metrics::intern(cx.s3_op().name());
        if let Some(slot) = cx.extensions_mut().get::<crate::metrics::OperationName>() {
            slot.set(name);
        }
        Ok(())
    }
}
