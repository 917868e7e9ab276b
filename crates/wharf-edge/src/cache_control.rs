//! `Cache-Control` and `CDN-Cache-Control` directives (RFC 9111 §5.2, RFC 9213), parsed
//! leniently: unknown directives are ignored, quoted values may hold commas, names are
//! case-insensitive, and a malformed or duplicated delta-seconds takes the most conservative
//! reading (RFC 9111 §4.2.1: "a cache ... SHOULD consider the response to be stale").

use http::HeaderMap;
use http::header::HeaderName;

/// RFC 9111 §1.2.2: delta-seconds larger than 2^31 are treated as 2^31.
pub const MAX_DELTA_SECONDS: u64 = 2_147_483_648;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheControl {
    pub max_age: Option<u64>,
    pub s_maxage: Option<u64>,
    pub no_store: bool,
    /// `no-cache` without field names (the response must be revalidated).
    pub no_cache: bool,
    /// `private` without field names (a shared cache must not store it).
    pub private: bool,
    pub public: bool,
    pub must_revalidate: bool,
    pub proxy_revalidate: bool,
    pub must_understand: bool,
    pub no_transform: bool,
    pub immutable: bool,
    pub stale_while_revalidate: Option<u64>,
    pub stale_if_error: Option<u64>,
    // Request directives.
    pub max_stale: Option<Option<u64>>,
    pub min_fresh: Option<u64>,
    pub only_if_cached: bool,
    /// At least one directive was present.
    pub present: bool,
}

impl CacheControl {
    /// Parses every `name` field line of `headers` as one comma-separated list.
    pub fn from_headers(headers: &HeaderMap, name: &HeaderName) -> Self {
        let mut cc = Self::default();
        for value in headers.get_all(name) {
            if let Ok(v) = value.to_str() {
                cc.parse_into(v);
            } else {
                cc.parse_into(&String::from_utf8_lossy(value.as_bytes()));
            }
        }
        cc
    }

    pub fn parse(s: &str) -> Self {
        let mut cc = Self::default();
        cc.parse_into(s);
        cc
    }

    fn parse_into(&mut self, s: &str) {
        for (name, value) in directives(s) {
            self.present = true;
            let delta = || value.as_deref().map(parse_delta);
            match name.to_ascii_lowercase().as_str() {
                "max-age" => self.max_age = min_opt(self.max_age, delta().unwrap_or(Some(0))),
                "s-maxage" => self.s_maxage = min_opt(self.s_maxage, delta().unwrap_or(Some(0))),
                "no-store" => self.no_store = true,
                // `no-cache="Set-Cookie"` only forbids reusing those fields unvalidated; we
                // treat it as plain no-cache, which is always allowed (stricter).
                "no-cache" => self.no_cache = true,
                "private" => self.private = true,
                "public" => self.public = true,
                "must-revalidate" => self.must_revalidate = true,
                "proxy-revalidate" => self.proxy_revalidate = true,
                "must-understand" => self.must_understand = true,
                "no-transform" => self.no_transform = true,
                "immutable" => self.immutable = true,
                "stale-while-revalidate" => {
                    self.stale_while_revalidate = delta().flatten().or(self.stale_while_revalidate)
                }
                "stale-if-error" => self.stale_if_error = delta().flatten().or(self.stale_if_error),
                "max-stale" => {
                    self.max_stale = Some(match value {
                        Some(v) => parse_delta(&v),
                        None => None,
                    })
                }
                "min-fresh" => self.min_fresh = delta().flatten(),
                "only-if-cached" => self.only_if_cached = true,
                _ => {}
            }
        }
    }
}

/// The smaller of two limits; an invalid value (`None` from the parse) counts as 0.
fn min_opt(old: Option<u64>, new: Option<u64>) -> Option<u64> {
    let new = new.unwrap_or(0);
    Some(old.map_or(new, |o| o.min(new)))
}

/// delta-seconds = 1*DIGIT; anything else is invalid.
fn parse_delta(v: &str) -> Option<u64> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        v.parse::<u64>()
            .unwrap_or(MAX_DELTA_SECONDS)
            .min(MAX_DELTA_SECONDS),
    )
}

/// Splits `a, b=1, c="x,y"` into (name, unquoted value) pairs.
fn directives(s: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b',' || b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i] != b'=' && b[i] != b',' {
            i += 1;
        }
        let name = s[start..i].trim().to_owned();
        let mut value = None;
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                i += 1;
            }
            if i < b.len() && b[i] == b'"' {
                i += 1;
                let mut v = String::new();
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' && i + 1 < b.len() {
                        i += 1;
                    }
                    let ch_len = s[i..].chars().next().map_or(1, char::len_utf8);
                    v.push_str(&s[i..i + ch_len]);
                    i += ch_len;
                }
                i += 1;
                value = Some(v);
            } else {
                let vs = i;
                while i < b.len() && b[i] != b',' {
                    i += 1;
                }
                value = Some(s[vs..i].trim().to_owned());
            }
        }
        if !name.is_empty() {
            out.push((name, value));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_directive_lists() {
        let cc = CacheControl::parse("public, max-age=60, s-maxage=\"120\", no-cache=\"a,b\"");
        assert!(cc.public && cc.no_cache);
        assert_eq!((cc.max_age, cc.s_maxage), (Some(60), Some(120)));
        let cc = CacheControl::parse("MAX-AGE=10 , Must-Revalidate");
        assert_eq!(cc.max_age, Some(10));
        assert!(cc.must_revalidate);
        assert_eq!(CacheControl::parse("max-age=abc").max_age, Some(0));
        assert_eq!(CacheControl::parse("max-age=-1").max_age, Some(0));
        assert_eq!(
            CacheControl::parse("max-age=100, max-age=5").max_age,
            Some(5)
        );
        assert_eq!(
            CacheControl::parse("max-age=99999999999999999999").max_age,
            Some(MAX_DELTA_SECONDS)
        );
        assert_eq!(
            CacheControl::parse("stale-while-revalidate=30, stale-if-error=60").stale_if_error,
            Some(60)
        );
        assert!(!CacheControl::parse("").present);
        assert_eq!(CacheControl::parse("max-stale").max_stale, Some(None));
        // Garbage must not panic.
        let _ = CacheControl::parse(",,,=,\"\\");
    }
}
