use super::*;
use crate::policy::Selection;
use http::HeaderValue;

fn policy(min: u64, default: u64, max: u64) -> CachePolicy {
    CachePolicy {
        min_ttl: min,
        default_ttl: default,
        max_ttl: max,
        gzip: false,
        brotli: false,
        query_strings: Selection::None,
        headers: Selection::None,
        cookies: Selection::None,
    }
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (n, v) in pairs {
        h.append(
            HeaderName::from_bytes(n.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

const NOW: i64 = 1_784_000_000;
fn date(t: i64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(t as u64))
}

#[test]
fn cloudfront_clamps_explicit_lifetimes() {
    let ok = StatusCode::OK;
    let p = policy(60, 3600, 7200);
    let life = |h: &HeaderMap| freshness(ok, h, &p, None, NOW).lifetime;
    assert_eq!(life(&headers(&[("cache-control", "max-age=10")])), 60);
    assert_eq!(life(&headers(&[("cache-control", "max-age=100")])), 100);
    assert_eq!(life(&headers(&[("cache-control", "max-age=99999")])), 7200);
    assert_eq!(life(&headers(&[])), 3600);
    // s-maxage wins over max-age for a shared cache.
    assert_eq!(
        life(&headers(&[("cache-control", "max-age=100, s-maxage=200")])),
        200
    );
    // With MinTTL > 0, no-cache/no-store/private are cached for MinTTL.
    assert_eq!(life(&headers(&[("cache-control", "no-store")])), 60);
    let zero = policy(0, 0, 7200);
    let h = headers(&[("cache-control", "no-cache, max-age=100")]);
    assert_eq!(freshness(ok, &h, &zero, None, NOW).lifetime, 0);
}

#[test]
fn expires_and_date() {
    let p = policy(0, 0, 1_000_000);
    let h = headers(&[("date", &date(NOW)), ("expires", &date(NOW + 300))]);
    assert_eq!(freshness(StatusCode::OK, &h, &p, None, NOW).lifetime, 300);
    // An invalid Expires means already expired.
    let h = headers(&[("date", &date(NOW)), ("expires", "0")]);
    assert_eq!(freshness(StatusCode::OK, &h, &p, None, NOW).lifetime, 0);
    // max-age beats Expires.
    let h = headers(&[
        ("expires", &date(NOW + 300)),
        ("cache-control", "max-age=5"),
    ]);
    assert_eq!(freshness(StatusCode::OK, &h, &p, None, NOW).lifetime, 5);
    // CDN-Cache-Control beats Cache-Control.
    let h = headers(&[
        ("cache-control", "max-age=5"),
        ("cdn-cache-control", "max-age=500"),
    ]);
    assert_eq!(freshness(StatusCode::OK, &h, &p, None, NOW).lifetime, 500);
}

#[test]
fn heuristic_needs_last_modified_and_a_heuristic_status() {
    let p = policy(0, 0, 1_000_000);
    let h = headers(&[("date", &date(NOW)), ("last-modified", &date(NOW - 10_000))]);
    assert_eq!(freshness(StatusCode::OK, &h, &p, None, NOW).lifetime, 1000);
    assert_eq!(
        freshness(StatusCode::NOT_FOUND, &h, &p, None, NOW).lifetime,
        1000
    );
    assert_eq!(freshness(StatusCode::FOUND, &h, &p, None, NOW).lifetime, 0);
    // `public` makes any status explicitly cacheable, so heuristics apply to it too.
    let mut public = h.clone();
    public.insert("cache-control", HeaderValue::from_static("public"));
    let unknown = StatusCode::from_u16(599).unwrap();
    assert_eq!(freshness(unknown, &public, &p, None, NOW).lifetime, 1000);
    assert_eq!(freshness(unknown, &h, &p, None, NOW).lifetime, 0);
}

#[test]
fn age_follows_rfc_9111_4_2_3() {
    // Received 10 s after Date, with Age: 30, a 2 s round trip, stored 5 s ago.
    let h = headers(&[("date", &date(NOW - 15)), ("age", "30")]);
    assert_eq!(current_age(&h, NOW - 7, NOW - 5, NOW), 30 + 2 + 5);
    // Apparent age dominates when larger.
    let h = headers(&[("date", &date(NOW - 100))]);
    assert_eq!(current_age(&h, NOW - 5, NOW - 5, NOW), 95 + 5);
    // A garbage Age is ignored.
    let h = headers(&[("age", "abc")]);
    assert_eq!(current_age(&h, NOW, NOW, NOW + 3), 3);
}

#[test]
fn age_is_read_as_the_current_cache_tests_suite_reads_it() {
    let age = |lines: &[&str]| {
        let pairs: Vec<(&str, &str)> = lines.iter().map(|l| ("age", *l)).collect();
        age_value(&headers(&pairs))
    };
    assert_eq!(age(&[]), 0);
    assert_eq!(age(&["10"]), 10);
    assert_eq!(age(&[" 10 "]), 10);
    // Not a non-negative integer: ignored, as if absent.
    for bad in ["abc", "-7200", "7200.0", ""] {
        assert_eq!(age(&[bad]), 0, "Age: {bad:?}");
    }
    // A list, or several lines: the first value counts.
    assert_eq!(age(&["7200, 0"]), 7200);
    assert_eq!(age(&["7200,0"]), 7200);
    assert_eq!(age(&["0, 7200"]), 0);
    assert_eq!(age(&["0, 0"]), 0);
    assert_eq!(age(&["7200", "0"]), 7200);
    assert_eq!(age(&["0", "7200"]), 0);
    // A parameter after the number is dropped.
    assert_eq!(age(&["7200;foo=bar"]), 7200);
    // Too large to hold: 2^31 (RFC 9111 §1.2.2); 2^31 - 1 is old too.
    assert_eq!(age(&["99999999999999999999999"]), 1 << 31);
    assert_eq!(age(&["2147483647"]), 2_147_483_647);
    // The lifetime does not depend on Age; the age does.
    let p = policy(0, 0, 31_536_000);
    let h = headers(&[("cache-control", "max-age=3600"), ("age", "abc")]);
    assert_eq!(freshness(StatusCode::OK, &h, &p, None, NOW).lifetime, 3600);
    assert_eq!(current_age(&h, NOW, NOW, NOW), 0);
}

#[test]
fn storability() {
    let get = Method::GET;
    let p = policy(0, 86_400, 1_000_000);
    let ok = StatusCode::OK;
    assert!(storable(&get, false, ok, &headers(&[]), &p, None, NOW).is_ok());
    assert_eq!(
        storable(
            &get,
            false,
            ok,
            &headers(&[("cache-control", "no-store")]),
            &p,
            None,
            NOW
        ),
        Err(NoCacheReason::NoStore)
    );
    assert_eq!(
        storable(
            &get,
            false,
            ok,
            &headers(&[("cache-control", "private")]),
            &p,
            None,
            NOW
        ),
        Err(NoCacheReason::Private)
    );
    assert_eq!(
        storable(
            &get,
            false,
            ok,
            &headers(&[("vary", "Accept, *")]),
            &p,
            None,
            NOW
        ),
        Err(NoCacheReason::VaryStar)
    );
    assert_eq!(
        storable(
            &get,
            true,
            ok,
            &headers(&[("cache-control", "max-age=60")]),
            &p,
            None,
            NOW
        ),
        Err(NoCacheReason::Authorization)
    );
    assert!(
        storable(
            &get,
            true,
            ok,
            &headers(&[("cache-control", "s-maxage=60")]),
            &p,
            None,
            NOW
        )
        .is_ok()
    );
    assert_eq!(
        storable(&Method::POST, false, ok, &headers(&[]), &p, None, NOW),
        Err(NoCacheReason::Method)
    );
    assert_eq!(
        storable(
            &get,
            false,
            StatusCode::INTERNAL_SERVER_ERROR,
            &headers(&[]),
            &p,
            None,
            NOW
        ),
        Err(NoCacheReason::Status)
    );
    assert!(
        storable(
            &get,
            false,
            StatusCode::INTERNAL_SERVER_ERROR,
            &headers(&[]),
            &p,
            Some(10),
            NOW
        )
        .is_ok()
    );
    assert!(
        storable(
            &get,
            false,
            StatusCode::FOUND,
            &headers(&[("cache-control", "max-age=5")]),
            &p,
            None,
            NOW
        )
        .is_ok()
    );
    assert_eq!(
        storable(&get, false, ok, &headers(&[]), &policy(0, 0, 0), None, NOW),
        Err(NoCacheReason::PolicyDisabled)
    );
}

#[test]
fn errors_are_cached_as_cloudfront_documents() {
    let get = Method::GET;
    let p = policy(300, 86_400, 3_600);
    let bare = headers(&[]);
    let s = |code: u16| StatusCode::from_u16(code).unwrap();
    // Which codes CloudFront caches as errors.
    for code in [404, 405, 414, 500, 501, 502, 503, 504] {
        assert!(cached_error(s(code), &bare), "{code}");
    }
    for code in [400, 403, 412, 415] {
        assert!(!cached_error(s(code), &bare), "{code}");
        assert!(cached_error(
            s(code),
            &headers(&[("cache-control", "max-age=5")])
        ));
        assert!(cached_error(
            s(code),
            &headers(&[("cache-control", "s-maxage=5")])
        ));
    }
    for code in [410, 416, 429, 505] {
        assert!(!cached_error(
            s(code),
            &headers(&[("cache-control", "max-age=5")])
        ));
    }
    // A bare 503 is cached for the error caching minimum TTL, not the policy's MinTTL.
    assert!(storable(&get, false, s(503), &bare, &p, Some(10), NOW).is_ok());
    assert_eq!(freshness(s(503), &bare, &p, Some(10), NOW).lifetime, 10);
    // The origin's lifetime counts when longer, capped by MaxTTL; never below the minimum.
    let long = headers(&[("cache-control", "max-age=600")]);
    assert_eq!(freshness(s(404), &long, &p, Some(10), NOW).lifetime, 600);
    let longer = headers(&[("cache-control", "max-age=86400")]);
    assert_eq!(
        freshness(s(404), &longer, &p, Some(10), NOW).lifetime,
        3_600
    );
    let short = headers(&[("cache-control", "s-maxage=2")]);
    assert_eq!(freshness(s(500), &short, &p, Some(30), NOW).lifetime, 30);
    let expires = headers(&[("date", &date(NOW)), ("expires", &date(NOW + 120))]);
    assert_eq!(freshness(s(502), &expires, &p, Some(10), NOW).lifetime, 120);
    // no-store, no-cache and private count for 404, 414 and 501 only.
    for cc in ["no-store", "no-cache"] {
        let h = headers(&[("cache-control", cc)]);
        for code in [404, 414, 501] {
            assert_eq!(
                storable(&get, false, s(code), &h, &p, Some(10), NOW),
                Err(NoCacheReason::NoStore)
            );
        }
        for code in [405, 500, 502, 503, 504] {
            assert!(storable(&get, false, s(code), &h, &p, Some(10), NOW).is_ok());
            assert_eq!(freshness(s(code), &h, &p, Some(10), NOW).lifetime, 10);
        }
    }
    let private = headers(&[("cache-control", "private")]);
    assert_eq!(
        storable(&get, false, s(404), &private, &p, Some(10), NOW),
        Err(NoCacheReason::Private)
    );
    assert!(storable(&get, false, s(503), &private, &p, Some(10), NOW).is_ok());
    // A policy that caches nothing (CachingDisabled) caches no errors either.
    let disabled = policy(0, 0, 0);
    assert_eq!(
        storable(&get, false, s(404), &bare, &disabled, Some(10), NOW),
        Err(NoCacheReason::PolicyDisabled)
    );
    // MaxTTL caps the origin's lifetime, not the error caching minimum TTL.
    assert_eq!(
        freshness(s(404), &long, &policy(0, 0, 1), Some(10), NOW).lifetime,
        10
    );
    // An error caching minimum TTL of 0 and no lifetime from the origin: nothing to reuse.
    assert_eq!(
        storable(&get, false, s(404), &bare, &p, Some(0), NOW),
        Err(NoCacheReason::NothingToReuse)
    );
    assert!(storable(&get, false, s(404), &long, &p, Some(0), NOW).is_ok());
    // Where the policy leaves lifetimes to the origin (DefaultTTL 0), a 404 with only
    // Last-Modified has the heuristic lifetime of its own, as an ordinary response would.
    let origin_decides = policy(0, 0, 31_536_000);
    let modified = headers(&[("date", &date(NOW)), ("last-modified", &date(NOW - 1_000))]);
    assert!(
        storable(
            &get,
            false,
            s(404),
            &modified,
            &origin_decides,
            Some(0),
            NOW
        )
        .is_ok()
    );
    assert_eq!(
        freshness(s(404), &modified, &origin_decides, Some(0), NOW).lifetime,
        100
    );
    assert_eq!(
        storable(
            &get,
            false,
            s(503),
            &modified,
            &origin_decides,
            Some(0),
            NOW
        ),
        Err(NoCacheReason::NothingToReuse)
    );
    assert_eq!(freshness(s(404), &modified, &p, Some(10), NOW).lifetime, 10);
    // An error CloudFront does not cache as one is stored only with a lifetime of its own, and
    // MinTTL is not forced on it.
    assert_eq!(
        storable(&get, false, s(429), &bare, &p, None, NOW),
        Err(NoCacheReason::Status)
    );
    let brief = headers(&[("cache-control", "max-age=5")]);
    assert!(storable(&get, false, s(429), &brief, &p, None, NOW).is_ok());
    assert_eq!(freshness(s(429), &brief, &p, None, NOW).lifetime, 5);
    assert_eq!(
        storable(
            &get,
            false,
            s(429),
            &headers(&[("cache-control", "no-store")]),
            &p,
            None,
            NOW
        ),
        Err(NoCacheReason::NoStore)
    );
    // Ordinary responses still get MinTTL forced on them.
    assert_eq!(
        freshness(StatusCode::OK, &brief, &p, None, NOW).lifetime,
        300
    );
}

/// `httpdate`'s answer, which `parse_http_date` must give for every input.
fn httpdate_answer(s: &str) -> Option<i64> {
    let t = httpdate::parse_http_date(s).ok()?;
    i64::try_from(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs()).ok()
}

#[test]
fn http_dates_read_as_httpdate_reads_them() {
    // Every 7,919th day from 1970 to 9999, at a time of day that moves with it.
    let mut t: i64 = 0;
    while t < 253_402_300_800 {
        let s = date(t);
        assert_eq!(parse_http_date(&s), Some(t), "{s}");
        t += 7_919 * 86_400 + 3_541;
    }
    for s in [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "Mon, 06 Nov 1994 08:49:37 GMT",
        "Thu, 29 Feb 2024 00:00:00 GMT",
        "Tue, 29 Feb 2100 00:00:00 GMT",
        "Wed, 31 Apr 2026 00:00:00 GMT",
        "Wed, 31 Dec 1969 23:59:59 GMT",
        "Thu, 01 Jan 1970 00:00:00 GMT",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "Sat, 01 Jan 10000 00:00:00 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:37 GMT",
        "Sun, 06 Nov 1994 08:49:60 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:3x GMT",
        "Sun, +6 Nov 1994 08:49:37 GMT",
        "",
        "0",
    ] {
        assert_eq!(parse_http_date(s), httpdate_answer(s), "{s:?}");
    }
    assert_eq!(
        parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
        Some(784_111_777)
    );
}
