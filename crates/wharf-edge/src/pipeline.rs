//! The edge's journey, one phase after another, named as CloudFront and Pingora name them.
//! Each phase is a module of its own; [`context::RequestCtx`] carries the request through
//! them and records what happened to it.
//!
//! 1. [`viewer_request`]: the distribution by `Host`, `DefaultRootObject`, the cache behavior
//!    by path pattern;
//! 2. [`access`]: viewer protocol policy, geographic restriction, signed URLs and cookies,
//!    allowed methods; then the behavior's viewer-request CloudFront Function
//!    ([`functions`]), which may change the request or answer it;
//! 3. [`cache_lookup`]: fresh → hit; stale → served while revalidating
//!    (`stale-while-revalidate`) or [`revalidation`] first; absent → miss;
//! 4. [`upstream`]: the origin request, collapsed per cache key, through the origin or origin
//!    group; uncached requests pass through;
//! 5. [`cache_admission`]: whether and what to store; the fill streams the response into the
//!    cache and to every waiting viewer;
//! 6. [`viewer_response`]: custom error pages, the response headers policy, CloudFront's
//!    headers; then the viewer-response CloudFront Function;
//! 7. [`logging`]: the request's access log line, written once its response's last byte is
//!    sent, when the distribution's `Logging` is enabled.
//!
//! `docs/edge.md` draws the same chart.

mod access;
mod cache_admission;
mod cache_lookup;
pub mod context;
mod functions;
mod logging;
mod revalidation;
mod upstream;
mod viewer_request;
mod viewer_response;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::HeaderValue;
use http::{Request, Response};
use http_body_util::BodyExt;

use crate::access_log::delivery::{AccessLogs, DeliveryConfig, LogSink};
use crate::cache::{Cache, CacheConfig};
use crate::distribution::Distribution;
use crate::headers::{self, CacheStatus};
use crate::metrics::{DistributionMetrics, EdgeMetrics};
use crate::registry::Registry;
use crate::respond::EdgeBody;
use crate::viewer::ViewerLocator;

/// Settings of the edge as a whole.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// The `X-Amz-Cf-Pop` value (CloudFront: an airport code and a number, `IAD89-C1`).
    pub pop: String,
    pub cache: CacheConfig,
    /// The port of the edge's HTTPS listener, where `redirect-to-https` sends viewers.
    pub https_port: Option<u16>,
    /// The UDP port of the edge's HTTP/3 listener, advertised by `Alt-Svc` to HTTPS viewers of
    /// distributions whose `HttpVersion` allows HTTP/3.
    pub http3_port: Option<u16>,
    /// Trusted proxies and the geo database.
    pub viewers: Arc<ViewerLocator>,
    /// Where distributions' access logs are delivered, and how often; without it no
    /// distribution logs.
    pub access_logs: Option<(Arc<dyn LogSink>, Duration)>,
}

/// Access log records waiting for the delivery thread, at most.
const LOG_QUEUE: usize = 65_536;

pub struct Edge {
    pub registry: Arc<Registry>,
    pub cache: Arc<Cache>,
    pub metrics: Arc<EdgeMetrics>,
    pop: String,
    via: HeaderValue,
    https_port: Option<u16>,
    /// `h3=":PORT"; ma=86400`, when the edge listens for HTTP/3.
    alt_svc: Option<HeaderValue>,
    viewers: Arc<ViewerLocator>,
    access_logs: Option<Arc<AccessLogs>>,
}

/// The answer to a request refused before it reached the cache (boxed: refusals are rare).
type Refusal = Box<Response<EdgeBody>>;

/// A request extension set by the listener that terminated TLS: the viewer used HTTPS, in
/// this session (named as CloudFront's logs and `CloudFront-Viewer-TLS` name it: `TLSv1.3`,
/// `TLS_AES_128_GCM_SHA256`, OpenSSL's names for TLS 1.2 suites).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewerHttps {
    pub protocol: &'static str,
    pub cipher: &'static str,
    /// The session was resumed rather than fully negotiated.
    pub resumed: bool,
    /// The JA3 and JA4 fingerprints of the viewer's ClientHello (over TCP; none over QUIC,
    /// whose ClientHello the QUIC stack does not show).
    pub fingerprints: Option<crate::tls_fingerprint::Fingerprints>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Edge {
    /// The edge over `registry`'s distributions; its metrics are registered in `metrics`.
    pub fn new(
        registry: Arc<Registry>,
        cfg: &EdgeConfig,
        metrics: &mut prometheus_client::registry::Registry,
    ) -> std::io::Result<Self> {
        let id = headers::new_request_id();
        let via = HeaderValue::from_str(&format!(
            "1.1 {}.cloudfront.net (CloudFront)",
            id[..16].to_ascii_lowercase().replace(['-', '_'], "0")
        ))
        .unwrap_or(HeaderValue::from_static("1.1 wharf (CloudFront)"));
        let cache = Cache::open(&cfg.cache)?;
        let metrics = EdgeMetrics::register(metrics, cache.clone());
        let access_logs = match &cfg.access_logs {
            Some((sink, interval)) => Some(Arc::new(AccessLogs::start(
                sink.clone(),
                DeliveryConfig {
                    interval: *interval,
                    queue: LOG_QUEUE,
                    edge_location: cfg.pop.clone(),
                },
                metrics.clone(),
            )?)),
            None => None,
        };
        Ok(Self {
            registry,
            metrics,
            access_logs,
            cache,
            pop: cfg.pop.clone(),
            via,
            https_port: cfg.https_port,
            alt_svc: cfg
                .http3_port
                .and_then(|p| HeaderValue::from_str(&format!("h3=\":{p}\"; ma=86400")).ok()),
            viewers: cfg.viewers.clone(),
        })
    }

    /// Serves one viewer request: the phases in order.
    pub async fn handle<B>(
        self: &Arc<Self>,
        req: Request<B>,
        client: Option<SocketAddr>,
    ) -> Response<EdgeBody>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display + Send + 'static,
    {
        let received = std::time::Instant::now();
        let request_id = headers::new_request_id();
        let (parts, body) = req.into_parts();
        let ctx = match self.viewer_request(parts, &request_id, client) {
            Ok(ctx) => ctx,
            Err(refused) => {
                let mut refused = *refused;
                self.decorate(&mut refused, CacheStatus::Error, &request_id);
                let m = self.metrics.unmatched();
                self.count(m, &mut refused, CacheStatus::Error, false);
                return refused;
            }
        };
        let mut unanswered = logging::Unanswered::new(self.access_logs.as_ref(), ctx, received);
        let ctx = unanswered.ctx();
        let mut resp = match self
            .access(ctx)
            .and_then(|()| self.viewer_request_function(ctx))
        {
            // Refused requests, and responses a function made, are answered as they are.
            Err(refused) => *refused,
            Ok(()) => {
                let resp = if ctx.cacheable() {
                    self.cache_lookup(ctx).await
                } else {
                    self.pass(ctx, upstream::body_stream(body)).await
                };
                let resp = self.viewer_response(ctx, resp).await;
                self.viewer_response_function(ctx, resp)
            }
        };
        let ctx = unanswered.answered();
        self.decorate(&mut resp, ctx.outcome.cache_status, &request_id);
        if ctx.https
            && ctx.dist.http3
            && let Some(v) = &self.alt_svc
        {
            resp.headers_mut().insert(http::header::ALT_SVC, v.clone());
        }
        let head = ctx.method == http::Method::HEAD;
        self.count(
            self.metrics_of(&ctx.dist),
            &mut resp,
            ctx.outcome.cache_status,
            head,
        );
        if let (Some(logs), Some(logging)) = (&self.access_logs, &ctx.dist.logging) {
            let logging = logging.clone();
            Self::log(logs, logging, ctx, &mut resp, received);
        }
        resp
    }

    /// Delivers every distribution's open access log files now (blocks; for shutdown and
    /// tests).
    pub fn flush_access_logs(&self) {
        if let Some(logs) = &self.access_logs {
            logs.flush();
        }
    }

    /// At shutdown, once requests in flight are done (blocks): delivers the open access log
    /// files and stops their delivery, and writes the invalidation journal's last lines.
    pub fn finish(&self) {
        if let Some(logs) = &self.access_logs {
            logs.shutdown();
        }
        if let Err(e) = self.cache.invalidations.flush_journal() {
            tracing::warn!(error = %e, "could not write the invalidation journal");
        }
    }

    /// A distribution's counters (resolved on its first request).
    pub(super) fn metrics_of<'d>(&self, dist: &'d Distribution) -> &'d DistributionMetrics {
        dist.metrics
            .get_or_init(|| self.metrics.distribution(&dist.id))
    }

    /// Counts a viewer response: its status and result now, its body bytes now when their
    /// number is known (none for a HEAD), else as they are sent.
    fn count(
        &self,
        m: &DistributionMetrics,
        resp: &mut Response<EdgeBody>,
        result: CacheStatus,
        head: bool,
    ) {
        // A hit streams from the cache with its length in Content-Length, not in the body.
        let known = match http_body::Body::size_hint(resp.body()).exact() {
            _ if head => Some(0),
            exact => exact.or_else(|| crate::cache::content_length(resp.headers())),
        };
        match known {
            Some(len) => m.response(resp.status(), result, len),
            None => {
                m.response(resp.status(), result, 0);
                let sent = m.response_bytes(result);
                let body = std::mem::take(resp.body_mut());
                *resp.body_mut() = body
                    .map_frame(move |frame| {
                        if let Some(data) = frame.data_ref() {
                            sent.inc_by(data.len() as u64);
                        }
                        frame
                    })
                    .boxed_unsync();
            }
        }
    }
}
