//! Requests s3s would refuse or pass on unchecked, put right after s3s has verified their
//! signature.
//!
//! s3s parses some headers more strictly than S3 and skips one check S3 makes:
//! - a `Range` whose end is past 2^63 (S3 clips it to the object), or that holds several
//!   ranges or is malformed (S3 ignores it and sends the whole object);
//! - `If-Match` / `If-None-Match` (and their copy-source forms) holding a list of entity tags,
//!   which RFC 9110 allows and S3 evaluates;
//! - DeleteObjects' `Content-MD5` and `x-amz-checksum-*`, which S3 requires and verifies
//!   against the request body.
//!
//! Such requests are taken by this custom route, which s3s consults only once the signature is
//! verified. It rewrites them (a clipped or dropped range; the parsed conditions in an extension;
//! the verified body) and passes them to a second s3s service over the same operations. That
//! service has no authentication of its own: it is reached only from here, the signature has
//! been checked, and the operations learn who signed from [`VerifiedAccessKey`].

use bytes::Bytes;
use http::{HeaderMap, Method, Uri};
use s3s::route::S3Route;
use s3s::service::S3Service;
use s3s::{Body, S3Request, S3Response, S3Result, s3_error};
use wharf_store::ChecksumAlgorithm;

use crate::access::VerifiedAccessKey;
use crate::ops::conditional::{ETAG_HEADERS, EtagHeaders};

/// S3 refuses DeleteObjects bodies larger than this (1,000 keys of up to 1,024 bytes each,
/// escaped, fit well within it).
const MAX_DELETE_BODY: usize = 20 << 20;

/// Query parameters of a presigned URL, which the second service must not see (it would try
/// to verify them without a key).
const PRESIGN_PARAMS: &[&str] = &[
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "AWSAccessKeyId",
    "Signature",
];

/// The route; `inner` is the unauthenticated service over the same operations.
pub struct Normalize {
    pub inner: S3Service,
}

/// The verified trailers of an aws-chunked body, for the operations behind the route.
#[derive(Clone)]
pub struct Trailers(pub s3s::TrailingHeaders);

/// The trailers of a request's aws-chunked body, whichever service it came through.
pub fn trailers_of<T>(req: &S3Request<T>) -> Option<s3s::TrailingHeaders> {
    req.trailing_headers
        .clone()
        .or_else(|| req.extensions.get::<Trailers>().map(|t| t.0.clone()))
}

fn has_query_param(uri: &Uri, name: &str) -> bool {
    uri.query()
        .unwrap_or("")
        .split('&')
        .any(|kv| kv.split('=').next() == Some(name))
}

/// What s3s cannot parse but S3 accepts.
fn needs_normalizing(method: &Method, uri: &Uri, headers: &HeaderMap) -> bool {
    if (method == Method::GET || method == Method::HEAD)
        && headers
            .get(http::header::RANGE)
            .is_some_and(|r| normalized_range(r.as_bytes()).as_deref() != Some(r.as_bytes()))
    {
        return true;
    }
    if ETAG_HEADERS.iter().any(|name| {
        let mut values = headers.get_all(name).iter();
        match (values.next(), values.next()) {
            (None, _) => false,
            (Some(v), None) => s3s::dto::ETagCondition::parse_http_header(v.as_bytes()).is_err(),
            (Some(_), Some(_)) => true,
        }
    }) {
        return true;
    }
    method == Method::POST && has_query_param(uri, "delete")
}

/// The operation of a request this route takes (the second service does not check access,
/// where the others learn theirs): the metrics count it under this name.
fn operation(method: &Method, uri: &Uri, headers: &HeaderMap) -> &'static str {
    let copy = headers.contains_key("x-amz-copy-source");
    match *method {
        Method::GET => "GetObject",
        Method::HEAD => "HeadObject",
        Method::POST if has_query_param(uri, "delete") => "DeleteObjects",
        Method::POST if has_query_param(uri, "uploadId") => "CompleteMultipartUpload",
        Method::PUT if copy && has_query_param(uri, "partNumber") => "UploadPartCopy",
        Method::PUT if has_query_param(uri, "partNumber") => "UploadPart",
        Method::PUT if copy => "CopyObject",
        Method::PUT => "PutObject",
        _ => crate::metrics::NO_OPERATION,
    }
}

/// The `Range` value s3s will parse and S3 would act on, or `None` to ignore the header (several
/// ranges, or not a byte range at all). An end past 2^63 - 1 is clipped: S3 serves the object
/// to its end.
pub fn normalized_range(v: &[u8]) -> Option<Vec<u8>> {
    let s = std::str::from_utf8(v).ok()?;
    let (a, b) = s.strip_prefix("bytes=")?.split_once('-')?;
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
    // Values above i64::MAX (s3s's limit) or past u64 altogether.
    let clip = |x: &str| -> u64 {
        x.parse::<u64>()
            .unwrap_or(u64::MAX)
            .min(i64::MAX.unsigned_abs())
    };
    let out = match (a, b) {
        ("", n) if digits(n) => format!("bytes=-{}", n.parse::<u64>().unwrap_or(u64::MAX)),
        (a, "") if digits(a) => format!("bytes={}-", clip(a)),
        (a, b) if digits(a) && digits(b) => {
            let (first, last) = (clip(a), clip(b));
            if first > last {
                return None;
            }
            if b.parse::<u64>()
                .map_or(true, |n| n > i64::MAX.unsigned_abs())
            {
                format!("bytes={first}-")
            } else {
                format!("bytes={first}-{last}")
            }
        }
        _ => return None,
    };
    Some(out.into_bytes())
}

fn without_presign_params(uri: &Uri) -> S3Result<Uri> {
    let Some(q) = uri.query() else {
        return Ok(uri.clone());
    };
    let kept: Vec<&str> = q
        .split('&')
        .filter(|kv| {
            let name = kv.split('=').next().unwrap_or("");
            // `Expires` is a presigned (SigV2) parameter only beside `Signature`.
            let presign = PRESIGN_PARAMS.contains(&name)
                || (name == "Expires" && has_query_param(uri, "Signature"));
            !presign
        })
        .collect();
    let path = uri.path();
    let pq = if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    };
    pq.parse()
        .map_err(|_| s3_error!(InvalidURI, "Couldn't parse the specified URI."))
}

/// Checks DeleteObjects' body against the digest it came with; S3 requires one.
fn verify_delete_body(headers: &HeaderMap, body: &[u8]) -> S3Result<()> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let mut checked = false;
    if let Some(md5) = get("content-md5") {
        let want = base64_simd::STANDARD
            .decode_to_vec(md5)
            .map_err(|_| s3_error!(InvalidDigest, "The Content-MD5 you specified was invalid."))?;
        use md5::Digest as _;
        if want.as_slice() != md5::Md5::digest(body).as_slice() {
            return Err(s3_error!(
                BadDigest,
                "The Content-MD5 you specified did not match what we received."
            ));
        }
        checked = true;
    }
    for alg in ChecksumAlgorithm::ALL {
        if let Some(sent) = get(alg.header_name()) {
            let have = base64_simd::STANDARD.encode_to_string(alg.digest(body));
            if sent != have {
                return Err(s3_error!(
                    BadDigest,
                    "The {} you specified did not match the calculated checksum.",
                    alg.as_str()
                ));
            }
            checked = true;
        }
    }
    if !checked {
        return Err(s3_error!(
            InvalidRequest,
            "Missing required header for this request: Content-MD5 or x-amz-checksum-*"
        ));
    }
    Ok(())
}

#[async_trait::async_trait]
impl S3Route for Normalize {
    fn is_match(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        _extensions: &mut http::Extensions,
    ) -> bool {
        needs_normalizing(method, uri, headers)
    }

    /// The operations decide ([`crate::access`]), as for every request.
    async fn check_access(&self, _req: &mut S3Request<Body>) -> S3Result<()> {
        Ok(())
    }

    async fn call(&self, req: S3Request<Body>) -> S3Result<S3Response<Body>> {
        let S3Request {
            input: mut body,
            method,
            uri,
            mut headers,
            mut extensions,
            credentials,
            trailing_headers,
            ..
        } = req;
        if let Some(range) = headers.get(http::header::RANGE).cloned() {
            match normalized_range(range.as_bytes()) {
                Some(r) => {
                    let v = http::HeaderValue::from_bytes(&r)
                        .map_err(|_| s3_error!(InvalidArgument, "Invalid Range"))?;
                    headers.insert(http::header::RANGE, v);
                }
                None => {
                    headers.remove(http::header::RANGE);
                }
            }
        }
        if let Some(slot) = extensions.get::<crate::metrics::OperationName>() {
            slot.set(operation(&method, &uri, &headers));
        }
        extensions.insert(EtagHeaders::parse(&headers));
        for name in &ETAG_HEADERS {
            headers.remove(name);
        }
        if method == Method::POST && has_query_param(&uri, "delete") {
            let bytes: Bytes = body
                .store_all_limited(MAX_DELETE_BODY)
                .await
                .map_err(|_| s3_error!(MaxMessageLengthExceeded, "Your request was too big."))?;
            verify_delete_body(&headers, &bytes)?;
            body = Body::from(bytes);
        }
        // Who signed, for the operations; the signature itself stays behind.
        if let Some(c) = credentials {
            extensions.insert(VerifiedAccessKey(c.access_key));
        }
        if let Some(t) = trailing_headers {
            extensions.insert(Trailers(t));
        }
        headers.remove(http::header::AUTHORIZATION);
        let mut inner = http::Request::new(body);
        *inner.method_mut() = method;
        *inner.uri_mut() = without_presign_params(&uri)?;
        *inner.headers_mut() = headers;
        *inner.extensions_mut() = extensions;
        let resp = self
            .inner
            .call(inner)
            .await
            .map_err(|e| s3_error!(InternalError, "{e:?}"))?;
        let (parts, body) = resp.into_parts();
        let mut out = S3Response::with_status(body, parts.status);
        out.headers = parts.headers;
        out.extensions = parts.extensions;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_normalized_as_s3_reads_them() {
        let n = |v: &str| normalized_range(v.as_bytes()).map(|b| String::from_utf8(b).unwrap());
        assert_eq!(n("bytes=0-9").as_deref(), Some("bytes=0-9"));
        assert_eq!(n("bytes=5-").as_deref(), Some("bytes=5-"));
        assert_eq!(n("bytes=-5").as_deref(), Some("bytes=-5"));
        // Past 2^63 - 1: to the end of the object.
        assert_eq!(
            n("bytes=0-9223372036854775808").as_deref(),
            Some("bytes=0-")
        );
        assert_eq!(
            n("bytes=3-99999999999999999999").as_deref(),
            Some("bytes=3-")
        );
        assert_eq!(
            n("bytes=99999999999999999999-").as_deref(),
            Some("bytes=9223372036854775807-")
        );
        assert_eq!(
            n("bytes=-99999999999999999999").as_deref(),
            Some("bytes=-18446744073709551615")
        );
        for ignored in [
            "bytes=0-1,3-4",
            "bytes=9-0",
            "bytes=a-b",
            "items=0-1",
            "bytes=-",
            "bytes= 0-1",
        ] {
            assert_eq!(n(ignored), None, "{ignored}");
        }
    }

    #[test]
    fn only_what_s3s_cannot_take_is_routed() {
        let req = |m: Method, uri: &str, h: &[(&str, &str)]| {
            let mut headers = HeaderMap::new();
            for (k, v) in h {
                headers.append(
                    http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                );
            }
            needs_normalizing(&m, &uri.parse().unwrap(), &headers)
        };
        assert!(!req(Method::GET, "/b/k", &[("range", "bytes=0-9")]));
        assert!(req(
            Method::GET,
            "/b/k",
            &[("range", "bytes=0-9223372036854775808")]
        ));
        assert!(req(Method::HEAD, "/b/k", &[("range", "bytes=0-1,4-5")]));
        assert!(!req(Method::PUT, "/b/k", &[("if-none-match", "*")]));
        assert!(!req(Method::GET, "/b/k", &[("if-match", "\"abc\"")]));
        // s3s takes `"a", "b"` as one odd tag (the operations read the list themselves), but
        // refuses a list that does not end in a quote.
        assert!(!req(Method::GET, "/b/k", &[("if-match", "\"a\", \"b\"")]));
        assert!(req(Method::GET, "/b/k", &[("if-match", "\"a\", b")]));
        assert!(req(
            Method::PUT,
            "/b/k",
            &[("if-none-match", "\"a\""), ("if-none-match", "\"b\"")]
        ));
        assert!(req(Method::POST, "/b?delete", &[]));
        assert!(!req(Method::POST, "/b/k?uploads", &[]));
    }

    #[test]
    fn delete_bodies_must_carry_a_matching_digest() {
        let body = b"<Delete><Object><Key>a</Key></Object></Delete>";
        let mut h = HeaderMap::new();
        assert!(verify_delete_body(&h, body).is_err());
        use md5::Digest as _;
        let md5 = base64_simd::STANDARD.encode_to_string(md5::Md5::digest(body));
        h.insert("content-md5", md5.parse().unwrap());
        verify_delete_body(&h, body).unwrap();
        assert!(verify_delete_body(&h, b"<Delete/>").is_err());
        let mut h = HeaderMap::new();
        let crc = base64_simd::STANDARD.encode_to_string(ChecksumAlgorithm::Crc32.digest(body));
        h.insert("x-amz-checksum-crc32", crc.parse().unwrap());
        verify_delete_body(&h, body).unwrap();
        h.insert("x-amz-checksum-crc32", "AAAAAA==".parse().unwrap());
        assert!(verify_delete_body(&h, body).is_err());
    }
}
