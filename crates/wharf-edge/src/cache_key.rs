//! The cache key and the origin request's values, as a behavior's cache policy and origin
//! request policy say: the path, the chosen query strings, headers and cookies, and the
//! normalised `Accept-Encoding`.

use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue};

use crate::policy::{CachePolicy, OriginRequestPolicy, Selection};

/// CloudFront's normalisation of `Accept-Encoding` when a cache policy enables compression:
/// `br,gzip`, `br`, `gzip` or nothing, from what the viewer accepts (a `q=0` is a refusal).
pub fn normalized_accept_encoding(headers: &HeaderMap, policy: &CachePolicy) -> &'static str {
    let (mut br, mut gzip) = (false, false);
    for v in headers.get_all(header::ACCEPT_ENCODING) {
        for token in String::from_utf8_lossy(v.as_bytes()).split(',') {
            let mut parts = token.split(';');
            let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            if refused {
                continue;
            }
            match coding.as_str() {
                "br" => br = true,
                "gzip" => gzip = true,
                _ => {}
            }
        }
    }
    match (br && policy.brotli, gzip && policy.gzip) {
        (true, true) => "br,gzip",
        (true, false) => "br",
        (false, true) => "gzip",
        (false, false) => "",
    }
}

/// The query string's `name=value` pairs that `sel` keeps, in the viewer's order.
pub fn select_query(query: Option<&str>, sel: &Selection) -> String {
    let Some(q) = query.filter(|q| !q.is_empty()) else {
        return String::new();
    };
    match sel {
        Selection::None => String::new(),
        Selection::All => q.to_owned(),
        _ => q
            .split('&')
            .filter(|pair| {
                let name = pair.split('=').next().unwrap_or("");
                sel.includes(name)
            })
            .collect::<Vec<_>>()
            .join("&"),
    }
}

/// The query strings either policy forwards.
pub fn forwarded_query(
    query: Option<&str>,
    cache: &CachePolicy,
    origin: Option<&OriginRequestPolicy>,
) -> String {
    let Some(q) = query.filter(|q| !q.is_empty()) else {
        return String::new();
    };
    if matches!(cache.query_strings, Selection::All)
        || origin.is_some_and(|o| matches!(o.query_strings, Selection::All))
    {
        return q.to_owned();
    }
    q.split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or("");
            cache.query_strings.includes(name)
                || origin.is_some_and(|o| o.query_strings.includes(name))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The viewer's cookies as (name, value) pairs.
pub fn cookies(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for v in headers.get_all(header::COOKIE) {
        for pair in String::from_utf8_lossy(v.as_bytes()).split(';') {
            let pair = pair.trim();
            if pair.is_empty() {
                continue;
            }
            let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
            out.push((n.trim().to_owned(), v.trim().to_owned()));
        }
    }
    out
}

/// A header's value as the cache key and Vary compare it (RFC 9110 §5.3, RFC 9111 §4.1):
/// every field line combined into one list, whitespace around the list members removed, so
/// `1,2`, ` 1, 2 ` and two lines `1` and `2` are the same value.
pub fn field_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut vals = headers.get_all(name).iter().peekable();
    vals.peek()?;
    let mut out = String::new();
    for v in vals {
        for member in String::from_utf8_lossy(v.as_bytes()).split(',') {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(member.trim());
        }
    }
    Some(out)
}

/// `Accept-Language` as Vary compares it: language ranges lower-cased and sorted, each with
/// its weight (`;q=` only when below 1), so the order, case and spacing a browser happens to
/// use do not split the cache.
pub fn normalized_accept_language(headers: &HeaderMap) -> Option<String> {
    let raw = field_value(headers, "accept-language")?;
    let mut ranges: Vec<(String, String)> = raw
        .split(',')
        .filter_map(|member| {
            let mut parts = member.split(';');
            let lang = parts.next()?.trim().to_ascii_lowercase();
            if lang.is_empty() {
                return None;
            }
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
                .filter_map(|q| q.trim().parse::<f32>().ok())
                .next_back()
                .unwrap_or(1.0);
            let weight = if q >= 1.0 {
                String::new()
            } else {
                format!(";q={}", (q.max(0.0) * 1000.0).round() / 1000.0)
            };
            Some((lang, weight))
        })
        .collect();
    ranges.sort();
    ranges.dedup();
    Some(
        ranges
            .into_iter()
            .map(|(l, w)| l + &w)
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// The one language a normalised `Accept-Language` prefers above all others, if one does.
pub fn preferred_language(normalized: &str) -> Option<&str> {
    let weight = |m: &str| -> f32 {
        m.split_once(";q=")
            .and_then(|(_, q)| q.parse().ok())
            .unwrap_or(1.0)
    };
    let mut best: Option<(&str, f32)> = None;
    let mut tie = false;
    for m in normalized.split(',') {
        let (lang, w) = (m.split(';').next().unwrap_or(m), weight(m));
        match best {
            Some((_, bw)) if w < bw => {}
            Some((_, bw)) if w == bw => tie = true,
            _ => {
                best = Some((lang, w));
                tie = false;
            }
        }
    }
    best.filter(|&(l, w)| !tie && w > 0.0 && l != "*")
        .map(|(l, _)| l)
}

/// The primary cache key.
pub fn primary_key(
    dist: &str,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    policy: &CachePolicy,
) -> String {
    let mut k = format!(
        "{dist}\n{path}\n{}\n",
        select_query(query, &policy.query_strings)
    );
    if !policy.headers.is_none() {
        let mut names: Vec<&str> = headers
            .keys()
            .map(HeaderName::as_str)
            .filter(|n| policy.headers.includes(n))
            .collect();
        names.sort_unstable();
        names.dedup();
        for n in names {
            k.push_str(n);
            k.push(':');
            k.push_str(&field_value(headers, n).unwrap_or_default());
            k.push('\n');
        }
    }
    if !policy.cookies.is_none() {
        let mut c: Vec<_> = cookies(headers)
            .into_iter()
            .filter(|(n, _)| policy.cookies.includes(n))
            .collect();
        c.sort();
        for (n, v) in c {
            k.push_str(&format!("cookie:{n}={v}\n"));
        }
    }
    if policy.keys_encoding() {
        k.push_str("ae:");
        k.push_str(normalized_accept_encoding(headers, policy));
    }
    k
}

/// The `Cookie` header for the origin: the cookies either policy forwards.
pub fn forwarded_cookie(
    headers: &HeaderMap,
    cache: &CachePolicy,
    origin: Option<&OriginRequestPolicy>,
) -> Option<HeaderValue> {
    let kept: Vec<String> = cookies(headers)
        .into_iter()
        .filter(|(n, _)| cache.cookies.includes(n) || origin.is_some_and(|o| o.cookies.includes(n)))
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    if kept.is_empty() {
        return None;
    }
    HeaderValue::from_str(&kept.join("; ")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(q: Selection, h: Selection, c: Selection, ae: bool) -> CachePolicy {
        CachePolicy {
            min_ttl: 0,
            default_ttl: 0,
            max_ttl: 100,
            gzip: ae,
            brotli: ae,
            query_strings: q,
            headers: h,
            cookies: c,
        }
    }

    #[test]
    fn accept_language_is_normalised_and_its_preference_read() {
        let norm = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert("accept-language", HeaderValue::from_static(v));
            normalized_accept_language(&h).unwrap()
        };
        assert_eq!(norm("en, de"), "de,en");
        assert_eq!(norm("de, en"), "de,en");
        assert_eq!(norm("eN, De"), "de,en");
        assert_eq!(norm(" en ,   de"), "de,en");
        assert_eq!(norm("fr;q=0.5, de;q=1.0"), "de,fr;q=0.5");
        assert_eq!(preferred_language("de,fr;q=0.5"), Some("de"));
        assert_eq!(preferred_language("de,en"), None);
        assert_eq!(preferred_language("*"), None);
        assert_eq!(preferred_language("en;q=0"), None);
    }

    #[test]
    fn keys_follow_the_policy() {
        let mut h = HeaderMap::new();
        h.insert("x-tenant", HeaderValue::from_static("a"));
        h.insert("cookie", HeaderValue::from_static("s=1; theme=dark"));
        h.insert(
            "accept-encoding",
            HeaderValue::from_static("gzip, deflate, br;q=0"),
        );
        let none = policy(Selection::None, Selection::None, Selection::None, false);
        assert_eq!(primary_key("D", "/a", Some("x=1"), &h, &none), "D\n/a\n\n");
        let all = policy(
            Selection::Whitelist(vec!["x".into()]),
            Selection::Whitelist(vec!["x-tenant".into()]),
            Selection::AllExcept(vec!["s".into()]),
            true,
        );
        assert_eq!(
            primary_key("D", "/a", Some("y=2&x=1"), &h, &all),
            "D\n/a\nx=1\nx-tenant:a\ncookie:theme=dark\nae:gzip"
        );
        assert_eq!(normalized_accept_encoding(&h, &all), "gzip");
        assert_eq!(
            select_query(Some("a=1&b=2&c"), &Selection::AllExcept(vec!["b".into()])),
            "a=1&c"
        );
    }
}
