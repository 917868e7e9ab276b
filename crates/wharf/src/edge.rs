//! Wiring of the edge: the distribution registry over `distributions_dir` (polled for changes
//! every second) and the control API's change feed, the origin factory with local buckets, the cache under
//! `DATA_DIR/edge-cache`, and access log delivery into local buckets.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use wharf_edge::cache::CacheConfig;
use wharf_edge::origin::HttpOriginFactory;
use wharf_edge::registry::Registry;
use wharf_edge::viewer::{GeoDatabase, ViewerLocator};
use wharf_edge::{Edge, EdgeConfig};
use wharf_store::Store;

use crate::config::Config;
use crate::local_origin::WharfOrigins;
use crate::log_sink::BucketLogSink;

/// How often `distributions_dir` is checked for changes.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// `https_port`: the port the edge's HTTPS listener is bound to, if it has one;
/// `http3_port`: its UDP port for HTTP/3, if it listens there. The edge's metrics are
/// registered in `metrics`.
pub fn build(
    cfg: &Config,
    control: &Arc<wharf_control::Control>,
    store: &Store,
    access: wharf_s3::BucketAccess,
    https_port: Option<u16>,
    http3_port: Option<u16>,
    metrics: &mut prometheus_client::registry::Registry,
) -> Result<Arc<Edge>> {
    let e = &cfg.edge;
    let tls = wharf_edge::origin::tls::client_config(e.origin_ca_file.as_deref())
        .map_err(anyhow::Error::msg)?;
    let factory = Arc::new(WharfOrigins {
        store: store.clone(),
        access,
        http: HttpOriginFactory {
            origin_access: e.origin_access.clone().map(Arc::new),
            tls,
        },
    });
    // Files may name the API's policies and functions: the first build has them.
    let (registry, errors) = Registry::from_dir(
        &e.distributions_dir,
        e.default_distribution.clone(),
        factory,
        Vec::new(),
        crate::control::api_resources(control.edge_view()),
    );
    for err in errors {
        eprintln!("wharf: distribution not loaded: {err}");
    }
    let registry = Arc::new(registry);
    let edge = Edge::new(
        registry.clone(),
        &EdgeConfig {
            pop: e.pop.clone(),
            cache: CacheConfig {
                memory_bytes: e.memory_cache_bytes,
                disk_bytes: e.disk_cache_bytes,
                dir: Some(cfg.data_dir.join("edge-cache")),
            },
            https_port,
            http3_port,
            viewers: Arc::new(ViewerLocator {
                trusted_proxies: e.trusted_proxies.clone(),
                geo: open_database(e.geo_database.as_deref(), "geo")?,
                asn: open_database(e.asn_database.as_deref(), "ASN")?,
            }),
            access_logs: Some((
                Arc::new(BucketLogSink {
                    store: store.clone(),
                    runtime: tokio::runtime::Handle::current(),
                }),
                e.log_delivery_interval,
            )),
        },
        metrics,
    )
    .context("opening the edge cache")?;
    let edge = Arc::new(edge);
    control.set_files(crate::control::files(&registry.files()));
    crate::control::follow(control.clone(), edge.clone());
    let control = control.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(RELOAD_INTERVAL);
        loop {
            tick.tick().await;
            let r = registry.clone();
            if let Ok(Some(errors)) =
                tokio::task::spawn_blocking(move || r.reload_if_changed()).await
            {
                control.set_files(crate::control::files(&registry.files()));
                let ids: Vec<String> = registry.snapshot().ids().map(str::to_owned).collect();
                tracing::info!(distributions = ?ids, "distributions reloaded");
                for err in errors {
                    tracing::warn!("distribution not loaded: {err}");
                }
            }
        }
    });
    Ok(edge)
}

/// A MaxMind database the configuration names, if it names one.
fn open_database(path: Option<&std::path::Path>, what: &str) -> Result<Option<GeoDatabase>> {
    path.map(GeoDatabase::open)
        .transpose()
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("opening the {what} database"))
}
