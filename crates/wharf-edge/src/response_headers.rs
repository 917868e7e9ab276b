//! A behavior's response headers policy at run time: the CORS, security, custom and
//! `Server-Timing` headers it adds and the headers it removes. It is applied to every viewer
//! response of the behavior after the cache, so what depends on the viewer (its `Origin`) is
//! never stored.
//!
//! CORS follows CloudFront: only a request with an `Origin` the policy allows gets CORS
//! headers; a preflight (`OPTIONS` with `Access-Control-Request-Method`) also gets the allowed
//! methods, headers and max age. Each header the origin already sent is kept unless the policy
//! says to override it.

use std::hash::{Hash, Hasher};

use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use wharf_model::cloudfront::ResponseHeadersPolicyConfig;

use crate::headers::CacheStatus;

/// A header the policy sets, and whether it replaces the origin's.
#[derive(Debug, Clone)]
struct Set {
    name: HeaderName,
    value: HeaderValue,
    replace: bool,
}

#[derive(Debug, Clone)]
enum AllowedOrigin {
    Any,
    Exact(String),
    /// `https://*.example.com`: the part before and after the `*`.
    Wildcard(String, String),
}

impl AllowedOrigin {
    fn parse(s: &str) -> Self {
        let s = s.trim().to_ascii_lowercase();
        match s.split_once('*') {
            _ if s == "*" => Self::Any,
            Some((a, b)) => Self::Wildcard(a.to_owned(), b.to_owned()),
            None => Self::Exact(s),
        }
    }

    fn allows(&self, origin: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Exact(o) => origin.eq_ignore_ascii_case(o),
            Self::Wildcard(a, b) => {
                let o = origin.to_ascii_lowercase();
                o.len() > a.len() + b.len() && o.starts_with(a.as_str()) && o.ends_with(b.as_str())
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Cors {
    origins: Vec<AllowedOrigin>,
    allow_headers: Option<HeaderValue>,
    allow_methods: Option<HeaderValue>,
    allow_credentials: bool,
    expose_headers: Option<HeaderValue>,
    max_age: Option<HeaderValue>,
    replace: bool,
}

#[derive(Debug, Clone)]
pub struct ResponseHeadersPolicy {
    cors: Option<Cors>,
    /// Security headers, then custom headers.
    sets: Vec<Set>,
    remove: Vec<HeaderName>,
    /// Percent of responses that carry `Server-Timing`.
    server_timing: Option<f64>,
}

fn joined(items: &[String]) -> Option<HeaderValue> {
    if items.is_empty() {
        return None;
    }
    HeaderValue::from_str(&items.join(", ")).ok()
}

fn value(v: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_str(v).map_err(|_| format!("invalid header value {v:?}"))
}

fn name(n: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(n.as_bytes()).map_err(|_| format!("invalid header name {n:?}"))
}

impl ResponseHeadersPolicy {
    pub fn from_config(c: &ResponseHeadersPolicyConfig) -> Result<Self, String> {
        let cors = c.cors_config.as_ref().map(|c| {
            let methods: Vec<String> = if c
                .access_control_allow_methods
                .items
                .iter()
                .any(|m| m == "ALL")
            {
                ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
                    .map(String::from)
                    .to_vec()
            } else {
                c.access_control_allow_methods.items.clone()
            };
            Cors {
                origins: c
                    .access_control_allow_origins
                    .items
                    .iter()
                    .map(|o| AllowedOrigin::parse(o))
                    .collect(),
                allow_headers: joined(&c.access_control_allow_headers.items),
                allow_methods: joined(&methods),
                allow_credentials: c.access_control_allow_credentials,
                expose_headers: c
                    .access_control_expose_headers
                    .as_ref()
                    .and_then(|e| joined(&e.items)),
                max_age: c.access_control_max_age_sec.map(HeaderValue::from),
                replace: c.origin_override,
            }
        });
        let mut sets = Vec::new();
        if let Some(s) = &c.security_headers_config {
            let xss = s.xss_protection.as_ref().map(|x| {
                let v = match (x.protection, x.mode_block, &x.report_uri) {
                    (false, _, _) => "0".to_owned(),
                    (true, true, _) => "1; mode=block".to_owned(),
                    (true, false, Some(uri)) => format!("1; report={uri}"),
                    (true, false, None) => "1".to_owned(),
                };
                (v, x.override_)
            });
            let hsts = s.strict_transport_security.as_ref().map(|h| {
                let mut v = format!("max-age={}", h.access_control_max_age_sec);
                if h.include_subdomains {
                    v.push_str("; includeSubDomains");
                }
                if h.preload {
                    v.push_str("; preload");
                }
                (v, h.override_)
            });
            let fields = [
                (HeaderName::from_static("x-xss-protection"), xss),
                (
                    header::X_FRAME_OPTIONS,
                    s.frame_options
                        .as_ref()
                        .map(|f| (f.frame_option.clone(), f.override_)),
                ),
                (
                    header::REFERRER_POLICY,
                    s.referrer_policy
                        .as_ref()
                        .map(|r| (r.referrer_policy.clone(), r.override_)),
                ),
                (
                    header::CONTENT_SECURITY_POLICY,
                    s.content_security_policy
                        .as_ref()
                        .map(|p| (p.content_security_policy.clone(), p.override_)),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    s.content_type_options
                        .as_ref()
                        .map(|t| ("nosniff".to_owned(), t.override_)),
                ),
                (header::STRICT_TRANSPORT_SECURITY, hsts),
            ];
            for (name, set) in fields {
                if let Some((v, replace)) = set {
                    sets.push(Set {
                        name,
                        value: value(&v)?,
                        replace,
                    });
                }
            }
        }
        for h in c.custom_headers_config.iter().flat_map(|c| &c.items) {
            sets.push(Set {
                name: name(&h.header)?,
                value: value(&h.value)?,
                replace: h.override_,
            });
        }
        let remove = c
            .remove_headers_config
            .iter()
            .flat_map(|c| &c.items)
            .map(|h| name(&h.header))
            .collect::<Result<_, _>>()?;
        let server_timing = c
            .server_timing_headers_config
            .as_ref()
            .filter(|t| t.enabled)
            .map(|t| t.sampling_rate.unwrap_or(0.0));
        Ok(Self {
            cors,
            sets,
            remove,
            server_timing,
        })
    }

    /// Applies the policy to a response on its way to the viewer.
    pub fn apply(&self, viewer: &Viewer<'_>, resp: &mut HeaderMap) {
        for n in &self.remove {
            resp.remove(n);
        }
        if let Some(c) = &self.cors {
            c.apply(viewer, resp);
        }
        for s in &self.sets {
            put(resp, &s.name, &s.value, s.replace);
        }
        if let Some(rate) = self.server_timing
            && sampled(viewer.request_id, rate)
        {
            let cache = match viewer.status {
                CacheStatus::Hit => "cdn-cache-hit",
                CacheStatus::RefreshHit => "cdn-cache-refresh",
                _ => "cdn-cache-miss",
            };
            let v = format!(
                "{cache},cdn-pop;desc=\"{}\",cdn-rid;desc=\"{}\"",
                viewer.pop, viewer.request_id
            );
            if let Ok(v) = HeaderValue::from_str(&v) {
                resp.append(HeaderName::from_static("server-timing"), v);
            }
        }
    }
}

/// What the policy needs to know of the request it answers.
pub struct Viewer<'a> {
    pub method: &'a Method,
    pub headers: &'a HeaderMap,
    pub status: CacheStatus,
    pub pop: &'a str,
    pub request_id: &'a str,
}

impl Cors {
    fn apply(&self, viewer: &Viewer<'_>, resp: &mut HeaderMap) {
        let Some(origin) = viewer.headers.get(header::ORIGIN) else {
            return;
        };
        let Some(allowed) = origin
            .to_str()
            .ok()
            .and_then(|o| self.origins.iter().find(|a| a.allows(o)))
        else {
            return;
        };
        let allow_origin = match allowed {
            AllowedOrigin::Any => HeaderValue::from_static("*"),
            _ => origin.clone(),
        };
        let echoed = allow_origin != "*";
        if put(
            resp,
            &header::ACCESS_CONTROL_ALLOW_ORIGIN,
            &allow_origin,
            self.replace,
        ) && echoed
        {
            // The answer now depends on the viewer's Origin.
            resp.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        if self.allow_credentials {
            put(
                resp,
                &header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                &HeaderValue::from_static("true"),
                self.replace,
            );
        }
        let preflight = viewer.method == Method::OPTIONS
            && viewer
                .headers
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        let mut fields = vec![(&header::ACCESS_CONTROL_EXPOSE_HEADERS, &self.expose_headers)];
        if preflight {
            fields.extend([
                (&header::ACCESS_CONTROL_ALLOW_METHODS, &self.allow_methods),
                (&header::ACCESS_CONTROL_ALLOW_HEADERS, &self.allow_headers),
                (&header::ACCESS_CONTROL_MAX_AGE, &self.max_age),
            ]);
        }
        for (name, v) in fields {
            if let Some(v) = v {
                put(resp, name, v, self.replace);
            }
        }
    }
}

/// Sets `name` unless the origin sent it and the policy keeps the origin's. True if set.
fn put(resp: &mut HeaderMap, name: &HeaderName, v: &HeaderValue, replace: bool) -> bool {
    if replace || !resp.contains_key(name) {
        resp.insert(name.clone(), v.clone());
        return true;
    }
    false
}

/// Whether this request is in the `rate` percent that get `Server-Timing` (decided by its ID,
/// so the choice is stable and needs no random source).
fn sampled(request_id: &str, rate: f64) -> bool {
    if rate >= 100.0 {
        return true;
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    request_id.hash(&mut h);
    #[allow(clippy::cast_precision_loss)]
    let point = (h.finish() % 10_000) as f64 / 100.0;
    point < rate
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_model::cloudfront::{self as model, managed_response_headers_policy};

    fn viewer<'a>(method: &'a Method, headers: &'a HeaderMap) -> Viewer<'a> {
        Viewer {
            method,
            headers,
            status: CacheStatus::Hit,
            pop: "WRF1-C1",
            request_id: "rid",
        }
    }

    fn req(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(name(n).unwrap(), value(v).unwrap());
        }
        h
    }

    fn managed(id: &str) -> ResponseHeadersPolicy {
        ResponseHeadersPolicy::from_config(&managed_response_headers_policy(id).unwrap()).unwrap()
    }

    #[test]
    fn simple_cors_only_for_cors_requests_and_keeps_the_origins_header() {
        let p = managed(model::SIMPLE_CORS);
        let mut resp = HeaderMap::new();
        p.apply(&viewer(&Method::GET, &HeaderMap::new()), &mut resp);
        assert!(resp.is_empty());
        let h = req(&[("origin", "https://a.example")]);
        p.apply(&viewer(&Method::GET, &h), &mut resp);
        assert_eq!(resp["access-control-allow-origin"], "*");
        let mut resp = req(&[("access-control-allow-origin", "https://mine")]);
        p.apply(&viewer(&Method::GET, &h), &mut resp);
        assert_eq!(resp["access-control-allow-origin"], "https://mine");
    }

    #[test]
    fn preflight_gets_methods_and_exact_origins_are_echoed_with_vary() {
        let cfg = ResponseHeadersPolicyConfig::from_json(
            r#"{"Name": "p", "CorsConfig": {
                "AccessControlAllowOrigins": {"Quantity": 2, "Items": ["https://app.example", "https://*.example.org"]},
                "AccessControlAllowHeaders": {"Quantity": 1, "Items": ["X-Token"]},
                "AccessControlAllowMethods": {"Quantity": 1, "Items": ["ALL"]},
                "AccessControlAllowCredentials": true,
                "AccessControlMaxAgeSec": 600, "OriginOverride": true}}"#,
        )
        .unwrap();
        let p = ResponseHeadersPolicy::from_config(&cfg).unwrap();
        let h = req(&[
            ("origin", "https://b.example.org"),
            ("access-control-request-method", "PUT"),
        ]);
        let mut resp = req(&[("access-control-allow-origin", "*")]);
        p.apply(&viewer(&Method::OPTIONS, &h), &mut resp);
        assert_eq!(resp["access-control-allow-origin"], "https://b.example.org");
        assert_eq!(resp["vary"], "Origin");
        assert_eq!(resp["access-control-allow-credentials"], "true");
        assert_eq!(resp["access-control-allow-headers"], "X-Token");
        assert_eq!(resp["access-control-max-age"], "600");
        assert!(
            resp["access-control-allow-methods"]
                .to_str()
                .unwrap()
                .contains("PATCH")
        );
        let mut resp = HeaderMap::new();
        p.apply(
            &viewer(&Method::GET, &req(&[("origin", "https://example.org")])),
            &mut resp,
        );
        assert!(resp.is_empty(), "the wildcard needs a subdomain");
    }

    #[test]
    fn security_custom_and_removed_headers() {
        let p = managed(model::SECURITY_HEADERS_POLICY);
        let mut resp = req(&[
            ("x-content-type-options", "sniff"),
            ("x-frame-options", "DENY"),
        ]);
        p.apply(&viewer(&Method::GET, &HeaderMap::new()), &mut resp);
        assert_eq!(resp["x-content-type-options"], "nosniff");
        assert_eq!(resp["x-frame-options"], "DENY");
        assert_eq!(resp["strict-transport-security"], "max-age=31536000");
        assert_eq!(resp["referrer-policy"], "strict-origin-when-cross-origin");
        assert_eq!(resp["x-xss-protection"], "1; mode=block");

        let cfg = ResponseHeadersPolicyConfig::from_json(
            r#"{"Name": "c",
                "CustomHeadersConfig": {"Quantity": 1, "Items": [{"Header": "X-Site", "Value": "wharf", "Override": false}]},
                "RemoveHeadersConfig": {"Quantity": 1, "Items": [{"Header": "Server"}]},
                "ServerTimingHeadersConfig": {"Enabled": true, "SamplingRate": 100}}"#,
        )
        .unwrap();
        let p = ResponseHeadersPolicy::from_config(&cfg).unwrap();
        let mut resp = req(&[("server", "origin/1.0"), ("x-site", "origin")]);
        p.apply(&viewer(&Method::GET, &HeaderMap::new()), &mut resp);
        assert!(!resp.contains_key("server"));
        assert_eq!(resp["x-site"], "origin");
        assert_eq!(
            resp["server-timing"],
            "cdn-cache-hit,cdn-pop;desc=\"WRF1-C1\",cdn-rid;desc=\"rid\""
        );
    }

    #[test]
    fn invalid_policies_are_refused() {
        for bad in [
            r#"{"Name": "x", "CustomHeadersConfig": {"Quantity": 1, "Items": [{"Header": "X-Cache", "Value": "v", "Override": true}]}}"#,
            r#"{"Name": "x", "RemoveHeadersConfig": {"Quantity": 1, "Items": [{"Header": "Content-Length"}]}}"#,
            r#"{"Name": "x", "SecurityHeadersConfig": {"FrameOptions": {"Override": true, "FrameOption": "ALLOW"}}}"#,
            r#"{"Name": "x", "CorsConfig": {"AccessControlAllowOrigins": {"Quantity": 1, "Items": ["*"]},
                "AccessControlAllowHeaders": {"Quantity": 0}, "AccessControlAllowMethods": {"Quantity": 1, "Items": ["GET"]},
                "AccessControlAllowCredentials": true, "OriginOverride": false}}"#,
            r#"{"Name": "x", "ServerTimingHeadersConfig": {"Enabled": true, "SamplingRate": 101}}"#,
            r#"{"Name": "x", "CustomHeadersConfig": {"Quantity": 2, "Items": []}}"#,
        ] {
            assert!(
                ResponseHeadersPolicyConfig::from_json(bad).is_err(),
                "{bad}"
            );
        }
    }
}
