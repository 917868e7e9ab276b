//! Signed URLs and cookies come straight from viewers: the policy reader, the wildcard
//! matcher, address ranges, CloudFront's base64, public key PEM and the whole check of a
//! request must never panic, and a request without a valid signature never passes.
#![no_main]

use std::collections::HashMap;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use wharf_auth::cloudfront_signature::{PublicKey, SignedPolicy, SourceIp, decode_url_safe_base64};
use wharf_edge::signed_request::{SignedRequest, check};
use wharf_model::cloudfront::wildcard_matches;

const RSA_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAvAT3vj8Mgw2N8Nir5pXH\n3Q9Yr2tBMfj4mHbL2ty4hRsDlGaPZGjP+iQxPhmhq7m08zq1BxY6jPoZpHANxksf\nZoFRoRjaGR3qlAu2kASHgK/t2mjeInfC96C56lQlLm40tYJEPyLvNUvN2i5BN770\nk2k43wXJndF/hOc2FTbQ+3s0IXqE6DQkpFc2knqRG4n3vJp2TynZQmcw+BeQJakd\nAllkrkGrSYObmXOfO9yQFnVZE3irZ4+NqriNpn4FPXuA+ghI+2ZaHI5Fh8XBjlXr\npx8+FcJi1Yfp7FrvXvvt03Dt3G2tRO/YxW62M6aXVla26FPzbnm+90CskR7DNMUg\nKQIDAQAB\n-----END PUBLIC KEY-----";
const EC_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE45AYtKiG4rSjqxMJ/nmXrVUomtQI\nNHRGU6koYfvTat0t/jjaB1ENytIxXJMpM7fNmbla+GSxvyb7mk3IbwBxlQ==\n-----END PUBLIC KEY-----";

fuzz_target!(|data: &[u8]| {
    let _ = SignedPolicy::parse(data);
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = decode_url_safe_base64(s);
    let _ = PublicKey::from_pem(s);
    if let Some(r) = SourceIp::parse(s) {
        let _ = r.contains(std::net::Ipv4Addr::LOCALHOST.into());
        let _ = r.contains(std::net::Ipv6Addr::LOCALHOST.into());
    }
    let (pattern, text) = s.split_once('\n').unwrap_or((s, ""));
    let _ = wildcard_matches(pattern, text);
    let (query, cookie) = s.split_once('\n').unwrap_or((s, ""));
    let mut headers = http::HeaderMap::new();
    if let Ok(v) = http::HeaderValue::from_str(cookie) {
        headers.insert(http::header::COOKIE, v);
    }
    let keys: HashMap<String, Arc<PublicKey>> = [("KRSA", RSA_PUBLIC), ("KEC", EC_PUBLIC)]
        .into_iter()
        .map(|(id, pem)| (id.to_owned(), Arc::new(PublicKey::from_pem(pem).unwrap())))
        .collect();
    let req = SignedRequest {
        https: false,
        host: "d1.localhost",
        path: "/a",
        query: Some(query),
        headers: &headers,
        viewer: None,
        now: 0,
    };
    // Nobody holds the private keys, so nothing the fuzzer writes may pass.
    assert!(check(&keys, &req).is_err());
});
