//! Viewer response: custom error responses, the response headers policy, and CloudFront's own
//! response headers (`X-Cache`, `Via`, `X-Amz-Cf-Id`, `X-Amz-Cf-Pop`).

use std::sync::Arc;

use http::{HeaderMap, Method, Response, StatusCode, header};

use super::Edge;
use super::context::{Outcome, RequestCtx};
use crate::headers::{self, CacheStatus};
use crate::origin::OriginResponse;
use crate::respond::{self, EdgeBody};
use crate::response_headers;

impl Edge {
    /// Shapes the answer the earlier phases produced.
    pub(super) async fn viewer_response(
        self: &Arc<Self>,
        ctx: &mut RequestCtx,
        resp: Response<EdgeBody>,
    ) -> Response<EdgeBody> {
        let mut resp = self.custom_error(ctx, resp).await;
        if let Some(p) = &ctx.behavior().response_headers_policy {
            let viewer = response_headers::Viewer {
                method: &ctx.method,
                headers: &ctx.headers,
                status: ctx.outcome.cache_status,
                pop: &self.pop,
                request_id: &ctx.request_id,
            };
            p.apply(&viewer, resp.headers_mut());
        }
        resp
    }

    /// CloudFront's headers on every answer, refused requests included.
    pub(super) fn decorate(&self, resp: &mut Response<EdgeBody>, status: CacheStatus, id: &str) {
        headers::decorate(resp.headers_mut(), status, id, &self.pop, &self.via);
    }

    /// CloudFront's custom error responses replace an error's body with a page (and maybe its
    /// status code).
    async fn custom_error(
        self: &Arc<Self>,
        ctx: &mut RequestCtx,
        resp: Response<EdgeBody>,
    ) -> Response<EdgeBody> {
        let code = resp.status().as_u16();
        if code < 400 || ctx.error_page {
            return resp;
        }
        let Some(er) = ctx.dist.error_responses.get(&code) else {
            return resp;
        };
        let Some(page) = er.page_path.clone() else {
            let mut resp = resp;
            if let Some(c) = er.response_code.and_then(|c| StatusCode::from_u16(c).ok()) {
                *resp.status_mut() = c;
            }
            return resp;
        };
        let (behavior, _) = ctx.dist.behavior_for(&page);
        let mut page_headers = HeaderMap::new();
        for name in [header::ACCEPT_ENCODING, header::HOST] {
            if let Some(v) = ctx.headers.get(&name) {
                page_headers.insert(name, v.clone());
            }
        }
        let mut page_ctx = RequestCtx {
            request_id: ctx.request_id.clone(),
            dist: ctx.dist.clone(),
            behavior,
            method: Method::GET,
            uri: ctx.uri.clone(),
            version: ctx.version,
            path: page,
            query: None,
            headers: page_headers,
            client: ctx.client,
            https: ctx.https,
            tls: ctx.tls,
            request_bytes: 0,
            error_page: true,
            origin: None,
            outcome: Outcome::default(),
        };
        let mut page_resp = Box::pin(self.cache_lookup(&mut page_ctx)).await;
        if !page_resp.status().is_success() {
            return resp;
        }
        let code = er
            .response_code
            .and_then(|c| StatusCode::from_u16(c).ok())
            .unwrap_or(resp.status());
        *page_resp.status_mut() = code;
        if ctx.method == Method::HEAD {
            *page_resp.body_mut() = respond::empty();
        }
        if ctx.outcome.cache_status != CacheStatus::Hit {
            ctx.outcome.cache_status = CacheStatus::Error;
        }
        page_resp
    }

    /// Streams an origin response to the viewer unchanged but for hop-by-hop fields.
    pub(super) fn relay(&self, ctx: &RequestCtx, resp: OriginResponse) -> Response<EdgeBody> {
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
}
