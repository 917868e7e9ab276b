//! What happens to an S3 request before s3s sees it, and to every response after.
//!
//! Before s3s ([`Precheck`]), the checks s3s leaves to us or makes differently from S3:
//! - **Header section size** is capped at [`MAX_HEADER_BYTES`].
//! - **SigV2** (header and presigned) is accepted as S3 accepts it for existing buckets (s3s
//!   verifies it), unless the operator turned it off.
//! - **Presigned URL lifetime**: `X-Amz-Expires` must be a whole number of seconds from 1 to
//!   604,800 (7 days); otherwise S3 answers 403 AccessDenied, and so do we.
//! - **SigV4 with a `Date` header** and no `X-Amz-Date` is accepted (the date comes from
//!   `Date`, as SigV4 allows); s3s needs `X-Amz-Date`, so one is added (it is not a signed
//!   header, so the signature is unchanged).
//! - **An empty `Content-MD5`** is `InvalidDigest` (s3s would treat it as absent).
//!
//! After s3s ([`finish`]): every response gets `x-amz-request-id` and `x-amz-id-2`, and error
//! bodies their `<RequestId>` and `<HostId>`; the few errors s3s names differently from S3
//! are renamed; GetObjectAttributes' ETag loses its quotes, as S3 sends it.

use s3s::{HttpResponse, S3Error, S3ErrorCode};

use crate::request_id::RequestIds;

/// S3: "The request header must be under 8 KB" for user metadata; we allow the whole header
/// section twice that, which every SDK request fits in.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// S3 allows presigned URLs to live at most 7 days.
pub const MAX_PRESIGNED_EXPIRES: i64 = 7 * 24 * 3600;

/// Operator choices the checks depend on.
#[derive(Debug, Clone, Copy)]
pub struct Precheck {
    /// Accept SigV2 signatures (as S3 does for existing buckets).
    pub allow_sigv2: bool,
}

fn query_param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query.split('&').find_map(|kv| match kv.split_once('=') {
        Some((k, v)) if k == name => Some(v),
        None if kv == name => Some(""),
        _ => None,
    })
}

impl Precheck {
    /// Checks a request before s3s; `Err` is the response to send instead.
    pub fn check<B>(&self, req: &mut http::Request<B>) -> Result<(), Box<HttpResponse>> {
        let header_bytes: usize = req
            .headers()
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 4)
            .sum();
        if header_bytes > MAX_HEADER_BYTES {
            return Err(error(
                S3ErrorCode::Custom("RequestHeaderSectionTooLarge".into()),
                "Your request header section exceeds the maximum allowed size.",
                http::StatusCode::BAD_REQUEST,
            ));
        }
        let auth = req
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let query = req.uri().query().unwrap_or("").to_owned();
        let sigv2 = auth.starts_with("AWS ")
            || (query_param(&query, "AWSAccessKeyId").is_some()
                && query_param(&query, "Signature").is_some());
        if sigv2 && !self.allow_sigv2 {
            return Err(error(
                S3ErrorCode::InvalidRequest,
                "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
                http::StatusCode::BAD_REQUEST,
            ));
        }
        if sigv2 {
            sigv2_bucket_resource(req);
        }
        if let Some(expires) = query_param(&query, "X-Amz-Expires") {
            check_presigned_expiry(expires)?;
        }
        if auth.starts_with("AWS4-") && !req.headers().contains_key("x-amz-date") {
            sigv4_date_from_date_header(req.headers_mut());
        }
        if req
            .headers()
            .get("content-md5")
            .is_some_and(|v| v.as_bytes().iter().all(u8::is_ascii_whitespace))
        {
            return Err(error(
                S3ErrorCode::InvalidDigest,
                "The Content-MD5 you specified was invalid.",
                http::StatusCode::BAD_REQUEST,
            ));
        }
        Ok(())
    }
}

/// SigV2 signs a path-style request to a bucket as `/bucket/` (the AWS SDKs and s3cmd do, and
/// S3 agrees); s3s signs the path as sent, so `/bucket` becomes `/bucket/`, which addresses the
/// same bucket.
fn sigv2_bucket_resource<B>(req: &mut http::Request<B>) {
    let path = req.uri().path();
    let is_bucket = path.len() > 1 && !path[1..].contains('/');
    if !is_bucket {
        return;
    }
    let pq = match req.uri().query() {
        Some(q) => format!("{path}/?{q}"),
        None => format!("{path}/"),
    };
    let mut parts = req.uri().clone().into_parts();
    if let Ok(pq) = pq.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = http::Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
}

/// `X-Amz-Expires`, as S3 checks it: 403 AccessDenied with S3's messages.
fn check_presigned_expiry(value: &str) -> Result<(), Box<HttpResponse>> {
    let denied = |msg: &'static str| {
        Err(error(
            S3ErrorCode::AccessDenied,
            msg,
            http::StatusCode::FORBIDDEN,
        ))
    };
    match value.parse::<i64>() {
        Err(_) => denied("X-Amz-Expires should be a number"),
        Ok(n) if n < 0 => denied("X-Amz-Expires must be non-negative"),
        Ok(0) => denied("Request has expired"),
        Ok(n) if n > MAX_PRESIGNED_EXPIRES => {
            denied("X-Amz-Expires must be less than a week (in seconds) that is 7 days")
        }
        Ok(_) => Ok(()),
    }
}

/// SigV4 lets a request carry its date in `Date` instead of `X-Amz-Date`: adds the
/// `X-Amz-Date` s3s reads, in SigV4's basic ISO 8601 form.
fn sigv4_date_from_date_header(headers: &mut http::HeaderMap) {
    let Some(date) = headers
        .get(http::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
    else {
        return;
    };
    let t = time::OffsetDateTime::from(date);
    let basic = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if let Ok(v) = http::HeaderValue::from_str(&basic) {
        headers.insert("x-amz-date", v);
    }
}

/// What a response needs to know about its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answering {
    GetObjectAttributes,
    Other,
}

impl Answering {
    pub fn of<B>(req: &http::Request<B>) -> Self {
        let q = req.uri().query().unwrap_or("");
        if req.method() == http::Method::GET && query_param(q, "attributes").is_some() {
            Self::GetObjectAttributes
        } else {
            Self::Other
        }
    }
}

/// What every S3 response gets on its way out.
pub fn finish(mut resp: HttpResponse, ids: &RequestIds, answering: Answering) -> HttpResponse {
    const REQUEST_ID: http::HeaderName = http::HeaderName::from_static("x-amz-request-id");
    const ID_2: http::HeaderName = http::HeaderName::from_static("x-amz-id-2");
    let h = resp.headers_mut();
    if let Ok(v) = http::HeaderValue::from_str(&ids.request_id) {
        h.insert(REQUEST_ID, v);
    }
    if let Ok(v) = http::HeaderValue::from_str(&ids.host_id) {
        h.insert(ID_2, v);
    }
    let status = resp.status();
    let is_error = status.is_client_error() || status.is_server_error();
    if !is_error && answering != Answering::GetObjectAttributes {
        return resp;
    }
    let Some(body) = resp.body().bytes() else {
        return resp;
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        return resp;
    };
    let rewritten = if is_error {
        error_body(text, ids).map(|(xml, new_status)| {
            if let Some(st) = new_status {
                *resp.status_mut() = st;
            }
            xml
        })
    } else if status == http::StatusCode::OK && answering == Answering::GetObjectAttributes {
        Some(unquote_etag(text))
    } else {
        None
    };
    if let Some(xml) = rewritten {
        resp.headers_mut().remove(http::header::CONTENT_LENGTH);
        *resp.body_mut() = s3s::Body::from(xml);
    }
    resp
}

/// The text of the first `<tag>` element of `xml` (as s3s writes its bodies: no attributes on
/// these elements, no nesting of the same tag).
fn element<'x>(xml: &'x str, tag: &str) -> Option<&'x str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&format!("</{tag}>"))?;
    Some(&xml[start..end])
}

/// An S3 error body with its request ids, renamed where S3 names the error differently.
fn error_body(xml: &str, ids: &RequestIds) -> Option<(String, Option<http::StatusCode>)> {
    let end = xml.rfind("</Error>")?;
    let code = element(xml, "Code")?;
    let message = element(xml, "Message").unwrap_or("");
    let mut out = String::with_capacity(xml.len() + 160);
    let mut status = None;
    // A POST form that breaks its policy's conditions: S3 denies it (403) rather than calling
    // the policy invalid.
    if code == "InvalidPolicyDocument" && message.starts_with("Policy condition") {
        let start = xml.find("<Error>")?;
        out.push_str(&xml[..start]);
        out.push_str("<Error><Code>AccessDenied</Code><Message>Invalid according to Policy: ");
        out.push_str(message);
        out.push_str("</Message>");
        status = Some(http::StatusCode::FORBIDDEN);
    } else {
        out.push_str(&xml[..end]);
    }
    if element(xml, "RequestId").is_none() {
        out.push_str("<RequestId>");
        out.push_str(&ids.request_id);
        out.push_str("</RequestId>");
    }
    out.push_str("<HostId>");
    out.push_str(&ids.host_id);
    out.push_str("</HostId></Error>");
    Some((out, status))
}

/// S3 sends GetObjectAttributes' `<ETag>` without the quotes every other shape has.
fn unquote_etag(xml: &str) -> String {
    let Some(v) = element(xml, "ETag") else {
        return xml.to_owned();
    };
    let bare = v
        .strip_prefix('"')
        .and_then(|b| b.strip_suffix('"'))
        .or_else(|| {
            v.strip_prefix("&quot;")
                .and_then(|b| b.strip_suffix("&quot;"))
        });
    match bare {
        Some(b) => xml.replacen(
            &format!("<ETag>{v}</ETag>"),
            &format!("<ETag>{b}</ETag>"),
            1,
        ),
        None => xml.to_owned(),
    }
}

fn error(code: S3ErrorCode, msg: &'static str, status: http::StatusCode) -> Box<HttpResponse> {
    let mut e = S3Error::with_message(code, msg);
    e.set_status_code(status);
    Box::new(match e.to_http_response() {
        Ok(r) => r,
        Err(_) => {
            let mut r = HttpResponse::new(s3s::Body::empty());
            *r.status_mut() = status;
            r
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(
        uri: &str,
        headers: &[(&str, &str)],
        allow_sigv2: bool,
    ) -> Result<http::Request<()>, u16> {
        let mut b = http::Request::builder().uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let mut r = b.body(()).unwrap();
        Precheck { allow_sigv2 }
            .check(&mut r)
            .map(|()| r)
            .map_err(|e| e.status().as_u16())
    }

    #[test]
    fn sigv2_is_accepted_unless_turned_off() {
        let v2 = [("authorization", "AWS AKIA:sig")];
        assert!(checked("/b/k", &v2, true).is_ok());
        assert_eq!(checked("/b/k", &v2, false).unwrap_err(), 400);
        let presigned = "/b/k?AWSAccessKeyId=A&Signature=s&Expires=1";
        assert!(checked(presigned, &[], true).is_ok());
        assert_eq!(checked(presigned, &[], false).unwrap_err(), 400);
    }

    #[test]
    fn presigned_lifetimes_outside_s3s_range_are_denied() {
        for bad in ["604801", "-7", "0", "abc", "1.5"] {
            let uri = format!("/b/k?X-Amz-Expires={bad}&X-Amz-Signature=x");
            assert_eq!(checked(&uri, &[], true).unwrap_err(), 403, "{bad}");
        }
        assert!(checked("/b/k?X-Amz-Expires=604800", &[], true).is_ok());
        assert!(checked("/b/k?X-Amz-Expires=1", &[], true).is_ok());
    }

    #[test]
    fn a_sigv4_date_header_becomes_x_amz_date() {
        let r = checked(
            "/b/k",
            &[
                (
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/s3/aws4_request",
                ),
                ("date", "Sun, 30 Aug 2015 12:36:00 GMT"),
            ],
            true,
        )
        .unwrap();
        assert_eq!(r.headers()["x-amz-date"], "20150830T123600Z");
    }

    #[test]
    fn an_empty_content_md5_is_an_invalid_digest() {
        assert_eq!(
            checked("/b/k", &[("content-md5", "")], true).unwrap_err(),
            400
        );
    }

    #[test]
    fn error_bodies_get_their_ids_and_s3_names() {
        let ids = RequestIds::new();
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code><Message>gone</Message></Error>";
        let (out, status) = error_body(xml, &ids).unwrap();
        assert!(out.ends_with(&format!(
            "<Message>gone</Message><RequestId>{}</RequestId><HostId>{}</HostId></Error>",
            ids.request_id, ids.host_id
        )));
        assert_eq!(status, None);
        let policy = "<?xml version=\"1.0\"?><Error><Code>InvalidPolicyDocument</Code><Message>Policy condition 'eq' for field 'key' failed</Message></Error>";
        let (out, status) = error_body(policy, &ids).unwrap();
        assert!(out.contains("<Code>AccessDenied</Code>"), "{out}");
        assert_eq!(status, Some(http::StatusCode::FORBIDDEN));
    }

    #[test]
    fn get_object_attributes_etag_is_unquoted() {
        let xml = "<GetObjectAttributesResponse><ETag>\"abc\"</ETag><ObjectSize>3</ObjectSize></GetObjectAttributesResponse>";
        assert_eq!(
            unquote_etag(xml),
            "<GetObjectAttributesResponse><ETag>abc</ETag><ObjectSize>3</ObjectSize></GetObjectAttributesResponse>"
        );
        assert_eq!(
            unquote_etag("<R><ETag>&quot;abc&quot;</ETag></R>"),
            "<R><ETag>abc</ETag></R>"
        );
    }
}
