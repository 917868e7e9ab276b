//! Cache and origin request policies in their runtime form: which query strings, headers and
//! cookies go into the cache key and to the origin, and the behavior's TTL bounds.

use wharf_model::cloudfront::{
    CacheBehavior, CachePolicyConfig, CookiesConfig, HeadersConfig, OriginRequestPolicyConfig,
    QueryStringsConfig,
};

/// Which names of a kind (query strings, headers, cookies) a policy selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    None,
    All,
    Whitelist(Vec<String>),
    AllExcept(Vec<String>),
}

impl Selection {
    fn from(behavior: &str, names: &[String], lowercase: bool) -> Self {
        let names = names
            .iter()
            .map(|n| {
                if lowercase {
                    n.to_ascii_lowercase()
                } else {
                    n.clone()
                }
            })
            .collect();
        match behavior {
            "all" | "allViewer" | "allViewerAndWhitelistCloudFront" => Self::All,
            "whitelist" => Self::Whitelist(names),
            "allExcept" => Self::AllExcept(names),
            _ => Self::None,
        }
    }

    /// Whether `name` is selected (`name` already lower-cased where the kind is
    /// case-insensitive).
    pub fn includes(&self, name: &str) -> bool {
        match self {
            Self::None => false,
            Self::All => true,
            Self::Whitelist(n) => n.iter().any(|x| x == name),
            Self::AllExcept(n) => !n.iter().any(|x| x == name),
        }
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Self::None)
    }
}

/// A behavior's cache policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachePolicy {
    pub min_ttl: u64,
    pub default_ttl: u64,
    pub max_ttl: u64,
    pub gzip: bool,
    pub brotli: bool,
    pub query_strings: Selection,
    /// Lower-case header names.
    pub headers: Selection,
    pub cookies: Selection,
}

fn ttl(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl CachePolicy {
    pub fn from_config(c: &CachePolicyConfig) -> Self {
        let k = &c.parameters_in_cache_key_and_forwarded_to_origin;
        Self {
            min_ttl: ttl(c.min_ttl),
            default_ttl: ttl(c.default_ttl),
            max_ttl: ttl(c.max_ttl),
            gzip: k.enable_accept_encoding_gzip,
            brotli: k.enable_accept_encoding_brotli,
            query_strings: queries(&k.query_strings_config),
            headers: headers(&k.headers_config),
            cookies: cookies(&k.cookies_config),
        }
    }

    /// The cache settings of a behavior that uses the legacy `ForwardedValues` and TTL fields
    /// (CloudFront's defaults: MinTTL 0, DefaultTTL 1 day, MaxTTL 1 year).
    pub fn legacy(b: &CacheBehavior) -> Self {
        let fv = b.forwarded_values.clone().unwrap_or_default();
        let query_strings = if !fv.query_string {
            Selection::None
        } else if fv.query_string_cache_keys.items.is_empty() {
            Selection::All
        } else {
            Selection::Whitelist(fv.query_string_cache_keys.items.clone())
        };
        let headers = if fv.headers.items.iter().any(|h| h == "*") {
            Selection::All
        } else if fv.headers.items.is_empty() {
            Selection::None
        } else {
            Selection::Whitelist(
                fv.headers
                    .items
                    .iter()
                    .map(|h| h.to_ascii_lowercase())
                    .collect(),
            )
        };
        let cookies = match fv.cookies {
            Some(c) if c.forward == "all" => Selection::All,
            Some(c) if c.forward == "whitelist" => Selection::Whitelist(c.whitelisted_names.items),
            _ => Selection::None,
        };
        let default_ttl = ttl(b.default_ttl.unwrap_or(86_400));
        Self {
            min_ttl: ttl(b.min_ttl.unwrap_or(0)),
            default_ttl,
            max_ttl: ttl(b.max_ttl.unwrap_or(wharf_model::cloudfront::ONE_YEAR)).max(default_ttl),
            // Legacy behaviors cache compressed objects when `Compress` is on.
            gzip: b.compress,
            brotli: b.compress,
            query_strings,
            headers,
            cookies,
        }
    }

    /// Whether the normalised `Accept-Encoding` is part of the key.
    pub fn keys_encoding(&self) -> bool {
        self.gzip || self.brotli
    }
}

/// What goes to the origin beyond the cache key's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginRequestPolicy {
    pub query_strings: Selection,
    pub headers: Selection,
    pub cookies: Selection,
    /// The `CloudFront-*` headers it names (lower case): the edge makes them. (`allViewer`
    /// forwards the viewer's headers, never these.)
    pub cloudfront_headers: Vec<String>,
}

impl OriginRequestPolicy {
    pub fn from_config(c: &OriginRequestPolicyConfig) -> Self {
        let h = &c.headers_config;
        let cloudfront_headers = match h.header_behavior.as_str() {
            "whitelist" | "allViewerAndWhitelistCloudFront" => cloudfront_names(&h.headers.items),
            _ => Vec::new(),
        };
        Self {
            query_strings: queries(&c.query_strings_config),
            headers: headers(h),
            cookies: cookies(&c.cookies_config),
            cloudfront_headers,
        }
    }
}

/// The `CloudFront-*` names among `names`, in lower case.
pub fn cloudfront_names(names: &[String]) -> Vec<String> {
    names
        .iter()
        .map(|n| n.to_ascii_lowercase())
        .filter(|n| crate::viewer_headers::is_cloudfront(n))
        .collect()
}

fn queries(c: &QueryStringsConfig) -> Selection {
    Selection::from(&c.query_string_behavior, &c.query_strings.items, false)
}
fn headers(c: &HeadersConfig) -> Selection {
    Selection::from(&c.header_behavior, &c.headers.items, true)
}
fn cookies(c: &CookiesConfig) -> Selection {
    Selection::from(&c.cookie_behavior, &c.cookies.items, false)
}
