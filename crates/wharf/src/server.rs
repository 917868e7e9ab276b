//! Listeners, connection handling and graceful shutdown.
//!
//! On SIGTERM or SIGINT the listener closes at once; requests in flight run to completion
//! (connections are told to close after their current request) for up to [`DRAIN_TIMEOUT`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use wharf_edge::ViewerHttps;
use wharf_s3::http_layer::{IdleTimeoutBody, precheck};
use wharf_store::Store;

use crate::config::Config;
use crate::{control, demo, edge, root, tls};

/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// HTTP/2 streams a viewer may have open on one connection.
const MAX_CONCURRENT_STREAMS: u32 = 128;
/// A client must send a request's headers within this time.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn serve(mut cfg: Config, demo_mode: bool) -> Result<()> {
    if demo_mode && cfg.edge.default_distribution.is_none() {
        cfg.edge.default_distribution = Some(demo::DEMO_DISTRIBUTION.into());
    }
    let store = Store::open(&cfg.data_dir)
        .await
        .with_context(|| format!("opening the store in {}", cfg.data_dir.display()))?;
    let new_root = root::ensure_root(store.meta(), &cfg.data_dir, cfg.root_keys.as_ref()).await?;
    let api_listener = TcpListener::bind(cfg.api_listen)
        .await
        .with_context(|| format!("binding {}", cfg.api_listen))?;
    let edge_listener = TcpListener::bind(cfg.edge.listen)
        .await
        .with_context(|| format!("binding {}", cfg.edge.listen))?;
    let edge_tls = match &cfg.edge.tls {
        Some(t) => {
            let cert = tls::default_certificate(&t.cert_file, &t.key_file)?;
            let listener = TcpListener::bind(t.listen)
                .await
                .with_context(|| format!("binding {}", t.listen))?;
            Some((listener, cert))
        }
        None => None,
    };
    let addr = api_listener.local_addr()?;
    let edge_addr = edge_listener.local_addr()?;
    // Tests and scripts read these lines to learn the ports when they ask for port 0.
    println!("wharf: S3 API listening on http://{addr}");
    println!("wharf: edge listening on http://{edge_addr}");
    if let Some((l, _)) = &edge_tls {
        println!("wharf: edge listening on https://{}", l.local_addr()?);
    }
    if let Some(k) = &new_root {
        println!(
            "wharf: generated root credentials (stored in {}/root-credentials):",
            cfg.data_dir.display()
        );
        println!("  AWS_ACCESS_KEY_ID={}", k.access_key_id);
        println!("  AWS_SECRET_ACCESS_KEY={}", k.secret_access_key);
    }
    if demo_mode {
        demo::run(&store, addr, edge_addr, &cfg).await?;
    }
    let https_port = match &edge_tls {
        Some((l, _)) => Some(l.local_addr()?.port()),
        None => None,
    };
    let edge = edge::build(&cfg, &store, https_port)?;
    let edge_tls = match edge_tls {
        Some((listener, cert)) => Some((
            listener,
            Arc::new(tls::ViewerTls::new(cert, edge.registry.clone())?),
        )),
        None => None,
    };
    let s3 = wharf_s3::service(store.clone(), cfg.region.clone(), cfg.domains.clone());

    let graceful = Arc::new(GracefulShutdown::new());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let api = {
        let (edge, store) = (edge.clone(), store.clone());
        accept_loop(
            api_listener,
            None,
            graceful.clone(),
            stop_rx.clone(),
            move |mut req: http::Request<Incoming>, _peer| {
                let (s3, edge, store) = (s3.clone(), edge.clone(), store.clone());
                async move {
                    if control::is_control(&req) {
                        let r = control::handle(&edge, &store, req).await;
                        return Ok::<_, s3s::HttpError>(
                            r.map(|b| s3s::Body::http_body_unsync(b.map_err(|e| match e {}))),
                        );
                    }
                    if let Err(resp) = precheck(&mut req) {
                        return Ok(*resp);
                    }
                    let req = req.map(|b| s3s::Body::http_body_unsync(IdleTimeoutBody::new(b)));
                    s3.call(req).await
                }
            },
        )
    };
    let edge_handler = |https: bool| {
        let edge = edge.clone();
        move |req: http::Request<Incoming>, peer| {
            let edge = edge.clone();
            async move {
                let mut req = req.map(IdleTimeoutBody::new);
                if https {
                    req.extensions_mut().insert(ViewerHttps);
                }
                Ok::<_, std::convert::Infallible>(edge.handle(req, Some(peer)).await)
            }
        }
    };
    let edge_loop = accept_loop(
        edge_listener,
        None,
        graceful.clone(),
        stop_rx.clone(),
        edge_handler(false),
    );
    let tls_task = edge_tls.map(|(listener, acceptor)| {
        tokio::spawn(accept_loop(
            listener,
            Some(acceptor),
            graceful.clone(),
            stop_rx,
            edge_handler(true),
        ))
    });
    let api = tokio::spawn(api);
    let edge_task = tokio::spawn(edge_loop);
    shutdown_signal().await;
    let _ = stop_tx.send(true);
    let _ = api.await;
    let _ = edge_task.await;
    if let Some(t) = tls_task {
        let _ = t.await;
    }
    println!("wharf: shutting down, finishing requests in flight");
    let graceful = Arc::try_unwrap(graceful).unwrap_or_else(|_| GracefulShutdown::new());
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("requests still running after {DRAIN_TIMEOUT:?}; stopping anyway"),
    }
    println!("wharf: stopped");
    Ok(())
}

/// Accepts connections until `stop` turns true, serving each with `handler` (over TLS when
/// `tls` is given).
async fn accept_loop<H, F, B, E>(
    listener: TcpListener,
    tls: Option<Arc<tls::ViewerTls>>,
    graceful: Arc<GracefulShutdown>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    handler: H,
) where
    H: Fn(http::Request<Incoming>, SocketAddr) -> F + Clone + Send + Sync + 'static,
    F: std::future::Future<Output = Result<http::Response<B>, E>> + Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut builder = ConnBuilder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    // HTTP/2 (over TLS, by ALPN): at most 128 concurrent streams per connection, as CloudFront.
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let h = handler.clone();
        // Taken here, before the task runs: shutdown waits for this connection from now on
        // (and the task holds no `GracefulShutdown`, which shutdown must own).
        let watcher = graceful.watcher();
        let (tls, builder) = (tls.clone(), builder.clone());
        tokio::spawn(async move {
            // The handshake runs on the connection's own task, never in the accept loop.
            let io: Box<dyn Io> = match tls {
                None => Box::new(stream),
                Some(tls) => {
                    match tokio::time::timeout(HEADER_READ_TIMEOUT, tls.accept(stream)).await {
                        Ok(Ok(tls)) => Box::new(tls),
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, %peer, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    }
                }
            };
            let svc = hyper::service::service_fn(move |req| h(req, peer));
            let conn = builder.serve_connection(TokioIo::new(io), svc).into_owned();
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}

/// A connection's byte stream: plain TCP or TLS over it.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        // Without signal handlers, run until killed.
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
