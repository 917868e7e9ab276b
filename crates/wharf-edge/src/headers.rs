//! The response headers a CloudFront user expects (`X-Cache`, `Via`, `X-Amz-Cf-Id`,
//! `X-Amz-Cf-Pop`, `Age`), and the header hygiene of a proxy (hop-by-hop fields).

use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue};

pub static X_CACHE: HeaderName = HeaderName::from_static("x-cache");
pub static X_AMZ_CF_ID: HeaderName = HeaderName::from_static("x-amz-cf-id");
pub static X_AMZ_CF_POP: HeaderName = HeaderName::from_static("x-amz-cf-pop");
pub static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// What the cache did for a request; the same value goes to `X-Cache`, logs and metrics.
/// CloudFront's result type of a request (`X-Cache`, the logs' `x-edge-result-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CacheStatus {
    Hit,
    RefreshHit,
    #[default]
    Miss,
    Error,
    /// Not cacheable by behavior or method: CloudFront still says "Miss".
    Pass,
    /// An HTTP request redirected to HTTPS by the viewer protocol policy.
    Redirect,
    /// A viewer-request CloudFront Function answered the request itself.
    FunctionGenerated,
}

impl CacheStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "Hit from cloudfront",
            Self::RefreshHit => "RefreshHit from cloudfront",
            Self::Miss | Self::Pass => "Miss from cloudfront",
            Self::Error => "Error from cloudfront",
            Self::Redirect => "Redirect from cloudfront",
            Self::FunctionGenerated => "FunctionGeneratedResponse from cloudfront",
        }
    }
}

/// RFC 9110 §7.6.1: fields that apply to one connection only, never forwarded or stored.
pub fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// Removes hop-by-hop fields, including those `Connection` names.
pub fn strip_hop_by_hop(h: &mut HeaderMap) {
    let named: Vec<HeaderName> = h
        .get_all(header::CONNECTION)
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split(',')
                .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
                .collect::<Vec<_>>()
        })
        .collect();
    for n in named {
        h.remove(n);
    }
    let hop: Vec<HeaderName> = h.keys().filter(|n| is_hop_by_hop(n)).cloned().collect();
    for n in hop {
        h.remove(n);
    }
}

/// A request ID in CloudFront's shape: 56 characters of URL-safe base64.
///
/// The bits come from SipHash, keyed with OS randomness once per thread, over a per-thread
/// counter: unpredictable without the key and never repeated, and unlike asking the OS for
/// every request, no system call.
pub fn new_request_id() -> String {
    use std::hash::BuildHasher;
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    thread_local! {
        static KEY: (std::hash::RandomState, std::cell::Cell<u64>) =
            (std::hash::RandomState::new(), std::cell::Cell::new(0));
    }
    let mut raw = [0u8; 48];
    KEY.with(|(key, counter)| {
        let n = counter.get();
        counter.set(n.wrapping_add(1));
        for (i, word) in raw.chunks_mut(8).enumerate() {
            word.copy_from_slice(&key.hash_one((n, i)).to_le_bytes());
        }
    });
    let mut out = String::with_capacity(56);
    for c in raw[..42].chunks(3) {
        let n = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
        for shift in [18, 12, 6, 0] {
            out.push(ALPHABET[((n >> shift) & 63) as usize] as char);
        }
    }
    out
}

/// Adds the CloudFront response headers.
pub fn decorate(
    h: &mut HeaderMap,
    status: CacheStatus,
    request_id: &str,
    pop: &str,
    via: &HeaderValue,
) {
    h.insert(X_CACHE.clone(), HeaderValue::from_static(status.as_str()));
    h.append(header::VIA, via.clone());
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert(X_AMZ_CF_ID.clone(), v);
    }
    if let Ok(v) = HeaderValue::from_str(pop) {
        h.insert(X_AMZ_CF_POP.clone(), v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_look_like_cloudfronts() {
        let a = new_request_id();
        assert_eq!(a.len(), 56);
        assert_ne!(a, new_request_id());
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }

    #[test]
    fn hop_by_hop_fields_go() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("close, x-private"),
        );
        h.insert("x-private", HeaderValue::from_static("1"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert(header::ETAG, HeaderValue::from_static("\"a\""));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
    }
}
