//! Viewer request: the distribution by `Host`, `DefaultRootObject`, the cache behavior by path.

use std::net::SocketAddr;

use http::{StatusCode, header};

use super::context::{Outcome, RequestCtx};
use super::{Edge, Refusal, ViewerHttps};
use crate::headers::CacheStatus;
use crate::respond::{self, EdgeBody};

/// CloudFront: a request (path, query string and headers) is at most 20,480 bytes.
pub const MAX_REQUEST_LEN: usize = 20_480;
/// CloudFront: the URL it constructs from a request is at most 8,192 bytes.
pub const MAX_URL_LEN: usize = 8_192;

impl Edge {
    /// The request's context, or the answer when the request is malformed or too large, or no
    /// enabled distribution serves its `Host`.
    pub(super) fn viewer_request(
        &self,
        parts: http::request::Parts,
        request_id: &str,
        client: Option<SocketAddr>,
    ) -> Result<RequestCtx, Refusal> {
        if let Some(refused) = malformed(&parts, request_id) {
            return Err(Box::new(refused));
        }
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or(parts.uri.authority().map(http::uri::Authority::as_str));
        let snap = self.registry.snapshot();
        let Some(dist) = snap.for_host(host).cloned() else {
            return Err(Box::new(respond::error_page(
                StatusCode::FORBIDDEN,
                "Bad request. We can't connect to the server for this app or website at this time.",
                request_id,
            )));
        };
        if !dist.enabled {
            return Err(Box::new(respond::error_page(
                StatusCode::FORBIDDEN,
                "The distribution is disabled.",
                request_id,
            )));
        }
        let mut path = parts.uri.path().to_owned();
        if path == "/"
            && let Some(root) = &dist.default_root_object
        {
            path = format!("/{root}");
        }
        let (behavior, _) = dist.behavior_for(&path);
        // Only the listener knows: a request line or HTTP/2 `:scheme` saying `https` over a
        // plain connection does not make it one.
        let tls = parts.extensions.get::<ViewerHttps>().copied();
        let request_bytes = if dist.logging.is_some() {
            request_size(&parts)
        } else {
            0
        };
        Ok(RequestCtx {
            request_id: request_id.to_owned(),
            dist,
            behavior,
            method: parts.method,
            query: parts.uri.query().map(str::to_owned),
            uri: parts.uri,
            version: parts.version,
            path,
            headers: parts.headers,
            client,
            https: tls.is_some(),
            tls,
            request_bytes,
            error_page: false,
            origin: None,
            outcome: Outcome {
                cache_status: CacheStatus::Miss,
                ..Outcome::default()
            },
        })
    }
}

/// The request's size as HTTP/1.1 writes it (request line, fields, the blank line) plus its
/// body's declared length: the logs' `cs-bytes`.
fn request_size(parts: &http::request::Parts) -> u64 {
    let target = parts.uri.path_and_query().map_or(1, |pq| pq.as_str().len());
    // `METHOD target HTTP/1.1\r\n`, each `name: value\r\n`, `\r\n`.
    let line = parts.method.as_str().len() + 1 + target + 11;
    let fields: usize = parts
        .headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len() + 4)
        .sum();
    let body = crate::cache::content_length(&parts.headers).unwrap_or(0);
    (line + fields + 2) as u64 + body
}

/// CloudFront's answer to a request it cannot take: more than one `Host` (400), or a URL or
/// request longer than its limits (413, and the connection is closed).
fn malformed(parts: &http::request::Parts, request_id: &str) -> Option<http::Response<EdgeBody>> {
    let mut hosts = parts.headers.get_all(header::HOST).iter();
    if hosts.next().is_some() && hosts.next().is_some() {
        return Some(respond::error_page(
            StatusCode::BAD_REQUEST,
            "Bad request. We can't connect to the server for this app or website at this time.",
            request_id,
        ));
    }
    let target = parts.uri.path_and_query().map_or(1, |pq| pq.as_str().len());
    let host = parts
        .headers
        .get(header::HOST)
        .map_or(0, http::HeaderValue::len);
    // `https://` + host + path and query.
    let url = 8 + host + target;
    // Each field as on the wire: `name: value` and its line end.
    let fields: usize = parts
        .headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len() + 4)
        .sum();
    if url <= MAX_URL_LEN && target + fields <= MAX_REQUEST_LEN {
        return None;
    }
    let mut r = respond::error_page(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Bad request. The request line or its header fields are too large.",
        request_id,
    );
    if parts.version <= http::Version::HTTP_11 {
        r.headers_mut()
            .insert(header::CONNECTION, http::HeaderValue::from_static("close"));
    }
    Some(r)
}
