//! The CloudFront control API on the AWS endpoint, as far as it exists yet:
//! `CreateInvalidation` (`POST /2020-05-31/distribution/ID/invalidation`), so
//! `aws cloudfront create-invalidation --endpoint-url …` and `wharf invalidate` work. Requests
//! are told apart from S3 by the `/2020-05-31/` path and must carry a SigV4 signature by the
//! root user for the `cloudfront` service.

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use wharf_auth::sigv4;
use wharf_edge::Edge;
use wharf_store::Store;

use crate::root::ROOT_USER;

pub const API_PREFIX: &str = "/2020-05-31/";
/// Largest control request body we read (an InvalidationBatch of 3,000 paths fits easily).
pub const MAX_BODY: usize = 1 << 20;
/// SigV4: a request's date may be at most 15 minutes off.
pub const MAX_SKEW_SECS: i64 = 15 * 60;
const XMLNS: &str = "http://cloudfront.amazonaws.com/doc/2020-05-31/";

/// A CloudFront control request: under `/2020-05-31/` and signed for the `cloudfront` service
/// (a path-style request to an S3 bucket named `2020-05-31` is signed for `s3`, and an
/// unsigned one can only be for S3).
pub fn is_control<B>(req: &Request<B>) -> bool {
    req.uri().path().starts_with(API_PREFIX)
        && credential_service(req).as_deref() == Some("cloudfront")
}

/// The service named in a SigV4 credential scope (`AK/date/region/SERVICE/aws4_request`), from
/// the `Authorization` header or a presigned URL's `X-Amz-Credential`.
fn credential_service<B>(req: &Request<B>) -> Option<String> {
    let credential = match req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        Some(auth) => auth
            .split([',', ' '])
            .find_map(|p| p.strip_prefix("Credential="))?
            .to_owned(),
        None => req
            .uri()
            .query()?
            .split('&')
            .find_map(|kv| kv.strip_prefix("X-Amz-Credential="))?
            .replace("%2F", "/")
            .replace("%2f", "/"),
    };
    let parts: Vec<&str> = credential.split('/').collect();
    (parts.len() == 5).then(|| parts[3].to_owned())
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    let body = format!(
        "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        xml_escape(message),
        wharf_edge::headers::new_request_id()
    );
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    r
}

/// Every `<Tag>…</Tag>` text in `xml`, unescaped.
pub fn elements(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(xml_unescape(&after[..j]));
        rest = &after[j + close.len()..];
    }
    out
}

pub async fn handle(
    edge: &Edge,
    store: &Store,
    req: Request<crate::listener::Body>,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "MalformedInput",
                "request body too large or truncated",
            );
        }
    };
    if let Err(resp) = authenticate(store, &parts, &body).await {
        return resp;
    }
    let path = parts.uri.path();
    let segments: Vec<&str> = path[API_PREFIX.len()..].split('/').collect();
    match (parts.method.as_str(), segments.as_slice()) {
        ("POST", ["distribution", id, "invalidation"]) => {
            create_invalidation(edge, id, &body).await
        }
        _ => error(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "This CloudFront API operation is not available yet.",
        ),
    }
}

async fn create_invalidation(edge: &Edge, id: &str, body: &[u8]) -> Response<Full<Bytes>> {
    let Ok(xml) = std::str::from_utf8(body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "MalformedInput",
            "body is not UTF-8",
        );
    };
    let paths = elements(xml, "Path");
    let quantity = elements(xml, "Quantity");
    let caller = elements(xml, "CallerReference")
        .into_iter()
        .next()
        .unwrap_or_default();
    if !xml.contains("<InvalidationBatch")
        || quantity
            .first()
            .and_then(|q| q.trim().parse::<usize>().ok())
            != Some(paths.len())
    {
        return error(
            StatusCode::BAD_REQUEST,
            "MalformedInput",
            "InvalidationBatch with Paths Quantity and Items is required",
        );
    }
    if paths.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "at least one path is required",
        );
    }
    if edge.registry.snapshot().get(id).is_none() {
        return error(
            StatusCode::NOT_FOUND,
            "NoSuchDistribution",
            "The specified distribution does not exist.",
        );
    }
    if let Err(e) = edge.cache.invalidations.create_invalidation(id, &paths) {
        return error(StatusCode::BAD_REQUEST, "InvalidArgument", &e);
    }
    // Durable before it is acknowledged, written off the runtime's threads.
    let cache = edge.cache.clone();
    match tokio::task::spawn_blocking(move || cache.invalidations.flush_journal()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "could not write the invalidation journal"),
        Err(e) => tracing::warn!(error = %e, "invalidation journal writer failed"),
    }
    edge.metrics.invalidation(id);
    let inv_id = format!(
        "I{}",
        &wharf_edge::headers::new_request_id()[..13]
            .to_ascii_uppercase()
            .replace(['-', '_'], "X")
    );
    let items: String = paths
        .iter()
        .map(|p| format!("<Path>{}</Path>", xml_escape(p)))
        .collect();
    let created = httpdate_iso(std::time::SystemTime::now());
    let body = format!(
        "<?xml version=\"1.0\"?>\n<Invalidation xmlns=\"{XMLNS}\"><Id>{inv_id}</Id><Status>Completed</Status><CreateTime>{created}</CreateTime><InvalidationBatch><Paths><Quantity>{}</Quantity><Items>{items}</Items></Paths><CallerReference>{}</CallerReference></InvalidationBatch></Invalidation>",
        paths.len(),
        xml_escape(&caller)
    );
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::CREATED;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{API_PREFIX}distribution/{id}/invalidation/{inv_id}"
    )) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn httpdate_iso(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(0))
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

async fn authenticate(
    store: &Store,
    parts: &http::request::Parts,
    body: &[u8],
) -> Result<(), Response<Full<Bytes>>> {
    let denied = |code: &str, msg: &str| error(StatusCode::FORBIDDEN, code, msg);
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
    let amz_date = parts
        .headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| denied("IncompleteSignature", "X-Amz-Date is required."))?;
    let when = time::PrimitiveDateTime::parse(
        amz_date,
        time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .map_err(|_| denied("IncompleteSignature", "X-Amz-Date is malformed."))?
    .assume_utc()
    .unix_timestamp();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if (now - when).abs() > MAX_SKEW_SECS {
        return Err(denied(
            "SignatureDoesNotMatch",
            "Signature expired or not yet valid: the request time is too skewed.",
        ));
    }
    let found = store
        .meta()
        .lookup_access_key(&auth.access_key)
        .await
        .ok()
        .flatten();
    let Some((key, user)) = found else {
        return Err(denied(
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ));
    };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let canonical = sigv4::Canonical {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        payload_sha256: &sigv4::sha256_hex(body),
    };
    if !sigv4::verify(&canonical, &auth, amz_date, &key.secret_access_key) {
        return Err(denied(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        ));
    }
    if user.name != ROOT_USER {
        return Err(denied(
            "AccessDenied",
            "Only the root user may change distributions.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_requests_are_told_apart_by_the_signing_service() {
        let req = |path: &str, auth: Option<&str>| {
            let mut b = Request::builder().uri(path);
            if let Some(a) = auth {
                b = b.header("authorization", a);
            }
            b.body(()).unwrap()
        };
        let signed = |service: &str| {
            format!(
                "AWS4-HMAC-SHA256 Credential=AKIAX/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00"
            )
        };
        let cf = req("/2020-05-31/distribution", Some(&signed("cloudfront")));
        assert_eq!(credential_service(&cf).as_deref(), Some("cloudfront"));
        let s3 = req("/2020-05-31/key", Some(&signed("s3")));
        assert_eq!(credential_service(&s3).as_deref(), Some("s3"));
        assert_eq!(credential_service(&req("/2020-05-31/key", None)), None);
        let presigned = req(
            "/2020-05-31/k?X-Amz-Credential=AKIAX%2F20260101%2Fus-east-1%2Fcloudfront%2Faws4_request&X-Amz-Signature=0",
            None,
        );
        assert_eq!(
            credential_service(&presigned).as_deref(),
            Some("cloudfront")
        );
    }

    #[test]
    fn invalidation_batch_paths() {
        let xml = "<InvalidationBatch><Paths><Quantity>2</Quantity><Items><Path>/a&amp;b</Path><Path>/img/*</Path></Items></Paths><CallerReference>x</CallerReference></InvalidationBatch>";
        assert_eq!(super::elements(xml, "Path"), vec!["/a&b", "/img/*"]);
        assert_eq!(
            super::elements("<Path>unterminated", "Path"),
            Vec::<String>::new()
        );
    }
}
