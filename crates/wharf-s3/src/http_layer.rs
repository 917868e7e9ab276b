//! What happens to an S3 request before s3s sees it.
//!
//! s3s verifies SigV4 but leaves these to us:
//! - **SigV2 is refused** (header and presigned forms) with S3's own error, as regions launched
//!   after 2014 do: SigV2 is not a signature we will ever accept.
//! - **Presigned URLs expire within 7 days** (`X-Amz-Expires` ≤ 604,800), as S3 enforces.
//! - **Header section size** is capped at [`MAX_HEADER_BYTES`].
//! - **Range**: S3 serves one range; a header with several ranges, or one it cannot parse, is
//!   ignored and the whole object is returned (RFC 9110 §14.2 lets a server ignore Range).
//!   Only an unsigned Range header can be dropped (a signed one is part of the signature); a
//!   signed malformed Range is refused by s3s with 400 InvalidArgument.
//! - **Idle bodies**: a request body that sends nothing for [`BODY_IDLE_TIMEOUT`] fails, so a
//!   client that vanishes mid-upload cannot hold a staging file and a task forever.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame};
use s3s::{HttpResponse, S3Error, S3ErrorCode};

/// S3: "The request header must be under 8 KB" for user metadata; we allow the whole header
/// section twice that, which every SDK request fits in.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// S3 allows presigned URLs to live at most 7 days.
pub const MAX_PRESIGNED_EXPIRES: u64 = 7 * 24 * 3600;
/// How long a request body may stay silent before the request fails.
pub const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Checks a request before s3s; `Err` is the response to send instead.
pub fn precheck<B>(req: &mut http::Request<B>) -> Result<(), Box<HttpResponse>> {
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
        .unwrap_or("");
    let query = req.uri().query().unwrap_or("");
    let has_param = |name: &str| {
        query
            .split('&')
            .any(|kv| kv.split('=').next() == Some(name))
    };
    if auth.starts_with("AWS ") || (has_param("AWSAccessKeyId") && has_param("Signature")) {
        return Err(error(
            S3ErrorCode::InvalidRequest,
            "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
            http::StatusCode::BAD_REQUEST,
        ));
    }
    if let Some(expires) = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("X-Amz-Expires="))
    {
        match expires.parse::<u64>() {
            Ok(n) if n <= MAX_PRESIGNED_EXPIRES => {}
            Ok(_) => {
                return Err(error(
                    S3ErrorCode::AuthorizationQueryParametersError,
                    "X-Amz-Expires must be less than a week (in seconds) that is 7 days",
                    http::StatusCode::BAD_REQUEST,
                ));
            }
            Err(_) => {
                return Err(error(
                    S3ErrorCode::AuthorizationQueryParametersError,
                    "X-Amz-Expires should be a number",
                    http::StatusCode::BAD_REQUEST,
                ));
            }
        }
    }
    if let Some(range) = req.headers().get(http::header::RANGE)
        && !is_single_range(range.as_bytes())
        && !is_signed_header(auth, query, "range")
    {
        req.headers_mut().remove(http::header::RANGE);
    }
    Ok(())
}

/// Whether `name` is among the SignedHeaders of a SigV4 header or presigned signature.
fn is_signed_header(auth: &str, query: &str, name: &str) -> bool {
    let from_header = auth
        .split(',')
        .find_map(|p| p.trim().strip_prefix("SignedHeaders="))
        .map(str::to_owned);
    let from_query = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("X-Amz-SignedHeaders="))
        .map(|v| v.replace("%3B", ";").replace("%3b", ";"));
    from_header
        .or(from_query)
        .is_some_and(|list| list.split(';').any(|h| h.eq_ignore_ascii_case(name)))
}

/// True for exactly one well-formed `bytes=` range (`a-b`, `a-` or `-n`), in exactly the form
/// s3s parses (so a header we keep is one s3s accepts).
pub fn is_single_range(v: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(v) else {
        return false;
    };
    let Some((a, b)) = s
        .strip_prefix("bytes=")
        .and_then(|spec| spec.split_once('-'))
    else {
        return false;
    };
    let num = |x: &str| -> Option<u64> {
        if x.bytes().all(|c| c.is_ascii_digit()) {
            x.parse().ok()
        } else {
            None
        }
    };
    match (a, b) {
        ("", n) => num(n).is_some(),
        (a, "") => num(a).is_some(),
        (a, b) => matches!((num(a), num(b)), (Some(x), Some(y)) if x <= y),
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

/// A request body that fails if no bytes arrive for [`BODY_IDLE_TIMEOUT`].
pub struct IdleTimeoutBody<B> {
    inner: B,
    idle: Pin<Box<tokio::time::Sleep>>,
}

impl<B> IdleTimeoutBody<B> {
    pub fn new(inner: B) -> Self {
        Self {
            inner,
            idle: Box::pin(tokio::time::sleep(BODY_IDLE_TIMEOUT)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("request body idle for more than {0:?}")]
    Idle(Duration),
    #[error("{0}")]
    Inner(Box<dyn std::error::Error + Send + Sync>),
}

impl<B> HttpBody for IdleTimeoutBody<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.idle
                    .as_mut()
                    .reset(tokio::time::Instant::now() + BODY_IDLE_TIMEOUT);
                Poll::Ready(frame.map(|f| f.map_err(|e| BodyError::Inner(e.into()))))
            }
            Poll::Pending => match this.idle.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(BodyError::Idle(BODY_IDLE_TIMEOUT)))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_ranges() {
        for (v, ok) in [
            ("bytes=0-9", true),
            ("bytes=5-", true),
            ("bytes=-5", true),
            ("bytes=0-1,3-4", false),
            ("bytes=9-0", false),
            ("bytes=a-b", false),
            ("items=0-1", false),
            ("bytes=-", false),
            ("bytes= 0-1", false),
            ("bytes=99999999999999999999-", false),
        ] {
            assert_eq!(is_single_range(v.as_bytes()), ok, "{v}");
        }
    }

    #[test]
    fn sigv2_and_long_presigns_are_refused() {
        let mut r = http::Request::builder()
            .uri("/b/k")
            .header("authorization", "AWS AKIA:sig")
            .body(())
            .unwrap();
        assert_eq!(
            precheck(&mut r).unwrap_err().status(),
            http::StatusCode::BAD_REQUEST
        );
        let mut r = http::Request::builder()
            .uri("/b/k?AWSAccessKeyId=A&Signature=s&Expires=1")
            .body(())
            .unwrap();
        assert!(precheck(&mut r).is_err());
        let mut r = http::Request::builder()
            .uri("/b/k?X-Amz-Expires=604801&X-Amz-Signature=x")
            .body(())
            .unwrap();
        assert!(precheck(&mut r).is_err());
        let mut r = http::Request::builder()
            .uri("/b/k?X-Amz-Expires=604800")
            .body(())
            .unwrap();
        assert!(precheck(&mut r).is_ok());
        let mut r = http::Request::builder()
            .uri("/b/k")
            .header("range", "bytes=0-1,4-5")
            .body(())
            .unwrap();
        assert!(precheck(&mut r).is_ok());
        assert!(r.headers().get("range").is_none());
    }
}
