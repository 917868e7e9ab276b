//! The edge's HTTPS listener: TLS 1.2 and 1.3 with rustls.
//!
//! As on CloudFront, the name the viewer asks for (SNI) picks the distribution before the
//! handshake goes on: its own certificate (`ViewerCertificate`, from `certificates/ID.pem`)
//! or else the listener's (`tls_cert_file`/`tls_key_file`, the edge's default certificate);
//! the protocols offered by ALPN: `h2` and `http/1.1`, or only `http/1.1` when its
//! `HttpVersion` is `http1.1`; and the TLS versions: 1.3 alone for `MinimumProtocolVersion:
//! TLSv1.3_2025`, else 1.2 and 1.3.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::net::TcpStream;
use tokio_rustls::LazyConfigAcceptor;
use tokio_rustls::server::TlsStream;
use wharf_edge::registry::Registry;
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
    /// completes the handshake.
    pub async fn accept(&self, stream: TcpStream) -> std::io::Result<TlsStream<TcpStream>> {
        let start = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream).await?;
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
        start.into_stream(config.clone()).await
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
/// protocol (`TLSv1.3`) and the cipher suite (IANA's names for TLS 1.3, OpenSSL's for 1.2).
pub fn session(conn: &rustls::ServerConnection) -> wharf_edge::ViewerHttps {
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
    }
}
