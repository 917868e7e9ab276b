//! `ResponseHeadersPolicyConfig` (the document `aws cloudfront create-response-headers-policy
//! --response-headers-policy-config` takes) and AWS's managed response headers policies with
//! their real IDs (CloudFront Developer Guide, "Use managed response headers policies").

use serde::{Deserialize, Serialize};

use super::{Items, ModelError};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResponseHeadersPolicyConfig {
    #[serde(default)]
    pub comment: String,
    pub name: String,
    #[serde(default)]
    pub cors_config: Option<CorsConfig>,
    #[serde(default)]
    pub security_headers_config: Option<SecurityHeadersConfig>,
    #[serde(default)]
    pub server_timing_headers_config: Option<ServerTimingHeadersConfig>,
    #[serde(default)]
    pub custom_headers_config: Option<Items<CustomHeader>>,
    #[serde(default)]
    pub remove_headers_config: Option<Items<RemoveHeader>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CorsConfig {
    pub access_control_allow_origins: Items<String>,
    pub access_control_allow_headers: Items<String>,
    /// `GET`, `POST`, `OPTIONS`, `PUT`, `DELETE`, `PATCH`, `HEAD` or `ALL`.
    pub access_control_allow_methods: Items<String>,
    pub access_control_allow_credentials: bool,
    #[serde(default)]
    pub access_control_expose_headers: Option<Items<String>>,
    #[serde(default)]
    pub access_control_max_age_sec: Option<i64>,
    /// Whether the policy's CORS headers replace ones the origin sent.
    pub origin_override: bool,
}

/// Each security header's `Override`: whether it replaces a header the origin sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityHeadersConfig {
    #[serde(rename = "XSSProtection", default)]
    pub xss_protection: Option<XssProtection>,
    #[serde(default)]
    pub frame_options: Option<FrameOptions>,
    #[serde(default)]
    pub referrer_policy: Option<ReferrerPolicy>,
    #[serde(default)]
    pub content_security_policy: Option<ContentSecurityPolicy>,
    #[serde(default)]
    pub content_type_options: Option<ContentTypeOptions>,
    #[serde(default)]
    pub strict_transport_security: Option<StrictTransportSecurity>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct XssProtection {
    #[serde(rename = "Override")]
    pub override_: bool,
    pub protection: bool,
    #[serde(default)]
    pub mode_block: bool,
    #[serde(default)]
    pub report_uri: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FrameOptions {
    #[serde(rename = "Override")]
    pub override_: bool,
    /// `DENY` or `SAMEORIGIN`.
    pub frame_option: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReferrerPolicy {
    #[serde(rename = "Override")]
    pub override_: bool,
    pub referrer_policy: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContentSecurityPolicy {
    #[serde(rename = "Override")]
    pub override_: bool,
    pub content_security_policy: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContentTypeOptions {
    #[serde(rename = "Override")]
    pub override_: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StrictTransportSecurity {
    #[serde(rename = "Override")]
    pub override_: bool,
    #[serde(default)]
    pub include_subdomains: bool,
    #[serde(default)]
    pub preload: bool,
    /// CloudFront's name for HSTS `max-age`.
    pub access_control_max_age_sec: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServerTimingHeadersConfig {
    pub enabled: bool,
    /// Percent of requests (0–100) that get the header.
    #[serde(default)]
    pub sampling_rate: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomHeader {
    pub header: String,
    pub value: String,
    #[serde(rename = "Override")]
    pub override_: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoveHeader {
    pub header: String,
}

const CORS_METHODS: &[&str] = &[
    "GET", "POST", "OPTIONS", "PUT", "DELETE", "PATCH", "HEAD", "ALL",
];
const REFERRER_POLICIES: &[&str] = &[
    "no-referrer",
    "no-referrer-when-downgrade",
    "origin",
    "origin-when-cross-origin",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
    "unsafe-url",
];

/// Headers a policy may neither add nor remove: they are the edge's or the protocol's.
const RESERVED: &[&str] = &[
    "connection",
    "content-length",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
    "warning",
    "x-accel-buffering",
    "x-accel-charset",
    "x-accel-limit-rate",
    "x-accel-redirect",
    "x-amz-cf-id",
    "x-amz-cf-pop",
    "x-cache",
    "x-edge-origin-shield-skipped",
];

impl ResponseHeadersPolicyConfig {
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let p: Self =
            serde_json::from_str(text).map_err(|e| ModelError::Malformed(e.to_string()))?;
        p.validate()?;
        Ok(p)
    }

    fn validate(&self) -> Result<(), ModelError> {
        let invalid = |m: String| Err(ModelError::Invalid(m));
        if self.name.is_empty() {
            return invalid("a response headers policy needs a Name".into());
        }
        if let Some(c) = &self.cors_config {
            c.access_control_allow_origins
                .check("AccessControlAllowOrigins")?;
            c.access_control_allow_headers
                .check("AccessControlAllowHeaders")?;
            c.access_control_allow_methods
                .check("AccessControlAllowMethods")?;
            if let Some(e) = &c.access_control_expose_headers {
                e.check("AccessControlExposeHeaders")?;
            }
            if c.access_control_allow_origins.items.is_empty() {
                return invalid("AccessControlAllowOrigins needs at least one origin".into());
            }
            if let Some(m) = c
                .access_control_allow_methods
                .items
                .iter()
                .find(|m| !CORS_METHODS.contains(&m.as_str()))
            {
                return invalid(format!("AccessControlAllowMethods: unknown method {m}"));
            }
            if c.access_control_allow_credentials
                && c.access_control_allow_origins
                    .items
                    .iter()
                    .any(|o| o == "*")
            {
                return invalid(
                    "AccessControlAllowOrigins cannot be * when AccessControlAllowCredentials is true"
                        .into(),
                );
            }
            if c.access_control_max_age_sec.is_some_and(|s| s < 0) {
                return invalid("AccessControlMaxAgeSec must not be negative".into());
            }
        }
        if let Some(s) = &self.security_headers_config {
            if let Some(f) = &s.frame_options
                && !matches!(f.frame_option.as_str(), "DENY" | "SAMEORIGIN")
            {
                return invalid(format!(
                    "FrameOption must be DENY or SAMEORIGIN, not {}",
                    f.frame_option
                ));
            }
            if let Some(r) = &s.referrer_policy
                && !REFERRER_POLICIES.contains(&r.referrer_policy.as_str())
            {
                return invalid(format!("unknown ReferrerPolicy {}", r.referrer_policy));
            }
            if let Some(x) = &s.xss_protection
                && !x.protection
                && (x.mode_block || x.report_uri.is_some())
            {
                return invalid("XSSProtection: ModeBlock and ReportUri need Protection".into());
            }
            if let Some(x) = &s.xss_protection
                && x.mode_block
                && x.report_uri.is_some()
            {
                return invalid("XSSProtection: ModeBlock and ReportUri exclude each other".into());
            }
            if let Some(h) = &s.strict_transport_security
                && h.access_control_max_age_sec < 0
            {
                return invalid("StrictTransportSecurity: max age must not be negative".into());
            }
        }
        if let Some(t) = &self.server_timing_headers_config
            && t.sampling_rate.is_some_and(|r| !(0.0..=100.0).contains(&r))
        {
            return invalid("ServerTimingHeadersConfig: SamplingRate must be 0 to 100".into());
        }
        if let Some(c) = &self.custom_headers_config {
            c.check("CustomHeadersConfig")?;
            for h in &c.items {
                header_name_allowed(&h.header)?;
            }
        }
        if let Some(r) = &self.remove_headers_config {
            r.check("RemoveHeadersConfig")?;
            for h in &r.items {
                header_name_allowed(&h.header)?;
            }
        }
        Ok(())
    }
}

fn header_name_allowed(name: &str) -> Result<(), ModelError> {
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid {
        return Err(ModelError::Invalid(format!("invalid header name {name:?}")));
    }
    if RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(ModelError::Invalid(format!(
            "the {name} header cannot be added or removed by a response headers policy"
        )));
    }
    Ok(())
}

pub const SIMPLE_CORS: &str = "60669652-455b-4ae9-85a4-c4c02393f86c";
pub const CORS_WITH_PREFLIGHT: &str = "5cc3b908-e619-4b99-88e5-2cf7f45965bd";
pub const SECURITY_HEADERS_POLICY: &str = "67f7725c-6f97-4210-82d7-5512b31e9d03";
pub const CORS_AND_SECURITY_HEADERS_POLICY: &str = "e61eb60c-9c35-4d20-a928-2b84e02af89c";
pub const CORS_WITH_PREFLIGHT_AND_SECURITY_HEADERS_POLICY: &str =
    "eaab4381-ed33-4a86-88ca-d9558dc6cd63";
/// Every managed response headers policy Wharf has.
pub const MANAGED_RESPONSE_HEADERS_POLICIES: [&str; 5] = [
    SIMPLE_CORS,
    CORS_WITH_PREFLIGHT,
    SECURITY_HEADERS_POLICY,
    CORS_AND_SECURITY_HEADERS_POLICY,
    CORS_WITH_PREFLIGHT_AND_SECURITY_HEADERS_POLICY,
];

fn list(v: &[&str]) -> Items<String> {
    Items::of(v.iter().map(|s| (*s).to_owned()).collect())
}

/// `Access-Control-Allow-Origin: *` for every CORS request, the origin's own header kept.
fn simple_cors() -> CorsConfig {
    CorsConfig {
        access_control_allow_origins: list(&["*"]),
        access_control_allow_headers: list(&[]),
        access_control_allow_methods: list(&[]),
        access_control_allow_credentials: false,
        access_control_expose_headers: None,
        access_control_max_age_sec: None,
        origin_override: false,
    }
}

/// Preflights also get the methods, and every response may expose every header.
fn cors_with_preflight() -> CorsConfig {
    CorsConfig {
        access_control_allow_methods: list(&[
            "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT",
        ]),
        access_control_expose_headers: Some(list(&["*"])),
        ..simple_cors()
    }
}

/// Mozilla's recommended set: `X-Content-Type-Options` always, the others unless the origin
/// sent its own.
fn security_headers() -> SecurityHeadersConfig {
    SecurityHeadersConfig {
        xss_protection: Some(XssProtection {
            override_: false,
            protection: true,
            mode_block: true,
            report_uri: None,
        }),
        frame_options: Some(FrameOptions {
            override_: false,
            frame_option: "SAMEORIGIN".into(),
        }),
        referrer_policy: Some(ReferrerPolicy {
            override_: false,
            referrer_policy: "strict-origin-when-cross-origin".into(),
        }),
        content_security_policy: None,
        content_type_options: Some(ContentTypeOptions { override_: true }),
        strict_transport_security: Some(StrictTransportSecurity {
            override_: false,
            include_subdomains: false,
            preload: false,
            access_control_max_age_sec: 31_536_000,
        }),
    }
}

/// The AWS managed response headers policy with this ID, if there is one.
pub fn managed_response_headers_policy(id: &str) -> Option<ResponseHeadersPolicyConfig> {
    let (name, cors, security) = match id {
        SIMPLE_CORS => ("Managed-SimpleCORS", Some(simple_cors()), None),
        CORS_WITH_PREFLIGHT => (
            "Managed-CORS-With-Preflight",
            Some(cors_with_preflight()),
            None,
        ),
        SECURITY_HEADERS_POLICY => (
            "Managed-SecurityHeadersPolicy",
            None,
            Some(security_headers()),
        ),
        CORS_AND_SECURITY_HEADERS_POLICY => (
            "Managed-CORS-and-SecurityHeadersPolicy",
            Some(simple_cors()),
            Some(security_headers()),
        ),
        CORS_WITH_PREFLIGHT_AND_SECURITY_HEADERS_POLICY => (
            "Managed-CORS-with-preflight-and-SecurityHeadersPolicy",
            Some(cors_with_preflight()),
            Some(security_headers()),
        ),
        _ => return None,
    };
    Some(ResponseHeadersPolicyConfig {
        comment: String::new(),
        name: name.into(),
        cors_config: cors,
        security_headers_config: security,
        ..Default::default()
    })
}
