//! Static website hosting's configuration (`PutBucketWebsite`): the index document, the error
//! document, a redirect of every request, and routing rules, checked as S3 checks them and
//! stored as JSON. The website endpoint that serves it lives with the listeners (wharf's
//! `website.rs`); what a rule does is decided here ([`WebsiteConfig::route`]).

use serde::{Deserialize, Serialize};

/// The `bucket_configs` kind of a bucket's website configuration.
pub const BUCKET_WEBSITE: &str = "website";
/// S3's limit on routing rules.
pub const MAX_ROUTING_RULES: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct WebsiteConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_suffix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_all: Option<RedirectAll>,
    #[serde(default)]
    pub routing_rules: Vec<RoutingRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RedirectAll {
    pub host_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct RoutingRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_prefix_equals: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_error_code_returned_equals: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_redirect_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_key_prefix_with: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_key_with: Option<String>,
}

/// Where a routing rule sends a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirection {
    /// 301 unless the rule says another 3xx.
    pub status: u16,
    /// The `Location`: absolute when the rule names a host or protocol, else a path.
    pub location: String,
}

fn invalid(message: impl Into<String>) -> (&'static str, String) {
    ("InvalidArgument", message.into())
}

impl WebsiteConfig {
    /// The configuration of a `PutBucketWebsite` body, checked as S3 does: `Err((code, message))`.
    pub fn from_dto(c: s3s::dto::WebsiteConfiguration) -> Result<Self, (&'static str, String)> {
        let config = WebsiteConfig {
            index_suffix: c.index_document.map(|d| d.suffix),
            error_key: c.error_document.map(|d| d.key),
            redirect_all: c.redirect_all_requests_to.map(|r| RedirectAll {
                host_name: r.host_name,
                protocol: r.protocol.map(|p| p.as_str().to_owned()),
            }),
            routing_rules: c
                .routing_rules
                .unwrap_or_default()
                .into_iter()
                .map(|r| RoutingRule {
                    key_prefix_equals: r
                        .condition
                        .as_ref()
                        .and_then(|c| c.key_prefix_equals.clone()),
                    http_error_code_returned_equals: r
                        .condition
                        .as_ref()
                        .and_then(|c| c.http_error_code_returned_equals.clone()),
                    host_name: r.redirect.host_name,
                    http_redirect_code: r.redirect.http_redirect_code,
                    protocol: r.redirect.protocol.map(|p| p.as_str().to_owned()),
                    replace_key_prefix_with: r.redirect.replace_key_prefix_with,
                    replace_key_with: r.redirect.replace_key_with,
                })
                .collect(),
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), (&'static str, String)> {
        if let Some(r) = &self.redirect_all {
            if self.index_suffix.is_some()
                || self.error_key.is_some()
                || !self.routing_rules.is_empty()
            {
                return Err(invalid(
                    "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.",
                ));
            }
            if r.host_name.is_empty() {
                return Err(invalid(
                    "A host name must be provided in RedirectAllRequestsTo",
                ));
            }
            check_protocol(r.protocol.as_deref())?;
            return Ok(());
        }
        match &self.index_suffix {
            None => {
                return Err(invalid(
                    "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
                ));
            }
            Some(s) if s.is_empty() || s.contains('/') => {
                return Err(invalid("The IndexDocument Suffix is not well formed"));
            }
            Some(_) => {}
        }
        if self.error_key.as_deref() == Some("") {
            return Err(invalid("The ErrorDocument Key is not well formed"));
        }
        if self.routing_rules.len() > MAX_ROUTING_RULES {
            return Err(invalid(format!(
                "The number of routing rules must not exceed {MAX_ROUTING_RULES}"
            )));
        }
        for r in &self.routing_rules {
            if r.replace_key_with.is_some() && r.replace_key_prefix_with.is_some() {
                return Err(invalid(
                    "You can only define ReplaceKeyPrefix or ReplaceKey but not both.",
                ));
            }
            if let Some(code) = &r.http_redirect_code {
                let ok = code.parse::<u16>().is_ok_and(|c| (301..400).contains(&c));
                if !ok {
                    return Err(invalid(format!(
                        "The provided HTTP redirect code ({code}) is not valid. Valid codes are 3XX except 300."
                    )));
                }
            }
            if let Some(code) = &r.http_error_code_returned_equals {
                let ok = code.parse::<u16>().is_ok_and(|c| (400..600).contains(&c));
                if !ok {
                    return Err(invalid(format!(
                        "The provided HTTP error code ({code}) is not valid. Valid codes are 4XX or 5XX."
                    )));
                }
            }
            check_protocol(r.protocol.as_deref())?;
        }
        Ok(())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }

    pub fn to_dto(&self) -> s3s::dto::GetBucketWebsiteOutput {
        use s3s::dto as d;
        let rules: Vec<d::RoutingRule> = self
            .routing_rules
            .iter()
            .map(|r| d::RoutingRule {
                condition: (r.key_prefix_equals.is_some()
                    || r.http_error_code_returned_equals.is_some())
                .then(|| d::Condition {
                    http_error_code_returned_equals: r.http_error_code_returned_equals.clone(),
                    key_prefix_equals: r.key_prefix_equals.clone(),
                }),
                redirect: d::Redirect {
                    host_name: r.host_name.clone(),
                    http_redirect_code: r.http_redirect_code.clone(),
                    protocol: r.protocol.clone().map(d::Protocol::from),
                    replace_key_prefix_with: r.replace_key_prefix_with.clone(),
                    replace_key_with: r.replace_key_with.clone(),
                },
            })
            .collect();
        d::GetBucketWebsiteOutput {
            error_document: self.error_key.clone().map(|key| d::ErrorDocument { key }),
            index_document: self
                .index_suffix
                .clone()
                .map(|suffix| d::IndexDocument { suffix }),
            redirect_all_requests_to: self.redirect_all.as_ref().map(|r| {
                d::RedirectAllRequestsTo {
                    host_name: r.host_name.clone(),
                    protocol: r.protocol.clone().map(d::Protocol::from),
                }
            }),
            routing_rules: (!rules.is_empty()).then_some(rules),
        }
    }

    /// The first routing rule for a request of `key`, before (`error: None`) or after the
    /// object's lookup answered `error`, and where it sends the request. `host` is the
    /// request's `Host`, kept when the rule names none.
    pub fn route(&self, key: &str, error: Option<u16>, host: &str) -> Option<Redirection> {
        let rule = self.routing_rules.iter().find(|r| {
            let prefix_ok = r
                .key_prefix_equals
                .as_deref()
                .is_none_or(|p| key.starts_with(p));
            let code_ok = match (&r.http_error_code_returned_equals, error) {
                (None, _) => true,
                (Some(c), Some(e)) => c.parse::<u16>().ok() == Some(e),
                (Some(_), None) => false,
            };
            // A rule without an error condition applies before the lookup only.
            let phase_ok = r.http_error_code_returned_equals.is_some() == error.is_some();
            prefix_ok && code_ok && phase_ok
        })?;
        let new_key = match (&rule.replace_key_with, &rule.replace_key_prefix_with) {
            (Some(k), _) => k.clone(),
            (None, Some(p)) => {
                let strip = rule.key_prefix_equals.as_deref().unwrap_or("");
                format!("{p}{}", key.strip_prefix(strip).unwrap_or(key))
            }
            (None, None) => key.to_owned(),
        };
        let status = rule
            .http_redirect_code
            .as_deref()
            .and_then(|c| c.parse().ok())
            .unwrap_or(301);
        let location = if rule.host_name.is_some() || rule.protocol.is_some() {
            let protocol = rule.protocol.as_deref().unwrap_or("http");
            let host = rule.host_name.as_deref().unwrap_or(host);
            format!("{protocol}://{host}/{new_key}")
        } else {
            format!("/{new_key}")
        };
        Some(Redirection { status, location })
    }
}

fn check_protocol(p: Option<&str>) -> Result<(), (&'static str, String)> {
    match p {
        None | Some("http" | "https") => Ok(()),
        Some(other) => Err(invalid(format!(
            "Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically. ({other})"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(rules: Vec<RoutingRule>) -> WebsiteConfig {
        WebsiteConfig {
            index_suffix: Some("index.html".into()),
            error_key: Some("error.html".into()),
            redirect_all: None,
            routing_rules: rules,
        }
    }

    #[test]
    fn routing_rules_as_s3_documents_them() {
        let c = config(vec![
            RoutingRule {
                key_prefix_equals: Some("docs/".into()),
                replace_key_prefix_with: Some("documents/".into()),
                ..Default::default()
            },
            RoutingRule {
                http_error_code_returned_equals: Some("404".into()),
                host_name: Some("example.com".into()),
                replace_key_prefix_with: Some("report-404/".into()),
                ..Default::default()
            },
            RoutingRule {
                key_prefix_equals: Some("images/".into()),
                replace_key_with: Some("folderdeleted.html".into()),
                http_redirect_code: Some("302".into()),
                ..Default::default()
            },
        ]);
        assert!(c.validate().is_ok());
        let r = c
            .route("docs/a.html", None, "b.s3-website.localhost:9002")
            .unwrap();
        assert_eq!((r.status, r.location.as_str()), (301, "/documents/a.html"));
        let r = c.route("images/x.png", None, "h").unwrap();
        assert_eq!(
            (r.status, r.location.as_str()),
            (302, "/folderdeleted.html")
        );
        assert_eq!(c.route("other", None, "h"), None);
        let r = c.route("missing", Some(404), "h").unwrap();
        assert_eq!(r.location, "http://example.com/report-404/missing");
        assert_eq!(c.route("missing", Some(403), "h"), None);
    }

    #[test]
    fn what_s3_refuses() {
        let mut c = config(vec![]);
        c.index_suffix = Some("a/b".into());
        assert!(c.validate().is_err());
        c.index_suffix = None;
        assert!(
            c.validate()
                .unwrap_err()
                .1
                .contains("IndexDocument Suffix must be provided")
        );
        let both = config(vec![RoutingRule {
            replace_key_with: Some("a".into()),
            replace_key_prefix_with: Some("b".into()),
            ..Default::default()
        }]);
        assert!(both.validate().is_err());
        let code = config(vec![RoutingRule {
            http_redirect_code: Some("300".into()),
            ..Default::default()
        }]);
        assert!(code.validate().is_err());
        let mut all = config(vec![]);
        all.redirect_all = Some(RedirectAll {
            host_name: "example.com".into(),
            protocol: None,
        });
        assert!(all.validate().is_err());
    }
}
