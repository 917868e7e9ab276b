//! S3 origins that name this node's own bucket (`DomainName: BUCKET.s3.localhost`), served
//! through the store in-process: what S3 would answer a GET or HEAD (status, validators,
//! content headers, conditional requests, a single range), without an HTTP hop.
//!
//! Each request is authorised as S3 would authorise CloudFront's: anonymous without Origin
//! Access Control (only what the bucket policy makes public is served, else 403), as the
//! service principal `cloudfront.amazonaws.com` with `aws:SourceArn` naming the distribution
//! when the origin has an OAC that signs, as the Origin Access Identity's IAM user with an OAI.
//! A distribution never bypasses its bucket's policy.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::header::{self, HeaderValue};
use http::{HeaderMap, Method, StatusCode};
use wharf_auth::policy;
use wharf_edge::origin::{
    HttpOriginFactory, Origin, OriginContext, OriginError, OriginFactory, OriginIdentity,
    OriginRequest, OriginResponse,
};
use wharf_edge::range::{self, RangeSpec};
use wharf_edge::respond::preconditions;
use wharf_model::cloudfront::{Origin as OriginConfig, origin_access_identity_arn};
use wharf_s3::BucketAccess;
use wharf_store::{BucketRecord, Missing, Store};

/// The domain suffix that makes an S3 origin local.
pub const LOCAL_S3_SUFFIX: &str = ".s3.localhost";

/// Builds local-bucket origins for `*.s3.localhost` and HTTP origins for everything else.
pub struct WharfOrigins {
    pub store: Store,
    /// Decides what an origin request may read, as for the S3 API.
    pub access: BucketAccess,
    /// Every other origin: HTTP, signed for S3 origins with Origin Access Control.
    pub http: HttpOriginFactory,
}

impl OriginFactory for WharfOrigins {
    fn build(&self, cx: &OriginContext<'_>, c: &OriginConfig) -> Result<Arc<dyn Origin>, String> {
        let domain = c.domain_name.to_ascii_lowercase();
        let host = domain.split(':').next().unwrap_or("");
        if let Some(bucket) = host.strip_suffix(LOCAL_S3_SUFFIX) {
            wharf_model::BucketName::new(bucket).map_err(|e| format!("origin {}: {e}", c.id))?;
            return Ok(Arc::new(LocalBucket {
                store: self.store.clone(),
                bucket: bucket.to_owned(),
                requester: Arc::new(Requester::new(&self.store, &self.access, cx)),
            }));
        }
        self.http.build(cx, c)
    }
}

struct LocalBucket {
    store: Store,
    bucket: String,
    requester: Arc<Requester>,
}

impl Origin for LocalBucket {
    fn fetch(&self, req: OriginRequest) -> BoxFuture<'static, Result<OriginResponse, OriginError>> {
        let store = self.store.clone();
        let bucket = self.bucket.clone();
        let requester = self.requester.clone();
        Box::pin(async move { Ok(get(&store, &bucket, &requester, req).await) })
    }
}

/// Who a distribution's requests to a local bucket act as, and what they may read.
pub(crate) struct Requester {
    access: BucketAccess,
    caller: policy::Caller,
    /// The condition keys of every request: CloudFront reaches S3 over HTTPS, and with OAC
    /// names the distribution (`aws:SourceArn`) and its account (`aws:SourceAccount`).
    keys: Vec<(&'static str, String)>,
}

impl Requester {
    /// An anonymous reader (the website endpoint's): the bucket policy alone decides, over a
    /// plain HTTP connection.
    pub(crate) fn anonymous(access: &BucketAccess) -> Self {
        Self {
            access: access.clone(),
            caller: policy::Caller::Anonymous,
            keys: vec![("aws:securetransport", "false".to_owned())],
        }
    }

    fn new(store: &Store, access: &BucketAccess, cx: &OriginContext<'_>) -> Self {
        let account = store.account_id();
        let mut keys = vec![
            ("aws:securetransport", "true".to_owned()),
            ("aws:useragent", "Amazon CloudFront".to_owned()),
        ];
        let caller = match &cx.identity {
            OriginIdentity::Anonymous => policy::Caller::Anonymous,
            OriginIdentity::AccessControl => {
                keys.push((
                    "aws:sourcearn",
                    format!(
                        "arn:aws:cloudfront::{account}:distribution/{}",
                        cx.distribution_id
                    ),
                ));
                keys.push(("aws:sourceaccount", account.to_owned()));
                policy::Caller::Service(CLOUDFRONT_SERVICE.to_owned())
            }
            OriginIdentity::AccessIdentity(id) => policy::Caller::Other {
                arn: origin_access_identity_arn(id),
                canonical_id: String::new(),
            },
        };
        Self {
            access: access.clone(),
            caller,
            keys,
        }
    }

    /// Whether the bucket's policy lets these requests do `action`.
    async fn may(
        &self,
        bucket: &BucketRecord,
        action: &str,
        key: Option<&str>,
        version_id: Option<&str>,
    ) -> Result<bool, s3s::S3Error> {
        let mut keys = self.keys.clone();
        if let Some(v) = version_id {
            keys.push(("s3:versionid", v.to_owned()));
        }
        self.access
            .allows(bucket, self.caller.clone(), action, key, &keys)
            .await
    }
}

/// CloudFront's service principal, as OAC bucket policies name it.
const CLOUDFRONT_SERVICE: &str = "cloudfront.amazonaws.com";

fn access_denied() -> OriginResponse {
    s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied")
}

fn internal_error() -> OriginResponse {
    s3_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalError",
        "We encountered an internal error. Please try again.",
    )
}

fn s3_error(status: StatusCode, code: &str, message: &str) -> OriginResponse {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    OriginResponse {
        status,
        headers,
        body: Box::pin(futures::stream::once(async move { Ok(Bytes::from(body)) })),
    }
}

fn empty(status: StatusCode, headers: HeaderMap) -> OriginResponse {
    OriginResponse {
        status,
        headers,
        body: Box::pin(futures::stream::empty()),
    }
}

/// `%XX` decoding of a URI path; `None` for malformed escapes or non-UTF-8 results.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn http_date(ms: i64) -> String {
    let secs = u64::try_from(ms / 1000).unwrap_or(0);
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// What S3 answers a read that found no object.
fn missing_answer(missing: Missing) -> OriginResponse {
    let (status, code, message) = match &missing {
        Missing::NoSuchBucket => (
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist",
        ),
        Missing::NoSuchVersion => (
            StatusCode::NOT_FOUND,
            "NoSuchVersion",
            "The specified version does not exist.",
        ),
        Missing::InvalidVersionId => (
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Invalid version id specified",
        ),
        // 405 for a request that names a delete marker.
        Missing::DeleteMarker { named: true, .. } => (
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        ),
        Missing::NoSuchKey | Missing::DeleteMarker { .. } => (
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        ),
    };
    let mut r = s3_error(status, code, message);
    if let Missing::DeleteMarker { marker, .. } = missing {
        r.headers
            .insert("x-amz-delete-marker", HeaderValue::from_static("true"));
        if let Ok(v) = HeaderValue::from_str(marker.s3_version_id()) {
            r.headers.insert("x-amz-version-id", v);
        }
    }
    r
}

pub(crate) async fn get(
    store: &Store,
    bucket: &str,
    requester: &Requester,
    req: OriginRequest,
) -> OriginResponse {
    if req.method != Method::GET && req.method != Method::HEAD {
        return s3_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        );
    }
    let (path, query) = req
        .path_and_query
        .split_once('?')
        .unwrap_or((&req.path_and_query, ""));
    // An origin request may name a version (the cache policy forwarding `versionId`).
    let version_id = query
        .split('&')
        .find_map(|p| p.strip_prefix("versionId="))
        .and_then(percent_decode);
    let Some(key) = percent_decode(path.trim_start_matches('/')) else {
        return s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidURI",
            "Couldn't parse the specified URI.",
        );
    };
    if key.is_empty() || wharf_model::ObjectKey::new(&key).is_err() {
        return s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        );
    }
    let record = match store.meta().get_bucket(bucket).await {
        Ok(Some(b)) => b,
        Ok(None) => return missing_answer(Missing::NoSuchBucket),
        Err(e) => {
            tracing::warn!(error = %e, "store read failed for an edge origin request");
            return internal_error();
        }
    };
    let action = match version_id {
        Some(_) => "s3:GetObjectVersion",
        None => "s3:GetObject",
    };
    match requester
        .may(&record, action, Some(&key), version_id.as_deref())
        .await
    {
        Ok(true) => {}
        Ok(false) => return access_denied(),
        Err(_) => return internal_error(),
    }
    let object = match store.find_object(bucket, &key, version_id.as_deref()).await {
        Ok(Ok(o)) => o,
        // As S3: whether a key exists is told only to those who may list the bucket.
        Ok(Err(missing @ (Missing::NoSuchKey | Missing::NoSuchVersion))) => {
            return match requester.may(&record, "s3:ListBucket", None, None).await {
                Ok(true) => missing_answer(missing),
                Ok(false) => access_denied(),
                Err(_) => internal_error(),
            };
        }
        Ok(Err(missing)) => return missing_answer(missing),
        Err(e) => {
            tracing::warn!(error = %e, "store read failed for an edge origin request");
            return internal_error();
        }
    };
    if !object.attrs.readable_at(wharf_store::now_ms()) {
        return s3_error(
            StatusCode::FORBIDDEN,
            "InvalidObjectState",
            "The operation is not valid for the object's storage class",
        );
    }
    let mut h = HeaderMap::new();
    let set = |h: &mut HeaderMap, name: header::HeaderName, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(name, v);
        }
    };
    set(&mut h, header::ETAG, &format!("\"{}\"", object.etag));
    if version_id.is_some() || !object.null_version {
        set(
            &mut h,
            header::HeaderName::from_static("x-amz-version-id"),
            object.s3_version_id(),
        );
    }
    set(
        &mut h,
        header::LAST_MODIFIED,
        &http_date(object.last_modified_ms),
    );
    set(
        &mut h,
        header::DATE,
        &httpdate::fmt_http_date(std::time::SystemTime::now()),
    );
    let a = &object.attrs;
    set(
        &mut h,
        header::CONTENT_TYPE,
        a.content_type.as_deref().unwrap_or("binary/octet-stream"),
    );
    for (name, v) in [
        (header::CACHE_CONTROL, &a.cache_control),
        (header::CONTENT_ENCODING, &a.content_encoding),
        (header::CONTENT_DISPOSITION, &a.content_disposition),
        (header::CONTENT_LANGUAGE, &a.content_language),
    ] {
        if let Some(v) = v {
            set(&mut h, name, v);
        }
    }
    if let Some(e) = a.expires_ms {
        set(&mut h, header::EXPIRES, &http_date(e));
    }
    if let Some(v) = &a.website_redirect_location {
        set(
            &mut h,
            header::HeaderName::from_static("x-amz-website-redirect-location"),
            v,
        );
    }
    for (k, v) in &a.user_metadata {
        if let Ok(name) = header::HeaderName::from_bytes(format!("x-amz-meta-{k}").as_bytes()) {
            set(&mut h, name, v);
        }
    }
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(code) = preconditions(&req.method, &req.headers, &h) {
        if code == StatusCode::PRECONDITION_FAILED {
            return s3_error(
                code,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
            );
        }
        h.remove(header::CONTENT_TYPE);
        return empty(code, h);
    }
    let size = object.size;
    let mut status = StatusCode::OK;
    let mut span: Range<u64> = 0..size;
    let spec: Option<RangeSpec> = req
        .headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(range::parse);
    if let Some(spec) = spec {
        match spec.resolve(size) {
            Ok(r) => {
                status = StatusCode::PARTIAL_CONTENT;
                span = r.start..r.end;
                set(
                    &mut h,
                    header::CONTENT_RANGE,
                    &format!("bytes {}-{}/{size}", r.start, r.end - 1),
                );
            }
            Err(_) => {
                return s3_error(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "InvalidRange",
                    "The requested range is not satisfiable",
                );
            }
        }
    }
    h.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(span.end - span.start),
    );
    if req.method == Method::HEAD {
        return empty(status, h);
    }
    match store.read_body(&object, span).await {
        Ok(body) => OriginResponse {
            status,
            headers: h,
            body,
        },
        Err(e) => {
            tracing::warn!(error = %e, "store body read failed for an edge origin request");
            s3_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "We encountered an internal error. Please try again.",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent_decoding() {
        assert_eq!(
            super::percent_decode("a%20b/c%2Fd").as_deref(),
            Some("a b/c/d")
        );
        assert_eq!(super::percent_decode("%zz"), None);
        assert_eq!(super::percent_decode("%4"), None);
        assert_eq!(super::percent_decode("%ff"), None);
    }
}
