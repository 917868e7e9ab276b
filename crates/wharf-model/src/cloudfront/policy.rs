//! `CachePolicyConfig` and `OriginRequestPolicyConfig`, and AWS's managed policies with their
//! real IDs (CloudFront Developer Guide, "Use managed cache policies" and "Use managed origin
//! request policies").

use serde::{Deserialize, Serialize};

use super::{Items, ModelError};

/// A year: the default `MaxTTL` of CloudFront's policies.
pub const ONE_YEAR: i64 = 31_536_000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CachePolicyConfig {
    #[serde(default)]
    pub comment: String,
    pub name: String,
    #[serde(rename = "DefaultTTL", default = "one_day")]
    pub default_ttl: i64,
    #[serde(rename = "MaxTTL", default = "one_year")]
    pub max_ttl: i64,
    #[serde(rename = "MinTTL")]
    pub min_ttl: i64,
    pub parameters_in_cache_key_and_forwarded_to_origin: CacheKeyParameters,
}

fn one_day() -> i64 {
    86_400
}
fn one_year() -> i64 {
    ONE_YEAR
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CacheKeyParameters {
    pub enable_accept_encoding_gzip: bool,
    #[serde(default)]
    pub enable_accept_encoding_brotli: bool,
    pub headers_config: HeadersConfig,
    pub cookies_config: CookiesConfig,
    pub query_strings_config: QueryStringsConfig,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HeadersConfig {
    /// Cache policy: `none` or `whitelist`. Origin request policy: also `allViewer`,
    /// `allViewerAndWhitelistCloudFront`, `allExcept`.
    pub header_behavior: String,
    #[serde(default)]
    pub headers: Items<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CookiesConfig {
    /// `none`, `whitelist`, `allExcept` or `all`.
    pub cookie_behavior: String,
    #[serde(default)]
    pub cookies: Items<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueryStringsConfig {
    /// `none`, `whitelist`, `allExcept` or `all`.
    pub query_string_behavior: String,
    #[serde(default)]
    pub query_strings: Items<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginRequestPolicyConfig {
    #[serde(default)]
    pub comment: String,
    pub name: String,
    pub headers_config: HeadersConfig,
    pub cookies_config: CookiesConfig,
    pub query_strings_config: QueryStringsConfig,
}

impl CachePolicyConfig {
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let p: Self =
            serde_json::from_str(text).map_err(|e| ModelError::Malformed(e.to_string()))?;
        if !(p.min_ttl <= p.default_ttl && p.default_ttl <= p.max_ttl && p.min_ttl >= 0) {
            return Err(ModelError::Invalid(
                "cache policy TTLs must satisfy 0 <= MinTTL <= DefaultTTL <= MaxTTL".into(),
            ));
        }
        let k = &p.parameters_in_cache_key_and_forwarded_to_origin;
        k.headers_config.headers.check("Headers")?;
        k.cookies_config.cookies.check("Cookies")?;
        k.query_strings_config.query_strings.check("QueryStrings")?;
        Ok(p)
    }
}

impl OriginRequestPolicyConfig {
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let p: Self =
            serde_json::from_str(text).map_err(|e| ModelError::Malformed(e.to_string()))?;
        p.headers_config.headers.check("Headers")?;
        p.cookies_config.cookies.check("Cookies")?;
        p.query_strings_config.query_strings.check("QueryStrings")?;
        Ok(p)
    }
}

fn names(v: &[&str]) -> Items<String> {
    Items::of(v.iter().map(|s| (*s).to_owned()).collect())
}

fn cache_policy(
    name: &str,
    (min, default, max): (i64, i64, i64),
    compress: bool,
    headers: &[&str],
    cookies_all: bool,
    query_all: bool,
) -> CachePolicyConfig {
    CachePolicyConfig {
        comment: String::new(),
        name: name.into(),
        min_ttl: min,
        default_ttl: default,
        max_ttl: max,
        parameters_in_cache_key_and_forwarded_to_origin: CacheKeyParameters {
            enable_accept_encoding_gzip: compress,
            enable_accept_encoding_brotli: compress,
            headers_config: HeadersConfig {
                header_behavior: if headers.is_empty() {
                    "none"
                } else {
                    "whitelist"
                }
                .into(),
                headers: names(headers),
            },
            cookies_config: CookiesConfig {
                cookie_behavior: if cookies_all { "all" } else { "none" }.into(),
                cookies: Items::default(),
            },
            query_strings_config: QueryStringsConfig {
                query_string_behavior: if query_all { "all" } else { "none" }.into(),
                query_strings: Items::default(),
            },
        },
    }
}

pub const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
pub const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
pub const CACHING_OPTIMIZED_FOR_UNCOMPRESSED: &str = "b2884449-e4de-46a7-ac36-70bc7f1ddd6d";
pub const USE_ORIGIN_CACHE_CONTROL_HEADERS: &str = "83da9c7e-98b4-4e11-a168-04f0df8e2c65";
pub const USE_ORIGIN_CACHE_CONTROL_HEADERS_QUERY_STRINGS: &str =
    "4cc15a8a-d715-48a4-82b8-cc0b614638fe";
pub const AMPLIFY: &str = "2e54312d-136d-493c-8eb9-b001f22f67d2";
/// Every managed cache policy Wharf has.
pub const MANAGED_CACHE_POLICIES: [&str; 6] = [
    CACHING_OPTIMIZED,
    CACHING_DISABLED,
    CACHING_OPTIMIZED_FOR_UNCOMPRESSED,
    USE_ORIGIN_CACHE_CONTROL_HEADERS,
    USE_ORIGIN_CACHE_CONTROL_HEADERS_QUERY_STRINGS,
    AMPLIFY,
];

/// The AWS managed cache policy with this ID, if there is one.
pub fn managed_cache_policy(id: &str) -> Option<CachePolicyConfig> {
    const ORIGIN_HEADERS: &[&str] = &[
        "host",
        "origin",
        "x-http-method-override",
        "x-http-method",
        "x-method-override",
    ];
    Some(match id {
        CACHING_OPTIMIZED => cache_policy(
            "Managed-CachingOptimized",
            (1, 86_400, ONE_YEAR),
            true,
            &[],
            false,
            false,
        ),
        CACHING_DISABLED => cache_policy(
            "Managed-CachingDisabled",
            (0, 0, 0),
            false,
            &[],
            false,
            false,
        ),
        CACHING_OPTIMIZED_FOR_UNCOMPRESSED => cache_policy(
            "Managed-CachingOptimizedForUncompressedObjects",
            (1, 86_400, ONE_YEAR),
            false,
            &[],
            false,
            false,
        ),
        USE_ORIGIN_CACHE_CONTROL_HEADERS => cache_policy(
            "Managed-UseOriginCacheControlHeaders",
            (0, 0, ONE_YEAR),
            true,
            ORIGIN_HEADERS,
            true,
            false,
        ),
        USE_ORIGIN_CACHE_CONTROL_HEADERS_QUERY_STRINGS => cache_policy(
            "Managed-UseOriginCacheControlHeaders-QueryStrings",
            (0, 0, ONE_YEAR),
            true,
            ORIGIN_HEADERS,
            true,
            true,
        ),
        AMPLIFY => cache_policy(
            "Managed-Amplify",
            (2, 2, 600),
            true,
            &["authorization", "cloudfront-viewer-country", "host"],
            true,
            true,
        ),
        _ => return None,
    })
}

pub const ALL_VIEWER: &str = "216adef6-5c7f-47e4-b989-5492eafa07d3";
pub const ALL_VIEWER_EXCEPT_HOST_HEADER: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
pub const ALL_VIEWER_AND_CLOUDFRONT_HEADERS: &str = "33f36d7e-f396-46d9-90e0-52428a34d9dc";
pub const CORS_CUSTOM_ORIGIN: &str = "59781a5b-3903-41f3-afcb-af62929ccde1";
pub const CORS_S3_ORIGIN: &str = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf";
pub const USER_AGENT_REFERER_HEADERS: &str = "acba4595-bd28-49b8-b9fe-13317c0390fa";
/// Every managed origin request policy Wharf has.
pub const MANAGED_ORIGIN_REQUEST_POLICIES: [&str; 6] = [
    ALL_VIEWER,
    ALL_VIEWER_EXCEPT_HOST_HEADER,
    ALL_VIEWER_AND_CLOUDFRONT_HEADERS,
    CORS_CUSTOM_ORIGIN,
    CORS_S3_ORIGIN,
    USER_AGENT_REFERER_HEADERS,
];

/// The AWS managed origin request policy with this ID, if there is one.
pub fn managed_origin_request_policy(id: &str) -> Option<OriginRequestPolicyConfig> {
    let policy = |name: &str, header_behavior: &str, headers: &[&str], all: bool| {
        OriginRequestPolicyConfig {
            comment: String::new(),
            name: name.into(),
            headers_config: HeadersConfig {
                header_behavior: header_behavior.into(),
                headers: names(headers),
            },
            cookies_config: CookiesConfig {
                cookie_behavior: if all { "all" } else { "none" }.into(),
                cookies: Items::default(),
            },
            query_strings_config: QueryStringsConfig {
                query_string_behavior: if all { "all" } else { "none" }.into(),
                query_strings: Items::default(),
            },
        }
    };
    Some(match id {
        ALL_VIEWER => policy("Managed-AllViewer", "allViewer", &[], true),
        ALL_VIEWER_EXCEPT_HOST_HEADER => policy(
            "Managed-AllViewerExceptHostHeader",
            "allExcept",
            &["host"],
            true,
        ),
        ALL_VIEWER_AND_CLOUDFRONT_HEADERS => policy(
            "Managed-AllViewerAndCloudFrontHeaders-2022-06",
            "allViewerAndWhitelistCloudFront",
            &[
                "CloudFront-Forwarded-Proto",
                "CloudFront-Is-Android-Viewer",
                "CloudFront-Is-Desktop-Viewer",
                "CloudFront-Is-IOS-Viewer",
                "CloudFront-Is-Mobile-Viewer",
                "CloudFront-Is-SmartTV-Viewer",
                "CloudFront-Is-Tablet-Viewer",
                "CloudFront-Viewer-Address",
                "CloudFront-Viewer-ASN",
                "CloudFront-Viewer-City",
                "CloudFront-Viewer-Country",
                "CloudFront-Viewer-Country-Name",
                "CloudFront-Viewer-Country-Region",
                "CloudFront-Viewer-Country-Region-Name",
                "CloudFront-Viewer-Http-Version",
                "CloudFront-Viewer-Latitude",
                "CloudFront-Viewer-Longitude",
                "CloudFront-Viewer-Metro-Code",
                "CloudFront-Viewer-Postal-Code",
                "CloudFront-Viewer-Time-Zone",
                "CloudFront-Viewer-TLS",
            ],
            true,
        ),
        CORS_CUSTOM_ORIGIN => policy("Managed-CORS-CustomOrigin", "whitelist", &["origin"], false),
        CORS_S3_ORIGIN => policy(
            "Managed-CORS-S3Origin",
            "whitelist",
            &[
                "origin",
                "access-control-request-headers",
                "access-control-request-method",
            ],
            false,
        ),
        USER_AGENT_REFERER_HEADERS => policy(
            "Managed-UserAgentRefererHeaders",
            "whitelist",
            &["user-agent", "referer"],
            true,
        ),
        _ => return None,
    })
}
