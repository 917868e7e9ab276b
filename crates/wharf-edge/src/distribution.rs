//! A distribution in its runtime form: compiled path patterns, resolved policies, and built
//! origins, ready for the pipeline to match a request against.

use std::collections::HashMap;
use std::sync::Arc;

use http::Method;
use rustls::sign::CertifiedKey;
use wharf_auth::cloudfront_signature::PublicKey;
use wharf_model::cloudfront::{
    self as model, CachePolicyConfig, DistributionConfig, KeyGroupConfig, Origin as OriginConfig,
    OriginAccessControlConfig, OriginRequestPolicyConfig, ResponseHeadersPolicyConfig,
    SigningBehavior,
};

use crate::origin::book::OriginBook;
use crate::origin::{Origin, OriginFactory, OriginIdentity};
use crate::path_pattern::PathPattern;
use crate::policy::{CachePolicy, OriginRequestPolicy};
use crate::response_headers::ResponseHeadersPolicy;
use crate::viewer_certificate;

/// What distributions refer to by ID: custom cache, origin request and response headers
/// policies (the managed ones need no entry), viewer certificates, key groups and the public
/// keys they hold.
#[derive(Debug, Default, Clone)]
pub struct PolicyBook {
    pub cache: HashMap<String, CachePolicyConfig>,
    pub origin_request: HashMap<String, OriginRequestPolicyConfig>,
    pub response_headers: HashMap<String, ResponseHeadersPolicyConfig>,
    pub certificates: HashMap<String, Arc<CertifiedKey>>,
    pub key_groups: HashMap<String, KeyGroupConfig>,
    pub public_keys: HashMap<String, Arc<PublicKey>>,
    pub origin_access_controls: HashMap<String, OriginAccessControlConfig>,
    /// Published CloudFront Functions, by ARN.
    pub functions: HashMap<String, Arc<wharf_functions::Function>>,
}

impl PolicyBook {
    /// This book with `other`'s entries added (this one's win on the same ID).
    pub fn merged_with(&self, other: &PolicyBook) -> PolicyBook {
        fn merge<T: Clone>(a: &HashMap<String, T>, b: &HashMap<String, T>) -> HashMap<String, T> {
            let mut m = b.clone();
            m.extend(a.iter().map(|(k, v)| (k.clone(), v.clone())));
            m
        }
        PolicyBook {
            cache: merge(&self.cache, &other.cache),
            origin_request: merge(&self.origin_request, &other.origin_request),
            response_headers: merge(&self.response_headers, &other.response_headers),
            certificates: merge(&self.certificates, &other.certificates),
            key_groups: merge(&self.key_groups, &other.key_groups),
            public_keys: merge(&self.public_keys, &other.public_keys),
            origin_access_controls: merge(
                &self.origin_access_controls,
                &other.origin_access_controls,
            ),
            functions: merge(&self.functions, &other.functions),
        }
    }

    fn cache_policy(&self, id: &str) -> Option<CachePolicy> {
        model::managed_cache_policy(id)
            .or_else(|| self.cache.get(id).cloned())
            .map(|c| CachePolicy::from_config(&c))
    }
    fn origin_request_policy(&self, id: &str) -> Option<OriginRequestPolicy> {
        model::managed_origin_request_policy(id)
            .or_else(|| self.origin_request.get(id).cloned())
            .map(|c| OriginRequestPolicy::from_config(&c))
    }
    fn response_headers_policy(&self, id: &str) -> Option<Result<ResponseHeadersPolicy, String>> {
        model::managed_response_headers_policy(id)
            .or_else(|| self.response_headers.get(id).cloned())
            .map(|c| ResponseHeadersPolicy::from_config(&c))
    }

    /// Who an origin's requests act as: CloudFront's service principal when the origin names
    /// an Origin Access Control that signs (an ID with no file under `origin-access-controls/`
    /// is read as one that always signs, as before those files existed), the Origin Access
    /// Identity its `S3OriginConfig` names, else nobody (anonymous).
    fn origin_identity(&self, o: &OriginConfig) -> OriginIdentity {
        if o.s3_origin_config.is_none() {
            return OriginIdentity::Anonymous;
        }
        if let Some(id) = o
            .origin_access_control_id
            .as_deref()
            .filter(|id| !id.is_empty())
        {
            return match self.origin_access_controls.get(id) {
                Some(c) if c.signing_behavior == SigningBehavior::Never => {
                    OriginIdentity::Anonymous
                }
                _ => OriginIdentity::AccessControl,
            };
        }
        match o
            .s3_origin_config
            .as_ref()
            .and_then(|s| model::origin_access_identity_id(&s.origin_access_identity))
        {
            Some(id) => OriginIdentity::AccessIdentity(id.to_owned()),
            None => OriginIdentity::Anonymous,
        }
    }

    /// The public keys of the key groups a behavior trusts, by public key ID.
    fn trusted_keys(&self, groups: &[String]) -> Result<TrustedKeys, String> {
        let mut keys = HashMap::new();
        for g in groups {
            let group = self.key_groups.get(g).ok_or_else(|| {
                format!("TrustedKeyGroups names key group {g}, and there is no key-groups/{g}.json")
            })?;
            for k in &group.items {
                let key = self.public_keys.get(k).ok_or_else(|| {
                    format!(
                        "key group {g} names public key {k}, and there is no public-keys/{k}.json"
                    )
                })?;
                keys.insert(k.clone(), key.clone());
            }
        }
        Ok(keys)
    }
}

/// Public keys by ID.
pub type TrustedKeys = HashMap<String, Arc<PublicKey>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewerProtocolPolicy {
    AllowAll,
    RedirectToHttps,
    HttpsOnly,
}

pub struct Behavior {
    /// `None` for the default behavior.
    pub pattern: Option<PathPattern>,
    pub target: Arc<dyn Origin>,
    /// The ID of the origin (or origin group) `target` is.
    pub target_origin_id: String,
    pub allowed_methods: Vec<Method>,
    pub cached_methods: Vec<Method>,
    pub compress: bool,
    pub cache_policy: CachePolicy,
    pub origin_request_policy: Option<OriginRequestPolicy>,
    pub response_headers_policy: Option<ResponseHeadersPolicy>,
    pub viewer_protocol_policy: ViewerProtocolPolicy,
    /// Restricted viewer access: only requests signed with one of these keys pass. `None`:
    /// everyone may fetch. `TrustedKeyGroups` gives the keys of its groups; `TrustedSigners`
    /// (AWS accounts' key pairs, which Wharf does not have) gives none, so such a behavior
    /// refuses every request rather than serve private content to anyone.
    pub trusted_keys: Option<Arc<TrustedKeys>>,
    /// The `CloudFront-*` headers the edge makes for this behavior's requests: those its
    /// cache policy keys on and its origin request policy forwards.
    pub cloudfront_headers: Vec<http::HeaderName>,
    /// The CloudFront Function run on viewer requests (`FunctionAssociations`).
    pub viewer_request_function: Option<Arc<wharf_functions::Function>>,
    /// The CloudFront Function run on viewer responses.
    pub viewer_response_function: Option<Arc<wharf_functions::Function>>,
}

impl Behavior {
    /// Whether the behavior accepts `method`. CloudFront's `AllowedMethods` lists only the
    /// seven methods it knows; a behavior that allows all seven also forwards extension
    /// methods (`M-SEARCH`, WebDAV's), as an HTTP proxy does (RFC 9110 §9.1), where CloudFront
    /// would refuse them. CONNECT and TRACE are never forwarded.
    pub fn allows_method(&self, method: &Method) -> bool {
        if self.allowed_methods.contains(method) {
            return true;
        }
        let standard = matches!(
            *method,
            Method::GET
                | Method::HEAD
                | Method::POST
                | Method::PUT
                | Method::DELETE
                | Method::CONNECT
                | Method::OPTIONS
                | Method::TRACE
                | Method::PATCH
        );
        !standard && self.allowed_methods.len() >= 7
    }

    /// Whether the viewer's header `name` (lower case) reaches the origin: the cache policy
    /// keys on it or the origin request policy forwards it. A `CloudFront-*` header does when
    /// the edge made it.
    pub fn forwards_header(&self, name: &str) -> bool {
        if crate::viewer_headers::is_cloudfront(name) {
            return self.cloudfront_headers.iter().any(|h| h == name);
        }
        self.cache_policy.headers.includes(name)
            || self
                .origin_request_policy
                .as_ref()
                .is_some_and(|o| o.headers.includes(name))
    }
}

pub struct ErrorResponse {
    pub page_path: Option<String>,
    pub response_code: Option<u16>,
    pub caching_min_ttl: u64,
}

pub struct Distribution {
    pub id: String,
    pub enabled: bool,
    pub aliases: Vec<String>,
    pub default_root_object: Option<String>,
    /// Ordered cache behaviors, then the default one last.
    pub behaviors: Vec<Behavior>,
    /// Its origins and origin groups by ID (and those functions make).
    pub origins: OriginBook,
    pub error_responses: HashMap<u16, ErrorResponse>,
    /// The distribution's own certificate (`ViewerCertificate`); `None`: the listener's.
    pub viewer_certificate: Option<Arc<CertifiedKey>>,
    /// Whether HTTPS viewers may negotiate HTTP/2 (`HttpVersion` `http2`, the default, or
    /// `http2and3`).
    pub http2: bool,
    /// Whether viewers may use HTTP/3 (`HttpVersion` `http3` or `http2and3`).
    pub http3: bool,
    /// Viewers must use TLS 1.3 (`MinimumProtocolVersion: TLSv1.3_2025`); otherwise TLS 1.2
    /// or 1.3 (rustls offers nothing older).
    pub tls13_only: bool,
    /// `Restrictions.GeoRestriction`, unless its type is `none`.
    pub geo_restriction: Option<GeoRestriction>,
    /// Where its standard logs go (`Logging`, when enabled).
    pub logging: Option<Arc<Logging>>,
    /// The origin response header whose values tag stored objects (`CacheTagConfig`).
    pub cache_tag_header: Option<http::HeaderName>,
    /// Its metrics, resolved on its first request.
    pub metrics: std::sync::OnceLock<crate::metrics::DistributionMetrics>,
}

/// Countries a distribution serves (`whitelist`) or refuses (`blacklist`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeoRestriction {
    pub allow_listed: bool,
    /// ISO 3166-1 alpha-2 codes, upper case.
    pub countries: Vec<String>,
}

impl GeoRestriction {
    /// Whether a viewer in `country` is refused. A viewer whose country is unknown is served,
    /// as CloudFront does ("If CloudFront can't determine a user's location, CloudFront
    /// serves the content").
    pub fn refuses(&self, country: Option<&str>) -> bool {
        country.is_some_and(|c| self.countries.iter().any(|x| x == c) != self.allow_listed)
    }
}

/// A distribution's standard logs: delivered into `bucket` (a bucket name) as
/// `PREFIX` + `ID.YYYY-MM-DD-HH.UNIQUE.gz`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Logging {
    pub distribution_id: String,
    pub bucket: String,
    pub prefix: String,
    pub include_cookies: bool,
    /// The distribution's own domain name, the logs' `cs(Host)`.
    pub domain_name: String,
}

/// CloudFront's default for `ErrorCachingMinTTL`.
pub const DEFAULT_ERROR_CACHING_MIN_TTL: u64 = 10;

impl Distribution {
    pub fn build(
        id: &str,
        config: DistributionConfig,
        policies: &PolicyBook,
        factory: &Arc<dyn OriginFactory>,
    ) -> Result<Self, String> {
        config.validate().map_err(|e| e.to_string())?;
        let mut origins = OriginBook::new(id, factory.clone());
        for o in &config.origins.items {
            origins.add_origin(o, policies.origin_identity(o))?;
        }
        for g in &config.origin_groups.items {
            let member = |i: usize| g.members.items[i].origin_id.as_str();
            origins.add_group(
                &g.id,
                member(0),
                member(1),
                g.failover_criteria.status_codes.items.clone(),
            )?;
        }
        let mut behaviors = Vec::new();
        for b in config
            .cache_behaviors
            .items
            .iter()
            .chain(std::iter::once(&config.default_cache_behavior))
        {
            behaviors.push(Self::behavior(b, &origins, policies)?);
        }
        let error_responses = config
            .custom_error_responses
            .items
            .iter()
            .map(|e| {
                (
                    e.error_code,
                    ErrorResponse {
                        page_path: Some(e.response_page_path.clone()).filter(|p| !p.is_empty()),
                        response_code: e.response_code.parse().ok(),
                        caching_min_ttl: e
                            .error_caching_min_ttl
                            .map_or(DEFAULT_ERROR_CACHING_MIN_TTL, |t| {
                                u64::try_from(t).unwrap_or(0)
                            }),
                    },
                )
            })
            .collect();
        let aliases: Vec<String> = config
            .aliases
            .items
            .iter()
            .map(|a| a.to_ascii_lowercase())
            .collect();
        let viewer_certificate = match config
            .viewer_certificate
            .as_ref()
            .and_then(|v| v.certificate_id())
        {
            Some(cert_id) => {
                let key = policies.certificates.get(cert_id).cloned().ok_or_else(|| {
                    format!(
                        "ViewerCertificate names certificate {cert_id}, and there is no {}/{cert_id}.pem",
                        viewer_certificate::DIR
                    )
                })?;
                if let Some(a) = aliases
                    .iter()
                    .find(|a| !viewer_certificate::covers(&key, a))
                {
                    return Err(format!(
                        "the certificate {cert_id} does not cover the alternate domain name {a}"
                    ));
                }
                Some(key)
            }
            None => None,
        };
        Ok(Self {
            id: id.to_owned(),
            metrics: std::sync::OnceLock::new(),
            enabled: config.enabled,
            aliases,
            viewer_certificate,
            http2: model::allows_http2(config.http_version.as_deref()),
            http3: model::allows_http3(config.http_version.as_deref()),
            geo_restriction: config
                .restrictions
                .as_ref()
                .map(|r| &r.geo_restriction)
                .filter(|g| g.restricts())
                .map(|g| GeoRestriction {
                    allow_listed: g.restriction_type == "whitelist",
                    countries: g.items.iter().map(|c| c.to_ascii_uppercase()).collect(),
                }),
            cache_tag_header: config
                .cache_tag_config
                .as_ref()
                .and_then(|t| http::HeaderName::from_bytes(t.header_name.as_bytes()).ok()),
            logging: config.logging.as_ref().filter(|l| l.enabled).map(|l| {
                Arc::new(Logging {
                    distribution_id: id.to_owned(),
                    bucket: l.bucket_name().to_owned(),
                    prefix: l.prefix.clone(),
                    include_cookies: l.include_cookies,
                    domain_name: format!(
                        "{}{}",
                        id.to_ascii_lowercase(),
                        crate::registry::LOCAL_SUFFIX
                    ),
                })
            }),
            tls13_only: config
                .viewer_certificate
                .as_ref()
                .and_then(|v| v.minimum_protocol_version.as_deref())
                == Some("TLSv1.3_2025"),
            default_root_object: Some(config.default_root_object.trim_start_matches('/'))
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            behaviors,
            origins,
            error_responses,
        })
    }

    fn behavior(
        b: &model::CacheBehavior,
        origins: &OriginBook,
        policies: &PolicyBook,
    ) -> Result<Behavior, String> {
        let pattern = match &b.path_pattern {
            Some(p) if !p.is_empty() => {
                Some(PathPattern::new(p).ok_or_else(|| format!("invalid PathPattern {p:?}"))?)
            }
            _ => None,
        };
        let cache_policy = match &b.cache_policy_id {
            Some(id) if !id.is_empty() => policies
                .cache_policy(id)
                .ok_or_else(|| format!("no cache policy with ID {id}"))?,
            _ => CachePolicy::legacy(b),
        };
        let origin_request_policy = match &b.origin_request_policy_id {
            Some(id) if !id.is_empty() => Some(
                policies
                    .origin_request_policy(id)
                    .ok_or_else(|| format!("no origin request policy with ID {id}"))?,
            ),
            _ => None,
        };
        let response_headers_policy = match &b.response_headers_policy_id {
            Some(id) if !id.is_empty() => Some(
                policies
                    .response_headers_policy(id)
                    .ok_or_else(|| format!("no response headers policy with ID {id}"))??,
            ),
            _ => None,
        };
        let methods = |items: &[String]| -> Result<Vec<Method>, String> {
            items
                .iter()
                .map(|m| Method::from_bytes(m.as_bytes()).map_err(|_| format!("bad method {m}")))
                .collect()
        };
        let allowed_methods = methods(&b.allowed_methods.methods.items)?;
        let cached_methods = match &b.allowed_methods.cached_methods {
            Some(c) => methods(&c.items)?,
            None => vec![Method::GET, Method::HEAD],
        };
        let mut cloudfront_headers = match &cache_policy.headers {
            crate::policy::Selection::Whitelist(names) => crate::policy::cloudfront_names(names),
            _ => Vec::new(),
        };
        if let Some(o) = &origin_request_policy {
            cloudfront_headers.extend(o.cloudfront_headers.iter().cloned());
        }
        cloudfront_headers.sort();
        cloudfront_headers.dedup();
        let cloudfront_headers = cloudfront_headers
            .iter()
            .filter_map(|n| http::HeaderName::from_bytes(n.as_bytes()).ok())
            .collect();
        let function = |event: &str| -> Result<Option<Arc<wharf_functions::Function>>, String> {
            let Some(a) = b
                .function_associations
                .iter()
                .flat_map(|f| &f.items)
                .find(|a| a.event_type == event)
            else {
                return Ok(None);
            };
            policies
                .functions
                .get(&a.function_arn)
                .cloned()
                .map(Some)
                .ok_or_else(|| format!("no published function {}", a.function_arn))
        };
        Ok(Behavior {
            viewer_request_function: function("viewer-request")?,
            viewer_response_function: function("viewer-response")?,
            cloudfront_headers,
            pattern,
            target: origins
                .get(&b.target_origin_id)
                .cloned()
                .ok_or_else(|| format!("no origin {}", b.target_origin_id))?,
            target_origin_id: b.target_origin_id.clone(),
            allowed_methods,
            cached_methods,
            compress: b.compress,
            cache_policy,
            origin_request_policy,
            response_headers_policy,
            trusted_keys: match (&b.trusted_key_groups, &b.trusted_signers) {
                (Some(g), _) if g.enabled => Some(Arc::new(policies.trusted_keys(&g.items)?)),
                (_, Some(s)) if s.enabled => Some(Arc::default()),
                _ => None,
            },
            viewer_protocol_policy: match b.viewer_protocol_policy.as_str() {
                "redirect-to-https" => ViewerProtocolPolicy::RedirectToHttps,
                "https-only" => ViewerProtocolPolicy::HttpsOnly,
                _ => ViewerProtocolPolicy::AllowAll,
            },
        })
    }

    /// The first cache behavior whose pattern matches `path`, else the default one
    /// (CloudFront: "in the order in which they're listed").
    pub fn behavior_for(&self, path: &str) -> (usize, &Behavior) {
        let i = self
            .behaviors
            .iter()
            .position(|b| b.pattern.as_ref().is_none_or(|p| p.matches(path)))
            .unwrap_or(self.behaviors.len() - 1);
        (i, &self.behaviors[i])
    }
}
