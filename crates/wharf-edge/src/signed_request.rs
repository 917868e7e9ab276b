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
use wharf_auth::sigv4::percent_decode;

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

/// Where each signing value sits in [`Credentials`] and in the two name lists.
const EXPIRES: usize = 0;
const POLICY: usize = 1;
const SIGNATURE: usize = 2;
const KEY_PAIR_ID: usize = 3;
const HASH_ALGORITHM: usize = 4;

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
    let key_id = creds.get(KEY_PAIR_ID).filter(|k| !k.is_empty());
    let key = keys
        .get(key_id.ok_or(Denial::MISSING_KEY)?)
        .ok_or(Denial::UNKNOWN_KEY)?;
    let hash = HashAlgorithm::from_name(creds.get(HASH_ALGORITHM)).ok_or(Denial::ACCESS_DENIED)?;
    let url = format!(
        "{}://{}{}{}{}",
        if req.https { "https" } else { "http" },
        req.host,
        req.path,
        if own_query.is_empty() { "" } else { "?" },
        own_query
    );
    let (statement, policy) = match (creds.get(POLICY), creds.get(EXPIRES)) {
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
            // The URL is inside the signed statement: a valid signature already binds it.
            let policy = SignedPolicy {
                resource: None,
                date_less_than: expires,
                date_greater_than: None,
                source_ip: None,
            };
            (statement.into_bytes(), policy)
        }
        (None, None) => return Err(Denial::MALFORMED_POLICY),
    };
    let signature = creds
        .get(SIGNATURE)
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
                    creds.values[i] = Some(Cow::Owned(
                        String::from_utf8_lossy(&percent_decode(value)).into_owned(),
                    ));
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
        assert_eq!(creds.get(EXPIRES), Some("9"));
        assert_eq!(creds.get(SIGNATURE), Some("a~b"));
        assert_eq!(creds.get(KEY_PAIR_ID), Some("K1"));
        assert_eq!(creds.get(HASH_ALGORITHM), Some("SHA256"));
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
            (
                c.get(EXPIRES),
                c.get(POLICY),
                c.get(SIGNATURE),
                c.get(KEY_PAIR_ID)
            ),
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
}
