//! Upstream: the request to the origin (or origin group), collapsed per cache key on a miss,
//! and passed through unchanged for what the behavior does not cache.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Response, StatusCode};

use super::Edge;
use super::cache_admission::Admitted;
use super::context::{NotStored, OriginExchange, RequestCtx};
use super::now;
use crate::cache::entry::{CHUNK_SIZE, FRAGMENT_MAX};
use crate::cache::{Collapse, Outcome, SpanFetcher, content_length};
use crate::cache_key;
use crate::freshness;
use crate::headers::{self, CacheStatus};
use crate::origin::{FailoverReason, OriginError, OriginRequest, OriginResponse, RequestBody};
use crate::range::RangeSpec;
use crate::respond::{self, EdgeBody};

impl Edge {
    /// A miss: one origin request per key at a time (`collapse`); the viewers that arrive
    /// meanwhile wait for its outcome and answer from what it stored.
    pub(super) async fn miss(
        &self,
        ctx: &mut RequestCtx,
        primary: &str,
        collapse: bool,
    ) -> Response<EdgeBody> {
        ctx.outcome.cache_status = CacheStatus::Miss;
        let guard = if collapse {
            match self.cache.collapse(primary) {
                Collapse::Leader(g) => Some(g),
                Collapse::Follower(rx) => {
                    self.metrics_of(&ctx.dist).collapsed_waiter();
                    match self.leaders_outcome(ctx, rx).await {
                        Outcome::Stored(_) => {
                            let found = self
                                .cache
                                .lookup(primary, &|name: &str| ctx.vary_value(name));
                            if let Some(entry) = found {
                                let head = entry.head();
                                return Box::pin(self.answer_hit(
                                    ctx,
                                    primary,
                                    &entry,
                                    head,
                                    CacheStatus::Hit,
                                ))
                                .await;
                            }
                        }
                        Outcome::Failed(e) => return self.origin_failed(ctx, &e),
                        Outcome::NotStored => {}
                    }
                    return Box::pin(self.miss(ctx, primary, false)).await;
                }
            }
        } else {
            None
        };
        let mut req = self.origin_request(ctx, Method::GET);
        // A range on a cold object asks the origin for the aligned chunks around it only.
        let range = respond::requested_range(&ctx.headers);
        let aligned = range.and_then(|r| r.aligned(CHUNK_SIZE));
        if let Some((start, end)) = aligned {
            let v = match end {
                Some(e) => format!("bytes={start}-{}", e - 1),
                None => format!("bytes={start}-"),
            };
            if let Ok(v) = HeaderValue::from_str(&v) {
                req.headers.insert(header::RANGE, v);
            }
        }
        // A suffix range cannot be aligned before the size is known: it goes to the origin as
        // the viewer sent it, and a short answer is kept as a fragment.
        let suffix = match range {
            Some(RangeSpec::Suffix(_)) => ctx.headers.get(header::RANGE).cloned(),
            _ => None,
        };
        if let Some(v) = &suffix {
            req.headers.insert(header::RANGE, v.clone());
        }
        let request_time = now();
        let mut resp = match self.fetch(ctx, req).await {
            Ok(r) => r,
            Err(e) => {
                if let Some(g) = guard {
                    g.finish(Outcome::Failed(e.clone()));
                }
                return self.origin_failed(ctx, &e);
            }
        };
        let mut fragment = None;
        if let Some(asked) = suffix
            && resp.status == StatusCode::PARTIAL_CONTENT
            && content_length(&resp.headers).is_none_or(|l| l <= FRAGMENT_MAX)
        {
            match read_short(resp.body, FRAGMENT_MAX).await {
                Ok(bytes) => {
                    resp.body =
                        Box::pin(futures::stream::once(std::future::ready(Ok(bytes.clone()))));
                    fragment = Some((bytes, asked));
                }
                Err(rest) => resp.body = rest,
            }
        }
        match self.admit(ctx, primary, resp, request_time, aligned, fragment) {
            Admitted::Stored(entry, withheld) => {
                if let Some(g) = guard {
                    g.finish(Outcome::Stored(entry.clone()));
                }
                self.answer_fill(ctx, &entry, withheld)
            }
            Admitted::NotStored(resp) => {
                if let Some(g) = guard {
                    g.finish(Outcome::NotStored);
                }
                if aligned.is_some() && resp.status != StatusCode::OK {
                    // Our widened range is not what the viewer asked for: ask again as they did.
                    ctx.outcome.not_stored = Some(NotStored::UnexpectedRange);
                    return self.pass_with(ctx, None, true).await;
                }
                self.relay(ctx, resp)
            }
        }
    }

    /// Forwards a request that is not cached (and invalidates after unsafe methods).
    pub(super) async fn pass(
        &self,
        ctx: &mut RequestCtx,
        body: Option<RequestBody>,
    ) -> Response<EdgeBody> {
        ctx.outcome.cache_status = CacheStatus::Pass;
        self.pass_with(ctx, body, false).await
    }

    async fn pass_with(
        &self,
        ctx: &mut RequestCtx,
        body: Option<RequestBody>,
        keep_range: bool,
    ) -> Response<EdgeBody> {
        let mut req = self.origin_request(ctx, ctx.method.clone());
        // Uncached requests carry the viewer's conditionals and range to the origin.
        for name in [
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
            header::IF_UNMODIFIED_SINCE,
            header::IF_RANGE,
            header::RANGE,
        ] {
            if name == header::RANGE && !keep_range && ctx.method != Method::GET {
                continue;
            }
            for v in ctx.headers.get_all(&name) {
                req.headers.append(name.clone(), v.clone());
            }
        }
        if body.is_some() {
            for name in [
                header::CONTENT_TYPE,
                header::CONTENT_LENGTH,
                header::CONTENT_ENCODING,
                header::CONTENT_LANGUAGE,
                HeaderName::from_static("content-md5"),
            ] {
                if let Some(v) = ctx.headers.get(&name) {
                    req.headers.insert(name, v.clone());
                }
            }
        }
        req.body = body;
        let request_time = now();
        let resp = match self.fetch(ctx, req).await {
            Ok(r) => r,
            Err(e) => return self.origin_failed(ctx, &e),
        };
        let unsafe_method = !matches!(
            ctx.method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        );
        if unsafe_method && (resp.status.is_success() || resp.status.is_redirection()) {
            // RFC 9111 §4.4: a successful unsafe request invalidates the target URI and the
            // URIs in Location and Content-Location on the same host.
            self.cache.invalidate_uri(&ctx.dist.id, &ctx.path);
            for name in [header::LOCATION, header::CONTENT_LOCATION] {
                if let Some(p) = resp
                    .headers
                    .get(&name)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| same_host_path(v, &ctx.headers))
                {
                    self.cache.invalidate_uri(&ctx.dist.id, &p);
                }
            }
        }
        if ctx.method == Method::POST && post_response_is_reusable(ctx, &resp) {
            // RFC 9110 §9.3.3: stored as the response to a GET of the same URI.
            let mut get = ctx.as_get();
            let (r, _) = self.store_and_answer(&mut get, &ctx.primary_key(), resp, request_time);
            ctx.outcome.not_stored = get.outcome.not_stored;
            return r;
        }
        self.relay(ctx, resp)
    }

    /// What the leader of a collapsed fetch decided, waiting no longer than the origin's own
    /// timeouts allow a fetch to take (a leader that never decides has failed by then).
    pub(super) async fn leaders_outcome(
        &self,
        ctx: &RequestCtx,
        mut rx: tokio::sync::watch::Receiver<Option<Outcome>>,
    ) -> Outcome {
        let budget = ctx.target().timeout_budget();
        match tokio::time::timeout(budget, rx.wait_for(Option::is_some)).await {
            Ok(Ok(outcome)) => outcome.clone().unwrap_or(Outcome::NotStored),
            // The leader went away without deciding (its viewer left): fetch alone.
            Ok(Err(_)) => Outcome::NotStored,
            Err(_) => Outcome::Failed(OriginError::new(
                FailoverReason::Timeout,
                format!(
                    "no answer from the origin in {budget:?} (waiting for another viewer's request)"
                ),
            )),
        }
    }

    /// Sends a request to the behavior's origin, recording the exchange in the context.
    pub(super) async fn fetch(
        &self,
        ctx: &mut RequestCtx,
        req: OriginRequest,
    ) -> Result<OriginResponse, OriginError> {
        let target = ctx.target().clone();
        let started = Instant::now();
        let result = target.fetch(req).await;
        let exchange = OriginExchange {
            started,
            elapsed: started.elapsed(),
            status: result.as_ref().ok().map(|r| r.status),
            error: result.as_ref().err().map(|e| e.reason),
        };
        self.metrics_of(&ctx.dist).origin_request(
            exchange.elapsed,
            exchange.status,
            exchange.error,
        );
        ctx.outcome.origin = Some(exchange);
        result
    }

    /// Fetches `[start, end)` of the object, for chunks the cache does not hold.
    pub(super) fn span_fetcher(&self, ctx: &RequestCtx) -> SpanFetcher {
        let origin = ctx.target().clone();
        let template = self.origin_request(ctx, Method::GET);
        let dist = ctx.dist.clone();
        self.metrics_of(&dist);
        Arc::new(move |start, end: Option<u64>| {
            // (Fields, not the whole template: a request with a body is not `Sync`.)
            let mut req = OriginRequest {
                method: Method::GET,
                path_and_query: template.path_and_query.clone(),
                headers: template.headers.clone(),
                body: None,
                viewer_https: template.viewer_https,
            };
            let last = end.map(|e| (e - 1).to_string()).unwrap_or_default();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes={start}-{last}")) {
                req.headers.insert(header::RANGE, v);
            }
            let (fetch, dist) = (origin.fetch(req), dist.clone());
            Box::pin(async move {
                let started = Instant::now();
                let result = fetch.await;
                if let Some(m) = dist.metrics.get() {
                    m.origin_request(
                        started.elapsed(),
                        result.as_ref().ok().map(|r| r.status),
                        result.as_ref().err().map(|e| e.reason),
                    );
                }
                result
            })
        })
    }

    /// The viewer's answer when the origin could not be reached or timed out.
    pub(super) fn origin_failed(
        &self,
        ctx: &mut RequestCtx,
        e: &OriginError,
    ) -> Response<EdgeBody> {
        tracing::warn!(distribution = %ctx.dist.id, error = %e, "origin request failed");
        ctx.outcome.cache_status = CacheStatus::Error;
        ctx.outcome.error_detail = Some(match e.reason {
            FailoverReason::Timeout => "OriginCommError",
            _ => "OriginConnectError",
        });
        let (status, why) = match e.reason {
            FailoverReason::Timeout => (
                StatusCode::GATEWAY_TIMEOUT,
                "CloudFront attempted to establish a connection with the origin, but either the attempt failed or the origin closed the connection.",
            ),
            _ => (
                StatusCode::BAD_GATEWAY,
                "CloudFront wasn't able to connect to the origin.",
            ),
        };
        respond::error_page(status, why, &ctx.request_id)
    }

    /// The request to the origin: the path, and what the behavior's policies forward.
    pub(super) fn origin_request(&self, ctx: &RequestCtx, method: Method) -> OriginRequest {
        let b = ctx.behavior();
        let cp = &b.cache_policy;
        let orp = b.origin_request_policy.as_ref();
        let query = cache_key::forwarded_query(ctx.query.as_deref(), cp, orp);
        let path_and_query = if query.is_empty() {
            ctx.path.clone()
        } else {
            format!("{}?{query}", ctx.path)
        };
        let mut h = HeaderMap::new();
        for (name, v) in &ctx.headers {
            let n = name.as_str();
            if headers::is_hop_by_hop(name)
                || matches!(
                    n,
                    "cookie"
                        | "accept-encoding"
                        | "range"
                        | "if-match"
                        | "if-none-match"
                        | "if-modified-since"
                        | "if-unmodified-since"
                        | "if-range"
                        | "content-length"
                        | "content-type"
                        | "content-encoding"
                        | "expect"
                )
            {
                continue;
            }
            if b.forwards_header(n) {
                h.append(name.clone(), v.clone());
            }
        }
        if let Some(c) = cache_key::forwarded_cookie(&ctx.headers, cp, orp) {
            h.insert(header::COOKIE, c);
        }
        if cp.keys_encoding() {
            let ae = cache_key::normalized_accept_encoding(&ctx.headers, cp);
            if !ae.is_empty() {
                h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(ae));
            }
        } else if let Some(ae) = ctx.headers.get(header::ACCEPT_ENCODING)
            && orp.is_some_and(|o| o.headers.includes("accept-encoding"))
        {
            h.insert(header::ACCEPT_ENCODING, ae.clone());
        }
        h.entry(header::USER_AGENT)
            .or_insert(HeaderValue::from_static("Amazon CloudFront"));
        h.append(header::VIA, self.via.clone());
        if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
            h.insert(headers::X_AMZ_CF_ID.clone(), v);
        }
        if let Some(ip) = ctx.client.map(|c| c.ip().to_string()) {
            let xff = match ctx
                .headers
                .get(&headers::X_FORWARDED_FOR)
                .and_then(|v| v.to_str().ok())
            {
                Some(prev) => format!("{prev}, {ip}"),
                None => ip,
            };
            if let Ok(v) = HeaderValue::from_str(&xff) {
                h.insert(headers::X_FORWARDED_FOR.clone(), v);
            }
        }
        OriginRequest {
            method,
            path_and_query,
            headers: h,
            body: None,
            viewer_https: ctx.https,
        }
    }
}

/// Reads a body of at most `cap` bytes whole; a longer one (or one that fails) comes back as a
/// stream of what was read and the rest.
async fn read_short(
    mut body: BoxStream<'static, std::io::Result<Bytes>>,
    cap: u64,
) -> Result<Bytes, BoxStream<'static, std::io::Result<Bytes>>> {
    let mut read: Vec<Bytes> = Vec::new();
    let mut len = 0u64;
    loop {
        match body.next().await {
            None => break,
            Some(Ok(b)) => {
                len += b.len() as u64;
                read.push(b);
                if len > cap {
                    break;
                }
            }
            Some(Err(e)) => {
                let read = read.into_iter().map(Ok).chain([Err(e)]);
                return Err(Box::pin(futures::stream::iter(read)));
            }
        }
    }
    if len > cap {
        let head = futures::stream::iter(read.into_iter().map(Ok));
        return Err(Box::pin(head.chain(body)));
    }
    let mut whole = bytes::BytesMut::with_capacity(usize::try_from(len).unwrap_or(0));
    for b in read {
        whole.extend_from_slice(&b);
    }
    Ok(whole.freeze())
}

/// A POST response that may serve later GETs (RFC 9110 §9.3.3, RFC 9111 §3): a 200 with an
/// explicit lifetime whose `Content-Location` is the request's own URI.
fn post_response_is_reusable(ctx: &RequestCtx, resp: &OriginResponse) -> bool {
    let cc = freshness::directives(&resp.headers);
    let explicit =
        cc.max_age.is_some() || cc.s_maxage.is_some() || resp.headers.contains_key(header::EXPIRES);
    let Some(location) = resp
        .headers
        .get(header::CONTENT_LOCATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let query = location.split_once('?').map(|(_, q)| q);
    resp.status == StatusCode::OK
        && explicit
        && query == ctx.query.as_deref()
        && same_host_path(location, &ctx.headers).as_deref() == Some(ctx.path.as_str())
}

/// The path of a `Location`/`Content-Location` value if it names the request's own host.
fn same_host_path(v: &str, req: &HeaderMap) -> Option<String> {
    if v.starts_with('/') {
        return Some(v.split('?').next().unwrap_or(v).to_owned());
    }
    let uri: http::Uri = v.parse().ok()?;
    let host = req.get(header::HOST)?.to_str().ok()?;
    (uri.authority()?.as_str().eq_ignore_ascii_case(host)).then(|| uri.path().to_owned())
}

/// The viewer's request body as the origin's, or `None` when it has none.
pub(super) fn body_stream<B>(body: B) -> Option<RequestBody>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Display + Send + 'static,
{
    if body.is_end_stream() {
        return None;
    }
    let s = http_body_util::BodyStream::new(body).filter_map(|frame| async move {
        match frame {
            Ok(f) => f.into_data().ok().map(Ok),
            Err(e) => Some(Err(std::io::Error::other(e.to_string()))),
        }
    });
    Some(Box::pin(s))
}
