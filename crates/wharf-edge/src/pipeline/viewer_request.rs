//! Viewer request: the distribution by `Host`, `DefaultRootObject`, the cache behavior by path.

use std::net::SocketAddr;

use http::{StatusCode, header};

use super::context::{Outcome, RequestCtx};
use super::{Edge, Refusal, ViewerHttps};
use crate::headers::CacheStatus;
use crate::respond;

impl Edge {
    /// The request's context, or the answer when no enabled distribution serves its `Host`.
    pub(super) fn viewer_request(
        &self,
        parts: http::request::Parts,
        request_id: &str,
        client: Option<SocketAddr>,
    ) -> Result<RequestCtx, Refusal> {
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
        let https = parts.extensions.get::<ViewerHttps>().is_some();
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
            https,
            error_page: false,
            outcome: Outcome {
                cache_status: CacheStatus::Miss,
                ..Outcome::default()
            },
        })
    }
}
