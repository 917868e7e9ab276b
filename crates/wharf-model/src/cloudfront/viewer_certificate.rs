//! `ViewerCertificate` and `HttpVersion`: how a distribution meets viewers over HTTPS.
//!
//! CloudFront names a certificate by an ACM ARN or an IAM server certificate ID. A
//! self-hosted edge has neither service, so the ID names a PEM file beside the distributions
//! (the edge's `certificates/ID.pem`): for `arn:aws:acm:us-east-1:ACCOUNT:certificate/ID` the
//! ID is the ARN's last part, for `IAMCertificateId` it is that ID.

use serde::{Deserialize, Serialize};

use super::ModelError;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ViewerCertificate {
    #[serde(default)]
    pub cloud_front_default_certificate: Option<bool>,
    #[serde(rename = "IAMCertificateId", default)]
    pub iam_certificate_id: Option<String>,
    #[serde(rename = "ACMCertificateArn", default)]
    pub acm_certificate_arn: Option<String>,
    #[serde(rename = "SSLSupportMethod", default)]
    pub ssl_support_method: Option<String>,
    #[serde(default)]
    pub minimum_protocol_version: Option<String>,
    /// Deprecated by CloudFront in favour of the fields above; accepted and ignored.
    #[serde(default)]
    pub certificate: Option<String>,
    #[serde(default)]
    pub certificate_source: Option<String>,
}

/// The `MinimumProtocolVersion` values CloudFront accepts.
pub const MINIMUM_PROTOCOL_VERSIONS: [&str; 9] = [
    "SSLv3",
    "TLSv1",
    "TLSv1_2016",
    "TLSv1.1_2016",
    "TLSv1.2_2018",
    "TLSv1.2_2019",
    "TLSv1.2_2021",
    "TLSv1.2_2025",
    "TLSv1.3_2025",
];

/// The `HttpVersion` values CloudFront accepts.
pub const HTTP_VERSIONS: [&str; 4] = ["http1.1", "http2", "http3", "http2and3"];

fn invalid(msg: impl Into<String>) -> ModelError {
    ModelError::Invalid(msg.into())
}

impl ViewerCertificate {
    /// The ID of the distribution's own certificate; `None` for CloudFront's default one.
    pub fn certificate_id(&self) -> Option<&str> {
        if let Some(arn) = self
            .acm_certificate_arn
            .as_deref()
            .filter(|a| !a.is_empty())
        {
            return arn.rsplit_once("certificate/").map(|(_, id)| id);
        }
        self.iam_certificate_id.as_deref().filter(|i| !i.is_empty())
    }

    /// CloudFront's checks (`InvalidViewerCertificate`, `InvalidMinimumProtocolVersion`).
    pub fn validate(&self) -> Result<(), ModelError> {
        let acm = self
            .acm_certificate_arn
            .as_deref()
            .filter(|a| !a.is_empty());
        let iam = self.iam_certificate_id.as_deref().filter(|i| !i.is_empty());
        let default = self.cloud_front_default_certificate == Some(true);
        if usize::from(default) + usize::from(acm.is_some()) + usize::from(iam.is_some()) != 1 {
            return Err(invalid(
                "ViewerCertificate needs exactly one of CloudFrontDefaultCertificate, \
                 ACMCertificateArn and IAMCertificateId",
            ));
        }
        if let Some(arn) = acm {
            let parts: Vec<&str> = arn.splitn(6, ':').collect();
            let ok = parts.len() == 6
                && parts[0] == "arn"
                && parts[2] == "acm"
                && parts[5].starts_with("certificate/");
            if !ok {
                return Err(invalid(format!("{arn} is not an ACM certificate ARN")));
            }
            if parts[3] != "us-east-1" {
                return Err(invalid(
                    "the ACM certificate must be in the US East (N. Virginia) Region (us-east-1)",
                ));
            }
        }
        if let Some(id) = self.certificate_id() {
            let ok = !id.is_empty()
                && id.len() <= 128
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !ok {
                return Err(invalid(format!("{id:?} is not a certificate ID")));
            }
            match self.ssl_support_method.as_deref() {
                Some("sni-only" | "vip" | "static-ip") => {}
                Some(m) => return Err(invalid(format!("SSLSupportMethod {m} is not valid"))),
                None => {
                    return Err(invalid(
                        "SSLSupportMethod is required with a certificate of your own",
                    ));
                }
            }
        }
        if let Some(v) = &self.minimum_protocol_version
            && !MINIMUM_PROTOCOL_VERSIONS.contains(&v.as_str())
        {
            return Err(invalid(format!("MinimumProtocolVersion {v} is not valid")));
        }
        Ok(())
    }
}

/// Whether viewers may negotiate HTTP/2: `http2` (the default) and `http2and3`; `http3` is
/// HTTP/3 and HTTP/1.1, without HTTP/2.
pub fn allows_http2(http_version: Option<&str>) -> bool {
    !matches!(http_version, Some("http1.1" | "http3"))
}

/// Whether viewers may use HTTP/3: `http3` and `http2and3`.
pub fn allows_http3(http_version: Option<&str>) -> bool {
    matches!(http_version, Some("http3" | "http2and3"))
}

pub fn validate_http_version(v: Option<&str>) -> Result<(), ModelError> {
    match v {
        Some(v) if !HTTP_VERSIONS.contains(&v) => {
            Err(invalid(format!("HttpVersion {v} is not valid")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(json: &str) -> ViewerCertificate {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn certificate_ids_and_checks() {
        let acm = cert(
            r#"{"ACMCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0a1b-c2", "SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"}"#,
        );
        assert_eq!(acm.certificate_id(), Some("0a1b-c2"));
        acm.validate().unwrap();
        let iam = cert(r#"{"IAMCertificateId": "ASCAEXAMPLE", "SSLSupportMethod": "vip"}"#);
        assert_eq!(iam.certificate_id(), Some("ASCAEXAMPLE"));
        iam.validate().unwrap();
        let default = cert(r#"{"CloudFrontDefaultCertificate": true}"#);
        assert_eq!(default.certificate_id(), None);
        default.validate().unwrap();

        for bad in [
            r#"{}"#,
            r#"{"CloudFrontDefaultCertificate": false}"#,
            r#"{"CloudFrontDefaultCertificate": true, "IAMCertificateId": "A", "SSLSupportMethod": "vip"}"#,
            r#"{"IAMCertificateId": "ASCA"}"#,
            r#"{"IAMCertificateId": "../../etc/passwd", "SSLSupportMethod": "sni-only"}"#,
            r#"{"ACMCertificateArn": "arn:aws:acm:eu-west-1:1:certificate/x", "SSLSupportMethod": "sni-only"}"#,
            r#"{"ACMCertificateArn": "arn:aws:iam::1:server-certificate/x", "SSLSupportMethod": "sni-only"}"#,
            r#"{"IAMCertificateId": "A", "SSLSupportMethod": "sni"}"#,
            r#"{"CloudFrontDefaultCertificate": true, "MinimumProtocolVersion": "TLSv1.4"}"#,
        ] {
            assert!(cert(bad).validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn http_versions() {
        assert!(allows_http2(None) && allows_http2(Some("http2and3")));
        assert!(!allows_http2(Some("http1.1")) && !allows_http2(Some("http3")));
        assert!(allows_http3(Some("http3")) && allows_http3(Some("http2and3")));
        assert!(!allows_http3(None) && !allows_http3(Some("http2")));
        assert!(validate_http_version(Some("http3")).is_ok());
        assert!(validate_http_version(Some("HTTP/2")).is_err());
    }
}
