//! Who calls the control API, and whether they may: a SigV4 signature for the `cloudfront`
//! service (header form), checked with the caller's secret; then the caller's identity policies
//! for the operation's action (`cloudfront:CreateDistribution`) on the resource's ARN
//! (`arn:aws:cloudfront::ACCOUNT:distribution/ID`). The account's root user may do everything.

use std::sync::Arc;

use http::header;
use wharf_auth::policy::{self, Policy, RequestContext};
use wharf_auth::sigv4;

use crate::error::{ControlError, ControlResult};

/// SigV4: a request's date may be at most 15 minutes off.
pub const MAX_SKEW_SECS: i64 = 15 * 60;

/// What an access key stands for.
#[derive(Clone)]
pub struct Identity {
    pub secret_access_key: String,
    /// The caller as policies name it (`Caller::Root` or `Caller::User`).
    pub caller: policy::Caller,
    /// The user's identity policies (none for the root user).
    pub policies: Arc<[Policy]>,
}

/// The account's users and keys (the binary implements this over the S3 store's users).
#[async_trait::async_trait]
pub trait Identities: Send + Sync {
    async fn identity(&self, access_key: &str) -> Result<Option<Identity>, String>;
}

/// The service named in a SigV4 credential scope (`AK/date/region/SERVICE/aws4_request`), from
/// the `Authorization` header or a presigned URL's `X-Amz-Credential`.
pub fn credential_service(headers: &http::HeaderMap, query: Option<&str>) -> Option<String> {
    let credential = match headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        Some(auth) => auth
            .split([',', ' '])
            .find_map(|p| p.strip_prefix("Credential="))?
            .to_owned(),
        None => query?
            .split('&')
            .find_map(|kv| kv.strip_prefix("X-Amz-Credential="))?
            .replace("%2F", "/")
            .replace("%2f", "/"),
    };
    let parts: Vec<&str> = credential.split('/').collect();
    (parts.len() == 5).then(|| parts[3].to_owned())
}

/// Checks the request's signature; answers who signed it.
pub async fn authenticate(
    identities: &dyn Identities,
    parts: &http::request::Parts,
    body: &[u8],
) -> ControlResult<Identity> {
    let denied =
        |code: &str, msg: &str| ControlError::with_status(http::StatusCode::FORBIDDEN, code, msg);
    let auth = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(sigv4::parse_authorization)
        .ok_or_else(|| {
            denied(
                "MissingAuthenticationToken",
                "Request is missing a SigV4 Authorization header.",
            )
        })?;
    if auth.service != "cloudfront" {
        return Err(denied(
            "InvalidClientTokenId",
            "The credential scope must name the cloudfront service.",
        ));
    }
    let amz_date = request_date(&parts.headers).map_err(|p| match p {
        DateProblem::Missing => denied("IncompleteSignature", "X-Amz-Date is required."),
        DateProblem::Malformed => denied("IncompleteSignature", "X-Amz-Date is malformed."),
        DateProblem::Skewed => denied(
            "SignatureDoesNotMatch",
            "Signature expired or not yet valid: the request time is too skewed.",
        ),
    })?;
    let identity = identities
        .identity(&auth.access_key)
        .await
        .map_err(ControlError::internal)?
        .ok_or_else(|| {
            denied(
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            )
        })?;
    let headers = header_pairs(&parts.headers);
    let canonical = sigv4::Canonical {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        payload_sha256: &sigv4::sha256_hex(body),
    };
    if !sigv4::verify(&canonical, &auth, amz_date, &identity.secret_access_key) {
        return Err(denied(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
        ));
    }
    Ok(identity)
}

/// Why a request's `X-Amz-Date` is refused.
pub(crate) enum DateProblem {
    Missing,
    Malformed,
    /// More than [`MAX_SKEW_SECS`] from now.
    Skewed,
}

/// The request's `X-Amz-Date` (SigV4 and SigV4A), if it is one and close enough to now.
pub(crate) fn request_date(headers: &http::HeaderMap) -> Result<&str, DateProblem> {
    let amz_date = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or(DateProblem::Missing)?;
    let when = time::PrimitiveDateTime::parse(
        amz_date,
        time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .map_err(|_| DateProblem::Malformed)?
    .assume_utc()
    .unix_timestamp();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if (now - when).abs() > MAX_SKEW_SECS {
        return Err(DateProblem::Skewed);
    }
    Ok(amz_date)
}

/// A request's headers as signatures read them (names lower case, values as text).
pub(crate) fn header_pairs(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect()
}

/// Whether `identity` may perform `action` (`cloudfront:…`) on `resource` (an ARN or `*`).
pub fn authorize(identity: &Identity, action: &str, resource: &str) -> ControlResult<()> {
    if matches!(identity.caller, policy::Caller::Root { .. }) {
        return Ok(());
    }
    let ctx = RequestContext::new(identity.caller.clone(), action, resource.to_owned());
    if policy::decide(identity.policies.iter().map(|p| p.evaluate(&ctx))) {
        Ok(())
    } else {
        let who = identity.caller.arn().unwrap_or_default();
        Err(ControlError::access_denied(format!(
            "User: {who} is not authorized to perform: {action} on resource: {resource}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_auth::policy::PolicyKind;

    #[test]
    fn control_requests_are_told_apart_by_the_signing_service() {
        let signed = |service: &str| {
            let mut h = http::HeaderMap::new();
            h.insert(
                header::AUTHORIZATION,
                format!("AWS4-HMAC-SHA256 Credential=AKIAX/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00").parse().unwrap(),
            );
            h
        };
        assert_eq!(
            credential_service(&signed("cloudfront"), None).as_deref(),
            Some("cloudfront")
        );
        assert_eq!(
            credential_service(&signed("s3"), None).as_deref(),
            Some("s3")
        );
        assert_eq!(credential_service(&http::HeaderMap::new(), None), None);
        let q = "X-Amz-Credential=AKIAX%2F20260101%2Fus-east-1%2Fcloudfront%2Faws4_request&X-Amz-Signature=0";
        assert_eq!(
            credential_service(&http::HeaderMap::new(), Some(q)).as_deref(),
            Some("cloudfront")
        );
    }

    #[test]
    fn users_need_a_policy_and_root_does_not() {
        let user = |policies: Vec<Policy>| Identity {
            secret_access_key: String::new(),
            caller: policy::Caller::User {
                account: "123456789012".into(),
                name: "ops".into(),
                canonical_id: "c".into(),
            },
            policies: policies.into(),
        };
        let arn = "arn:aws:cloudfront::123456789012:distribution/E1";
        let e = authorize(&user(vec![]), "cloudfront:GetDistribution", arn).unwrap_err();
        assert_eq!(e.code, "AccessDenied");
        let p = Policy::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudfront:Get*","Resource":"arn:aws:cloudfront::123456789012:distribution/*"}]}"#,
            PolicyKind::Identity,
        )
        .unwrap();
        let ops = user(vec![p]);
        authorize(&ops, "cloudfront:GetDistribution", arn).unwrap();
        assert!(authorize(&ops, "cloudfront:DeleteDistribution", arn).is_err());
        let root = Identity {
            secret_access_key: String::new(),
            caller: policy::Caller::Root {
                account: "123456789012".into(),
                canonical_id: "c".into(),
            },
            policies: Vec::new().into(),
        };
        authorize(&root, "cloudfront:DeleteDistribution", arn).unwrap();
    }
}
