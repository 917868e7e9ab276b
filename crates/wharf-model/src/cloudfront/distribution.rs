//! `DistributionConfig` (CloudFront API 2020-05-31) in the JSON form the AWS CLI takes:
//! `aws cloudfront create-distribution --distribution-config file://dist.json`.
//!
//! Every shape keeps its AWS name and its wire field names; fields Wharf does not act on yet
//! (`WebACLId`, ...) are accepted and ignored so a user's existing file loads unchanged.

use serde::{Deserialize, Serialize};

use super::{Items, ModelError, ViewerCertificate, validate_http_version};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionConfig {
    #[serde(default)]
    pub caller_reference: String,
    #[serde(default)]
    pub aliases: Items<String>,
    #[serde(default)]
    pub default_root_object: String,
    pub origins: Items<Origin>,
    #[serde(default)]
    pub origin_groups: Items<OriginGroup>,
    pub default_cache_behavior: CacheBehavior,
    #[serde(default)]
    pub cache_behaviors: Items<CacheBehavior>,
    #[serde(default)]
    pub custom_error_responses: Items<CustomErrorResponse>,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub price_class: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub http_version: Option<String>,
    #[serde(default)]
    pub viewer_certificate: Option<ViewerCertificate>,
    #[serde(default)]
    pub restrictions: Option<Restrictions>,
    #[serde(default)]
    pub logging: Option<LoggingConfig>,
    /// Cache tags: the origin response header whose comma-separated values tag the stored
    /// object, for invalidations of `#tag` paths.
    #[serde(default)]
    pub cache_tag_config: Option<CacheTagConfig>,
}

/// `CacheTagConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CacheTagConfig {
    pub header_name: String,
}

/// `Logging`: standard (legacy) access logs, delivered as gzip objects into `Bucket`
/// (`BUCKET.s3.amazonaws.com`, as CloudFront names it) under `Prefix`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    #[serde(default)]
    pub enabled: bool,
    /// Whether log lines carry the viewer's `Cookie` header.
    #[serde(default)]
    pub include_cookies: bool,
    #[serde(default)]
    pub bucket: String,
    #[serde(default)]
    pub prefix: String,
}

impl LoggingConfig {
    /// The bucket's name: `Bucket` less its `.s3…` domain (`logs.s3.amazonaws.com` → `logs`).
    pub fn bucket_name(&self) -> &str {
        self.bucket
            .find(".s3.")
            .or_else(|| self.bucket.find(".s3-"))
            .map_or(self.bucket.as_str(), |i| &self.bucket[..i])
    }
}

/// `TrustedKeyGroups` / `TrustedSigners` of a cache behavior.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrustedList {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub quantity: u32,
    #[serde(default)]
    pub items: Vec<String>,
}

impl TrustedList {
    pub fn is_enabled(list: Option<&Self>) -> bool {
        list.is_some_and(|l| l.enabled)
    }

    /// `Quantity` matches `Items`, and an enabled list names at least one entry.
    fn check(&self, what: &str) -> Result<(), ModelError> {
        if self.quantity as usize != self.items.len() || (self.enabled && self.items.is_empty()) {
            return Err(ModelError::Invalid(format!(
                "{what}: Quantity must match Items, and an enabled list needs at least one entry"
            )));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Restrictions {
    pub geo_restriction: GeoRestriction,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GeoRestriction {
    /// `none`, `whitelist` or `blacklist` (the API's names; the console says allow/block).
    pub restriction_type: String,
    #[serde(default)]
    pub quantity: u32,
    #[serde(default)]
    pub items: Vec<String>,
}

impl GeoRestriction {
    pub fn restricts(&self) -> bool {
        self.restriction_type != "none"
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Origin {
    pub id: String,
    pub domain_name: String,
    #[serde(default)]
    pub origin_path: String,
    #[serde(default)]
    pub custom_headers: Items<OriginCustomHeader>,
    #[serde(default)]
    pub s3_origin_config: Option<S3OriginConfig>,
    #[serde(default)]
    pub custom_origin_config: Option<CustomOriginConfig>,
    /// How many times CloudFront tries to connect (1–3, default 3).
    #[serde(default)]
    pub connection_attempts: Option<u32>,
    /// Seconds to wait for a connection (1–10, default 10).
    #[serde(default)]
    pub connection_timeout: Option<u32>,
    #[serde(default)]
    pub origin_access_control_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginCustomHeader {
    pub header_name: String,
    pub header_value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3OriginConfig {
    #[serde(default)]
    pub origin_access_identity: String,
    #[serde(default)]
    pub origin_read_timeout: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomOriginConfig {
    #[serde(rename = "HTTPPort", default = "http_port")]
    pub http_port: u16,
    #[serde(rename = "HTTPSPort", default = "https_port")]
    pub https_port: u16,
    /// `http-only`, `match-viewer` or `https-only`.
    pub origin_protocol_policy: String,
    /// Seconds to wait for a response, and between body packets (default 30).
    #[serde(default)]
    pub origin_read_timeout: Option<u32>,
    /// Seconds an idle connection to the origin is kept (default 5).
    #[serde(default)]
    pub origin_keepalive_timeout: Option<u32>,
}

fn http_port() -> u16 {
    80
}
fn https_port() -> u16 {
    443
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginGroup {
    pub id: String,
    pub failover_criteria: FailoverCriteria,
    pub members: Items<OriginGroupMember>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FailoverCriteria {
    pub status_codes: Items<u16>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginGroupMember {
    pub origin_id: String,
}

/// Methods CloudFront forwards, and the subset whose responses it caches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AllowedMethods {
    #[serde(flatten)]
    pub methods: Items<String>,
    #[serde(default)]
    pub cached_methods: Option<Items<String>>,
}

impl Default for AllowedMethods {
    fn default() -> Self {
        let get_head = Items::of(vec!["GET".to_owned(), "HEAD".to_owned()]);
        Self {
            methods: get_head.clone(),
            cached_methods: Some(get_head),
        }
    }
}

/// One cache behavior; the default behavior has no `PathPattern`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CacheBehavior {
    #[serde(default)]
    pub path_pattern: Option<String>,
    pub target_origin_id: String,
    /// `allow-all`, `redirect-to-https` or `https-only`.
    #[serde(default = "allow_all")]
    pub viewer_protocol_policy: String,
    #[serde(default)]
    pub allowed_methods: AllowedMethods,
    #[serde(default)]
    pub compress: bool,
    #[serde(default)]
    pub cache_policy_id: Option<String>,
    #[serde(default)]
    pub origin_request_policy_id: Option<String>,
    #[serde(default)]
    pub response_headers_policy_id: Option<String>,
    #[serde(default)]
    pub smooth_streaming: Option<bool>,
    /// Restrict viewer access (signed URLs and cookies) by key groups, or by the legacy
    /// CloudFront key pairs of trusted accounts.
    #[serde(default)]
    pub trusted_key_groups: Option<TrustedList>,
    #[serde(default)]
    pub trusted_signers: Option<TrustedList>,
    // Legacy cache settings, used when the behavior names no cache policy.
    #[serde(default)]
    pub forwarded_values: Option<ForwardedValues>,
    #[serde(rename = "MinTTL", default)]
    pub min_ttl: Option<i64>,
    #[serde(rename = "DefaultTTL", default)]
    pub default_ttl: Option<i64>,
    #[serde(rename = "MaxTTL", default)]
    pub max_ttl: Option<i64>,
    /// CloudFront Functions run on this behavior's viewer requests and responses.
    #[serde(default)]
    pub function_associations: Option<Items<FunctionAssociation>>,
}

/// A CloudFront Function run on one event of a behavior (`viewer-request`, `viewer-response`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionAssociation {
    #[serde(rename = "FunctionARN")]
    pub function_arn: String,
    pub event_type: String,
}

fn allow_all() -> String {
    "allow-all".into()
}

/// The legacy `ForwardedValues` of a behavior without a cache policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ForwardedValues {
    #[serde(default)]
    pub query_string: bool,
    #[serde(default)]
    pub cookies: Option<LegacyCookies>,
    #[serde(default)]
    pub headers: Items<String>,
    #[serde(default)]
    pub query_string_cache_keys: Items<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LegacyCookies {
    /// `none`, `whitelist` or `all`.
    pub forward: String,
    #[serde(default)]
    pub whitelisted_names: Items<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomErrorResponse {
    pub error_code: u16,
    #[serde(default)]
    pub response_page_path: String,
    /// A string in CloudFront's API (`"404"`), empty for "the origin's code".
    #[serde(default, deserialize_with = "super::string_or_number")]
    pub response_code: String,
    #[serde(rename = "ErrorCachingMinTTL", default)]
    pub error_caching_min_ttl: Option<i64>,
}

impl DistributionConfig {
    /// Parses the CLI's JSON form and checks what CloudFront checks on create.
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let cfg: Self =
            serde_json::from_str(text).map_err(|e| ModelError::Malformed(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<(), ModelError> {
        self.aliases.check("Aliases")?;
        self.origins.check("Origins")?;
        self.origin_groups.check("OriginGroups")?;
        self.cache_behaviors.check("CacheBehaviors")?;
        self.custom_error_responses.check("CustomErrorResponses")?;
        validate_http_version(self.http_version.as_deref())?;
        if let Some(t) = &self.cache_tag_config
            && (t.header_name.is_empty()
                || !t
                    .header_name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)))
        {
            return Err(ModelError::Invalid(format!(
                "CacheTagConfig HeaderName {:?} is not a header name",
                t.header_name
            )));
        }
        if let Some(l) = &self.logging
            && l.enabled
            && crate::BucketName::new(l.bucket_name()).is_err()
        {
            return Err(ModelError::Invalid(format!(
                "The parameter Logging Bucket {:?} does not name an S3 bucket (BUCKET.s3.amazonaws.com).",
                l.bucket
            )));
        }
        if let Some(r) = &self.restrictions {
            let g = &r.geo_restriction;
            if !matches!(
                g.restriction_type.as_str(),
                "none" | "whitelist" | "blacklist"
            ) {
                return Err(ModelError::Invalid(format!(
                    "RestrictionType {} is not valid",
                    g.restriction_type
                )));
            }
            if g.quantity as usize != g.items.len() || (g.restricts() && g.items.is_empty()) {
                return Err(ModelError::Invalid(
                    "GeoRestriction Quantity must match its Items, and a restriction needs at least one country".into(),
                ));
            }
        }
        for a in &self.aliases.items {
            if !valid_alias(a) {
                return Err(ModelError::Invalid(format!(
                    "{a:?} is not a valid alternate domain name (CNAME)"
                )));
            }
        }
        if let Some(v) = &self.viewer_certificate {
            v.validate()?;
        }
        if self.origins.items.is_empty() {
            return Err(ModelError::Invalid(
                "Origins must name at least one origin".into(),
            ));
        }
        for b in std::iter::once(&self.default_cache_behavior).chain(&self.cache_behaviors.items) {
            if let Some(f) = &b.function_associations {
                f.check("FunctionAssociations")?;
                let mut seen = Vec::new();
                for a in &f.items {
                    if !matches!(a.event_type.as_str(), "viewer-request" | "viewer-response") {
                        return Err(ModelError::Invalid(format!(
                            "FunctionAssociation EventType {} is not one CloudFront Functions run on (viewer-request, viewer-response)",
                            a.event_type
                        )));
                    }
                    if seen.contains(&a.event_type) {
                        return Err(ModelError::Invalid(format!(
                            "a cache behavior has at most one function for {}",
                            a.event_type
                        )));
                    }
                    seen.push(a.event_type.clone());
                }
            }
        }
        let origin_exists = |id: &str| {
            self.origins.items.iter().any(|o| o.id == id)
                || self.origin_groups.items.iter().any(|g| g.id == id)
        };
        for o in &self.origins.items {
            o.custom_headers.check("CustomHeaders")?;
            if o.s3_origin_config.is_some() == o.custom_origin_config.is_some() {
                return Err(ModelError::Invalid(format!(
                    "origin {} needs exactly one of S3OriginConfig and CustomOriginConfig",
                    o.id
                )));
            }
            if !o.origin_path.is_empty()
                && (!o.origin_path.starts_with('/') || o.origin_path.ends_with('/'))
            {
                return Err(ModelError::Invalid(format!(
                    "OriginPath of {} must start with / and not end with /",
                    o.id
                )));
            }
        }
        for g in &self.origin_groups.items {
            g.members.check("Members")?;
            g.failover_criteria.status_codes.check("StatusCodes")?;
            if g.members.items.len() != 2 {
                return Err(ModelError::Invalid(format!(
                    "origin group {} must have exactly two members",
                    g.id
                )));
            }
            for m in &g.members.items {
                if !self.origins.items.iter().any(|o| o.id == m.origin_id) {
                    return Err(ModelError::Invalid(format!(
                        "origin group {} names unknown origin {}",
                        g.id, m.origin_id
                    )));
                }
            }
        }
        let behaviors =
            std::iter::once(&self.default_cache_behavior).chain(&self.cache_behaviors.items);
        for (i, b) in behaviors.enumerate() {
            if !origin_exists(&b.target_origin_id) {
                return Err(ModelError::Invalid(format!(
                    "TargetOriginId {} names no origin or origin group",
                    b.target_origin_id
                )));
            }
            if i > 0 && b.path_pattern.as_deref().unwrap_or("").is_empty() {
                return Err(ModelError::Invalid(
                    "a CacheBehavior needs a PathPattern".into(),
                ));
            }
            b.allowed_methods.methods.check("AllowedMethods")?;
            for (what, list) in [
                ("TrustedKeyGroups", &b.trusted_key_groups),
                ("TrustedSigners", &b.trusted_signers),
            ] {
                if let Some(l) = list {
                    l.check(what)?;
                }
            }
        }
        Ok(())
    }
}

/// An alternate domain name: a DNS name of at most 253 characters, whose first label may be
/// `*` (a wildcard for exactly one label, as CloudFront allows).
pub fn valid_alias(a: &str) -> bool {
    let name = a.strip_prefix("*.").unwrap_or(a);
    !name.is_empty()
        && a.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}
