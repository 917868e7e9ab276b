//! The edge's parsers of viewer and origin header values must never panic: Cache-Control and
//! CDN-Cache-Control, viewer Range (and its arithmetic against a size), path patterns,
//! Content-Range (to the last u64; seeds in fuzz/seeds), Vary, Accept-Encoding and Accept-Language normalisation, Age, invalidation
//! paths, HTTP dates (the fast reading against httpdate's).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_edge::cache_control::CacheControl;
use wharf_edge::path_pattern::PathPattern;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let _ = CacheControl::parse(s);
    if let Some(spec) = wharf_edge::range::parse(s) {
        for size in [0u64, 1, 1000, u64::MAX] {
            if let Ok(r) = spec.resolve(size) {
                assert!(r.start < r.end && r.end <= size);
            }
        }
        if let Some((start, end)) = spec.aligned(wharf_edge::cache::entry::CHUNK_SIZE) {
            assert!(end.is_none_or(|e| start < e));
        }
    }
    let (pat, path) = s.split_once('\n').unwrap_or((s, "/"));
    if let Some(p) = PathPattern::new(pat) {
        let _ = p.matches(path);
    }
    let _ = wharf_edge::cache::invalidation::valid_path(s);
    // The fast reading of HTTP dates answers as httpdate does.
    let slow = httpdate::parse_http_date(s)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok());
    assert_eq!(wharf_edge::freshness::parse_http_date(s), slow, "{s:?}");
    if let Ok(v) = http::HeaderValue::from_str(s) {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::CONTENT_RANGE, v.clone());
        h.insert(http::header::VARY, v.clone());
        h.insert(http::header::ACCEPT_ENCODING, v.clone());
        h.insert(http::header::CACHE_CONTROL, v.clone());
        h.insert(http::header::AGE, v.clone());
        h.insert(http::header::EXPIRES, v.clone());
        h.insert(wharf_edge::freshness::CDN_CACHE_CONTROL.clone(), v);
        let _ = wharf_edge::freshness::directives(&h);
        let _ = wharf_edge::cache_key::field_value(&h, "vary");
        if let Some((a, b, total)) = wharf_edge::cache::parse_content_range(&h) {
            // What the fill computes from it must not overflow.
            assert!(a <= b && b.checked_add(1).is_some() && total.is_none_or(|t| b < t));
        }
        let _ = wharf_edge::freshness::vary_names(&h);
        let _ = wharf_edge::freshness::current_age(&h, 0, 10, i64::MAX);
        let _ = wharf_edge::cache_key::cookies(&h);
        let _ = wharf_edge::freshness::age_value(&h);
        h.insert(http::header::ACCEPT_LANGUAGE, h[http::header::AGE].clone());
        if let Some(n) = wharf_edge::cache_key::normalized_accept_language(&h) {
            // Normalising is idempotent.
            let mut again = http::HeaderMap::new();
            if let Ok(v) = http::HeaderValue::from_str(&n) {
                again.insert(http::header::ACCEPT_LANGUAGE, v);
                assert_eq!(wharf_edge::cache_key::normalized_accept_language(&again), Some(n.clone()));
            }
            let _ = wharf_edge::cache_key::preferred_language(&n);
        }
    }
});
