//! Listeners, connection handling and graceful shutdown.
//!
//! On SIGTERM or SIGINT the listener closes at once; requests in flight run to completion
//! (connections are told to close after their current request) for up to [`DRAIN_TIMEOUT`].

use std::time::Duration;

use anyhow::{Context, Result};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use wharf_s3::http_layer::{IdleTimeoutBody, precheck};
use wharf_store::Store;

use crate::config::Config;
use crate::{demo, root};

/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// A client must send a request's headers within this time.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn serve(cfg: Config, demo_mode: bool) -> Result<()> {
    let store = Store::open(&cfg.data_dir)
        .await
        .with_context(|| format!("opening the store in {}", cfg.data_dir.display()))?;
    let new_root = root::ensure_root(store.meta(), &cfg.data_dir, cfg.root_keys.as_ref()).await?;
    let listener = TcpListener::bind(cfg.api_listen)
        .await
        .with_context(|| format!("binding {}", cfg.api_listen))?;
    let addr = listener.local_addr()?;
    // Tests and scripts read this line to learn the port when they ask for port 0.
    println!("wharf: S3 API listening on http://{addr}");
    if let Some(k) = &new_root {
        println!(
            "wharf: generated root credentials (stored in {}/root-credentials):",
            cfg.data_dir.display()
        );
        println!("  AWS_ACCESS_KEY_ID={}", k.access_key_id);
        println!("  AWS_SECRET_ACCESS_KEY={}", k.secret_access_key);
    }
    if demo_mode {
        demo::run(&store, addr, &cfg).await?;
    }
    let s3 = wharf_s3::service(store, cfg.region.clone(), cfg.domains.clone());

    let mut builder = ConnBuilder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown_signal());
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let s3 = s3.clone();
        let svc = hyper::service::service_fn(move |mut req: http::Request<Incoming>| {
            let s3 = s3.clone();
            async move {
                if let Err(resp) = precheck(&mut req) {
                    return Ok(*resp);
                }
                let req = req.map(|b| s3s::Body::http_body_unsync(IdleTimeoutBody::new(b)));
                s3.call(req).await
            }
        });
        let conn = builder
            .serve_connection(TokioIo::new(stream), svc)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    println!("wharf: shutting down, finishing requests in flight");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("requests still running after {DRAIN_TIMEOUT:?}; stopping anyway"),
    }
    println!("wharf: stopped");
    Ok(())
}

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
