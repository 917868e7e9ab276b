//! How a distribution reaches an S3 origin: `OriginAccessControlConfig` (OAC), as
//! `aws cloudfront create-origin-access-control --origin-access-control-config file://…` takes
//! it, and the legacy Origin Access Identity an `S3OriginConfig` may name.

use serde::{Deserialize, Serialize};

use super::ModelError;

/// `OriginAccessControlConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginAccessControlConfig {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// `sigv4`, the only protocol CloudFront has.
    pub signing_protocol: String,
    pub signing_behavior: SigningBehavior,
    /// `s3` here (CloudFront also has `mediastore`, `mediapackagev2`, `lambda`).
    pub origin_access_control_origin_type: String,
}

/// When CloudFront signs origin requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SigningBehavior {
    /// Every request, replacing a viewer's `Authorization`.
    #[serde(rename = "always")]
    Always,
    /// No request: the origin sees anonymous requests.
    #[serde(rename = "never")]
    Never,
    /// Requests without a viewer `Authorization`; the viewer's is passed on otherwise.
    #[serde(rename = "no-override")]
    NoOverride,
}

/// CloudFront's limit on an OAC's name.
pub const MAX_OAC_NAME_LEN: usize = 64;

impl OriginAccessControlConfig {
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let c: Self =
            serde_json::from_str(text).map_err(|e| ModelError::Malformed(e.to_string()))?;
        if c.name.is_empty() || c.name.chars().count() > MAX_OAC_NAME_LEN {
            return Err(ModelError::Invalid(format!(
                "an origin access control needs a Name of 1 to {MAX_OAC_NAME_LEN} characters"
            )));
        }
        if c.signing_protocol != "sigv4" {
            return Err(ModelError::Invalid("SigningProtocol must be sigv4".into()));
        }
        if c.origin_access_control_origin_type != "s3" {
            return Err(ModelError::Invalid(format!(
                "OriginAccessControlOriginType {} is not supported here: only s3",
                c.origin_access_control_origin_type
            )));
        }
        Ok(c)
    }
}

/// The ID in an `S3OriginConfig.OriginAccessIdentity` (`origin-access-identity/cloudfront/ID`),
/// if it names one.
pub fn origin_access_identity_id(value: &str) -> Option<&str> {
    value
        .strip_prefix("origin-access-identity/cloudfront/")
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The IAM ARN an Origin Access Identity acts as in bucket policies.
pub fn origin_access_identity_arn(id: &str) -> String {
    format!("arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oac_configs() {
        let c = OriginAccessControlConfig::from_json(
            r#"{"Name":"site","SigningProtocol":"sigv4","SigningBehavior":"always",
            "OriginAccessControlOriginType":"s3"}"#,
        )
        .unwrap();
        assert_eq!(c.signing_behavior, SigningBehavior::Always);
        for bad in [
            r#"{"Name":"","SigningProtocol":"sigv4","SigningBehavior":"always","OriginAccessControlOriginType":"s3"}"#,
            r#"{"Name":"a","SigningProtocol":"sigv2","SigningBehavior":"always","OriginAccessControlOriginType":"s3"}"#,
            r#"{"Name":"a","SigningProtocol":"sigv4","SigningBehavior":"sometimes","OriginAccessControlOriginType":"s3"}"#,
            r#"{"Name":"a","SigningProtocol":"sigv4","SigningBehavior":"never","OriginAccessControlOriginType":"lambda"}"#,
        ] {
            assert!(OriginAccessControlConfig::from_json(bad).is_err(), "{bad}");
        }
        assert_eq!(
            origin_access_identity_id("origin-access-identity/cloudfront/E2QWRUHAPOMQZL"),
            Some("E2QWRUHAPOMQZL")
        );
        assert_eq!(origin_access_identity_id(""), None);
    }
}
