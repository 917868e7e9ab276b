//! Access: viewer protocol policy, geographic restriction, signed URLs and cookies, allowed
//! methods. A request refused here never reaches the cache or the origin.

use http::header::{self, HeaderValue};
use http::{Response, StatusCode};

use super::context::RequestCtx;
use super::{Edge, Refusal};
use crate::distribution::ViewerProtocolPolicy;
use crate::headers::CacheStatus;
use crate::respond;
use crate::signed_request::{self, SignedRequest};
use crate::viewer_headers;

impl Edge {
    /// `Err` is the answer to a refused request; a signed URL's own parameters leave the query.
    pub(super) fn access(&self, ctx: &mut RequestCtx) -> Result<(), Refusal> {
        let dist = ctx.dist.clone();
        let b = &dist.behaviors[ctx.behavior];
        let host = ctx
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or(ctx.uri.authority().map(http::uri::Authority::as_str));
        match b.viewer_protocol_policy {
            ViewerProtocolPolicy::RedirectToHttps if !ctx.https => {
                ctx.outcome.cache_status = CacheStatus::Redirect;
                let mut r = Response::new(respond::empty());
                *r.status_mut() = StatusCode::MOVED_PERMANENTLY;
                let pq = ctx.uri.path_and_query().map_or("/", |p| p.as_str());
                let host = https_authority(host.unwrap_or(""), self.https_port);
                if let Ok(v) = HeaderValue::from_str(&format!("https://{host}{pq}")) {
                    r.headers_mut().insert(header::LOCATION, v);
                }
                return Err(Box::new(r));
            }
            ViewerProtocolPolicy::HttpsOnly if !ctx.https => {
                ctx.outcome.error_detail = Some("InvalidRequest");
                return Err(refuse(ctx, "This distribution requires HTTPS."));
            }
            _ => {}
        }
        let viewer_ip = self.viewers.address(ctx.client, &ctx.headers);
        if let Some(geo) = &dist.geo_restriction {
            // Without a database nobody can be located: refuse rather than ignore the rule.
            let refused = self.viewers.geo.is_none()
                || geo.refuses(self.viewers.country(viewer_ip).as_deref());
            if refused {
                ctx.outcome.error_detail = Some("ClientGeoBlocked");
                return Err(refuse(
                    ctx,
                    "The Amazon CloudFront distribution is configured to block access from your country.",
                ));
            }
        }
        if let Some(keys) = &b.trusted_keys {
            let signed = SignedRequest {
                https: ctx.https,
                host: host.unwrap_or(""),
                path: ctx.uri.path(),
                query: ctx.uri.query(),
                headers: &ctx.headers,
                viewer: viewer_ip,
                now: super::now(),
            };
            match signed_request::check(keys, &signed) {
                Ok(q) => ctx.query = q,
                Err(d) => {
                    ctx.outcome.cache_status = CacheStatus::Error;
                    return Err(Box::new(respond::signed_request_denied(d)));
                }
            }
        }
        if !b.allows_method(&ctx.method) {
            ctx.outcome.error_detail = Some("InvalidRequestMethod");
            return Err(refuse(
                ctx,
                "This distribution is not configured to allow the HTTP request method that was used for this request. The distribution supports only cachable requests.",
            ));
        }
        let viewer = viewer_headers::Viewer {
            https: ctx.https,
            tls: ctx.tls,
            version: ctx.version,
            peer: ctx.client,
            address: viewer_ip,
            geo: self.viewers.geo.as_ref(),
            asn: self.viewers.asn.as_ref(),
        };
        viewer_headers::apply(&mut ctx.headers, &b.cloudfront_headers, &viewer);
        Ok(())
    }
}

fn refuse(ctx: &mut RequestCtx, why: &str) -> Refusal {
    ctx.outcome.cache_status = CacheStatus::Error;
    Box::new(respond::error_page(
        StatusCode::FORBIDDEN,
        why,
        &ctx.request_id,
    ))
}

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
