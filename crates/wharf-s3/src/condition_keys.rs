//! What a request tells policies about itself: the global and S3 condition keys that come from
//! the request as it arrived (before s3s and [`crate::normalize`] take the signature apart).
//! [`S3Endpoint::call`](crate::endpoint::S3Endpoint::call) notes the few values that need the
//! raw request in one pass over its head; a policy reads a key only when a condition or a
//! variable names it ([`KeySource`]), so a request no condition looks at pays for nothing else.

use std::net::SocketAddr;
use std::sync::Arc;

use wharf_auth::policy::{Caller, KeySource, RequestContext};

/// The client's address, set by the listener that accepted the connection.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// The condition keys of one request, from its head (names as policies normalise them:
/// lowercase).
#[derive(Debug, Clone, Default)]
pub struct ConditionKeys {
    keys: Vec<(&'static str, String)>,
    tags: Vec<(String, String)>,
}

/// The condition key a request header gives (`s3:x-amz-acl`), by header name.
fn header_key(name: &str) -> Option<&'static str> {
    Some(match name {
        "x-amz-acl" => "s3:x-amz-acl",
        "x-amz-server-side-encryption" => "s3:x-amz-server-side-encryption",
        "x-amz-server-side-encryption-aws-kms-key-id" => {
            "s3:x-amz-server-side-encryption-aws-kms-key-id"
        }
        "x-amz-content-sha256" => "s3:x-amz-content-sha256",
        "x-amz-storage-class" => "s3:x-amz-storage-class",
        "x-amz-copy-source" => "s3:x-amz-copy-source",
        "x-amz-metadata-directive" => "s3:x-amz-metadata-directive",
        "x-amz-grant-read" => "s3:x-amz-grant-read",
        "x-amz-grant-write" => "s3:x-amz-grant-write",
        "x-amz-grant-read-acp" => "s3:x-amz-grant-read-acp",
        "x-amz-grant-write-acp" => "s3:x-amz-grant-write-acp",
        "x-amz-grant-full-control" => "s3:x-amz-grant-full-control",
        "x-amz-object-lock-mode" => "s3:object-lock-mode",
        "x-amz-object-lock-retain-until-date" => "s3:object-lock-retain-until-date",
        "x-amz-object-lock-legal-hold" => "s3:object-lock-legal-hold",
        "referer" => "aws:referer",
        "user-agent" => "aws:useragent",
        _ => return None,
    })
}

/// The condition key a query parameter gives (`s3:prefix` on ListBucket).
fn query_key(name: &str) -> Option<&'static str> {
    Some(match name {
        "prefix" => "s3:prefix",
        "delimiter" => "s3:delimiter",
        "max-keys" => "s3:max-keys",
        "versionId" => "s3:versionid",
        _ => return None,
    })
}

impl ConditionKeys {
    /// Reads the keys from a request as it arrived.
    pub fn of(req: &http::Request<s3s::Body>) -> Self {
        let mut keys: Vec<(&'static str, String)> = Vec::with_capacity(8);
        if let Some(ClientAddr(addr)) = req.extensions().get::<ClientAddr>() {
            keys.push(("aws:sourceip", addr.ip().to_canonical().to_string()));
        }
        let mut tags = Vec::new();
        let mut auth_header = None;
        let mut signed_at = None;
        let mut form = false;
        for (name, value) in req.headers() {
            let Ok(v) = value.to_str() else { continue };
            match name.as_str() {
                "authorization" => auth_header = Some(v.starts_with("AWS4-")),
                "x-amz-date" => signed_at = Some(v.to_owned()),
                "x-amz-tagging" => tags = form_urlencoded_pairs(v),
                "content-type" => form = v.starts_with("multipart/form-data"),
                n => {
                    if let Some(key) = header_key(n) {
                        keys.push((key, v.to_owned()));
                    }
                }
            }
        }
        let mut presigned = None;
        if let Some(q) = req.uri().query() {
            for (name, value) in form_urlencoded::parse(q.as_bytes()) {
                match name.as_ref() {
                    "X-Amz-Signature" => presigned = Some("AWS4-HMAC-SHA256"),
                    "Signature" => presigned = Some("AWS"),
                    "X-Amz-Date" => signed_at = Some(value.into_owned()),
                    n => {
                        if let Some(key) = query_key(n) {
                            keys.push((key, value.into_owned()));
                        }
                    }
                }
            }
        }
        let (auth_type, version) = match (presigned, auth_header) {
            (Some(v), _) => (Some("REST-QUERY-STRING"), Some(v)),
            (None, Some(true)) => (Some("REST-HEADER"), Some("AWS4-HMAC-SHA256")),
            (None, Some(false)) => (Some("REST-HEADER"), Some("AWS")),
            (None, None) if form && req.method() == http::Method::POST => (Some("POST"), None),
            (None, None) => (None, None),
        };
        if let Some(t) = auth_type {
            keys.push(("s3:authtype", t.into()));
        }
        if let Some(v) = version {
            keys.push(("s3:signatureversion", v.into()));
        }
        if let Some(date) = signed_at {
            // Kept as the date; the age is worked out when a condition asks.
            keys.push(("x-wharf:signed-at", date));
        }
        ConditionKeys { keys, tags }
    }

    /// A policy context for `caller` doing `action` on `resource`, with these keys and the
    /// operation's own (`extra`).
    pub fn context(
        self: &Arc<Self>,
        caller: Caller,
        action: &str,
        resource: String,
        extra: &[(&'static str, String)],
    ) -> RequestContext {
        let mut ctx = RequestContext::new(caller, action, resource).with_source(self.clone());
        for (k, v) in extra {
            ctx.set(k, v.clone());
        }
        ctx
    }
}

impl KeySource for ConditionKeys {
    fn values(&self, key: &str) -> Option<Vec<String>> {
        if let Some((_, v)) = self.keys.iter().find(|(k, _)| *k == key) {
            return Some(vec![v.clone()]);
        }
        match key {
            // The API listens over plain HTTP.
            "aws:securetransport" => Some(vec!["false".into()]),
            "aws:currenttime" => Some(vec![current_time().1]),
            "aws:epochtime" => Some(vec![current_time().0.to_string()]),
            "s3:signatureage" => {
                let (_, at) = self.keys.iter().find(|(k, _)| *k == "x-wharf:signed-at")?;
                Some(vec![signature_age_ms(at)?.to_string()])
            }
            "s3:requestobjecttagkeys" if !self.tags.is_empty() => {
                Some(self.tags.iter().map(|(k, _)| k.clone()).collect())
            }
            _ => {
                let tag = key.strip_prefix("s3:requestobjecttag/")?;
                let (_, v) = self.tags.iter().find(|(k, _)| k == tag)?;
                Some(vec![v.clone()])
            }
        }
    }
}

/// The time in seconds and as ISO 8601, formatted once a second.
fn current_time() -> (i64, String) {
    static NOW: std::sync::Mutex<(i64, String)> = std::sync::Mutex::new((0, String::new()));
    let now = time::OffsetDateTime::now_utc();
    let secs = now.unix_timestamp();
    if let Ok(cached) = NOW.lock()
        && cached.0 == secs
    {
        return cached.clone();
    }
    let text = now
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    if let Ok(mut cached) = NOW.lock() {
        *cached = (secs, text.clone());
    }
    (secs, text)
}

/// `a=1&b=%2F` as decoded pairs.
fn form_urlencoded_pairs(q: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

/// Milliseconds since an `x-amz-date` (`20261203T101500Z`).
fn signature_age_ms(date: &str) -> Option<i64> {
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let at = time::PrimitiveDateTime::parse(date, &fmt)
        .ok()?
        .assume_utc();
    let age = time::OffsetDateTime::now_utc() - at;
    Some(age.whole_milliseconds().max(0) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_from_a_presigned_list_request() {
        let mut req = http::Request::builder()
            .method("GET")
            .uri("/b?list-type=2&prefix=home%2Falice%2F&max-keys=10&X-Amz-Date=20261203T101500Z&X-Amz-Signature=ab")
            .header("user-agent", "curl/8")
            .header("x-amz-tagging", "Project=Blue&Cost%20Center=42")
            .body(s3s::Body::empty())
            .unwrap();
        req.extensions_mut()
            .insert(ClientAddr("192.0.2.9:4000".parse().unwrap()));
        let keys = Arc::new(ConditionKeys::of(&req));
        let ctx = keys.context(
            Caller::Anonymous,
            "s3:ListBucket",
            "arn:aws:s3:::b".into(),
            &[],
        );
        let one = |k: &str| ctx.get(k).map(|v| v[0].clone());
        assert_eq!(one("aws:SourceIp").as_deref(), Some("192.0.2.9"));
        assert_eq!(one("s3:prefix").as_deref(), Some("home/alice/"));
        assert_eq!(one("s3:max-keys").as_deref(), Some("10"));
        assert_eq!(one("s3:authType").as_deref(), Some("REST-QUERY-STRING"));
        assert_eq!(one("aws:UserAgent").as_deref(), Some("curl/8"));
        assert_eq!(one("aws:SecureTransport").as_deref(), Some("false"));
        assert_eq!(
            one("s3:RequestObjectTag/Cost Center").as_deref(),
            Some("42")
        );
        assert_eq!(ctx.get("s3:RequestObjectTagKeys").unwrap().len(), 2);
        assert!(one("s3:signatureAge").is_some());
        assert!(one("aws:CurrentTime").is_some());
        assert_eq!(one("aws:PrincipalType").as_deref(), Some("Anonymous"));
        assert_eq!(one("aws:username"), None);
    }
}
