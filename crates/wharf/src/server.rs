//! Starting the server: the store, the S3 endpoint, the edge, their listeners ([`listener`])
//! and graceful shutdown.
//!
//! On SIGTERM or SIGINT the listeners close at once; requests in flight run to completion
//! (connections are told to close after their current request) for up to [`DRAIN_TIMEOUT`].

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use http_body_util::BodyExt;
use tokio::net::TcpListener;
use wharf_store::Store;

use prometheus_client::registry::Registry;

use crate::config::{Config, ConsoleListen};
use crate::listener::{self, Connections, accept_loop};
use crate::{console, control, demo, edge, quic, root, tls, website};

/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn serve(mut cfg: Config, demo_mode: bool) -> Result<()> {
    if demo_mode && cfg.edge.default_distribution.is_none() {
        cfg.edge.default_distribution = Some(demo::DEMO_DISTRIBUTION.into());
    }
    let open_files = listener::raise_open_files_limit();
    let limits = cfg.server.limits(open_files);
    let deadlines = cfg.server.body;
    let store = Store::open_with(&cfg.data_dir, cfg.blob_grace)
        .await
        .with_context(|| format!("opening the store in {}", cfg.data_dir.display()))?;
    let new_root = root::ensure_root(store.meta(), &cfg.data_dir, cfg.root_keys.as_ref()).await?;
    let api_listener = TcpListener::bind(cfg.api_listen)
        .await
        .with_context(|| format!("binding {}", cfg.api_listen))?;
    let edge_listener = TcpListener::bind(cfg.edge.listen)
        .await
        .with_context(|| format!("binding {}", cfg.edge.listen))?;
    let website_listener = match cfg.website_listen {
        Some(a) => Some(
            TcpListener::bind(a)
                .await
                .with_context(|| format!("binding the website endpoint to {a}"))?,
        ),
        None => None,
    };
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
    // HTTP/3 answers on the HTTPS listener's port, over UDP.
    let h3_addr = match (&edge_tls, &cfg.edge.tls) {
        (Some((l, _)), Some(t)) if t.http3 => Some(l.local_addr()?),
        _ => None,
    };
    let console_listener = match cfg.console {
        ConsoleListen::Off => None,
        ConsoleListen::Given(a) => Some(
            TcpListener::bind(a)
                .await
                .with_context(|| format!("binding the console to {a}"))?,
        ),
        ConsoleListen::Default(a) => match TcpListener::bind(a).await {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!(
                    "wharf: no console (metrics): {a} is not available ({e}); choose another with --console-listen"
                );
                None
            }
        },
    };
    let addr = api_listener.local_addr()?;
    let edge_addr = edge_listener.local_addr()?;
    // Tests and scripts read these lines to learn the ports when they ask for port 0.
    println!("wharf: S3 API listening on http://{addr}");
    if let Some(l) = &website_listener {
        println!(
            "wharf: S3 website endpoint listening on http://{}",
            l.local_addr()?
        );
    }
    if let Some(l) = &console_listener {
        println!(
            "wharf: console listening on http://{}/metrics",
            l.local_addr()?
        );
    }
    println!("wharf: edge listening on http://{edge_addr}");
    if let Some(a) = h3_addr {
        println!("wharf: edge HTTP/3 listening on udp://{a}");
    }
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
    let control = control::open(&cfg.data_dir, &store)?;
    if demo_mode {
        demo::run(&store, &control, addr, edge_addr, &cfg).await?;
    }
    let https_port = match &edge_tls {
        Some((l, _)) => Some(l.local_addr()?.port()),
        None => None,
    };
    let mut metrics = Registry::default();
    let open_connections = console::OpenConnections::register(&mut metrics);
    // One cache of bucket policies for the S3 API and the edge's in-process origin, so a
    // policy changed through the API is what the edge applies next.
    let policies = wharf_s3::BucketPolicies::new(store.clone());
    let website = Arc::new(website::Website {
        store: store.clone(),
        access: wharf_s3::BucketAccess::new(policies.clone()),
        domains: cfg.domains.clone(),
    });
    let edge = edge::build(
        &cfg,
        &control,
        &store,
        wharf_s3::BucketAccess::new(policies.clone()),
        https_port,
        h3_addr.map(|a| a.port()),
        &mut metrics,
    )?;
    let h3_endpoint = match (&edge_tls, h3_addr) {
        (Some((_, cert)), Some(a)) => Some(quic::endpoint(
            a,
            cert.clone(),
            edge.registry.clone(),
            limits,
        )?),
        _ => None,
    };
    let edge_tls = match edge_tls {
        Some((listener, cert)) => Some((
            listener,
            Arc::new(tls::ViewerTls::new(cert, edge.registry.clone())?),
        )),
        None => None,
    };
    let s3 = Arc::new(wharf_s3::S3Endpoint::new(
        store.clone(),
        wharf_s3::EndpointConfig {
            region: cfg.region.clone(),
            regions: cfg.regions.clone(),
            domains: cfg.domains.clone(),
            allow_sigv2: cfg.allow_sigv2,
            restore_delay: cfg.restore_delay,
            policies,
        },
        &mut metrics,
    ));
    let metrics = Arc::new(metrics);

    let conns = Connections::new(limits.max_connections);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let api = {
        let control = control.clone();
        accept_loop(
            api_listener,
            None,
            conns.clone(),
            open_connections.of("s3"),
            limits,
            stop_rx.clone(),
            move |req: http::Request<listener::Body>, peer| {
                let (s3, control) = (s3.clone(), control.clone());
                async move {
                    if control::is_control(&req) || wharf_control::kvs_data::is_kvs(&req) {
                        let r = if control::is_control(&req) {
                            control.handle(req).await
                        } else {
                            control.handle_kvs(req).await
                        };
                        return Ok::<_, std::convert::Infallible>(
                            r.map(|b| s3s::Body::http_body_unsync(b.map_err(|e| match e {}))),
                        );
                    }
                    let mut req = req.map(s3s::Body::http_body_unsync);
                    req.extensions_mut()
                        .insert(wharf_s3::condition_keys::ClientAddr(peer));
                    Ok(s3.call(req).await)
                }
            },
        )
    };
    // The TLS listener marks its requests with the session (`wharf_edge::ViewerHttps`).
    let edge_handler = || {
        let edge = edge.clone();
        move |req: http::Request<listener::Body>, peer| {
            let edge = edge.clone();
            async move { Ok::<_, std::convert::Infallible>(edge.handle(req, Some(peer)).await) }
        }
    };
    let edge_loop = accept_loop(
        edge_listener,
        None,
        conns.clone(),
        open_connections.of("edge"),
        limits,
        stop_rx.clone(),
        edge_handler(),
    );
    let tls_task = edge_tls.map(|(listener, acceptor)| {
        tokio::spawn(accept_loop(
            listener,
            Some(acceptor),
            conns.clone(),
            open_connections.of("edge_tls"),
            limits,
            stop_rx.clone(),
            edge_handler(),
        ))
    });
    let h3_task = h3_endpoint.map(|endpoint| {
        tokio::spawn(quic::serve(
            endpoint,
            edge.clone(),
            open_connections.of("edge_h3"),
            limits,
            deadlines,
            stop_rx.clone(),
        ))
    });
    let website_task = website_listener.map(|listener| {
        tokio::spawn(accept_loop(
            listener,
            None,
            conns.clone(),
            open_connections.of("website"),
            limits,
            stop_rx.clone(),
            move |req: http::Request<listener::Body>, _peer| {
                let website = website.clone();
                async move { Ok::<_, std::convert::Infallible>(website.handle(req).await) }
            },
        ))
    });
    let console_task = console_listener.map(|listener| {
        tokio::spawn(accept_loop(
            listener,
            None,
            conns.clone(),
            open_connections.of("console"),
            limits,
            stop_rx,
            console::handler(metrics),
        ))
    });
    let api = tokio::spawn(api);
    let edge_task = tokio::spawn(edge_loop);
    tracing::info!(api = %addr, edge = %edge_addr, "serving");
    shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    let _ = api.await;
    let _ = edge_task.await;
    for t in [tls_task, h3_task, website_task, console_task]
        .into_iter()
        .flatten()
    {
        let _ = t.await;
    }
    println!("wharf: shutting down, finishing requests in flight");
    tokio::select! {
        () = conns.drained() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("requests still running after {DRAIN_TIMEOUT:?}; stopping anyway"),
    }
    // Every response is done: its log line is queued. Deliver the open log files, and write
    // the invalidation journal.
    let _ = tokio::task::spawn_blocking(move || edge.finish()).await;
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
