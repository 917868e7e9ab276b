//! One viewer request's journey: what the viewer asked, and what happened to it on the way.
//!
//! Every phase reads the request from the context and records in [`Outcome`] what later phases
//! and the logs need: the cache result, why a response was not stored, the origin exchange.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderMap, Method, StatusCode, Uri, Version};

use crate::cache_key;
use crate::distribution::{Behavior, Distribution};
use crate::freshness::NoCacheReason;
use crate::headers::CacheStatus;
use crate::origin::{FailoverReason, Origin};

#[derive(Clone)]
pub(crate) struct RequestCtx {
    /// CloudFront's request id (`X-Amz-Cf-Id`).
    pub request_id: String,
    pub dist: Arc<Distribution>,
    /// Index of the matched cache behavior in `dist.behaviors`.
    pub behavior: usize,
    pub method: Method,
    /// The request target as the viewer sent it.
    pub uri: Uri,
    pub version: Version,
    /// The path as requested after `DefaultRootObject`, percent-encoding kept.
    pub path: String,
    /// The query string, less the parameters of a signed URL.
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub client: Option<SocketAddr>,
    /// The viewer connected over HTTPS.
    pub https: bool,
    /// Its TLS session, when it did.
    pub tls: Option<super::ViewerHttps>,
    /// The request's size as the logs count it (`cs-bytes`); 0 when the distribution does not
    /// log.
    pub request_bytes: u64,
    /// Serving a custom error page already: do not recurse.
    pub error_page: bool,
    /// The origin a viewer-request function chose or changed for this request, instead of
    /// the behavior's.
    pub origin: Option<Arc<dyn Origin>>,
    pub outcome: Outcome,
}

/// What happened to a request, phase by phase.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The result the viewer is told (`X-Cache`) and the logs' `x-edge-result-type`.
    pub cache_status: CacheStatus,
    /// Why the origin's response was not stored, when one came and was not.
    pub not_stored: Option<NotStored>,
    /// The last request this viewer request sent to the origin (revalidations included).
    pub origin: Option<OriginExchange>,
    /// Which error, when the edge refused the request or the origin failed: the logs'
    /// `x-edge-detailed-result-type` (`ClientGeoBlocked`, `OriginConnectError`, …).
    pub error_detail: Option<&'static str>,
}

/// Why an origin response was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotStored {
    /// RFC 9111 or the cache policy forbids it.
    Uncacheable(NoCacheReason),
    /// A partial response that is not the range the edge asked for.
    UnexpectedRange,
}

/// One request to the origin, timed.
#[derive(Debug, Clone, Copy)]
pub struct OriginExchange {
    pub started: Instant,
    /// Until the response head arrived, or the request failed.
    pub elapsed: Duration,
    /// The origin's status, or `None` when no response came.
    pub status: Option<StatusCode>,
    /// Why no response came.
    pub error: Option<FailoverReason>,
}

impl RequestCtx {
    pub fn behavior(&self) -> &Behavior {
        &self.dist.behaviors[self.behavior]
    }

    /// Where the request's misses and passes go: a function's choice, else the behavior's
    /// origin.
    pub fn target(&self) -> &Arc<dyn Origin> {
        self.origin.as_ref().unwrap_or(&self.behavior().target)
    }

    /// Whether the behavior caches this request at all (else it passes to the origin).
    pub fn cacheable(&self) -> bool {
        let b = self.behavior();
        b.cached_methods.contains(&self.method)
            && (self.method == Method::GET || self.method == Method::HEAD)
            && !(b.cache_policy.max_ttl == 0 && b.cache_policy.min_ttl == 0)
    }

    /// The request's primary cache key, as its behavior's cache policy says.
    pub fn primary_key(&self) -> String {
        cache_key::primary_key(
            &self.dist.id,
            &self.path,
            self.query.as_deref(),
            &self.headers,
            &self.behavior().cache_policy,
        )
    }

    /// The request's value for a header named in `Vary` (normalised `Accept-Encoding` when
    /// the policy keys on it, normalised `Accept-Language`).
    pub fn vary_value(&self, name: &str) -> Option<String> {
        let p = &self.behavior().cache_policy;
        if name == "accept-encoding" && p.keys_encoding() {
            return Some(cache_key::normalized_accept_encoding(&self.headers, p).to_owned());
        }
        if name == "accept-language" {
            return cache_key::normalized_accept_language(&self.headers);
        }
        cache_key::field_value(&self.headers, name)
    }

    /// How long `entry` (whose head is `head`) stays fresh under this request's behavior.
    pub fn freshness_of(
        &self,
        entry: &crate::cache::entry::Entry,
        head: &crate::cache::entry::Head,
    ) -> crate::freshness::Freshness {
        crate::freshness::freshness(
            head.status,
            &head.headers,
            &self.behavior().cache_policy,
            entry.error_ttl,
            head.response_time,
        )
    }

    /// The same request as a GET (a background revalidation, a POST response kept for GETs),
    /// with an outcome of its own.
    pub fn as_get(&self) -> Self {
        Self {
            method: Method::GET,
            outcome: Outcome::default(),
            ..self.clone()
        }
    }
}
