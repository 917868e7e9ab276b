//! The edge's journey, one phase after another, named as CloudFront names them:
//!
//! 1. viewer request: find the distribution by `Host`, apply `DefaultRootObject`;
//! 2. behavior match: first `PathPattern` that matches, else the default behavior;
//! 3. access checks: viewer protocol policy, allowed methods;
//! 4. cache lookup: fresh → hit; stale → serve stale (`stale-while-revalidate`) or revalidate;
//!    absent → miss;
//! 5. origin request: collapsed per cache key, through the origin or origin group;
//! 6. fill: the response streams into the cache and to every waiting viewer;
//! 7. viewer response: preconditions, range, custom error pages, CloudFront's headers.
//!
//! `docs/edge.md` draws the same chart.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode};

use crate::cache::entry::{CHUNK_SIZE, FRAGMENT_MAX, Fragment, Head};
use crate::cache::{
    Cache, CacheConfig, Collapse, Outcome, SpanError, SpanFetcher, content_length,
    parse_content_range,
};
use crate::cache_control::CacheControl;
use crate::cache_key;
use crate::compress::{self, Encoding};
use crate::distribution::{Behavior, Distribution, ViewerProtocolPolicy};
use crate::freshness::{self, freshness, storable};
use crate::headers::{self, CacheStatus};
use crate::origin::{OriginError, OriginRequest, OriginResponse, RequestBody};
use crate::range::RangeSpec;
use crate::registry::Registry;
use crate::respond::{self, EdgeBody};
use crate::response_headers;
use crate::signed_request::{self, SignedRequest};
use crate::viewer::ViewerLocator;

/// Settings of the edge as a whole.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// The `X-Amz-Cf-Pop` value (CloudFront: an airport code and a number, `IAD89-C1`).
    pub pop: String,
    pub cache: CacheConfig,
    /// The port of the edge's HTTPS listener, where `redirect-to-https` sends viewers.
    pub https_port: Option<u16>,
    /// Trusted proxies and the geo database.
    pub viewers: Arc<ViewerLocator>,
}

pub struct Edge {
    pub registry: Arc<Registry>,
    pub cache: Arc<Cache>,
    pop: String,
    via: HeaderValue,
    https_port: Option<u16>,
    viewers: Arc<ViewerLocator>,
}

/// A request extension set by the listener that terminated TLS: the viewer used HTTPS.
#[derive(Debug, Clone, Copy)]
pub struct ViewerHttps;

/// One request's journey through the phases.
#[derive(Clone)]
struct ViewerCtx {
    request_id: String,
    dist: Arc<Distribution>,
    behavior: usize,
    method: Method,
    /// The path as requested (after `DefaultRootObject`), percent-encoding kept.
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    client: Option<SocketAddr>,
    /// The viewer connected over HTTPS.
    https: bool,
    /// Serving a custom error page already: do not recurse.
    error_page: bool,
}

impl ViewerCtx {
    fn behavior(&self) -> &Behavior {
        &self.dist.behaviors[self.behavior]
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Edge {
    pub fn new(registry: Arc<Registry>, cfg: &EdgeConfig) -> std::io::Result<Self> {
        let id = headers::new_request_id();
        let via = HeaderValue::from_str(&format!(
            "1.1 {}.cloudfront.net (CloudFront)",
            id[..16].to_ascii_lowercase().replace(['-', '_'], "0")
        ))
        .unwrap_or(HeaderValue::from_static("1.1 wharf (CloudFront)"));
        Ok(Self {
            registry,
            cache: Cache::open(&cfg.cache)?,
            pop: cfg.pop.clone(),
            via,
            https_port: cfg.https_port,
            viewers: cfg.viewers.clone(),
        })
    }

    /// Creates an invalidation for the paths of a distribution (ID as configured).
    pub fn invalidate(&self, distribution_id: &str, paths: &[String]) -> Result<(), String> {
        let snap = self.registry.snapshot();
        let d = snap
            .get(distribution_id)
            .ok_or_else(|| format!("no distribution {distribution_id}"))?;
        if let Some(bad) = paths
            .iter()
            .find(|p| !crate::cache::invalidation::valid_path(p))
        {
            return Err(format!("invalid path {bad:?}"));
        }
        self.cache
            .invalidations
            .invalidate(&d.id, paths)
            .map_err(|e| e.to_string())
    }

    /// Serves one viewer request.
    pub async fn handle<B>(
        self: &Arc<Self>,
        req: Request<B>,
        client: Option<SocketAddr>,
    ) -> Response<EdgeBody>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display + Send + 'static,
    {
        let request_id = headers::new_request_id();
        let (parts, body) = req.into_parts();
        let (mut resp, status) = self.viewer_request(parts, body, &request_id, client).await;
        headers::decorate(
            resp.headers_mut(),
            status,
            &request_id,
            &self.pop,
            &self.via,
        );
        resp
    }

    // Phase 1–3: distribution, behavior, access checks.
    async fn viewer_request<B>(
        self: &Arc<Self>,
        parts: http::request::Parts,
        body: B,
        request_id: &str,
        client: Option<SocketAddr>,
    ) -> (Response<EdgeBody>, CacheStatus)
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display + Send + 'static,
    {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or(parts.uri.authority().map(http::uri::Authority::as_str));
        let snap = self.registry.snapshot();
        let Some(dist) = snap.for_host(host).cloned() else {
            let r = respond::error_page(
                StatusCode::FORBIDDEN,
                "Bad request. We can't connect to the server for this app or website at this time.",
                request_id,
            );
            return (r, CacheStatus::Error);
        };
        if !dist.enabled {
            let r = respond::error_page(
                StatusCode::FORBIDDEN,
                "The distribution is disabled.",
                request_id,
            );
            return (r, CacheStatus::Error);
        }
        let mut path = parts.uri.path().to_owned();
        if path == "/"
            && let Some(root) = &dist.default_root_object
        {
            path = format!("/{root}");
        }
        let (behavior, b) = dist.behavior_for(&path);
        // Only the listener knows: a request line or HTTP/2 `:scheme` saying `https` over a
        // plain connection does not make it one.
        let https = parts.extensions.get::<ViewerHttps>().is_some();
        match b.viewer_protocol_policy {
            ViewerProtocolPolicy::RedirectToHttps if !https => {
                let mut r = Response::new(respond::empty());
                *r.status_mut() = StatusCode::MOVED_PERMANENTLY;
                let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                let host = https_authority(host.unwrap_or(""), self.https_port);
                if let Ok(v) = HeaderValue::from_str(&format!("https://{host}{pq}")) {
                    r.headers_mut().insert(header::LOCATION, v);
                }
                return (r, CacheStatus::Miss);
            }
            ViewerProtocolPolicy::HttpsOnly if !https => {
                return (
                    respond::error_page(
                        StatusCode::FORBIDDEN,
                        "This distribution requires HTTPS.",
                        request_id,
                    ),
                    CacheStatus::Error,
                );
            }
            _ => {}
        }
        let viewer_ip = self.viewers.address(client, &parts.headers);
        if let Some(geo) = &dist.geo_restriction {
            // Without a database nobody can be located: refuse rather than ignore the rule.
            let refused = self.viewers.geo.is_none()
                || geo.refuses(self.viewers.country(viewer_ip).as_deref());
            if refused {
                return (
                    respond::error_page(
                        StatusCode::FORBIDDEN,
                        "The Amazon CloudFront distribution is configured to block access from your country.",
                        request_id,
                    ),
                    CacheStatus::Error,
                );
            }
        }
        let mut query = parts.uri.query().map(str::to_owned);
        if let Some(keys) = &b.trusted_keys {
            let signed = SignedRequest {
                https,
                host: host.unwrap_or(""),
                path: parts.uri.path(),
                query: query.as_deref(),
                headers: &parts.headers,
                viewer: viewer_ip,
                now: now(),
            };
            match signed_request::check(keys, &signed) {
                Ok(q) => query = q,
                Err(d) => return (respond::signed_request_denied(d), CacheStatus::Error),
            }
        }
        if !b.allows_method(&parts.method) {
            return (
                respond::error_page(
                    StatusCode::FORBIDDEN,
                    "This distribution is not configured to allow the HTTP request method that was used for this request. The distribution supports only cachable requests.",
                    request_id,
                ),
                CacheStatus::Error,
            );
        }
        let ctx = ViewerCtx {
            request_id: request_id.to_owned(),
            dist,
            behavior,
            method: parts.method,
            path,
            query,
            headers: parts.headers,
            client,
            https,
            error_page: false,
        };
        let cacheable = {
            let b = ctx.behavior();
            b.cached_methods.contains(&ctx.method)
                && (ctx.method == Method::GET || ctx.method == Method::HEAD)
                && !(b.cache_policy.max_ttl == 0 && b.cache_policy.min_ttl == 0)
        };
        let (resp, status) = if cacheable {
            self.cached(&ctx).await
        } else {
            let stream = body_stream(body);
            self.pass(&ctx, stream).await
        };
        let (mut resp, status) = self.custom_error(&ctx, resp, status).await;
        if let Some(p) = &ctx.behavior().response_headers_policy {
            let viewer = response_headers::Viewer {
                method: &ctx.method,
                headers: &ctx.headers,
                status,
                pop: &self.pop,
                request_id,
            };
            p.apply(&viewer, resp.headers_mut());
        }
        (resp, status)
    }

    // Phase 4: cache lookup.
    async fn cached(self: &Arc<Self>, ctx: &ViewerCtx) -> (Response<EdgeBody>, CacheStatus) {
        let b = ctx.behavior();
        let primary = primary_key(ctx);
        let vary = |name: &str| vary_value(ctx, name);
        if let Some(entry) = self.cache.lookup(&primary, &vary) {
            let head = entry.head();
            let t = now();
            let f = freshness(
                head.status,
                &head.headers,
                &b.cache_policy,
                entry.error_ttl,
                head.response_time,
            );
            let age = head.age(t);
            if age < f.lifetime {
                return self
                    .answer_hit(ctx, &primary, &entry, head, CacheStatus::Hit)
                    .await;
            }
            let validator = freshness::has_validator(&head.headers);
            let stale_for = age - f.lifetime;
            if !f.must_revalidate && stale_for < f.stale_while_revalidate {
                self.revalidate_in_background(ctx, &primary, entry.clone());
                return self
                    .answer_hit(ctx, &primary, &entry, head, CacheStatus::Hit)
                    .await;
            }
            // Without a validator the request goes out unconditional, but through the same
            // path, so stale-if-error still applies if the origin fails.
            if validator || (!f.must_revalidate && stale_for < f.stale_if_error) {
                return self.revalidate(ctx, &primary, entry, stale_for, f).await;
            }
        }
        self.miss(ctx, &primary, true).await
    }

    fn answer_from(
        &self,
        ctx: &ViewerCtx,
        entry: &Arc<crate::cache::entry::Entry>,
        head: Head,
    ) -> Response<EdgeBody> {
        let (answer, fetch) = self.plan_answer(ctx, entry, head);
        answer.into_response(&self.cache, entry, fetch)
    }

    /// The answer from a stored entry, and the way to the origin for the chunks it may lack
    /// (only an entry that is partial, or only in the memory tier, needs one).
    fn plan_answer(
        &self,
        ctx: &ViewerCtx,
        entry: &Arc<crate::cache::entry::Entry>,
        head: Head,
    ) -> (respond::Answer, Option<SpanFetcher>) {
        let fetch = self
            .cache
            .may_miss_chunks(entry)
            .then(|| self.span_fetcher(ctx));
        let age = head.age(now());
        let answer = respond::from_entry(&self.cache, entry, head, &ctx.method, &ctx.headers, age);
        (answer, fetch)
    }

    /// Answers the viewer whose request fetched `entry`, with the fields the stored copy
    /// withholds from later viewers.
    fn answer_fill(
        &self,
        ctx: &ViewerCtx,
        entry: &Arc<crate::cache::entry::Entry>,
        withheld: HeaderMap,
    ) -> Response<EdgeBody> {
        let mut r = self.answer_from(ctx, entry, entry.head());
        if r.status() != StatusCode::NOT_MODIFIED {
            for (name, v) in &withheld {
                r.headers_mut().append(name.clone(), v.clone());
            }
        }
        r
    }

    /// Answers from a stored entry that may lack some of the bytes this viewer needs (it is
    /// partial, or only in the memory tier). The first missing span is asked for before the
    /// response is committed: if the object changed at the origin, the origin's new answer
    /// is used instead (RFC 9111 §3.4), not a stored head over a body that cannot be finished.
    async fn answer_hit(
        &self,
        ctx: &ViewerCtx,
        primary: &str,
        entry: &Arc<crate::cache::entry::Entry>,
        head: Head,
        status: CacheStatus,
    ) -> (Response<EdgeBody>, CacheStatus) {
        let (answer, fetch) = self.plan_answer(ctx, entry, head);
        if let (Some(fetch), respond::Answer::Body { start, end, .. }) = (&fetch, &answer) {
            let request_time = now();
            match self.cache.prepare(entry, *start, *end, fetch).await {
                Ok(()) | Err(SpanError::UnknownLength) => {}
                Err(SpanError::Origin(e)) => {
                    return (self.origin_failed(ctx, &e), CacheStatus::Error);
                }
                // A whole new representation answers the viewer's request as it is.
                Err(SpanError::Changed(resp)) if resp.status == StatusCode::OK => {
                    let (r, _) = self.store_and_answer(ctx, primary, resp, request_time);
                    return (r, CacheStatus::Miss);
                }
                Err(SpanError::Changed(_)) => {
                    return Box::pin(self.miss(ctx, primary, true)).await;
                }
            }
        }
        (answer.into_response(&self.cache, entry, fetch), status)
    }

    /// Stores an origin response if it may be stored, and answers the viewer with it: the
    /// entry (when stored) is returned for collapsed viewers.
    fn store_and_answer(
        &self,
        ctx: &ViewerCtx,
        primary: &str,
        resp: OriginResponse,
        request_time: i64,
    ) -> (Response<EdgeBody>, Option<Arc<crate::cache::entry::Entry>>) {
        match self.admit(ctx, primary, resp, request_time, None, None) {
            Admitted::Stored(e, withheld) => (self.answer_fill(ctx, &e, withheld), Some(e)),
            Admitted::NotStored(resp) => (self.relay(ctx, resp), None),
        }
    }

    /// Fetches `[start, end)` of the object, for chunks the cache does not hold.
    fn span_fetcher(&self, ctx: &ViewerCtx) -> SpanFetcher {
        let origin = ctx.behavior().target.clone();
        let template = self.origin_request(ctx, Method::GET);
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
            origin.fetch(req)
        })
    }

    // Phase 5–6: miss → origin request (collapsed) → fill.
    async fn miss(
        &self,
        ctx: &ViewerCtx,
        primary: &str,
        collapse: bool,
    ) -> (Response<EdgeBody>, CacheStatus) {
        let guard = if collapse {
            match self.cache.collapse(primary) {
                Collapse::Leader(g) => Some(g),
                Collapse::Follower(mut rx) => {
                    let outcome = rx
                        .wait_for(Option::is_some)
                        .await
                        .ok()
                        .and_then(|o| o.clone());
                    if let Some(Outcome::Stored(_)) = outcome {
                        let vary = |name: &str| vary_value(ctx, name);
                        if let Some(entry) = self.cache.lookup(primary, &vary) {
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
                    return Box::pin(self.miss(ctx, primary, false)).await;
                }
            }
        } else {
            None
        };
        let b = ctx.behavior();
        let mut req = self.origin_request(ctx, Method::GET);
        // A range on a cold object asks the origin for the aligned chunks around it only.
        let range = respond::requested_range(&ctx.headers);
        let aligned = range.and_then(|r| r.start_hint()).map(|s| {
            let start = s / CHUNK_SIZE * CHUNK_SIZE;
            let end = range
                .and_then(|r| r.end_hint())
                .map(|e| e.div_ceil(CHUNK_SIZE) * CHUNK_SIZE);
            (start, end)
        });
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
        let mut resp = match b.target.fetch(req).await {
            Ok(r) => r,
            Err(e) => return (self.origin_failed(ctx, &e), CacheStatus::Error),
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
                (self.answer_fill(ctx, &entry, withheld), CacheStatus::Miss)
            }
            Admitted::NotStored(resp) => {
                if let Some(g) = guard {
                    g.finish(Outcome::NotStored);
                }
                if aligned.is_some() && resp.status != StatusCode::OK {
                    // Our widened range is not what the viewer asked for: ask again as they did.
                    return self.pass_with(ctx, None, true).await;
                }
                (self.relay(ctx, resp), CacheStatus::Miss)
            }
        }
    }

    /// Stores an origin response (and starts its fill) if it may be stored.
    fn admit(
        &self,
        ctx: &ViewerCtx,
        primary: &str,
        resp: OriginResponse,
        request_time: i64,
        aligned: Option<(u64, Option<u64>)>,
        fragment: Option<(Bytes, HeaderValue)>,
    ) -> Admitted {
        let b = ctx.behavior();
        let response_time = now();
        let error_ttl = self.error_ttl(ctx, resp.status);
        let mut head_headers = resp.headers.clone();
        headers::strip_hop_by_hop(&mut head_headers);
        if b.cache_policy.cookies.is_none()
            && b.origin_request_policy
                .as_ref()
                .is_none_or(|o| o.cookies.is_none())
        {
            // CloudFront drops Set-Cookie when no cookies are forwarded: a shared cache must
            // not hand one viewer's cookie to the next.
            head_headers.remove(header::SET_COOKIE);
        }
        // `no-cache="a"` and `private="a"`: the response is stored without those fields.
        let cc = CacheControl::from_headers(&resp.headers, &header::CACHE_CONTROL);
        let mut withheld = HeaderMap::new();
        for field in cc.unstorable_fields() {
            if let Ok(name) = header::HeaderName::from_bytes(field.as_bytes()) {
                for v in head_headers.get_all(&name) {
                    withheld.append(name.clone(), v.clone());
                }
            }
            head_headers.remove(field);
        }
        let storable = storable(
            &Method::GET,
            ctx.headers.contains_key(header::AUTHORIZATION),
            resp.status,
            &resp.headers,
            &b.cache_policy,
            error_ttl,
        );
        // A 206 for our aligned range is stored as the whole object's entry, partly filled; a
        // short one for a suffix range as its fragment.
        let mut keep_fragment = None;
        let (status, size, fill_start, fill_end) = match resp.status {
            StatusCode::PARTIAL_CONTENT => match parse_content_range(&resp.headers) {
                Some((a, z, Some(total))) if aligned.is_some_and(|(s, _)| s == a) => {
                    head_headers.remove(header::CONTENT_RANGE);
                    head_headers.insert(header::CONTENT_LENGTH, HeaderValue::from(total));
                    (StatusCode::OK, Some(total), a, Some(z + 1))
                }
                // The bytes that arrived count, even when fewer than Content-Range claims
                // (an incomplete response answers ranges within it, RFC 9111 §3.3).
                Some((a, z, Some(total)))
                    if let Some((bytes, asked)) = fragment
                        && !bytes.is_empty()
                        && (bytes.len() as u64) <= z - a + 1
                        && z < total
                        && let Some(content_range) =
                            resp.headers.get(header::CONTENT_RANGE).cloned() =>
                {
                    head_headers.remove(header::CONTENT_RANGE);
                    head_headers.insert(header::CONTENT_LENGTH, HeaderValue::from(total));
                    let f = Fragment {
                        start: a,
                        len: bytes.len() as u64,
                        asked,
                        content_range,
                    };
                    keep_fragment = Some((f, bytes));
                    (StatusCode::OK, Some(total), 0, Some(0))
                }
                _ => (resp.status, None, 0, None),
            },
            s => (s, content_length(&resp.headers), 0, None),
        };
        let stored_ok = storable.is_ok()
            && (resp.status != StatusCode::PARTIAL_CONTENT || status == StatusCode::OK);
        if !stored_ok {
            return Admitted::NotStored(resp);
        }
        let mut size = size;
        let mut body = resp.body;
        if b.compress
            && fill_end.is_none()
            && let Some(enc) = Encoding::choose(cache_key::normalized_accept_encoding(
                &ctx.headers,
                &b.cache_policy,
            ))
            && compress::applies(status, &head_headers)
        {
            compress::head(&mut head_headers, enc);
            size = None;
            body = compress::body(body, enc);
        }
        let vary: Vec<(String, Option<String>)> = freshness::vary_names(&head_headers)
            .into_iter()
            .map(|n| {
                let v = vary_value(ctx, &n);
                (n, v)
            })
            .collect();
        let head = Head {
            status,
            headers: head_headers,
            request_time,
            response_time,
        };
        let entry = self.cache.new_entry(
            primary.to_owned(),
            &ctx.dist.id,
            &ctx.path,
            vary,
            head,
            size,
            error_ttl,
        );
        let entry = self.cache.insert(entry);
        match keep_fragment {
            Some((f, bytes)) => self.cache.store_fragment(&entry, f, bytes),
            None => self.cache.start_fill(&entry, fill_start, fill_end, body),
        }
        Admitted::Stored(entry, withheld)
    }

    /// Revalidates a stale entry with a conditional request (collapsed), then answers.
    async fn revalidate(
        &self,
        ctx: &ViewerCtx,
        primary: &str,
        entry: Arc<crate::cache::entry::Entry>,
        stale_for: u64,
        f: freshness::Freshness,
    ) -> (Response<EdgeBody>, CacheStatus) {
        let key = format!("R\n{primary}");
        match self.cache.collapse(&key) {
            Collapse::Follower(mut rx) => {
                let _ = rx.wait_for(Option::is_some).await;
                let vary = |name: &str| vary_value(ctx, name);
                if let Some(e) = self.cache.lookup(primary, &vary) {
                    let head = e.head();
                    let age = head.age(now());
                    let fr = freshness(
                        head.status,
                        &head.headers,
                        &ctx.behavior().cache_policy,
                        e.error_ttl,
                        head.response_time,
                    );
                    if age < fr.lifetime {
                        return self
                            .answer_hit(ctx, primary, &e, head, CacheStatus::RefreshHit)
                            .await;
                    }
                }
                self.miss(ctx, primary, false).await
            }
            Collapse::Leader(guard) => {
                match self.conditional_fetch(ctx, &entry).await {
                    Ok(Revalidated::NotModified) => {
                        guard.finish(Outcome::Stored(entry.clone()));
                        let head = entry.head();
                        self.answer_hit(ctx, primary, &entry, head, CacheStatus::RefreshHit)
                            .await
                    }
                    Ok(Revalidated::ServerError(resp, request_time)) => {
                        // RFC 5861 stale-if-error. Otherwise the origin's error answers, and
                        // the stale copy stays for the next try (unless the error is cached).
                        drop(guard);
                        if !f.must_revalidate && stale_for < f.stale_if_error {
                            let head = entry.head();
                            return self
                                .answer_hit(ctx, primary, &entry, head, CacheStatus::Hit)
                                .await;
                        }
                        let (r, _) = self.store_and_answer(ctx, primary, resp, request_time);
                        (r, CacheStatus::Miss)
                    }
                    Ok(Revalidated::Replaced(resp, request_time)) => {
                        self.cache.remove(&entry);
                        let (r, stored) = self.store_and_answer(ctx, primary, resp, request_time);
                        match stored {
                            Some(e) => guard.finish(Outcome::Stored(e)),
                            None => drop(guard),
                        }
                        (r, CacheStatus::Miss)
                    }
                    Err(e) => {
                        drop(guard);
                        // RFC 5861 stale-if-error; CloudFront also serves what it has when the
                        // origin cannot be reached.
                        if !f.must_revalidate && stale_for < f.stale_if_error {
                            let head = entry.head();
                            return self
                                .answer_hit(ctx, primary, &entry, head, CacheStatus::Hit)
                                .await;
                        }
                        (self.origin_failed(ctx, &e), CacheStatus::Error)
                    }
                }
            }
        }
    }

    /// Sends the conditional request: a 304 updates the stored headers; a 5xx is handed back
    /// apart (the stale copy may still serve); another response is handed back to be stored
    /// in place of the old one.
    async fn conditional_fetch(
        &self,
        ctx: &ViewerCtx,
        entry: &Arc<crate::cache::entry::Entry>,
    ) -> Result<Revalidated, OriginError> {
        let head = entry.head();
        let mut req = self.origin_request(ctx, Method::GET);
        if let Some(etag) = head.headers.get(header::ETAG).and_then(|v| v.to_str().ok()) {
            // A weak ETag on a compressed body may be ours: offer the origin's strong one too,
            // so an origin that compares strongly still answers 304. Otherwise the stored
            // ETag goes back as it came.
            let ours = head.headers.contains_key(header::CONTENT_ENCODING);
            let value = match etag.strip_prefix("W/") {
                Some(strong) if ours => format!("{etag}, {strong}"),
                _ => etag.to_owned(),
            };
            if let Ok(v) = HeaderValue::from_str(&value) {
                req.headers.insert(header::IF_NONE_MATCH, v);
            }
        }
        if let Some(lm) = head.headers.get(header::LAST_MODIFIED) {
            req.headers.insert(header::IF_MODIFIED_SINCE, lm.clone());
        }
        let request_time = now();
        let resp = ctx.behavior().target.fetch(req).await?;
        if resp.status == StatusCode::NOT_MODIFIED {
            let mut fresh = resp.headers;
            headers::strip_hop_by_hop(&mut fresh);
            entry.update_headers(&fresh, request_time, now());
            self.cache.persist(entry).await;
            return Ok(Revalidated::NotModified);
        }
        if resp.status.is_server_error() {
            return Ok(Revalidated::ServerError(resp, request_time));
        }
        Ok(Revalidated::Replaced(resp, request_time))
    }

    fn revalidate_in_background(
        self: &Arc<Self>,
        ctx: &ViewerCtx,
        primary: &str,
        entry: Arc<crate::cache::entry::Entry>,
    ) {
        let key = format!("R\n{primary}");
        let Collapse::Leader(guard) = self.cache.collapse(&key) else {
            return;
        };
        let ctx2 = ViewerCtx {
            method: Method::GET,
            ..ctx.clone()
        };
        let this = self.clone();
        let primary = primary.to_owned();
        tokio::spawn(async move {
            match this.conditional_fetch(&ctx2, &entry).await {
                Ok(Revalidated::NotModified) => guard.finish(Outcome::Stored(entry)),
                Ok(Revalidated::Replaced(resp, request_time)) => {
                    this.cache.remove(&entry);
                    // The fill runs on its own task; nobody needs to read it now.
                    match this.admit(&ctx2, &primary, resp, request_time, None, None) {
                        Admitted::Stored(e, _) => guard.finish(Outcome::Stored(e)),
                        Admitted::NotStored(_) => drop(guard),
                    }
                }
                Ok(Revalidated::ServerError(resp, _)) => {
                    tracing::info!(status = %resp.status, "background revalidation failed; stale copy kept")
                }
                Err(e) => {
                    tracing::info!(error = %e, "background revalidation failed; stale copy kept")
                }
            }
        });
    }

    fn error_ttl(&self, ctx: &ViewerCtx, status: StatusCode) -> Option<u64> {
        if status.as_u16() < 400 {
            return None;
        }
        ctx.dist
            .error_responses
            .get(&status.as_u16())
            .map(|e| e.caching_min_ttl)
    }

    /// Forwards a request that is not cached (and invalidates after unsafe methods).
    async fn pass(
        &self,
        ctx: &ViewerCtx,
        body: Option<RequestBody>,
    ) -> (Response<EdgeBody>, CacheStatus) {
        self.pass_with(ctx, body, false).await
    }

    async fn pass_with(
        &self,
        ctx: &ViewerCtx,
        body: Option<RequestBody>,
        keep_range: bool,
    ) -> (Response<EdgeBody>, CacheStatus) {
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
        let resp = match ctx.behavior().target.fetch(req).await {
            Ok(r) => r,
            Err(e) => return (self.origin_failed(ctx, &e), CacheStatus::Error),
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
            let get = ViewerCtx {
                method: Method::GET,
                ..ctx.clone()
            };
            let (r, _) = self.store_and_answer(&get, &primary_key(ctx), resp, request_time);
            return (r, CacheStatus::Miss);
        }
        (self.relay(ctx, resp), CacheStatus::Miss)
    }

    /// Streams an origin response to the viewer unchanged but for hop-by-hop fields.
    fn relay(&self, ctx: &ViewerCtx, resp: OriginResponse) -> Response<EdgeBody> {
        let mut headers = resp.headers;
        headers::strip_hop_by_hop(&mut headers);
        let body = if ctx.method == Method::HEAD {
            respond::empty()
        } else {
            respond::stream(resp.body)
        };
        let mut r = Response::new(body);
        *r.status_mut() = resp.status;
        *r.headers_mut() = headers;
        r
    }

    fn origin_failed(&self, ctx: &ViewerCtx, e: &OriginError) -> Response<EdgeBody> {
        tracing::warn!(distribution = %ctx.dist.id, error = %e, "origin request failed");
        let (status, why) = match e.reason {
            crate::origin::FailoverReason::Timeout => (
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
    fn origin_request(&self, ctx: &ViewerCtx, method: Method) -> OriginRequest {
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

    /// Phase 7: CloudFront's custom error responses replace an error's body with a page (and
    /// maybe its status code).
    async fn custom_error(
        self: &Arc<Self>,
        ctx: &ViewerCtx,
        resp: Response<EdgeBody>,
        status: CacheStatus,
    ) -> (Response<EdgeBody>, CacheStatus) {
        let code = resp.status().as_u16();
        if code < 400 || ctx.error_page {
            return (resp, status);
        }
        let Some(er) = ctx.dist.error_responses.get(&code) else {
            return (resp, status);
        };
        let Some(page) = er.page_path.clone() else {
            if let Some(c) = er.response_code.and_then(|c| StatusCode::from_u16(c).ok()) {
                let mut resp = resp;
                *resp.status_mut() = c;
                return (resp, status);
            }
            return (resp, status);
        };
        let (behavior, _) = ctx.dist.behavior_for(&page);
        let mut page_headers = HeaderMap::new();
        for name in [header::ACCEPT_ENCODING, header::HOST] {
            if let Some(v) = ctx.headers.get(&name) {
                page_headers.insert(name, v.clone());
            }
        }
        let page_ctx = ViewerCtx {
            request_id: ctx.request_id.clone(),
            dist: ctx.dist.clone(),
            behavior,
            method: Method::GET,
            path: page,
            query: None,
            headers: page_headers,
            client: ctx.client,
            https: ctx.https,
            error_page: true,
        };
        let (mut page_resp, _) = Box::pin(self.cached(&page_ctx)).await;
        if !page_resp.status().is_success() {
            return (resp, status);
        }
        let code = er
            .response_code
            .and_then(|c| StatusCode::from_u16(c).ok())
            .unwrap_or(resp.status());
        *page_resp.status_mut() = code;
        if ctx.method == Method::HEAD {
            *page_resp.body_mut() = respond::empty();
        }
        (
            page_resp,
            if status == CacheStatus::Hit {
                CacheStatus::Hit
            } else {
                CacheStatus::Error
            },
        )
    }
}

enum Admitted {
    /// Stored; the header fields the stored copy withholds from reuse (`no-cache="a"`,
    /// `private="a"`) still go to the viewer whose request fetched the response.
    Stored(Arc<crate::cache::entry::Entry>, HeaderMap),
    NotStored(OriginResponse),
}

enum Revalidated {
    NotModified,
    Replaced(OriginResponse, i64),
    ServerError(OriginResponse, i64),
}

/// The request's primary cache key, as its behavior's cache policy says.
fn primary_key(ctx: &ViewerCtx) -> String {
    cache_key::primary_key(
        &ctx.dist.id,
        &ctx.path,
        ctx.query.as_deref(),
        &ctx.headers,
        &ctx.behavior().cache_policy,
    )
}

/// A request's value for a header named in `Vary` (normalised `Accept-Encoding` when the
/// policy keys on it, normalised `Accept-Language`).
fn vary_value(ctx: &ViewerCtx, name: &str) -> Option<String> {
    let p = &ctx.behavior().cache_policy;
    if name == "accept-encoding" && p.keys_encoding() {
        return Some(cache_key::normalized_accept_encoding(&ctx.headers, p).to_owned());
    }
    if name == "accept-language" {
        return cache_key::normalized_accept_language(&ctx.headers);
    }
    cache_key::field_value(&ctx.headers, name)
}

/// The path of a `Location`/`Content-Location` value if it names the request's own host.
/// The viewer's `Host` with the port of the HTTPS listener (none for 443); unchanged when
/// the edge has no HTTPS listener of its own (TLS ends in front of it).
fn https_authority(host: &str, https_port: Option<u16>) -> String {
    let Some(port) = https_port else {
        return host.to_owned();
    };
    let name = match host.find(']') {
        // `[v6]` or `[v6]:port`
        Some(i) if host.starts_with('[') => &host[..=i],
        _ => host.split_once(':').map_or(host, |(n, _)| n),
    };
    if port == 443 {
        name.to_owned()
    } else {
        format!("{name}:{port}")
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
fn post_response_is_reusable(ctx: &ViewerCtx, resp: &OriginResponse) -> bool {
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

fn same_host_path(v: &str, req: &HeaderMap) -> Option<String> {
    if v.starts_with('/') {
        return Some(v.split('?').next().unwrap_or(v).to_owned());
    }
    let uri: http::Uri = v.parse().ok()?;
    let host = req.get(header::HOST)?.to_str().ok()?;
    (uri.authority()?.as_str().eq_ignore_ascii_case(host)).then(|| uri.path().to_owned())
}

fn body_stream<B>(body: B) -> Option<RequestBody>
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

#[cfg(test)]
mod tests {
    use super::https_authority;

    #[test]
    fn redirects_name_the_https_port() {
        assert_eq!(
            https_authority("a.localhost:8080", Some(8443)),
            "a.localhost:8443"
        );
        assert_eq!(https_authority("a.example", Some(443)), "a.example");
        assert_eq!(https_authority("[::1]:8080", Some(8443)), "[::1]:8443");
        assert_eq!(https_authority("a.example:80", None), "a.example:80");
    }
}
