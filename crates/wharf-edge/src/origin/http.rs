//! Custom (and remote S3) origins over HTTP/1.1 or HTTPS, with a keep-alive connection pool
//! per origin.
//!
//! The scheme follows CloudFront: a custom origin's `OriginProtocolPolicy` (`https-only` on
//! `HTTPSPort`, `http-only` on `HTTPPort`, `match-viewer` on whichever the viewer used); an S3
//! origin over HTTPS, unless its `DomainName` names a port other than 443 (a Wharf extension
//! for S3 endpoints on plain HTTP, such as `10.0.0.5:9000`).
//!
//! CloudFront's origin settings apply: `ConnectionAttempts` (1–3) connection tries of
//! `ConnectionTimeout` seconds each, `OriginReadTimeout` for the response head and between body
//! chunks, and `OriginKeepaliveTimeout` for idle pooled connections.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};
use http::{HeaderValue, Request, Uri, header};
use http_body_util::{BodyExt, Empty, StreamBody, combinators::UnsyncBoxBody};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::s3::S3Signer;
use super::{FailoverReason, Origin, OriginError, OriginRequest, OriginResponse};
use wharf_model::cloudfront::Origin as OriginConfig;

type OutBody = UnsyncBoxBody<Bytes, std::io::Error>;

/// CloudFront's defaults and limits for origin timeouts.
pub const DEFAULT_CONNECTION_TIMEOUT: u64 = 10;
pub const DEFAULT_CONNECTION_ATTEMPTS: u32 = 3;
pub const DEFAULT_READ_TIMEOUT: u64 = 30;
pub const DEFAULT_KEEPALIVE_TIMEOUT: u64 = 5;

/// Which scheme reaches the origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Http,
    Https,
    MatchViewer,
}

pub struct HttpOrigin {
    client: Client<HttpsConnector<HttpConnector>, OutBody>,
    protocol: Protocol,
    /// `host[:port]` for HTTP and for HTTPS (the ports differ for custom origins).
    http_authority: String,
    https_authority: String,
    attempts: u32,
    connect_timeout: Duration,
    read_timeout: Duration,
    signer: Option<S3Signer>,
}

impl HttpOrigin {
    pub fn new(
        c: &OriginConfig,
        signer: Option<S3Signer>,
        tls: Arc<rustls::ClientConfig>,
    ) -> Result<Self, String> {
        let host = c.domain_name.trim_end_matches('.');
        let (protocol, ports, read, keepalive) = match &c.custom_origin_config {
            Some(custom) => {
                let protocol = match custom.origin_protocol_policy.as_str() {
                    "https-only" => Protocol::Https,
                    "http-only" => Protocol::Http,
                    "match-viewer" => Protocol::MatchViewer,
                    other => {
                        return Err(format!(
                            "origin {}: unknown OriginProtocolPolicy {other:?}",
                            c.id
                        ));
                    }
                };
                (
                    protocol,
                    Some((custom.http_port, custom.https_port)),
                    custom.origin_read_timeout,
                    custom.origin_keepalive_timeout,
                )
            }
            None => {
                let explicit = host
                    .rsplit_once(':')
                    .and_then(|(_, p)| p.parse::<u16>().ok());
                (
                    if explicit.is_none_or(|p| p == 443) {
                        Protocol::Https
                    } else {
                        Protocol::Http
                    },
                    None,
                    c.s3_origin_config
                        .as_ref()
                        .and_then(|s| s.origin_read_timeout),
                    None,
                )
            }
        };
        let timeout = u64::from(c.connection_timeout.unwrap_or(10)).clamp(1, 10);
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(timeout)));
        let keepalive = read_secs(keepalive, DEFAULT_KEEPALIVE_TIMEOUT);
        connector.enforce_http(false);
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config((*tls).clone())
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(keepalive)
            .pool_max_idle_per_host(256)
            .build(connector);
        let authority = |port: Option<u16>, default: u16| match port {
            Some(p) if p != default => format!("{host}:{p}"),
            _ => host.to_owned(),
        };
        Ok(Self {
            client,
            protocol,
            http_authority: authority(ports.map(|p| p.0), 80),
            https_authority: authority(ports.map(|p| p.1), 443),
            attempts: c
                .connection_attempts
                .unwrap_or(DEFAULT_CONNECTION_ATTEMPTS)
                .clamp(1, 3),
            connect_timeout: Duration::from_secs(timeout),
            read_timeout: read_secs(read, DEFAULT_READ_TIMEOUT),
            signer,
        })
    }
}

fn read_secs(v: Option<u32>, default: u64) -> Duration {
    Duration::from_secs(v.map_or(default, u64::from).max(1))
}

impl Origin for HttpOrigin {
    /// Only failed connections are tried again, each within the connection timeout; the last
    /// attempt may take the whole read timeout.
    fn timeout_budget(&self) -> Duration {
        self.connect_timeout * (self.attempts - 1) + self.read_timeout.max(self.connect_timeout)
    }

    fn fetch(
        &self,
        mut req: OriginRequest,
    ) -> BoxFuture<'static, Result<OriginResponse, OriginError>> {
        let client = self.client.clone();
        let https = match self.protocol {
            Protocol::Https => true,
            Protocol::Http => false,
            Protocol::MatchViewer => req.viewer_https,
        };
        let (scheme, authority) = if https {
            ("https", self.https_authority.clone())
        } else {
            ("http", self.http_authority.clone())
        };
        let attempts = self.attempts;
        let read_timeout = self.read_timeout;
        if let Some(signer) = &self.signer {
            req.path_and_query = signer.sign(
                &req.method,
                &authority,
                &req.path_and_query,
                req.body.is_some(),
                &mut req.headers,
                std::time::SystemTime::now(),
            );
        }
        Box::pin(async move {
            let uri: Uri = format!("{scheme}://{authority}{}", req.path_and_query)
                .parse()
                .map_err(|e| OriginError::new(FailoverReason::ConnectionFailed, format!("{e}")))?;
            // A streamed body can be sent once, so only body-less requests are retried.
            let mut body = req.body;
            let attempts = if body.is_some() { 1 } else { attempts };
            let mut last = None;
            for attempt in 1..=attempts {
                let out: OutBody = match body.take() {
                    Some(stream) => {
                        StreamBody::new(stream.map_ok(http_body::Frame::data)).boxed_unsync()
                    }
                    None => Empty::new().map_err(|e| match e {}).boxed_unsync(),
                };
                let mut r = Request::new(out);
                *r.method_mut() = req.method.clone();
                *r.uri_mut() = uri.clone();
                *r.headers_mut() = req.headers.clone();
                if let Ok(h) = HeaderValue::from_str(&authority) {
                    r.headers_mut().entry(header::HOST).or_insert(h);
                }
                match tokio::time::timeout(read_timeout, client.request(r)).await {
                    Err(_) => {
                        return Err(OriginError::new(
                            FailoverReason::Timeout,
                            format!("no response from {authority} in {read_timeout:?}"),
                        ));
                    }
                    Ok(Ok(resp)) => {
                        let (parts, incoming) = resp.into_parts();
                        let body = incoming.into_data_stream().map_err(std::io::Error::other);
                        return Ok(OriginResponse {
                            status: parts.status,
                            headers: parts.headers,
                            body: idle_timeout(body, read_timeout),
                        });
                    }
                    Ok(Err(e)) => {
                        tracing::debug!(attempt, error = %e, "origin request failed");
                        let retry = e.is_connect();
                        last = Some(format!("{e}"));
                        if !retry {
                            break;
                        }
                    }
                }
            }
            Err(OriginError::new(
                FailoverReason::ConnectionFailed,
                last.unwrap_or_default(),
            ))
        })
    }
}

/// Fails the body with `TimedOut` when no chunk arrives within `limit`.
fn idle_timeout(
    body: impl futures::Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    limit: Duration,
) -> futures::stream::BoxStream<'static, std::io::Result<Bytes>> {
    let body = Box::pin(body);
    futures::stream::unfold(Some(body), move |state| async move {
        let mut body = state?;
        match tokio::time::timeout(limit, body.next()).await {
            Ok(Some(item)) => Some((item, Some(body))),
            Ok(None) => None,
            Err(_) => Some((
                Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "origin read timeout",
                )),
                None,
            )),
        }
    })
    .boxed()
}
