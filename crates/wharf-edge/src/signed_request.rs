//! Signed URLs and signed cookies on a cache behavior with `TrustedKeyGroups`, checked as
//! CloudFront checks them.
//!
//! The signing values come from the query when it carries any of them (`Expires`, `Policy`,
//! `Signature`, `Key-Pair-Id`, `Hash-Algorithm`), else from the `CloudFront-*` cookies. A
//! canned policy (`Expires`) covers exactly the URL requested; a custom one (`Policy`) carries
//! its own statement. The URL a policy is matched against is the one the viewer asked for
//! (scheme, `Host`, path and its own query parameters in their order), without the signing
//! parameters. Those are removed before the cache key and the origin see the query, as
//! CloudFront does.

use std::borrow::Cow;
use std::net::IpAddr;

use http::{HeaderMap, header};
use wharf_auth::cloudfront_signature::{
    HashAlgorithm, Refusal, SignedPolicy, decode_url_safe_base64,
};

use crate::distribution::TrustedKeys;

/// Why CloudFront refuses a request: its 403 error's `Code` and `Message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denial {
    pub code: &'static str,
    pub message: &'static str,
}

impl Denial {
    pub const MISSING_KEY: Self = Self {
        code: "MissingKey",
        message: "Missing Key-Pair-Id query parameter or cookie value",
    };
    pub const UNKNOWN_KEY: Self = Self {
        code: "InvalidKey",
        message: "Unknown Key",
    };
    pub const MALFORMED_POLICY: Self = Self {
        code: "MalformedPolicy",
        message: "Malformed Policy",
    };
    pub const ACCESS_DENIED: Self = Self {
        code: "AccessDenied",
        message: "Access denied",
    };
}

impl From<Refusal> for Denial {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::MalformedPolicy => Self::MALFORMED_POLICY,
            Refusal::AccessDenied => Self::ACCESS_DENIED,
        }
    }
}

/// The query parameters of a signed URL, in the order of the values in [`Credentials`].
const QUERY_NAMES: [&str; 5] = [
    "Expires",
    "Policy",
    "Signature",
    "Key-Pair-Id",
    "Hash-Algorithm",
];
/// The cookies of signed cookies, in the same order.
const COOKIE_NAMES: [&str; 5] = [
    "CloudFront-Expires",
    "CloudFront-Policy",
    "CloudFront-Signature",
    "CloudFront-Key-Pair-Id",
    "CloudFront-Hash-Algorithm",
];

/// The signing values of one request, wherever they came from.
#[derive(Debug, Default)]
struct Credentials<'a> {
    /// Expires, Policy, Signature, Key-Pair-Id, Hash-Algorithm.
    values: [Option<Cow<'a, str>>; 5],
}

impl Credentials<'_> {
    fn get(&self, i: usize) -> Option<&str> {
        self.values[i].as_deref()
    }
}

/// The request as the check sees it.
pub struct SignedRequest<'a> {
    pub https: bool,
    /// `Host` as the viewer sent it.
    pub host: &'a str,
    /// The path as requested, percent-encoding kept.
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub viewer: Option<IpAddr>,
    /// Unix seconds.
    pub now: i64,
}

/// Checks a request against the keys a behavior trusts. On success, the query to use from
/// now on: the viewer's own parameters without the signing ones.
pub fn check(keys: &TrustedKeys, req: &SignedRequest<'_>) -> Result<Option<String>, Denial> {
    let (own_query, creds) = split_query(req.query);
    let creds = match creds {
        Some(c) => c,
        None => from_cookies(req.headers),
    };
    let key_id = creds.get(3).filter(|k| !k.is_empty());
    let key = keys
        .get(key_id.ok_or(Denial::MISSING_KEY)?)
        .ok_or(Denial::UNKNOWN_KEY)?;
    let hash = HashAlgorithm::from_name(creds.get(4)).ok_or(Denial::ACCESS_DENIED)?;
    let url = format!(
        "{}://{}{}{}{}",
        if req.https { "https" } else { "http" },
        req.host,
        req.path,
        if own_query.is_empty() { "" } else { "?" },
        own_query
    );
    let (statement, policy) = match (creds.get(1), creds.get(0)) {
        (Some(encoded), _) => {
            let json = decode_url_safe_base64(encoded).ok_or(Denial::MALFORMED_POLICY)?;
            let policy = SignedPolicy::parse(&json)?;
            (json, policy)
        }
        (None, Some(expires)) => {
            let expires: i64 = expires
                .parse()
                .ok()
                .filter(|_| expires.bytes().all(|b| b.is_ascii_digit()))
                .ok_or(Denial::MALFORMED_POLICY)?;
            let statement = SignedPolicy::canned_statement(&url, expires);
            let policy = SignedPolicy {
                resource: Some(url.clone()),
                date_less_than: expires,
                date_greater_than: None,
                source_ip: None,
            };
            (statement.into_bytes(), policy)
        }
        (None, None) => return Err(Denial::MALFORMED_POLICY),
    };
    let signature = creds
        .get(2)
        .and_then(decode_url_safe_base64)
        .ok_or(Denial::ACCESS_DENIED)?;
    if !key.verifies(&statement, &signature, hash) {
        return Err(Denial::ACCESS_DENIED);
    }
    policy.permits(&url, req.now, req.viewer)?;
    Ok(Some(own_query).filter(|q| !q.is_empty()))
}

/// The viewer's own query parameters (order kept) and, when the query carries any signing
/// parameter, the signing values (percent-decoded).
fn split_query(query: Option<&str>) -> (String, Option<Credentials<'static>>) {
    let Some(query) = query else {
        return (String::new(), None);
    };
    let mut own = Vec::new();
    let mut creds = Credentials::default();
    let mut signed = false;
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match QUERY_NAMES.iter().position(|n| *n == name) {
            Some(i) => {
                signed = true;
                if creds.values[i].is_none() {
                    creds.values[i] = Some(Cow::Owned(percent_decode(value)));
                }
            }
            None => own.push(pair),
        }
    }
    (own.join("&"), signed.then_some(creds))
}

fn from_cookies(h: &HeaderMap) -> Credentials<'_> {
    let mut creds = Credentials::default();
    for c in h
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
    {
        let Some((name, value)) = c.trim().split_once('=') else {
            continue;
        };
        if let Some(i) = COOKIE_NAMES.iter().position(|n| *n == name)
            && creds.values[i].is_none()
        {
            creds.values[i] = Some(Cow::Borrowed(value.trim_matches('"')));
        }
    }
    creds
}

/// `%XX` escapes decoded (a signature's `~` may arrive as `%7E`); anything malformed is kept
/// as it came and fails verification later.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|&c| hex(c)),
                b.get(i + 2).and_then(|&c| hex(c)),
            )
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(0));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_parameters_are_split_from_the_viewers_own() {
        let (own, creds) = split_query(Some(
            "color=red&Expires=9&size=l&Signature=a%7Eb&Key-Pair-Id=K1&Hash-Algorithm=SHA256",
        ));
        let creds = creds.unwrap();
        assert_eq!(own, "color=red&size=l");
        assert_eq!(creds.get(0), Some("9"));
        assert_eq!(creds.get(2), Some("a~b"));
        assert_eq!(creds.get(3), Some("K1"));
        assert_eq!(creds.get(4), Some("SHA256"));
        let (own, creds) = split_query(Some("a=1&expires=2"));
        assert_eq!(own, "a=1&expires=2");
        assert!(creds.is_none());
    }

    #[test]
    fn cookies_are_read_when_the_query_has_no_signature() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            "a=b; CloudFront-Policy=P; CloudFront-Signature=S"
                .parse()
                .unwrap(),
        );
        h.append(header::COOKIE, "CloudFront-Key-Pair-Id=K".parse().unwrap());
        let c = from_cookies(&h);
        assert_eq!(
            (c.get(0), c.get(1), c.get(2), c.get(3)),
            (None, Some("P"), Some("S"), Some("K"))
        );
    }

    fn request<'a>(query: Option<&'a str>, headers: &'a HeaderMap) -> SignedRequest<'a> {
        SignedRequest {
            https: false,
            host: "d1.localhost",
            path: "/a.txt",
            query,
            headers,
            viewer: None,
            now: 100,
        }
    }

    #[test]
    fn refusals_in_cloudfronts_order() {
        let h = HeaderMap::new();
        let keys = TrustedKeys::new();
        assert_eq!(check(&keys, &request(None, &h)), Err(Denial::MISSING_KEY));
        assert_eq!(
            check(&keys, &request(Some("Expires=200&Signature=AA__"), &h)),
            Err(Denial::MISSING_KEY)
        );
        assert_eq!(
            check(&keys, &request(Some("Expires=200&Key-Pair-Id=K9"), &h)),
            Err(Denial::UNKNOWN_KEY)
        );
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%7Eb%7e"), "a~b~");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
