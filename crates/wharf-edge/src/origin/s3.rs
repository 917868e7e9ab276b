//! Remote S3 origins reached with Origin Access Control: each request is signed with SigV4 for
//! the `s3` service, as CloudFront signs requests to a bucket whose policy admits only the
//! distribution.
//!
//! CloudFront signs with its own service principal; a self-hosted edge has no such identity, so
//! the operator gives it an access key (`[edge.origin_access]` in `wharf.toml`) that the remote
//! store knows. An origin is signed when it names an `OriginAccessControlId`, and only then: an
//! S3 origin without one is read anonymously, like a public bucket behind CloudFront.

use std::sync::Arc;
use std::time::SystemTime;

use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, Method};
use wharf_auth::sigv4;
use wharf_model::cloudfront::Origin as OriginConfig;

/// The credentials the edge signs origin requests with.
#[derive(Clone, PartialEq, Eq)]
pub struct OriginAccess {
    pub access_key: String,
    pub secret_key: String,
    /// The signing region for endpoints whose name does not say one.
    pub region: String,
}

impl std::fmt::Debug for OriginAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OriginAccess")
            .field("access_key", &self.access_key)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// `UNSIGNED-PAYLOAD`: forwarded bodies stream, so their hash is not known when signing.
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
const X_AMZ_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-amz-content-sha256");
/// SHA-256 of the empty body.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Signs the requests of one S3 origin.
pub struct S3Signer {
    access: Arc<OriginAccess>,
    region: String,
}

impl S3Signer {
    /// The signer an origin needs: `None` for custom origins and S3 origins without Origin
    /// Access Control; an error when OAC is asked for but no credentials are configured.
    pub fn for_origin(
        c: &OriginConfig,
        access: Option<&Arc<OriginAccess>>,
    ) -> Result<Option<Self>, String> {
        let oac = c
            .origin_access_control_id
            .as_deref()
            .is_some_and(|id| !id.is_empty());
        if c.s3_origin_config.is_none() || !oac {
            return Ok(None);
        }
        let access = access.ok_or_else(|| {
            format!(
                "origin {}: OriginAccessControlId needs [edge.origin_access] credentials",
                c.id
            )
        })?;
        Ok(Some(Self {
            region: region_of(&c.domain_name).unwrap_or_else(|| access.region.clone()),
            access: access.clone(),
        }))
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// Signs a request to `authority`: replaces any viewer `Authorization` (OAC's "always"
    /// signing behaviour), sets `Host`, `X-Amz-Date` and `X-Amz-Content-Sha256`, and returns
    /// the path and query to send, in the canonical encoding that was signed.
    pub fn sign(
        &self,
        method: &Method,
        authority: &str,
        path_and_query: &str,
        has_body: bool,
        headers: &mut HeaderMap,
        now: SystemTime,
    ) -> String {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let (path, query) = sigv4::canonical_target(path, query);
        let amz_date = sigv4::amz_date(now);
        let payload = if has_body {
            UNSIGNED_PAYLOAD
        } else {
            EMPTY_SHA256
        };
        // The signed fields below replace any the viewer sent; a viewer's session token
        // would otherwise ride along with our signature.
        headers.remove("x-amz-security-token");
        let signed = [
            ("host".to_owned(), authority.to_owned()),
            ("x-amz-content-sha256".to_owned(), payload.to_owned()),
            ("x-amz-date".to_owned(), amz_date.clone()),
        ];
        let canonical = sigv4::Canonical {
            method: method.as_str(),
            path: &path,
            query: &query,
            headers: &signed,
            payload_sha256: payload,
        };
        let auth = sigv4::authorization(
            &canonical,
            &self.access.access_key,
            &self.access.secret_key,
            &amz_date,
            &self.region,
            "s3",
        );
        for (name, value) in [
            (header::HOST, authority),
            (X_AMZ_CONTENT_SHA256, payload),
            (X_AMZ_DATE, &amz_date),
            (header::AUTHORIZATION, &auth),
        ] {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name, v);
            }
        }
        if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        }
    }
}

/// The region an AWS S3 endpoint name carries: `s3.REGION.amazonaws.com`,
/// `s3-REGION.amazonaws.com`, `s3.dualstack.REGION.amazonaws.com`; `us-east-1` for the global
/// `s3.amazonaws.com`; `None` for other hosts.
pub fn region_of(domain: &str) -> Option<String> {
    let host = domain.split(':').next()?.trim_end_matches('.');
    let rest = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    let labels: Vec<&str> = rest.split('.').collect();
    let s3 = labels
        .iter()
        .rposition(|l| *l == "s3" || l.starts_with("s3-"))?;
    let after: Vec<&str> = labels[s3 + 1..]
        .iter()
        .copied()
        .filter(|l| *l != "dualstack")
        .collect();
    if let Some(region) = labels[s3].strip_prefix("s3-")
        && region != "external-1"
    {
        return Some(region.to_owned());
    }
    Some(after.first().map_or("us-east-1", |r| *r).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_from_endpoint_names() {
        assert_eq!(
            region_of("b.s3.amazonaws.com").as_deref(),
            Some("us-east-1")
        );
        assert_eq!(
            region_of("b.s3.eu-west-3.amazonaws.com").as_deref(),
            Some("eu-west-3")
        );
        assert_eq!(
            region_of("b.s3-ap-south-1.amazonaws.com").as_deref(),
            Some("ap-south-1")
        );
        assert_eq!(
            region_of("b.s3.dualstack.us-west-2.amazonaws.com").as_deref(),
            Some("us-west-2")
        );
        assert_eq!(region_of("127.0.0.1:9000"), None);
        assert_eq!(region_of("minio.internal"), None);
    }

    #[test]
    fn oac_without_credentials_is_a_load_error() {
        let json = r#"{"Id": "s3", "DomainName": "b.s3.eu-west-1.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""}, "OriginAccessControlId": "E1"}"#;
        let c: OriginConfig = serde_json::from_str(json).unwrap();
        let err = S3Signer::for_origin(&c, None).err().unwrap();
        assert!(err.contains("[edge.origin_access]"), "{err}");
        let access = Arc::new(OriginAccess {
            access_key: "AK".into(),
            secret_key: "SK".into(),
            region: "us-east-1".into(),
        });
        let s = S3Signer::for_origin(&c, Some(&access)).unwrap().unwrap();
        assert_eq!(s.region(), "eu-west-1");
        let mut anonymous = c.clone();
        anonymous.origin_access_control_id = None;
        assert!(
            S3Signer::for_origin(&anonymous, Some(&access))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn signing_replaces_viewer_credentials_and_encodes_the_target() {
        let access = Arc::new(OriginAccess {
            access_key: "AKIDEXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            region: "us-east-1".into(),
        });
        let signer = S3Signer {
            access,
            region: "us-east-1".into(),
        };
        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_static("Bearer viewer"));
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_440_938_160);
        let target = signer.sign(
            &Method::GET,
            "127.0.0.1:9000",
            "/b/a b?x=1",
            false,
            &mut h,
            t,
        );
        assert_eq!(target, "/b/a%20b?x=1");
        assert_eq!(h["host"], "127.0.0.1:9000");
        assert_eq!(h["x-amz-date"], "20150830T123600Z");
        assert_eq!(h["x-amz-content-sha256"], EMPTY_SHA256);
        let auth = h["authorization"].to_str().unwrap();
        assert!(auth.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request, \
             SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="
        ));
        // Wharf's own verifier accepts it (the interop test checks the S3 server's).
        let parsed = sigv4::parse_authorization(auth).unwrap();
        let signed = [
            ("host".to_owned(), "127.0.0.1:9000".to_owned()),
            ("x-amz-content-sha256".to_owned(), EMPTY_SHA256.to_owned()),
            ("x-amz-date".to_owned(), "20150830T123600Z".to_owned()),
        ];
        let req = sigv4::Canonical {
            method: "GET",
            path: "/b/a%20b",
            query: "x=1",
            headers: &signed,
            payload_sha256: EMPTY_SHA256,
        };
        assert!(sigv4::verify(
            &req,
            &parsed,
            "20150830T123600Z",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        ));
    }
}
