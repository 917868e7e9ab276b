//! Origins: where a miss is fetched from.
//!
//! The edge sees an origin only through the [`Origin`] trait. [`http::HttpOrigin`] reaches any
//! HTTP server with pooled keep-alive connections; the `wharf` binary adds an implementation over
//! its own store for S3 origins named `BUCKET.s3.localhost` (the edge never imports the store).
//! [`failover`] runs an origin group's primary and, when the primary fails for a request, its
//! secondary.

pub mod book;
mod configured;
pub mod failover;
pub mod http;
pub mod s3;
pub mod tls;

use std::sync::Arc;

use ::http::{HeaderMap, Method, StatusCode};
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;

use wharf_model::cloudfront::Origin as OriginConfig;

/// A body sent to the origin (a forwarded PUT or POST).
pub type RequestBody = BoxStream<'static, std::io::Result<Bytes>>;

/// A request the edge sends to an origin.
pub struct OriginRequest {
    pub method: Method,
    /// Path and query, `OriginPath` already prefixed.
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Option<RequestBody>,
    /// The viewer came over HTTPS (a `match-viewer` origin is then reached over HTTPS).
    pub viewer_https: bool,
}

impl OriginRequest {
    /// The same request without its body: for a retry at another origin, or a range.
    pub fn without_body(&self) -> Self {
        Self {
            method: self.method.clone(),
            path_and_query: self.path_and_query.clone(),
            headers: self.headers.clone(),
            body: None,
            viewer_https: self.viewer_https,
        }
    }
}

/// What an origin answered. The body streams; an error in it means the origin failed mid-body.
pub struct OriginResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: BoxStream<'static, std::io::Result<Bytes>>,
}

/// Why an origin request failed before a response arrived (and why a group may fail over).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailoverReason {
    ConnectionFailed,
    Timeout,
    StatusCode,
}

impl FailoverReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConnectionFailed => "connection-failed",
            Self::Timeout => "timeout",
            Self::StatusCode => "status-code",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("origin {reason}: {message}", reason = .reason.as_str())]
pub struct OriginError {
    pub reason: FailoverReason,
    pub message: String,
}

impl OriginError {
    pub fn new(reason: FailoverReason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}

/// An origin server.
pub trait Origin: Send + Sync {
    fn fetch(&self, req: OriginRequest) -> BoxFuture<'static, Result<OriginResponse, OriginError>>;

    /// The longest a fetch may take, all its attempts included, before its response head
    /// arrives or it fails: how long a collapsed viewer may wait for another's fetch.
    fn timeout_budget(&self) -> std::time::Duration {
        std::time::Duration::from_secs(http::DEFAULT_READ_TIMEOUT)
    }
}

/// Who an S3 origin's requests act as, as CloudFront decides it from the origin's Origin
/// Access Control or Origin Access Identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginIdentity {
    /// No OAC or OAI (or an OAC whose `SigningBehavior` is `never`): anonymous requests.
    Anonymous,
    /// An Origin Access Control that signs: CloudFront's service principal
    /// (`cloudfront.amazonaws.com`) on behalf of this distribution (`aws:SourceArn`).
    AccessControl,
    /// A legacy Origin Access Identity (its ID): its IAM user.
    AccessIdentity(String),
}

/// What an origin is built for: the distribution and who its requests act as.
#[derive(Debug, Clone)]
pub struct OriginContext<'a> {
    pub distribution_id: &'a str,
    pub identity: OriginIdentity,
}

/// Builds the [`Origin`] for each origin of a distribution.
pub trait OriginFactory: Send + Sync {
    fn build(
        &self,
        context: &OriginContext<'_>,
        config: &OriginConfig,
    ) -> Result<Arc<dyn Origin>, String>;
}

/// The factory that reaches every origin over HTTP or HTTPS, signing requests to S3 origins
/// with Origin Access Control with `origin_access`.
pub struct HttpOriginFactory {
    pub origin_access: Option<Arc<s3::OriginAccess>>,
    pub tls: Arc<rustls::ClientConfig>,
}

impl OriginFactory for HttpOriginFactory {
    fn build(
        &self,
        context: &OriginContext<'_>,
        config: &OriginConfig,
    ) -> Result<Arc<dyn Origin>, String> {
        // A remote S3 origin is signed with the operator's key for OAC; an OAI or an OAC that
        // never signs reads it anonymously.
        let signer = match context.identity {
            OriginIdentity::AccessControl => {
                s3::S3Signer::for_origin(config, self.origin_access.as_ref())?
            }
            _ => None,
        };
        Ok(Arc::new(http::HttpOrigin::new(
            config,
            signer,
            self.tls.clone(),
        )?))
    }
}
