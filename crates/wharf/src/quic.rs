//! The edge over HTTP/3: QUIC (quinn, h3) on the UDP port of the HTTPS listener, with the
//! same certificates, chosen by SNI the same way. A distribution whose `HttpVersion` does not
//! allow HTTP/3 gets no certificate here, so its viewers stay on TCP. Requests go through the
//! same [`Edge::handle`] as HTTP/1.1 and HTTP/2, bodies streamed both ways.
//!
//! QUIC offers TLS 1.3's `TLS_AES_128_GCM_SHA256` only (every QUIC implementation must
//! support it), so the session the logs name is known.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use anyhow::{Context as _, Result};
use bytes::{Buf, Bytes};
use h3::server::RequestStream;
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use prometheus_client::metrics::gauge::Gauge;
use rustls::sign::CertifiedKey;
use tokio::sync::watch;
use wharf_edge::registry::Registry;
use wharf_edge::{Edge, ViewerHttps};
use wharf_s3::request_body::{BodyDeadlines, RequestBody};

use crate::listener::Limits;
use crate::tls::BySni;

/// The only cipher suite offered over QUIC, as the logs name it.
const CIPHER: &str = "TLS_AES_128_GCM_SHA256";

/// Streams a viewer may have open at once on one connection (as over HTTP/2).
const MAX_STREAMS: u32 = 128;

/// Binds the HTTP/3 endpoint on `addr` (UDP).
pub fn endpoint(
    addr: SocketAddr,
    default: Arc<CertifiedKey>,
    registry: Arc<Registry>,
    limits: Limits,
) -> Result<quinn::Endpoint> {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = vec![rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256];
    let mut tls = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .context("TLS 1.3 for QUIC")?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(BySni {
            default,
            registry,
            http3: true,
        }));
    tls.alpn_protocols = vec![b"h3".to_vec()];
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls)
        .map_err(|e| anyhow::anyhow!("QUIC TLS configuration: {e}"))?;
    let mut server = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    let mut transport = quinn::TransportConfig::default();
    transport
        .max_concurrent_bidi_streams(MAX_STREAMS.into())
        .max_idle_timeout(Some(
            limits
                .idle_timeout
                .try_into()
                .unwrap_or(quinn::IdleTimeout::from(quinn::VarInt::from_u32(60_000))),
        ));
    server.transport_config(Arc::new(transport));
    server.max_incoming(limits.max_connections);
    quinn::Endpoint::server(server, addr).with_context(|| format!("binding HTTP/3 (UDP) to {addr}"))
}

/// Accepts QUIC connections until `stop` turns true; then asks each connection to finish
/// its requests (HTTP/3 `GOAWAY`).
pub async fn serve(
    endpoint: quinn::Endpoint,
    edge: Arc<Edge>,
    open: Gauge,
    limits: Limits,
    deadlines: BodyDeadlines,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let incoming = tokio::select! {
            i = endpoint.accept() => match i {
                Some(i) => i,
                None => break,
            },
            _ = stop.changed() => break,
        };
        let (edge, open, stop) = (edge.clone(), open.clone(), stop.clone());
        tokio::spawn(async move {
            open.inc();
            connection(incoming, edge, limits, deadlines, stop).await;
            open.dec();
        });
    }
    // No new connections; those open finish their requests.
    endpoint.set_server_config(None);
}

async fn connection(
    incoming: quinn::Incoming,
    edge: Arc<Edge>,
    limits: Limits,
    deadlines: BodyDeadlines,
    mut stop: watch::Receiver<bool>,
) {
    let peer = incoming.remote_address();
    let conn = match tokio::time::timeout(limits.tls_handshake_timeout, incoming).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, %peer, "QUIC handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "QUIC handshake timed out");
            return;
        }
    };
    let session = ViewerHttps {
        protocol: "TLSv1.3",
        cipher: CIPHER,
        resumed: false,
        fingerprints: None,
    };
    // No GREASE frames: aioquic's client never reports the end of a stream whose last frame
    // is one, and nothing is lost without them.
    let mut h3 = match h3::server::builder()
        .send_grease(false)
        .build::<_, Bytes>(h3_quinn::Connection::new(conn))
        .await
    {
        Ok(h) => h,
        Err(e) => {
            tracing::debug!(error = %e, %peer, "HTTP/3 connection setup failed");
            return;
        }
    };
    // Requests run as tasks of their own; the connection is kept (dropping it closes it)
    // until every one of them is done.
    let mut requests = tokio::task::JoinSet::new();
    let mut stopping = false;
    loop {
        let accepted = tokio::select! {
            a = h3.accept() => a,
            Some(_) = requests.join_next(), if !requests.is_empty() => continue,
            _ = stop.changed(), if !stopping => {
                stopping = true;
                // GOAWAY: requests already accepted finish, no new ones start.
                let _ = h3.shutdown(0).await;
                continue;
            }
        };
        match accepted {
            Ok(Some(resolver)) => {
                let edge = edge.clone();
                requests.spawn(async move {
                    match resolver.resolve_request().await {
                        Ok((req, stream)) => {
                            request(req, stream, &edge, peer, session, deadlines).await;
                        }
                        Err(e) => tracing::debug!(error = %e, %peer, "bad HTTP/3 request"),
                    }
                });
            }
            Ok(None) => break,
            Err(e) => {
                if !e.is_h3_no_error() {
                    tracing::debug!(error = %e, %peer, "HTTP/3 connection ended with an error");
                }
                break;
            }
        }
    }
    while requests.join_next().await.is_some() {}
}

/// One request: through the edge, the response streamed back.
async fn request(
    req: http::Request<()>,
    stream: RequestStream<h3_quinn::BidiStream<Bytes>, Bytes>,
    edge: &Arc<Edge>,
    peer: SocketAddr,
    session: ViewerHttps,
    deadlines: BodyDeadlines,
) {
    let (mut send, recv) = stream.split();
    let mut req = req.map(|()| RequestBody::new(ViewerBody(recv), deadlines));
    req.extensions_mut().insert(session);
    let resp = edge.handle(req, Some(peer)).await;
    let (parts, mut body) = resp.into_parts();
    if let Err(e) = send
        .send_response(http::Response::from_parts(parts, ()))
        .await
    {
        tracing::debug!(error = %e, %peer, "HTTP/3 response head not sent");
        return;
    }
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Ok(data) = f.into_data()
                    && let Err(e) = send.send_data(data).await
                {
                    tracing::debug!(error = %e, %peer, "HTTP/3 viewer went away");
                    return;
                }
            }
            Err(e) => {
                // The body broke off (the origin failed mid-stream): reset, never a clean end.
                tracing::debug!(error = %e, %peer, "response body failed");
                send.stop_stream(h3::error::Code::H3_INTERNAL_ERROR);
                return;
            }
        }
    }
    let _ = send.finish().await;
}

/// A request body arriving on an HTTP/3 stream.
struct ViewerBody(RequestStream<h3_quinn::RecvStream, Bytes>);

impl Body for ViewerBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.0.poll_recv_data(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(None)) => Poll::Ready(None),
            Poll::Ready(Ok(Some(mut buf))) => {
                let data = buf.copy_to_bytes(buf.remaining());
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(std::io::Error::other(e.to_string())))),
        }
    }
}
