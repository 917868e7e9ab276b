//! CORS on buckets, as S3 does it: the rules a bucket's `PutBucketCors` stored decide the
//! browser's preflight `OPTIONS` (answered here, before s3s: it is not an S3 operation and
//! carries no signature) and the `Access-Control-*` headers of every other response to a
//! request with an `Origin` (presigned URLs and errors included). The first rule whose
//! `AllowedOrigin` (one `*` wildcard allowed), `AllowedMethod` and, for a preflight,
//! `AllowedHeader`s all match decides.

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};

/// The `bucket_configs` kind of a bucket's CORS rules (JSON).
pub const BUCKET_CORS: &str = "cors";
/// S3's limit on rules in one configuration.
pub const MAX_RULES: usize = 100;
/// The methods a rule may allow.
const METHODS: [&str; 5] = ["GET", "PUT", "HEAD", "POST", "DELETE"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CorsRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Vec<String>,
    #[serde(default)]
    pub allowed_headers: Vec<String>,
    #[serde(default)]
    pub expose_headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<i32>,
}

/// The rules of a `PutBucketCors` body.
pub fn rules_from(config: s3s::dto::CORSConfiguration) -> Vec<CorsRule> {
    config
        .cors_rules
        .into_iter()
        .map(|r| CorsRule {
            id: r.id,
            allowed_origins: r.allowed_origins,
            allowed_methods: r.allowed_methods,
            allowed_headers: r.allowed_headers.unwrap_or_default(),
            expose_headers: r.expose_headers.unwrap_or_default(),
            max_age_seconds: r.max_age_seconds,
        })
        .collect()
}

/// Checks a configuration as S3 does: `Err((code, message))`.
pub fn validate(rules: &[CorsRule]) -> Result<(), (&'static str, String)> {
    if rules.is_empty() {
        return Err((
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema".into(),
        ));
    }
    if rules.len() > MAX_RULES {
        return Err((
            "InvalidRequest",
            format!("The CORS configuration can have at most {MAX_RULES} rules"),
        ));
    }
    for r in rules {
        if r.allowed_methods.is_empty() || r.allowed_origins.is_empty() {
            return Err((
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema".into(),
            ));
        }
        if let Some(m) = r
            .allowed_methods
            .iter()
            .find(|m| !METHODS.contains(&m.as_str()))
        {
            return Err((
                "InvalidRequest",
                format!("Found unsupported HTTP method in CORS config. Unsupported method is {m}"),
            ));
        }
        if let Some(o) = r
            .allowed_origins
            .iter()
            .find(|o| o.matches('*').count() > 1)
        {
            return Err((
                "InvalidRequest",
                format!("AllowedOrigin \"{o}\" can not have more than one wildcard."),
            ));
        }
        if let Some(h) = r
            .allowed_headers
            .iter()
            .find(|h| h.matches('*').count() > 1)
        {
            return Err((
                "InvalidRequest",
                format!("AllowedHeader \"{h}\" can not have more than one wildcard."),
            ));
        }
        if let Some(h) = r.expose_headers.iter().find(|h| h.contains('*')) {
            return Err((
                "InvalidRequest",
                format!(
                    "ExposeHeader \"{h}\" contains wildcard. We currently do not support wildcard for ExposeHeader."
                ),
            ));
        }
        if r.id.as_ref().is_some_and(|id| id.len() > 255) {
            return Err((
                "InvalidArgument",
                "The ID of a CORS rule must be at most 255 characters".into(),
            ));
        }
    }
    Ok(())
}

/// `pattern` with at most one `*` against `text` (case-insensitive for headers, not origins).
fn one_wildcard(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let eq = |a: &str, b: &str| {
        if ignore_case {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    match pattern.split_once('*') {
        None => eq(pattern, text),
        Some((head, tail)) => {
            text.len() >= head.len() + tail.len()
                && text.is_char_boundary(head.len())
                && text.is_char_boundary(text.len() - tail.len())
                && eq(&text[..head.len()], head)
                && eq(&text[text.len() - tail.len()..], tail)
        }
    }
}

impl CorsRule {
    fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins
            .iter()
            .any(|o| one_wildcard(o, origin, false))
    }

    fn allows_method(&self, method: &str) -> bool {
        self.allowed_methods.iter().any(|m| m == method)
    }

    fn allows_header(&self, name: &str) -> bool {
        self.allowed_headers
            .iter()
            .any(|h| one_wildcard(h, name, true))
    }

    /// The headers that answer `origin` under this rule (a preflight adds what it asked for).
    fn answer(&self, origin: &str, h: &mut HeaderMap) {
        let any_origin = self.allowed_origins.iter().any(|o| o == "*");
        let allow_origin = if any_origin { "*" } else { origin };
        insert(h, header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
        insert(
            h,
            header::ACCESS_CONTROL_ALLOW_METHODS,
            &self.allowed_methods.join(", "),
        );
        if !any_origin {
            insert(h, header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
        }
        if !self.expose_headers.is_empty() {
            insert(
                h,
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                &self.expose_headers.join(", "),
            );
        }
        if let Some(age) = self.max_age_seconds {
            insert(h, header::ACCESS_CONTROL_MAX_AGE, &age.to_string());
        }
    }
}

fn insert(h: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

const VARY: &str = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

/// Adds the CORS headers of an actual request's response: the first rule that allows its
/// origin and method answers; `Vary` whenever the bucket has rules.
pub fn decorate(rules: &[CorsRule], origin: &str, method: &Method, h: &mut HeaderMap) {
    h.append(header::VARY, HeaderValue::from_static(VARY));
    if let Some(rule) = rules
        .iter()
        .find(|r| r.allows_origin(origin) && r.allows_method(method.as_str()))
    {
        rule.answer(origin, h);
    }
}

/// What a preflight gets: the status, the S3 error (code, message) if refused, and headers.
pub struct Preflight {
    pub status: StatusCode,
    pub error: Option<(&'static str, &'static str)>,
    pub headers: HeaderMap,
}

fn refused(status: StatusCode, code: &'static str, message: &'static str) -> Preflight {
    Preflight {
        status,
        error: Some((code, message)),
        headers: HeaderMap::new(),
    }
}

/// Answers a preflight for a bucket with these rules (`None`: the bucket has no CORS).
pub fn preflight(rules: Option<&[CorsRule]>, request: &HeaderMap) -> Preflight {
    let text = |name: header::HeaderName| request.get(name).and_then(|v| v.to_str().ok());
    let Some(origin) = text(header::ORIGIN) else {
        return refused(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Insufficient information. Origin request header needed.",
        );
    };
    let Some(method) = text(header::ACCESS_CONTROL_REQUEST_METHOD) else {
        return refused(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Invalid Access-Control-Request-Method: null",
        );
    };
    let Some(rules) = rules else {
        return refused(
            StatusCode::FORBIDDEN,
            "CORSResponse",
            "CORS is not enabled for this bucket.",
        );
    };
    let wanted: Vec<&str> = text(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let Some(rule) = rules.iter().find(|r| {
        r.allows_origin(origin)
            && r.allows_method(method)
            && wanted.iter().all(|w| r.allows_header(w))
    }) else {
        return refused(
            StatusCode::FORBIDDEN,
            "CORSResponse",
            "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
        );
    };
    let mut headers = HeaderMap::new();
    rule.answer(origin, &mut headers);
    if !wanted.is_empty() {
        insert(
            &mut headers,
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            &wanted.join(", ").to_ascii_lowercase(),
        );
    }
    headers.insert(header::VARY, HeaderValue::from_static(VARY));
    Preflight {
        status: StatusCode::OK,
        error: None,
        headers,
    }
}

/// Answers browsers for the endpoint: finds the bucket a request addresses and its rules.
pub struct CorsAnswers {
    pub hosts: crate::host::VirtualHosts,
    pub store: wharf_store::Store,
    pub policies: crate::BucketPolicies,
}

/// A bucket's rules: `Err` if there is no such bucket, `Ok(None)` if it has no CORS.
type Rules = Result<Option<Vec<CorsRule>>, ()>;

impl CorsAnswers {
    /// The bucket a request addresses: virtual-hosted (`bucket.DOMAIN`) or path-style.
    pub fn bucket_of<B>(&self, req: &http::Request<B>) -> Option<String> {
        if let Some(host) = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            && let Some(b) = self.hosts.bucket_of(host)
        {
            return Some(b.to_owned());
        }
        let first = req.uri().path().trim_start_matches('/').split('/').next()?;
        (!first.is_empty()).then(|| first.to_owned())
    }

    async fn rules(&self, bucket: &str) -> s3s::S3Result<Rules> {
        let Some(b) = self
            .store
            .meta()
            .get_bucket(bucket)
            .await
            .map_err(crate::error::store_error)?
        else {
            return Ok(Err(()));
        };
        Ok(Ok(self.policies.of(&b).await?.cors.clone()))
    }

    /// The answer to an `OPTIONS` request.
    pub async fn preflight<B>(&self, req: &http::Request<B>) -> s3s::HttpResponse {
        let rules = match self.bucket_of(req) {
            Some(b) => match self.rules(&b).await {
                Ok(Ok(r)) => r,
                Ok(Err(())) => {
                    return error_response(
                        s3s::S3ErrorCode::NoSuchBucket,
                        "The specified bucket does not exist",
                        StatusCode::NOT_FOUND,
                    );
                }
                Err(e) => return e.to_http_response().unwrap_or_default(),
            },
            None => None,
        };
        let answer = preflight(rules.as_deref(), req.headers());
        let mut resp = match answer.error {
            Some((code, message)) => error_response(
                s3s::S3ErrorCode::Custom(code.into()),
                message,
                answer.status,
            ),
            None => s3s::HttpResponse::new(s3s::Body::empty()),
        };
        *resp.status_mut() = answer.status;
        resp.headers_mut().extend(answer.headers);
        resp
    }

    /// Adds the CORS headers to the response of a request from `origin` to `bucket`.
    pub async fn decorate(
        &self,
        bucket: &str,
        origin: &str,
        method: &Method,
        resp: &mut s3s::HttpResponse,
    ) {
        if let Ok(Ok(Some(rules))) = self.rules(bucket).await {
            decorate(&rules, origin, method, resp.headers_mut());
        }
    }
}

fn error_response(code: s3s::S3ErrorCode, message: &str, status: StatusCode) -> s3s::HttpResponse {
    let mut e = s3s::S3Error::with_message(code, message.to_owned());
    e.set_status_code(status);
    e.to_http_response().unwrap_or_else(|_| {
        let mut r = s3s::HttpResponse::new(s3s::Body::empty());
        *r.status_mut() = status;
        r
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(origins: &[&str], methods: &[&str], headers: &[&str]) -> CorsRule {
        CorsRule {
            id: None,
            allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
            allowed_methods: methods.iter().map(|s| s.to_string()).collect(),
            allowed_headers: headers.iter().map(|s| s.to_string()).collect(),
            expose_headers: vec!["ETag".into()],
            max_age_seconds: Some(3000),
        }
    }

    fn request(origin: &str, method: &str, headers: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, origin.parse().unwrap());
        h.insert(
            header::ACCESS_CONTROL_REQUEST_METHOD,
            method.parse().unwrap(),
        );
        if !headers.is_empty() {
            h.insert(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                headers.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn first_matching_rule_answers_a_preflight() {
        let rules = vec![
            rule(&["http://*.example.com"], &["PUT", "POST"], &["*"]),
            rule(&["*"], &["GET"], &[]),
        ];
        let p = preflight(
            Some(&rules),
            &request("http://www.example.com", "PUT", "Content-Type, X-Amz-Date"),
        );
        assert_eq!(p.status, StatusCode::OK);
        let h = |n: &str| p.headers.get(n).unwrap().to_str().unwrap().to_owned();
        assert_eq!(h("access-control-allow-origin"), "http://www.example.com");
        assert_eq!(h("access-control-allow-methods"), "PUT, POST");
        assert_eq!(
            h("access-control-allow-headers"),
            "content-type, x-amz-date"
        );
        assert_eq!(h("access-control-allow-credentials"), "true");
        assert_eq!(h("access-control-max-age"), "3000");
        let any = preflight(Some(&rules), &request("http://other.test", "GET", ""));
        assert_eq!(any.headers.get("access-control-allow-origin").unwrap(), "*");
        assert!(
            any.headers
                .get("access-control-allow-credentials")
                .is_none()
        );
        // A header the only rule for GET does not allow.
        let p = preflight(
            Some(&rules),
            &request("http://other.test", "GET", "X-Custom"),
        );
        assert_eq!(
            (p.status, p.error.unwrap().0),
            (StatusCode::FORBIDDEN, "CORSResponse")
        );
        let p = preflight(None, &request("http://other.test", "GET", ""));
        assert_eq!(p.error.unwrap().1, "CORS is not enabled for this bucket.");
        let p = preflight(Some(&rules), &HeaderMap::new());
        assert_eq!(p.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn wildcards_and_validation() {
        assert!(one_wildcard(
            "http://*.example.com",
            "http://a.b.example.com",
            false
        ));
        assert!(!one_wildcard(
            "http://*.example.com",
            "https://a.example.com",
            false
        ));
        assert!(one_wildcard("x-amz-*", "X-Amz-Date", true));
        assert!(!one_wildcard("ab*ba", "aba", false));
        assert!(validate(&[rule(&["*"], &["GET"], &[])]).is_ok());
        assert_eq!(
            validate(&[rule(&["*"], &["PATCH"], &[])]).unwrap_err().0,
            "InvalidRequest"
        );
        assert!(validate(&[rule(&["http://*.*.com"], &["GET"], &[])]).is_err());
        assert!(validate(&[rule(&["*"], &["GET"], &["a*b*"])]).is_err());
        assert!(validate(&[]).is_err());
        let mut expose = rule(&["*"], &["GET"], &[]);
        expose.expose_headers = vec!["*".into()];
        assert!(validate(&[expose]).is_err());
    }
}
