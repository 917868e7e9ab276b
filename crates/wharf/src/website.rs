//! The S3 website endpoint (`[api] website_listen` / `--website-listen`): a bucket with a
//! website configuration answers anonymous GET and HEAD requests on
//! `BUCKET.s3-website.DOMAIN:PORT` (or on a host named exactly like the bucket, as a CNAME to
//! an S3 website endpoint does), as S3's website endpoints do: the index document for `/` and
//! `dir/`, a 302 from `dir` to `dir/` when `dir/INDEX` exists, routing rules before the lookup
//! and on its error, the error document (with the error's status), objects'
//! `x-amz-website-redirect-location`, `RedirectAllRequestsTo`, and S3's HTML error pages.
//! Objects are read through the store exactly as the edge's in-process origin reads them,
//! authorised as an anonymous request (the bucket policy must make them public), so a
//! distribution can use this endpoint as a custom origin, as on AWS.

use http::header::{self, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use wharf_edge::origin::{OriginRequest, OriginResponse};
use wharf_edge::respond::{EdgeBody, empty, full, html_escape, stream};
use wharf_s3::BucketAccess;
use wharf_s3::website::{BUCKET_WEBSITE, WebsiteConfig};
use wharf_store::Store;

use crate::local_origin::{Requester, get, percent_decode};

pub struct Website {
    pub store: Store,
    pub access: BucketAccess,
    /// The base domains (`[api] domains`): `BUCKET.s3-website.DOMAIN`.
    pub domains: Vec<String>,
}

/// An S3 website error: the status, S3's code and message, and what the page lists.
struct Failure {
    status: StatusCode,
    code: &'static str,
    message: &'static str,
    detail: Option<(&'static str, String)>,
}

impl Failure {
    fn new(status: StatusCode, code: &'static str, message: &'static str) -> Self {
        Failure {
            status,
            code,
            message,
            detail: None,
        }
    }

    fn with(mut self, name: &'static str, value: &str) -> Self {
        self.detail = Some((name, value.to_owned()));
        self
    }

    /// S3's HTML error page.
    fn page(&self, method: &Method, ids: &wharf_s3::request_id::RequestIds) -> Response<EdgeBody> {
        let reason = self.status.canonical_reason().unwrap_or("");
        let title = format!("{} {reason}", self.status.as_u16());
        let detail = self
            .detail
            .as_ref()
            .map(|(n, v)| format!("<li>{n}: {}</li>\n", html_escape(v)))
            .unwrap_or_default();
        let html = format!(
            "<html>\n<head><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n<ul>\n<li>Code: {}</li>\n<li>Message: {}</li>\n{detail}<li>RequestId: {}</li>\n<li>HostId: {}</li>\n</ul>\n<hr/>\n</body>\n</html>\n",
            self.code, self.message, ids.request_id, ids.host_id
        );
        let mut r = Response::new(if method == Method::HEAD {
            empty()
        } else {
            full(html.clone())
        });
        *r.status_mut() = self.status;
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(html.len()));
        r
    }
}

fn redirect(status: u16, location: &str) -> Response<EdgeBody> {
    let mut r = Response::new(empty());
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::MOVED_PERMANENTLY);
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(0));
    r
}

fn into_response(o: OriginResponse, method: &Method) -> Response<EdgeBody> {
    let mut r = Response::new(if method == Method::HEAD {
        empty()
    } else {
        stream(o.body)
    });
    *r.status_mut() = o.status;
    *r.headers_mut() = o.headers;
    r
}

/// The bucket a website request's `Host` names: `BUCKET.s3-website.DOMAIN` (or
/// `…s3-website-REGION.DOMAIN`) for one of the base domains, else the host itself (a CNAME).
fn website_bucket(domains: &[String], host: &str) -> String {
    let name = host
        .rsplit_once(':')
        .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(h, _)| h)
        .to_ascii_lowercase();
    for d in domains {
        if let Some(rest) = name.strip_suffix(&format!(".{d}"))
            && let Some((bucket, endpoint)) = rest.rsplit_once('.')
            && (endpoint == "s3-website" || endpoint.starts_with("s3-website-"))
        {
            return bucket.to_owned();
        }
    }
    name
}

impl Website {
    /// Reads `key` as an anonymous GET or HEAD would, with the request's conditional and range
    /// headers.
    async fn read(
        &self,
        bucket: &str,
        key: &str,
        method: &Method,
        headers: &HeaderMap,
    ) -> OriginResponse {
        let mut h = HeaderMap::new();
        for name in [
            header::RANGE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
            header::IF_UNMODIFIED_SINCE,
        ] {
            if let Some(v) = headers.get(&name) {
                h.insert(name, v.clone());
            }
        }
        let path = wharf_auth::sigv4::uri_encode(key.as_bytes(), true);
        let req = OriginRequest {
            method: method.clone(),
            path_and_query: format!("/{path}"),
            headers: h,
            body: None,
            viewer_https: false,
        };
        get(
            &self.store,
            bucket,
            &Requester::anonymous(&self.access),
            req,
        )
        .await
    }

    pub async fn handle<B>(&self, req: Request<B>) -> Response<EdgeBody> {
        let ids = wharf_s3::request_id::RequestIds::new();
        let method = req.method().clone();
        let mut resp = self
            .answer(&req, &method)
            .await
            .unwrap_or_else(|f| f.page(&method, &ids));
        if let Ok(v) = HeaderValue::from_str(&ids.request_id) {
            resp.headers_mut().insert("x-amz-request-id", v);
        }
        if let Ok(v) = HeaderValue::from_str(&ids.host_id) {
            resp.headers_mut().insert("x-amz-id-2", v);
        }
        resp
    }

    async fn answer<B>(
        &self,
        req: &Request<B>,
        method: &Method,
    ) -> Result<Response<EdgeBody>, Failure> {
        if method != Method::GET && method != Method::HEAD {
            return Err(Failure::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            )
            .with("Method", method.as_str()));
        }
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bucket = website_bucket(&self.domains, &host);
        let no_bucket = || {
            Failure::new(
                StatusCode::NOT_FOUND,
                "NoSuchBucket",
                "The specified bucket does not exist",
            )
            .with("BucketName", &bucket)
        };
        if wharf_model::BucketName::new(&bucket).is_err() {
            return Err(no_bucket());
        }
        let meta = self.store.meta();
        let internal = |_| {
            Failure::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "We encountered an internal error. Please try again.",
            )
        };
        if meta.get_bucket(&bucket).await.map_err(internal)?.is_none() {
            return Err(no_bucket());
        }
        let Some(config) = meta
            .bucket_config(&bucket, BUCKET_WEBSITE)
            .await
            .map_err(internal)?
            .and_then(|t| WebsiteConfig::from_json(&t))
        else {
            return Err(Failure::new(
                StatusCode::NOT_FOUND,
                "NoSuchWebsiteConfiguration",
                "The specified bucket does not have a website configuration",
            )
            .with("BucketName", &bucket));
        };
        let path_and_query = req.uri().path_and_query().map_or("/", |p| p.as_str());
        if let Some(all) = &config.redirect_all {
            let protocol = all.protocol.as_deref().unwrap_or("http");
            return Ok(redirect(
                301,
                &format!("{protocol}://{}{path_and_query}", all.host_name),
            ));
        }
        let Some(requested) = percent_decode(req.uri().path().trim_start_matches('/')) else {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                "InvalidURI",
                "Couldn't parse the specified URI.",
            ));
        };
        if let Some(r) = config.route(&requested, None, &host) {
            return Ok(redirect(r.status, &r.location));
        }
        let suffix = config.index_suffix.clone().unwrap_or_default();
        let key = if requested.is_empty() || requested.ends_with('/') {
            format!("{requested}{suffix}")
        } else {
            requested.clone()
        };
        let found = self.read(&bucket, &key, method, req.headers()).await;
        let status = found.status;
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            if let Some(to) = found
                .headers
                .get("x-amz-website-redirect-location")
                .and_then(|v| v.to_str().ok())
            {
                return Ok(redirect(301, to));
            }
            return Ok(into_response(found, method));
        }
        if status != StatusCode::NOT_FOUND && status != StatusCode::FORBIDDEN {
            return Ok(into_response(found, method));
        }
        // `dir` that is a folder with an index document: 302 to `dir/` (also when the missing
        // `dir` was 403 for want of s3:ListBucket).
        if !requested.is_empty() && !requested.ends_with('/') {
            let index = format!("{requested}/{suffix}");
            let probe = self
                .read(&bucket, &index, &Method::HEAD, &HeaderMap::new())
                .await;
            if probe.status.is_success() {
                return Ok(redirect(302, &format!("/{requested}/")));
            }
        }
        if let Some(r) = config.route(&requested, Some(status.as_u16()), &host) {
            return Ok(redirect(r.status, &r.location));
        }
        let failure = if status == StatusCode::NOT_FOUND {
            Failure::new(status, "NoSuchKey", "The specified key does not exist.").with("Key", &key)
        } else {
            Failure::new(status, "AccessDenied", "Access Denied")
        };
        // The error document, with the error's status, if it can be read.
        if let Some(error_key) = &config.error_key {
            let doc = self
                .read(&bucket, error_key, &Method::GET, &HeaderMap::new())
                .await;
            if doc.status == StatusCode::OK {
                let mut r = into_response(doc, method);
                *r.status_mut() = status;
                return Ok(r);
            }
        }
        Err(failure)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bucket_from_host() {
        let domains = vec!["localhost".to_owned()];
        let w = |host: &str| super::website_bucket(&domains, host);
        assert_eq!(w("site.s3-website.localhost:9002"), "site");
        assert_eq!(w("my.site.s3-website-us-east-1.localhost"), "my.site");
        assert_eq!(w("www.example.com"), "www.example.com");
        assert_eq!(w("WWW.Example.com:80"), "www.example.com");
        assert_eq!(w("site.localhost"), "site.localhost");
    }
}
