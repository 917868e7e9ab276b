//! The S3 API as the AWS endpoint serves it: [`Precheck`] before s3s, s3s itself (signatures,
//! routing, XML) with the [`Normalize`] route behind it, and [`finish`] on every response.

use std::sync::Arc;
use std::time::Instant;

use s3s::config::{S3Config, StaticConfigProvider};
use s3s::service::{S3Service, S3ServiceBuilder};
use wharf_store::Store;

use crate::WharfS3;
use crate::access::DecideInOperations;
use crate::cors::CorsAnswers;
use crate::host::VirtualHosts;
use crate::http_layer::{Answering, Precheck, finish};
use crate::identity::Identities;
use crate::metrics::{OperationName, S3Metrics};
use crate::normalize::Normalize;
use crate::ops::post::FileNameSniffer;
use crate::request_id::RequestIds;

/// Browser form uploads (POST object) are buffered whole by s3s before they reach the store,
/// so they are limited to this size (S3's own limit is 5 GB).
pub const MAX_POST_OBJECT_SIZE: u64 = 64 << 20;

/// A browser form upload keeps the name of its file for `${filename}` (see `ops::post`).
fn note_post_file_name(req: s3s::HttpRequest) -> s3s::HttpRequest {
    let content_type = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let Some(boundary) = FileNameSniffer::<()>::boundary(&content_type) else {
        return req;
    };
    let (mut parts, body) = req.into_parts();
    let (sniffer, name) = FileNameSniffer::wrap(body, &boundary);
    parts.extensions.insert(name);
    http::Request::from_parts(parts, s3s::Body::http_body_unsync(sniffer))
}

/// A status an operation answers with that s3s would not (it answers each operation's usual
/// one, e.g. 200 for a RestoreObject that S3 answers 202): set in the response's extensions.
#[derive(Debug, Clone, Copy)]
pub struct StatusOverride(pub http::StatusCode);

impl StatusOverride {
    /// `output` answered with `status`.
    pub fn answer<T>(output: T, status: http::StatusCode) -> s3s::S3Response<T> {
        let mut r = s3s::S3Response::new(output);
        r.extensions.insert(Self(status));
        r
    }
}

/// The order of a ListObjectVersions page's entries (`true`: a delete marker): s3s writes all
/// `<DeleteMarker>` elements before all `<Version>` elements; S3 interleaves them.
#[derive(Debug, Clone)]
pub struct VersionOrder(pub Vec<bool>);

/// Puts a ListObjectVersions body's `<Version>` and `<DeleteMarker>` elements back in listing
/// order (where the first of them stood); `None` if the body does not hold what `order` says.
pub fn interleave_versions(xml: &[u8], order: &[bool]) -> Option<Vec<u8>> {
    fn blocks(xml: &[u8], open: &[u8], close: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(i) = find(&xml[at..], open) {
            let start = at + i;
            let Some(j) = find(&xml[start..], close) else {
                break;
            };
            let end = start + j + close.len();
            out.push((start, end));
            at = end;
        }
        out
    }
    fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
        hay.windows(needle.len()).position(|w| w == needle)
    }
    let versions = blocks(xml, b"<Version>", b"</Version>");
    let markers = blocks(xml, b"<DeleteMarker>", b"</DeleteMarker>");
    let want_markers = order.iter().filter(|m| **m).count();
    if versions.len() + markers.len() != order.len() || markers.len() != want_markers {
        return None;
    }
    let mut all: Vec<(usize, usize)> = versions.iter().chain(&markers).copied().collect();
    all.sort_unstable();
    let first = all.first().map_or(xml.len(), |b| b.0);
    let (mut v, mut m) = (versions.iter(), markers.iter());
    let mut merged = Vec::with_capacity(xml.len());
    for is_marker in order {
        let (s, e) = if *is_marker { m.next()? } else { v.next()? };
        merged.extend_from_slice(&xml[*s..*e]);
    }
    let mut out = Vec::with_capacity(xml.len());
    let mut at = 0;
    for (s, e) in all {
        out.extend_from_slice(&xml[at..s]);
        if s == first {
            out.extend_from_slice(&merged);
        }
        at = e;
    }
    out.extend_from_slice(&xml[at..]);
    Some(out)
}

/// How the endpoint is set up.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// The region of buckets created without a `LocationConstraint`.
    pub region: String,
    /// The regions a `LocationConstraint` may name.
    pub regions: Vec<String>,
    /// Base domains for virtual-hosted-style addressing (`bucket.DOMAIN`).
    pub domains: Vec<String>,
    /// Accept SigV2 signatures (as S3 does for existing buckets).
    pub allow_sigv2: bool,
    /// How long a RestoreObject of an archived object takes.
    pub restore_delay: std::time::Duration,
    /// The buckets' policies, shared with the edge's in-process origin.
    pub policies: crate::BucketPolicies,
}

/// The S3 API over one store.
pub struct S3Endpoint {
    service: S3Service,
    precheck: Precheck,
    metrics: Arc<S3Metrics>,
    cors: CorsAnswers,
}

impl S3Endpoint {
    /// The endpoint; its metrics are registered in `metrics`.
    pub fn new(
        store: Store,
        cfg: EndpointConfig,
        metrics: &mut prometheus_client::registry::Registry,
    ) -> Self {
        let identities = Identities::new(store.clone());
        let cors = CorsAnswers {
            hosts: VirtualHosts::new(cfg.domains.clone()),
            store: store.clone(),
            policies: cfg.policies.clone(),
        };
        let mut s3 = WharfS3::new(
            store,
            identities.clone(),
            cfg.policies,
            cfg.region,
            cfg.regions,
        );
        s3.restore_delay = cfg.restore_delay;
        let mut config = S3Config::default();
        config.post_object_max_file_size = MAX_POST_OBJECT_SIZE;
        let config = Arc::new(StaticConfigProvider::new(Arc::new(config)));
        // Behind the normalizing route: the same operations, no signature check of its own
        // (see `normalize`).
        let mut inner = S3ServiceBuilder::new(s3.clone());
        inner.set_host(VirtualHosts::new(cfg.domains.clone()));
        inner.set_config(config.clone());
        let mut outer = S3ServiceBuilder::new(s3);
        outer.set_auth(identities);
        outer.set_access(DecideInOperations);
        outer.set_host(VirtualHosts::new(cfg.domains));
        outer.set_route(Normalize {
            inner: inner.build(),
        });
        outer.set_config(config);
        Self {
            service: outer.build(),
            precheck: Precheck {
                allow_sigv2: cfg.allow_sigv2,
            },
            metrics: S3Metrics::register(metrics),
            cors,
        }
    }

    pub async fn call(&self, mut req: s3s::HttpRequest) -> s3s::HttpResponse {
        let started = Instant::now();
        let ids = RequestIds::new();
        let operation = OperationName::default();
        req.extensions_mut().insert(operation.clone());
        let received = declared_length(req.headers());
        if req.method() == http::Method::POST {
            req = note_post_file_name(req);
        }
        let answering = Answering::of(&req);
        let conditions = std::sync::Arc::new(crate::condition_keys::ConditionKeys::of(&req));
        req.extensions_mut().insert(conditions);
        let (method, uri) = (req.method().clone(), req.uri().clone());
        // Browsers: a preflight is answered from the bucket's CORS rules, not by s3s; any
        // other request with an Origin gets the rules' headers on its response.
        if method == http::Method::OPTIONS {
            operation.set("PreflightRequest");
            let resp = self.cors.preflight(&req).await;
            log_answer(resp.status(), &method, &uri, &ids.request_id);
            let resp = finish(resp, &ids, answering);
            return self.count(resp, operation.get(), started, received);
        }
        let origin = req
            .headers()
            .get(http::header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let cors_bucket = origin.as_ref().and_then(|_| self.cors.bucket_of(&req));
        let resp = match self.precheck.check(&mut req) {
            Err(resp) => *resp,
            Ok(()) => match self.service.call(req).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = ?e, "S3 request failed");
                    let mut r = s3s::HttpResponse::new(s3s::Body::empty());
                    *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                    r
                }
            },
        };
        let mut resp = resp;
        if let Some(StatusOverride(status)) = resp.extensions().get::<StatusOverride>().copied() {
            *resp.status_mut() = status;
        }
        if let Some(VersionOrder(order)) = resp.extensions_mut().remove::<VersionOrder>() {
            resp = in_listing_order(resp, &order).await;
        }
        if let (Some(origin), Some(bucket)) = (&origin, &cors_bucket) {
            self.cors.decorate(bucket, origin, &method, &mut resp).await;
        }
        log_answer(resp.status(), &method, &uri, &ids.request_id);
        let resp = finish(resp, &ids, answering);
        self.count(resp, operation.get(), started, received)
    }

    /// Counts an answered request; a body of unknown length is counted as it is sent.
    fn count(
        &self,
        resp: s3s::HttpResponse,
        operation: &'static str,
        started: Instant,
        received: u64,
    ) -> s3s::HttpResponse {
        use http_body::Body as _;
        let known = resp.body().size_hint().exact();
        let unknown = self.metrics.answered(
            operation,
            resp.status().as_u16(),
            started.elapsed(),
            received,
            known,
        );
        match unknown {
            None => resp,
            Some(sent) => resp.map(|body| {
                s3s::Body::http_body_unsync(http_body_util::BodyExt::map_frame(body, move |f| {
                    if let Some(d) = f.data_ref() {
                        sent.inc_by(d.len() as u64);
                    }
                    f
                }))
            }),
        }
    }
}

/// A ListObjectVersions answer with its entries in listing order (a page is at most 1,000
/// entries, so its body is small).
async fn in_listing_order(resp: s3s::HttpResponse, order: &[bool]) -> s3s::HttpResponse {
    use http_body_util::BodyExt as _;
    let (mut parts, body) = resp.into_parts();
    let Ok(collected) = body.collect().await else {
        parts.status = http::StatusCode::INTERNAL_SERVER_ERROR;
        return s3s::HttpResponse::from_parts(parts, s3s::Body::empty());
    };
    let xml = collected.to_bytes();
    let body = interleave_versions(&xml, order).map_or(xml, bytes::Bytes::from);
    parts.headers.insert(
        http::header::CONTENT_LENGTH,
        http::HeaderValue::from(body.len()),
    );
    s3s::HttpResponse::from_parts(parts, s3s::Body::from(body))
}

/// The request body's length as the request declares it (the decoded length of an
/// `aws-chunked` body).
fn declared_length(headers: &http::HeaderMap) -> u64 {
    let value = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
    };
    value("x-amz-decoded-content-length")
        .or_else(|| value("content-length"))
        .unwrap_or(0)
}

/// A failure of the server is an error an operator must see; a client's mistake (4xx) or a
/// feature not built yet (501) is not, and is logged only at debug level. (s3s's own logs,
/// which say ERROR for every one of them, are off unless `WHARF_LOG` asks for them.)
fn log_answer(status: http::StatusCode, method: &http::Method, uri: &http::Uri, id: &str) {
    use http::StatusCode as S;
    match status {
        S::INTERNAL_SERVER_ERROR => {
            tracing::error!(%status, %method, %uri, request_id = id, "S3 request failed")
        }
        s if s.is_server_error() && s != S::NOT_IMPLEMENTED => {
            tracing::warn!(%status, %method, %uri, request_id = id, "S3 request refused")
        }
        s if s.is_client_error() || s == S::NOT_IMPLEMENTED => {
            tracing::debug!(%status, %method, %uri, request_id = id, "S3 request refused")
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::interleave_versions;

    #[test]
    fn versions_and_markers_come_back_in_listing_order() {
        let xml = b"<R><DeleteMarker><Key>a</Key></DeleteMarker><DeleteMarker><Key>c</Key></DeleteMarker>\
<IsTruncated>false</IsTruncated><Version><Key>a</Key><VersionId>1</VersionId></Version>\
<Version><Key>b</Key></Version></R>";
        let out = interleave_versions(xml, &[true, false, false, true]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<R><DeleteMarker><Key>a</Key></DeleteMarker>\
<Version><Key>a</Key><VersionId>1</VersionId></Version><Version><Key>b</Key></Version>\
<DeleteMarker><Key>c</Key></DeleteMarker><IsTruncated>false</IsTruncated></R>"
        );
        // Counts that do not match the order: left as it is.
        assert_eq!(interleave_versions(xml, &[true, false]), None);
        assert_eq!(interleave_versions(xml, &[false, false, false, true]), None);
        let none = b"<R><IsTruncated>false</IsTruncated></R>";
        assert_eq!(interleave_versions(none, &[]).unwrap(), none.to_vec());
    }
}
