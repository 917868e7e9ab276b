//! The edge's HTTPS listener: TLS 1.2 and 1.3 with rustls.
//!
//! As on CloudFront, the name the viewer asks for (SNI) picks the distribution before the
//! handshake goes on: its own certificate (`ViewerCertificate`, from `certificates/ID.pem`)
//! or else the listener's (`tls_cert_file`/`tls_key_file`, the edge's default certificate);
//! the protocols offered by ALPN: `h2` and `http/1.1`, or only `http/1.1` when its
//! `HttpVersion` is `http1.1`; and the TLS versions: 1.3 alone for `MinimumProtocolVersion:
//! TLSv1.3_2025`, else 1.2 and 1.3.

use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use anyhow::{Context as _, Result};
use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::LazyConfigAcceptor;
use tokio_rustls::server::TlsStream;
use wharf_edge::registry::Registry;
use wharf_edge::tls_fingerprint::{Fingerprints, MAX_CLIENT_HELLO};
use wharf_edge::viewer_certificate;

/// Reads the listener's default certificate; fails on a missing file or a key that does not
/// go with the certificate, so a bad configuration stops the start.
pub fn default_certificate(cert_file: &Path, key_file: &Path) -> Result<Arc<CertifiedKey>> {
    viewer_certificate::load(cert_file, key_file).map_err(anyhow::Error::msg)
}

/// Terminates viewers' TLS connections.
pub struct ViewerTls {
    registry: Arc<Registry>,
    /// By (HTTP/2 offered, TLS 1.3 only): ALPN `h2` and `http/1.1` or `http/1.1` alone, and
    /// TLS 1.2 and 1.3 or 1.3 alone.
    configs: [[Arc<ServerConfig>; 2]; 2],
}

impl ViewerTls {
    pub fn new(default: Arc<CertifiedKey>, registry: Arc<Registry>) -> Result<Self> {
        let resolver = Arc::new(BySni {
            default,
            registry: registry.clone(),
            http3: false,
        });
        let config = |http2: bool, tls13_only: bool| -> Result<Arc<ServerConfig>> {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let builder = ServerConfig::builder_with_provider(provider);
            let builder = if tls13_only {
                builder.with_protocol_versions(&[&rustls::version::TLS13])
            } else {
                builder.with_safe_default_protocol_versions()
            };
            let mut c = builder
                .context("TLS protocol versions")?
                .with_no_client_auth()
                .with_cert_resolver(resolver.clone());
            c.alpn_protocols = if http2 {
                vec![b"h2".to_vec(), b"http/1.1".to_vec()]
            } else {
                vec![b"http/1.1".to_vec()]
            };
            Ok(Arc::new(c))
        };
        Ok(Self {
            registry,
            configs: [
                [config(false, false)?, config(false, true)?],
                [config(true, false)?, config(true, true)?],
            ],
        })
    }

    /// Reads the ClientHello, picks the configuration for the distribution it names, and
    /// completes the handshake; with the ClientHello's JA3 and JA4 fingerprints.
    pub async fn accept(
        &self,
        stream: TcpStream,
    ) -> std::io::Result<(TlsStream<HelloTap<TcpStream>>, Option<Fingerprints>)> {
        let mut start =
            LazyConfigAcceptor::new(rustls::server::Acceptor::default(), HelloTap::new(stream))
                .await?;
        let fingerprints = Fingerprints::of_records(&start.io.take());
        let (http2, tls13_only) = {
            let hello = start.client_hello();
            let snap = self.registry.snapshot();
            let dist = snap.for_host(hello.server_name());
            (
                dist.is_none_or(|d| d.http2),
                dist.is_some_and(|d| d.tls13_only),
            )
        };
        let config = &self.configs[usize::from(http2)][usize::from(tls13_only)];
        Ok((start.into_stream(config.clone()).await?, fingerprints))
    }
}

/// A viewer's TCP stream that keeps a copy of what the viewer sends until its ClientHello
/// has been read (for the JA3 and JA4 fingerprints), then only passes reads and writes on.
pub struct HelloTap<S> {
    inner: S,
    seen: Option<Vec<u8>>,
}

impl<S> HelloTap<S> {
    fn new(inner: S) -> Self {
        Self {
            inner,
            seen: Some(Vec::with_capacity(2048)),
        }
    }

    /// Stops copying; what was read until now.
    fn take(&mut self) -> Vec<u8> {
        self.seen.take().unwrap_or_default()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for HelloTap<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Some(seen) = &mut this.seen {
            // A ClientHello's records (headers included) fit in twice its largest size.
            let new = &buf.filled()[before..];
            let room = (2 * MAX_CLIENT_HELLO).saturating_sub(seen.len());
            seen.extend_from_slice(&new[..new.len().min(room)]);
        }
        read
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for HelloTap<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The certificate for the distribution a ClientHello names.
pub struct BySni {
    pub default: Arc<CertifiedKey>,
    pub registry: Arc<Registry>,
    /// For HTTP/3 (QUIC): none for a distribution whose `HttpVersion` does not allow it, so
    /// the handshake fails and the viewer keeps to TCP.
    pub http3: bool,
}

impl std::fmt::Debug for BySni {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BySni")
    }
}

impl ResolvesServerCert for BySni {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let snap = self.registry.snapshot();
        let dist = snap.for_host(hello.server_name());
        if self.http3 && !dist.is_some_and(|d| d.http3) {
            return None;
        }
        let own = dist.and_then(|d| d.viewer_certificate.clone());
        Some(own.unwrap_or_else(|| self.default.clone()))
    }
}

/// A viewer's TLS session as CloudFront names it in logs and `CloudFront-Viewer-TLS`: the
/// protocol (`TLSv1.3`) and the cipher suite (IANA's names for TLS 1.3, OpenSSL's for 1.2);
/// and its ClientHello's fingerprints.
pub fn session(
    conn: &rustls::ServerConnection,
    fingerprints: Option<Fingerprints>,
) -> wharf_edge::ViewerHttps {
    use rustls::{CipherSuite as C, HandshakeKind, ProtocolVersion};
    let protocol = match conn.protocol_version() {
        Some(ProtocolVersion::TLSv1_3) => "TLSv1.3",
        Some(ProtocolVersion::TLSv1_2) => "TLSv1.2",
        _ => "-",
    };
    let cipher = match conn.negotiated_cipher_suite().map(|s| s.suite()) {
        Some(C::TLS13_AES_128_GCM_SHA256) => "TLS_AES_128_GCM_SHA256",
        Some(C::TLS13_AES_256_GCM_SHA384) => "TLS_AES_256_GCM_SHA384",
        Some(C::TLS13_CHACHA20_POLY1305_SHA256) => "TLS_CHACHA20_POLY1305_SHA256",
        Some(C::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256) => "ECDHE-ECDSA-AES128-GCM-SHA256",
        Some(C::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384) => "ECDHE-ECDSA-AES256-GCM-SHA384",
        Some(C::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256) => "ECDHE-ECDSA-CHACHA20-POLY1305",
        Some(C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) => "ECDHE-RSA-AES128-GCM-SHA256",
        Some(C::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) => "ECDHE-RSA-AES256-GCM-SHA384",
        Some(C::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256) => "ECDHE-RSA-CHACHA20-POLY1305",
        _ => "-",
    };
    wharf_edge::ViewerHttps {
        protocol,
        cipher,
        resumed: conn.handshake_kind() == Some(HandshakeKind::Resumed),
        fingerprints,
    }
}
