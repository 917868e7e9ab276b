//! What a request tells policies about itself: the global and S3 condition keys that come from
//! the request as it arrived (before s3s and [`crate::normalize`] take the signature apart),
//! noted once in [`S3Endpoint::call`](crate::endpoint::S3Endpoint::call) and turned into a
//! policy [`RequestContext`] only when a policy has to be evaluated.

use std::net::SocketAddr;

use wharf_auth::policy::RequestContext;

/// The client's address, set by the listener that accepted the connection.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// The condition keys of one request, from its head.
#[derive(Debug, Clone, Default)]
pub struct ConditionKeys {
    keys: Vec<(&'static str, String)>,
    tags: Vec<(String, String)>,
}

/// Request headers whose values are condition keys of the same name (`s3:x-amz-acl`).
const HEADER_KEYS: &[(&str, &str)] = &[
    ("x-amz-acl", "s3:x-amz-acl"),
    (
        "x-amz-server-side-encryption",
        "s3:x-amz-server-side-encryption",
    ),
    (
        "x-amz-server-side-encryption-aws-kms-key-id",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
    ),
    ("x-amz-content-sha256", "s3:x-amz-content-sha256"),
    ("x-amz-storage-class", "s3:x-amz-storage-class"),
    ("x-amz-copy-source", "s3:x-amz-copy-source"),
    ("x-amz-metadata-directive", "s3:x-amz-metadata-directive"),
    ("x-amz-grant-read", "s3:x-amz-grant-read"),
    ("x-amz-grant-write", "s3:x-amz-grant-write"),
    ("x-amz-grant-read-acp", "s3:x-amz-grant-read-acp"),
    ("x-amz-grant-write-acp", "s3:x-amz-grant-write-acp"),
    ("x-amz-grant-full-control", "s3:x-amz-grant-full-control"),
    ("x-amz-object-lock-mode", "s3:object-lock-mode"),
    (
        "x-amz-object-lock-retain-until-date",
        "s3:object-lock-retain-until-date",
    ),
    ("x-amz-object-lock-legal-hold", "s3:object-lock-legal-hold"),
    ("referer", "aws:Referer"),
    ("user-agent", "aws:UserAgent"),
];

/// Query parameters whose values are condition keys (`s3:prefix` on ListBucket).
const QUERY_KEYS: &[(&str, &str)] = &[
    ("prefix", "s3:prefix"),
    ("delimiter", "s3:delimiter"),
    ("max-keys", "s3:max-keys"),
    ("versionId", "s3:VersionId"),
];

impl ConditionKeys {
    /// Reads the keys from a request as it arrived.
    pub fn of(req: &http::Request<s3s::Body>) -> Self {
        let headers = req.headers();
        let mut keys: Vec<(&'static str, String)> = Vec::with_capacity(8);
        if let Some(ClientAddr(addr)) = req.extensions().get::<ClientAddr>() {
            keys.push(("aws:SourceIp", addr.ip().to_canonical().to_string()));
        }
        // The API listens over plain HTTP.
        keys.push(("aws:SecureTransport", "false".into()));
        for (header, key) in HEADER_KEYS {
            if let Some(v) = headers.get(*header).and_then(|v| v.to_str().ok()) {
                keys.push((key, v.to_owned()));
            }
        }
        let query: Vec<(String, String)> = req
            .uri()
            .query()
            .map(form_urlencoded_pairs)
            .unwrap_or_default();
        for (param, key) in QUERY_KEYS {
            if let Some((_, v)) = query.iter().find(|(n, _)| n == param) {
                keys.push((key, v.clone()));
            }
        }
        let presigned = query
            .iter()
            .find(|(n, _)| n == "X-Amz-Signature" || n == "Signature");
        let (auth_type, version) = if let Some((name, _)) = presigned {
            let v = if name == "Signature" {
                "AWS"
            } else {
                "AWS4-HMAC-SHA256"
            };
            (Some("REST-QUERY-STRING"), Some(v))
        } else if let Some(a) = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            let v = if a.starts_with("AWS4-") {
                "AWS4-HMAC-SHA256"
            } else {
                "AWS"
            };
            (Some("REST-HEADER"), Some(v))
        } else if req.method() == http::Method::POST
            && headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with("multipart/form-data"))
        {
            (Some("POST"), None)
        } else {
            (None, None)
        };
        if let Some(t) = auth_type {
            keys.push(("s3:authType", t.into()));
        }
        if let Some(v) = version {
            keys.push(("s3:signatureversion", v.into()));
        }
        let signed_at = query
            .iter()
            .find(|(n, _)| n == "X-Amz-Date")
            .map(|(_, v)| v.clone())
            .or_else(|| {
                headers
                    .get("x-amz-date")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            });
        if let Some(age) = signed_at.as_deref().and_then(signature_age_ms) {
            keys.push(("s3:signatureAge", age.to_string()));
        }
        let tags = headers
            .get("x-amz-tagging")
            .and_then(|v| v.to_str().ok())
            .map(form_urlencoded_pairs)
            .unwrap_or_default();
        ConditionKeys { keys, tags }
    }

    /// A policy context for `caller` doing `action` on `resource`, with these keys, the time,
    /// and the operation's own (`extra`).
    pub fn context(
        &self,
        caller: wharf_auth::policy::Caller,
        action: &str,
        resource: String,
        extra: &[(&'static str, String)],
    ) -> RequestContext {
        let mut ctx = RequestContext::new(caller, action, resource);
        for (k, v) in self.keys.iter().chain(extra) {
            ctx.set(k, v.clone());
        }
        let now = time::OffsetDateTime::now_utc();
        ctx.set("aws:EpochTime", now.unix_timestamp().to_string());
        if let Ok(t) = now.format(&time::format_description::well_known::Rfc3339) {
            ctx.set("aws:CurrentTime", t);
        }
        if !self.tags.is_empty() {
            for (k, v) in &self.tags {
                ctx.set(&format!("s3:RequestObjectTag/{k}"), v.clone());
            }
            ctx.set_all(
                "s3:RequestObjectTagKeys",
                self.tags.iter().map(|(k, _)| k.clone()).collect(),
            );
        }
        ctx
    }
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
        let keys = ConditionKeys::of(&req);
        let caller = wharf_auth::policy::Caller::Anonymous;
        let ctx = keys.context(caller, "s3:ListBucket", "arn:aws:s3:::b".into(), &[]);
        let one = |k: &str| ctx.get(k).map(|v| v[0].clone());
        assert_eq!(one("aws:SourceIp").as_deref(), Some("192.0.2.9"));
        assert_eq!(one("s3:prefix").as_deref(), Some("home/alice/"));
        assert_eq!(one("s3:max-keys").as_deref(), Some("10"));
        assert_eq!(one("s3:authType").as_deref(), Some("REST-QUERY-STRING"));
        assert_eq!(one("aws:UserAgent").as_deref(), Some("curl/8"));
        assert_eq!(
            one("s3:RequestObjectTag/Cost Center").as_deref(),
            Some("42")
        );
        assert_eq!(ctx.get("s3:RequestObjectTagKeys").unwrap().len(), 2);
        assert!(one("s3:signatureAge").is_some());
        assert!(one("aws:CurrentTime").is_some());
    }
}
