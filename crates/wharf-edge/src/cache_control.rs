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
    /// `no-cache="a, b"`: fields that must not be reused without revalidation (lower case).
    pub no_cache_fields: Vec<String>,
    /// `private` without field names (a shared cache must not store it).
    pub private: bool,
    /// `private="a, b"`: fields a shared cache must not store (lower case).
    pub private_fields: Vec<String>,
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
                // The qualified forms name fields; the rest of the response stays reusable
                // (RFC 9111 §5.2.2.4, §5.2.2.7).
                "no-cache" => match value {
                    Some(v) => self.no_cache_fields.extend(field_names(&v)),
                    None => self.no_cache = true,
                },
                "private" => match value {
                    Some(v) => self.private_fields.extend(field_names(&v)),
                    None => self.private = true,
                },
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

/// A bare item of a Structured Field (RFC 8941), as far as cache directives care.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SfItem {
    Boolean(bool),
    Integer(i64),
    /// A decimal, string, token or byte sequence: not a type any directive takes here.
    Other,
}

impl CacheControl {
    /// `CDN-Cache-Control` (RFC 9213): every field line parsed as one Structured Field
    /// Dictionary. `None` when it is absent or is not a valid Dictionary; the cache then
    /// ignores it entirely (§2.1). A directive whose value has the wrong type (`max-age="10"`)
    /// is ignored on its own.
    pub fn from_cdn_headers(headers: &HeaderMap, name: &HeaderName) -> Option<Self> {
        let mut lines = Vec::new();
        for v in headers.get_all(name) {
            lines.push(v.to_str().ok()?);
        }
        if lines.is_empty() {
            return None;
        }
        let members = sf_dictionary(&lines.join(", "))?;
        let mut cc = Self {
            present: true,
            ..Self::default()
        };
        for (key, item) in members {
            let delta = match item {
                SfItem::Integer(n) if n >= 0 => Some((n as u64).min(MAX_DELTA_SECONDS)),
                _ => None,
            };
            let flag = item == SfItem::Boolean(true);
            match key.as_str() {
                "max-age" => cc.max_age = delta.or(cc.max_age),
                "s-maxage" => cc.s_maxage = delta.or(cc.s_maxage),
                "stale-while-revalidate" => {
                    cc.stale_while_revalidate = delta.or(cc.stale_while_revalidate)
                }
                "stale-if-error" => cc.stale_if_error = delta.or(cc.stale_if_error),
                "no-store" => cc.no_store |= flag,
                "no-cache" => cc.no_cache |= flag,
                "private" => cc.private |= flag,
                "public" => cc.public |= flag,
                "must-revalidate" => cc.must_revalidate |= flag,
                "proxy-revalidate" => cc.proxy_revalidate |= flag,
                "immutable" => cc.immutable |= flag,
                _ => {}
            }
        }
        Some(cc)
    }
}

/// RFC 8941 §4.2.2: a Dictionary, later keys replacing earlier ones' values in place (we keep
/// every member; the caller's "last wins" gives the same result). Parameters are checked for
/// syntax and dropped. `None` on any syntax error.
fn sf_dictionary(s: &str) -> Option<Vec<(String, SfItem)>> {
    let b = s.as_bytes();
    let mut i = 0;
    let skip = |i: &mut usize, ws: &[u8]| {
        while *i < b.len() && ws.contains(&b[*i]) {
            *i += 1;
        }
    };
    let key = |i: &mut usize| -> Option<String> {
        let start = *i;
        if !(b.get(*i)?.is_ascii_lowercase() || b[*i] == b'*') {
            return None;
        }
        while *i < b.len()
            && (b[*i].is_ascii_lowercase()
                || b[*i].is_ascii_digit()
                || matches!(b[*i], b'_' | b'-' | b'.' | b'*'))
        {
            *i += 1;
        }
        Some(s[start..*i].to_owned())
    };
    let mut out = Vec::new();
    skip(&mut i, b" ");
    if i == b.len() {
        return None;
    }
    loop {
        let k = key(&mut i)?;
        let item = if b.get(i) == Some(&b'=') {
            i += 1;
            sf_bare_item(b, &mut i)?
        } else {
            SfItem::Boolean(true)
        };
        while b.get(i) == Some(&b';') {
            i += 1;
            skip(&mut i, b" ");
            key(&mut i)?;
            if b.get(i) == Some(&b'=') {
                i += 1;
                sf_bare_item(b, &mut i)?;
            }
        }
        out.push((k, item));
        skip(&mut i, b" \t");
        if i == b.len() {
            return Some(out);
        }
        if b[i] != b',' {
            return None;
        }
        i += 1;
        skip(&mut i, b" \t");
        if i == b.len() {
            return None;
        }
    }
}

/// RFC 8941 §4.2.3.1: one bare item at `b[*i..]`.
fn sf_bare_item(b: &[u8], i: &mut usize) -> Option<SfItem> {
    let c = *b.get(*i)?;
    match c {
        b'-' | b'0'..=b'9' => {
            let start = *i;
            *i += 1;
            while *i < b.len() && (b[*i].is_ascii_digit() || b[*i] == b'.') {
                *i += 1;
            }
            let text = std::str::from_utf8(&b[start..*i]).ok()?;
            if let Some((int, frac)) = text.split_once('.') {
                let digits = int.trim_start_matches('-');
                let ok = !digits.is_empty()
                    && digits.len() <= 12
                    && (1..=3).contains(&frac.len())
                    && frac.bytes().all(|d| d.is_ascii_digit());
                return ok.then_some(SfItem::Other);
            }
            let digits = text.trim_start_matches('-');
            if digits.is_empty() || digits.len() > 15 {
                return None;
            }
            text.parse().ok().map(SfItem::Integer)
        }
        b'"' => {
            *i += 1;
            loop {
                match *b.get(*i)? {
                    b'"' => {
                        *i += 1;
                        return Some(SfItem::Other);
                    }
                    b'\\' => {
                        if !matches!(b.get(*i + 1)?, b'"' | b'\\') {
                            return None;
                        }
                        *i += 2;
                    }
                    0x20..=0x7e => *i += 1,
                    _ => return None,
                }
            }
        }
        b'?' => {
            let v = match b.get(*i + 1)? {
                b'0' => false,
                b'1' => true,
                _ => return None,
            };
            *i += 2;
            Some(SfItem::Boolean(v))
        }
        b':' => {
            *i += 1;
            while *i < b.len() && b[*i] != b':' {
                if !(b[*i].is_ascii_alphanumeric() || matches!(b[*i], b'+' | b'/' | b'=')) {
                    return None;
                }
                *i += 1;
            }
            *i += 1;
            (*i <= b.len()).then_some(SfItem::Other)
        }
        c if c.is_ascii_alphabetic() || c == b'*' => {
            *i += 1;
            while *i < b.len()
                && (b[*i].is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:/".contains(&b[*i]))
            {
                *i += 1;
            }
            Some(SfItem::Other)
        }
        _ => None,
    }
}

/// The field names of a qualified `no-cache` or `private`, lower case.
fn field_names(v: &str) -> impl Iterator<Item = String> + '_ {
    v.split(',')
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
}

impl CacheControl {
    /// Fields a shared cache must not hand out from storage without revalidating.
    pub fn unstorable_fields(&self) -> impl Iterator<Item = &str> {
        self.no_cache_fields
            .iter()
            .chain(&self.private_fields)
            .map(String::as_str)
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
        // `name =1` and `name= 1` are not the directive `name` (RFC 9111 §5.2: no whitespace
        // around `=`): the name keeps its trailing space, the value its leading one, and
        // neither parses.
        let has_value = i < b.len() && b[i] == b'=';
        let name = if has_value {
            s[start..i].to_owned()
        } else {
            s[start..i].trim().to_owned()
        };
        let mut value = None;
        if has_value {
            i += 1;
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
                value = Some(s[vs..i].trim_end().to_owned());
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
        let cc = CacheControl::parse("public, max-age=60, s-maxage=\"120\", no-cache=\"a,B\"");
        assert!(cc.public && !cc.no_cache);
        assert_eq!(cc.no_cache_fields, ["a", "b"]);
        assert_eq!((cc.max_age, cc.s_maxage), (Some(60), Some(120)));
        let cc = CacheControl::parse("private=\"Set-Cookie\", no-cache");
        assert!(cc.no_cache && !cc.private);
        assert_eq!(cc.unstorable_fields().collect::<Vec<_>>(), ["set-cookie"]);
        // Whitespace around `=` makes the directive something else (RFC 9111 §5.2).
        assert_eq!(CacheControl::parse("max-age =100").max_age, None);
        assert_eq!(CacheControl::parse("max-age= 100").max_age, Some(0));
        assert_eq!(
            CacheControl::parse("max-age=100 , public").max_age,
            Some(100)
        );
        assert_eq!(CacheControl::parse("max-age=003600").max_age, Some(3600));
        assert_eq!(
            CacheControl::parse("extension=\"max-age=100\", max-age=1").max_age,
            Some(1)
        );
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
        // CDN-Cache-Control is a Structured Field: invalid syntax voids the whole field, a
        // value of the wrong type voids its directive.
        let cdn = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert("cdn-cache-control", http::HeaderValue::from_static(v));
            CacheControl::from_cdn_headers(&h, &HeaderName::from_static("cdn-cache-control"))
        };
        assert_eq!(cdn("max-age=3600").unwrap().max_age, Some(3600));
        assert_eq!(
            cdn("max-age=99999999999").unwrap().max_age,
            Some(MAX_DELTA_SECONDS)
        );
        let c = cdn("foobar, max-age=60, no-store;x=1").unwrap();
        assert!(c.no_store && c.max_age == Some(60));
        assert_eq!(cdn("max-age=\"10000\"").unwrap().max_age, None);
        assert_eq!(cdn("max-age=10000, &&&&&"), None);
        assert_eq!(cdn("MaX-aGe=3600"), None);
        assert_eq!(cdn("max-age =100"), None);
        assert_eq!(cdn("max-age= 100"), None);
        assert_eq!(cdn("max-age=1,"), None);
        assert!(!cdn("no-store=?0").unwrap().no_store);
        assert!(cdn("private=?1, s-maxage=1.5").unwrap().private);
        // Garbage must not panic.
        let _ = CacheControl::parse(",,,=,\"\\");
    }
}
