//! Freshness, age and storability: RFC 9111 for a shared cache, RFC 9213's `CDN-Cache-Control`,
//! and CloudFront's Min/Default/Max TTL on top. Everything here is a pure function of the
//! stored headers and the times given, so it is tested with an injected clock.
//!
//! CloudFront's rules ("Manage how long content stays in the cache"):
//! - an explicit lifetime from the origin (`s-maxage`, `max-age`, `Expires`) is clamped into
//!   `[MinTTL, MaxTTL]`;
//! - with no explicit lifetime, `DefaultTTL` applies;
//! - `no-store`, `no-cache` and `private` are honoured when `MinTTL` is 0; with a `MinTTL` above
//!   0 the response is cached for `MinTTL` anyway.
//!
//! Error responses follow CloudFront's own rules ("How CloudFront processes HTTP 4xx and 5xx
//! status codes", "Control how long CloudFront caches errors"), not the policy's TTLs: see
//! [`cached_error`] and the `error_ttl` arguments below.
//!
//! Where CloudFront's `DefaultTTL` is 0 (as in `UseOriginCacheControlHeaders`), a response with
//! `Last-Modified` gets RFC 9111 §4.2.2's heuristic lifetime (10% of its age, at most a day)
//! instead of none; responses with neither a lifetime nor a validator are never reused.

use http::header::{self, HeaderName};
use http::{HeaderMap, Method, StatusCode};

use crate::cache_control::CacheControl;
use crate::policy::CachePolicy;

pub static CDN_CACHE_CONTROL: HeaderName = HeaderName::from_static("cdn-cache-control");

/// RFC 9111 §4.2.2: a heuristic lifetime is "no more than some fraction" of the time since
/// Last-Modified; 10% is the figure the RFC gives. We cap it at a day.
pub const HEURISTIC_FRACTION: f64 = 0.1;
pub const MAX_HEURISTIC_SECS: u64 = 86_400;

/// Why a response was not stored; feeds logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoCacheReason {
    Method,
    Status,
    NoStore,
    Private,
    Authorization,
    VaryStar,
    NothingToReuse,
    PolicyDisabled,
}

impl NoCacheReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Method => "method",
            Self::Status => "status",
            Self::NoStore => "no-store",
            Self::Private => "private",
            Self::Authorization => "authorization",
            Self::VaryStar => "vary-star",
            Self::NothingToReuse => "no-freshness-no-validator",
            Self::PolicyDisabled => "policy-disabled",
        }
    }
}

/// The cache directives that apply to us: `CDN-Cache-Control` replaces `Cache-Control` when
/// present and valid (RFC 9213 §2.1).
pub fn directives(headers: &HeaderMap) -> CacheControl {
    CacheControl::from_cdn_headers(headers, &CDN_CACHE_CONTROL)
        .unwrap_or_else(|| CacheControl::from_headers(headers, &header::CACHE_CONTROL))
}

/// Status codes a cache may store with a heuristic lifetime (RFC 9110 §15.1).
pub fn heuristically_cacheable(status: StatusCode) -> bool {
    matches!(
        status.as_u16(),
        200 | 203 | 204 | 206 | 300 | 301 | 308 | 404 | 405 | 410 | 414 | 501
    )
}

/// Status codes CloudFront caches with `DefaultTTL` when the origin sends no lifetime.
fn cloudfront_default_cacheable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 200 | 203 | 206 | 300 | 301 | 410)
}

/// Whether CloudFront caches this error response at all. It always caches 404, 405, 414 and
/// 500-504; 400, 403, 412 and 415 only when the origin gives them `Cache-Control: max-age` or
/// `s-maxage`; never 416, nor any other 4xx/5xx as an error (410 is cached as an ordinary
/// response, with `DefaultTTL`). A cached error's lifetime is then the larger of its own
/// (capped by `MaxTTL`) and the error caching minimum TTL; the policy's `MinTTL` and
/// `DefaultTTL` do not apply to it.
pub fn cached_error(status: StatusCode, headers: &HeaderMap) -> bool {
    match status.as_u16() {
        404 | 405 | 414 | 500..=504 => true,
        400 | 403 | 412 | 415 => {
            let cc = directives(headers);
            cc.max_age.is_some() || cc.s_maxage.is_some()
        }
        _ => false,
    }
}

/// The error codes for which CloudFront honours the origin's `no-store`, `no-cache` and
/// `private`; for the other cached errors it ignores them and caches the error for the error
/// caching minimum TTL.
fn error_honours_no_store(status: StatusCode) -> bool {
    matches!(status.as_u16(), 404 | 410 | 414 | 501)
}

/// Seconds since the epoch from an HTTP date; `None` when it does not parse (RFC 9111 §5.3:
/// an invalid `Expires` means "already expired", which callers treat as such).
pub fn http_date(headers: &HeaderMap, name: &HeaderName) -> Option<i64> {
    parse_http_date(headers.get(name)?.to_str().ok()?.trim())
}

/// Seconds since the epoch from an HTTP date (RFC 9110 §5.6.7), with the answers of the
/// `httpdate` crate. Every hit reads its stored `Date`, so the form senders must use,
/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), is read here directly (`httpdate` checks a
/// date by formatting it again, ten times the work); the obsolete forms go to `httpdate`.
pub fn parse_http_date(s: &str) -> Option<i64> {
    match imf_fixdate(s.as_bytes()) {
        Some(parsed) => parsed,
        None => {
            let t = httpdate::parse_http_date(s).ok()?;
            i64::try_from(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs()).ok()
        }
    }
}

/// `Some(answer)` when `b` has IMF-fixdate's shape (`None` inside when the date is not a real
/// one: a day past the month's end, a weekday that is not the date's, a year before 1970 or
/// after 9999, as `httpdate` refuses them); `None` for any other shape.
fn imf_fixdate(b: &[u8]) -> Option<Option<i64>> {
    const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let b: &[u8; 29] = b.try_into().ok()?;
    if &b[3..5] != b", "
        || b[7] != b' '
        || b[11] != b' '
        || b[16] != b' '
        || b[19] != b':'
        || b[22] != b':'
        || &b[25..] != b" GMT"
    {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let (Some(day), Some(year), Some(hour), Some(min), Some(sec)) = (
        digits(5..7),
        digits(12..16),
        digits(17..19),
        digits(20..22),
        digits(23..25),
    ) else {
        return None;
    };
    let month = MONTHS.iter().position(|m| m[..] == b[8..11])? as i64 + 1;
    let weekday = DAYS.iter().position(|d| d[..] == b[0..3])? as i64;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1970..=9999).contains(&year)
        || day < 1
        || day > month_days
        || hour > 23
        || min > 59
        || sec > 59
    {
        return Some(None);
    }
    // Howard Hinnant's days_from_civil.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    // 1970-01-01 was a Thursday.
    if days.rem_euclid(7) != weekday {
        return Some(None);
    }
    Some(Some(days * 86_400 + hour * 3600 + min * 60 + sec))
}

/// Whether a response may be stored at all, before any TTL arithmetic (RFC 9111 §3).
/// `error_ttl` is the error caching minimum TTL when CloudFront caches this error response
/// ([`cached_error`]), `None` for any other response; `response_time` stands in for a missing
/// `Date`.
pub fn storable(
    method: &Method,
    authenticated: bool,
    status: StatusCode,
    headers: &HeaderMap,
    policy: &CachePolicy,
    error_ttl: Option<u64>,
    response_time: i64,
) -> Result<(), NoCacheReason> {
    // A behavior whose policy caches nothing (CachingDisabled) passes everything through,
    // errors included: "This policy disables caching".
    if policy.max_ttl == 0 && policy.min_ttl == 0 {
        return Err(NoCacheReason::PolicyDisabled);
    }
    if method != Method::GET && method != Method::HEAD {
        return Err(NoCacheReason::Method);
    }
    if let Some(min) = error_ttl {
        return storable_error(authenticated, status, headers, policy, min, response_time);
    }
    // "CloudFront doesn't cache status code 416 responses", whatever their headers say.
    if status == StatusCode::RANGE_NOT_SATISFIABLE {
        return Err(NoCacheReason::Status);
    }
    // 206 is stored through the chunk store, not as a response of its own; 304 updates.
    if status.is_informational() || status == StatusCode::NOT_MODIFIED {
        return Err(NoCacheReason::Status);
    }
    let cc = directives(headers);
    // `MinTTL` forces storage of ordinary responses only; an error that CloudFront does not
    // cache as an error is stored only when the origin asks for it.
    let forced = policy.min_ttl > 0 && !(status.is_client_error() || status.is_server_error());
    // RFC 9111 §5.2.2.3: `must-understand` overrides `no-store` for status codes whose
    // caching rules the cache implements (all the final codes of RFC 9110 here).
    let understood = cc.must_understand
        && (heuristically_cacheable(status) || matches!(status.as_u16(), 302 | 303 | 307));
    if (cc.no_store || cc.must_understand) && !understood && !forced {
        return Err(NoCacheReason::NoStore);
    }
    if cc.private && !forced {
        return Err(NoCacheReason::Private);
    }
    if vary_names(headers).iter().any(|v| v == "*") {
        return Err(NoCacheReason::VaryStar);
    }
    // RFC 9111 §3.5: a shared cache stores a response to an authenticated request only when
    // the response says so explicitly. That holds for any request that carried Authorization,
    // even when the behavior does not forward it (stricter than CloudFront, as the RFC asks).
    if authenticated && !(cc.public || cc.s_maxage.is_some() || cc.must_revalidate) {
        return Err(NoCacheReason::Authorization);
    }
    let explicit = cc.max_age.is_some()
        || cc.s_maxage.is_some()
        || headers.contains_key(header::EXPIRES)
        || cc.public;
    if !(explicit
        || heuristically_cacheable(status)
        || cloudfront_default_cacheable(status)
        || forced)
    {
        return Err(NoCacheReason::Status);
    }
    Ok(())
}

/// [`storable`] for an error CloudFront caches: its own `no-store`/`no-cache`/`private` count
/// only for some codes, the cache policy does not count at all.
fn storable_error(
    authenticated: bool,
    status: StatusCode,
    headers: &HeaderMap,
    policy: &CachePolicy,
    error_min_ttl: u64,
    response_time: i64,
) -> Result<(), NoCacheReason> {
    let cc = directives(headers);
    if error_honours_no_store(status) {
        if cc.no_store || cc.no_cache {
            return Err(NoCacheReason::NoStore);
        }
        if cc.private {
            return Err(NoCacheReason::Private);
        }
    }
    if vary_names(headers).iter().any(|v| v == "*") {
        return Err(NoCacheReason::VaryStar);
    }
    if authenticated && !(cc.public || cc.s_maxage.is_some() || cc.must_revalidate) {
        return Err(NoCacheReason::Authorization);
    }
    if error_min_ttl == 0 && error_own_lifetime(status, &cc, headers, policy, response_time) == 0 {
        return Err(NoCacheReason::NothingToReuse);
    }
    Ok(())
}

/// The lifetime the response itself states: `s-maxage`, `max-age`, or `Expires` − `Date`.
fn explicit_lifetime(cc: &CacheControl, headers: &HeaderMap, response_time: i64) -> Option<u64> {
    let date = http_date(headers, &header::DATE).unwrap_or(response_time);
    cc.s_maxage.or(cc.max_age).or_else(|| {
        headers.get(header::EXPIRES).map(|_| {
            http_date(headers, &header::EXPIRES).map_or(0, |e| u64::try_from(e - date).unwrap_or(0))
        })
    })
}

/// How long a stored response stays fresh, and what may be done when it is stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Freshness {
    pub lifetime: u64,
    /// Stale responses must never be served without revalidation.
    pub must_revalidate: bool,
    pub stale_while_revalidate: u64,
    pub stale_if_error: u64,
}

/// The freshness lifetime of a response received at `response_time` (seconds since the epoch).
pub fn freshness(
    status: StatusCode,
    headers: &HeaderMap,
    policy: &CachePolicy,
    error_ttl: Option<u64>,
    response_time: i64,
) -> Freshness {
    let cc = directives(headers);
    let must_revalidate = cc.must_revalidate || cc.proxy_revalidate;
    let mut f = Freshness {
        lifetime: 0,
        must_revalidate,
        stale_while_revalidate: cc.stale_while_revalidate.unwrap_or(0),
        stale_if_error: cc.stale_if_error.unwrap_or(0),
    };
    let (min, default, max) = (policy.min_ttl, policy.default_ttl, policy.max_ttl);
    // An error response that CloudFront does not cache as an error (429, say) keeps only the
    // lifetime its origin gave it: `MinTTL` is not forced on errors.
    let min = if status.is_client_error() || status.is_server_error() {
        0
    } else {
        min
    };
    if let Some(error_min) = error_ttl {
        // "CloudFront caches the error response for the maximum of the header's value and the
        // error caching minimum TTL".
        f.lifetime = error_own_lifetime(status, &cc, headers, policy, response_time).max(error_min);
        return f;
    }
    if (cc.no_store || cc.private || cc.no_cache) && min > 0 {
        f.lifetime = min;
        return f;
    }
    if cc.no_cache {
        return f;
    }
    let date = http_date(headers, &header::DATE).unwrap_or(response_time);
    f.lifetime = match explicit_lifetime(&cc, headers, response_time) {
        Some(secs) => secs.clamp(min, max.max(min)),
        None if default > 0 && cloudfront_default_cacheable(status) => default.min(max),
        // `public` marks any status explicitly cacheable, so heuristics apply (RFC 9111 §4.2.2).
        None if heuristically_cacheable(status) || cc.public => {
            heuristic_lifetime(headers, date).clamp(min, max.max(min))
        }
        None => min,
    };
    f
}

/// RFC 9111 §4.2.2's heuristic lifetime: a fraction of the time since `Last-Modified`.
fn heuristic_lifetime(headers: &HeaderMap, date: i64) -> u64 {
    http_date(headers, &header::LAST_MODIFIED)
        .and_then(|lm| u64::try_from(date - lm).ok())
        .map_or(0, |age| {
            ((age as f64 * HEURISTIC_FRACTION) as u64).min(MAX_HEURISTIC_SECS)
        })
}

/// The lifetime a cached error has of its own, before the error caching minimum TTL: the
/// origin's (capped by `MaxTTL`), or, where the policy leaves lifetimes to the origin
/// (`DefaultTTL` 0, as for ordinary responses), the heuristic one for the codes RFC 9110
/// lets a cache store heuristically (404, 405, 414, 501).
fn error_own_lifetime(
    status: StatusCode,
    cc: &CacheControl,
    headers: &HeaderMap,
    policy: &CachePolicy,
    response_time: i64,
) -> u64 {
    let own = match explicit_lifetime(cc, headers, response_time) {
        Some(secs) => secs,
        None if policy.default_ttl == 0 && heuristically_cacheable(status) => {
            let date = http_date(headers, &header::DATE).unwrap_or(response_time);
            heuristic_lifetime(headers, date)
        }
        None => 0,
    };
    own.min(policy.max_ttl)
}

/// The current age of a stored response, in seconds (RFC 9111 §4.2.3).
pub fn current_age(headers: &HeaderMap, request_time: i64, response_time: i64, now: i64) -> u64 {
    let date = http_date(headers, &header::DATE).unwrap_or(response_time);
    let age_value = i64::try_from(age_value(headers)).unwrap_or(i64::MAX);
    let apparent_age = (response_time - date).max(0);
    let response_delay = (response_time - request_time).max(0);
    let corrected_age_value = age_value.saturating_add(response_delay);
    let corrected_initial_age = apparent_age.max(corrected_age_value);
    let resident_time = (now - response_time).max(0);
    u64::try_from(corrected_initial_age.saturating_add(resident_time)).unwrap_or(0)
}

/// The received `Age` in seconds, read as the current http-tests/cache-tests suite reads it
/// (RFC 9111 §5.1 leaves errors open): the first value of the first field line counts, with
/// any parameter after it dropped (`7200;foo=1` is 7200); a value that is not a non-negative
/// integer (a word, a sign, a fraction) is ignored, as if the response had no `Age` (0). A
/// value too large to hold counts as 2^31 (§1.2.2).
pub fn age_value(headers: &HeaderMap) -> u64 {
    let Some(line) = headers.get(header::AGE) else {
        return 0;
    };
    let first = line
        .as_bytes()
        .split(|&b| b == b',')
        .next()
        .unwrap_or_default();
    let value = first.split(|&b| b == b';').next().unwrap_or_default();
    let value = value.trim_ascii();
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return 0;
    }
    std::str::from_utf8(value)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1 << 31)
}

/// The header names a response's `Vary` lists, lower-cased.
pub fn vary_names(headers: &HeaderMap) -> Vec<String> {
    let mut out = Vec::new();
    for v in headers.get_all(header::VARY) {
        for name in String::from_utf8_lossy(v.as_bytes()).split(',') {
            let n = name.trim().to_ascii_lowercase();
            if !n.is_empty() && !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

/// Whether the stored response has a validator a conditional request can use.
pub fn has_validator(headers: &HeaderMap) -> bool {
    headers.contains_key(header::ETAG) || headers.contains_key(header::LAST_MODIFIED)
}

#[cfg(test)]
mod tests;
