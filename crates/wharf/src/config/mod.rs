//! Configuration in two layers: [`file::FileConfig`] mirrors `wharf.toml`; [`Config`] is the
//! validated runtime form after command-line flags and environment variables are applied
//! (flags win over env, env over the file, the file over defaults).

pub mod file;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use wharf_auth::cloudfront_signature::SourceIp;
use wharf_edge::origin::s3::OriginAccess;

/// The runtime configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub api_listen: SocketAddr,
    pub region: String,
    /// Base domains for virtual-hosted-style S3 addressing.
    pub domains: Vec<String>,
    /// Root credentials given by the operator, if any.
    pub root_keys: Option<(String, String)>,
    pub edge: EdgeConfig,
}

/// The edge's settings.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    pub listen: SocketAddr,
    pub distributions_dir: PathBuf,
    pub default_distribution: Option<String>,
    pub pop: String,
    pub memory_cache_bytes: u64,
    pub disk_cache_bytes: u64,
    /// Credentials that sign requests to remote S3 origins with Origin Access Control.
    pub origin_access: Option<OriginAccess>,
    /// Extra CA certificates (PEM) for HTTPS origins.
    pub origin_ca_file: Option<PathBuf>,
    /// The HTTPS listener for viewers, if any.
    pub tls: Option<EdgeTls>,
    pub geo_database: Option<PathBuf>,
    pub trusted_proxies: Vec<SourceIp>,
}

/// The edge's HTTPS listener: where, and the certificate it presents.
#[derive(Debug, Clone)]
pub struct EdgeTls {
    pub listen: SocketAddr,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

const MIB: u64 = 1 << 20;

/// What the command line says (each `None` falls through to env, file, default).
#[derive(Debug, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub api_listen: Option<String>,
    pub edge_listen: Option<String>,
    pub edge_tls_listen: Option<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Config {
    pub fn load(o: Overrides) -> Result<Self> {
        let path = o
            .config
            .clone()
            .or_else(|| env("WHARF_CONFIG").map(PathBuf::from));
        let file = match &path {
            Some(p) => file::FileConfig::read(p)?,
            None if std::path::Path::new("wharf.toml").exists() => {
                file::FileConfig::read(std::path::Path::new("wharf.toml"))?
            }
            None => file::FileConfig::default(),
        };
        let data_dir = o
            .data_dir
            .or_else(|| env("WHARF_DATA_DIR").map(PathBuf::from))
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./wharf-data"));
        let listen = o
            .api_listen
            .or_else(|| env("WHARF_API_LISTEN"))
            .or(file.api.listen)
            .unwrap_or_else(|| "127.0.0.1:9000".into());
        let api_listen = listen
            .parse()
            .with_context(|| format!("invalid API listen address {listen:?}"))?;
        let region = env("WHARF_REGION")
            .or(file.region)
            .unwrap_or_else(|| "us-east-1".into());
        let domains = file.api.domains.unwrap_or_else(|| vec!["localhost".into()]);
        let ak = env("WHARF_ROOT_ACCESS_KEY").or(file.root.access_key);
        let sk = env("WHARF_ROOT_SECRET_KEY").or(file.root.secret_key);
        let root_keys = match (ak, sk) {
            (Some(a), Some(s)) => Some((a, s)),
            (None, None) => None,
            _ => anyhow::bail!("root credentials need both an access key and a secret key"),
        };
        let edge_listen = o
            .edge_listen
            .or_else(|| env("WHARF_EDGE_LISTEN"))
            .or(file.edge.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let oa = &file.edge.origin_access;
        let origin_access = match (
            env("WHARF_ORIGIN_ACCESS_KEY").or(oa.access_key.clone()),
            env("WHARF_ORIGIN_SECRET_KEY").or(oa.secret_key.clone()),
        ) {
            (Some(access_key), Some(secret_key)) => Some(OriginAccess {
                access_key,
                secret_key,
                region: oa.region.clone().unwrap_or_else(|| region.clone()),
            }),
            (None, None) => None,
            _ => anyhow::bail!("[edge.origin_access] needs both an access key and a secret key"),
        };
        let tls_listen = o
            .edge_tls_listen
            .or_else(|| env("WHARF_EDGE_TLS_LISTEN"))
            .or(file.edge.tls_listen);
        let tls = match tls_listen {
            None => None,
            Some(addr) => Some(EdgeTls {
                listen: addr
                    .parse()
                    .with_context(|| format!("invalid edge TLS listen address {addr:?}"))?,
                cert_file: env("WHARF_EDGE_TLS_CERT_FILE")
                    .map(PathBuf::from)
                    .or(file.edge.tls_cert_file)
                    .context("the edge's HTTPS listener needs [edge] tls_cert_file")?,
                key_file: env("WHARF_EDGE_TLS_KEY_FILE")
                    .map(PathBuf::from)
                    .or(file.edge.tls_key_file)
                    .context("the edge's HTTPS listener needs [edge] tls_key_file")?,
            }),
        };
        let edge = EdgeConfig {
            listen: edge_listen
                .parse()
                .with_context(|| format!("invalid edge listen address {edge_listen:?}"))?,
            distributions_dir: file
                .edge
                .distributions_dir
                .unwrap_or_else(|| data_dir.join("distributions")),
            default_distribution: file.edge.default_distribution,
            pop: file.edge.pop.unwrap_or_else(|| "WHARF1-C1".into()),
            memory_cache_bytes: file.edge.memory_cache_mb.unwrap_or(256).saturating_mul(MIB),
            disk_cache_bytes: file
                .edge
                .disk_cache_mb
                .unwrap_or(10_240)
                .saturating_mul(MIB),
            origin_access,
            origin_ca_file: env("WHARF_ORIGIN_CA_FILE")
                .map(PathBuf::from)
                .or(file.edge.origin_ca_file),
            tls,
            geo_database: env("WHARF_GEO_DATABASE")
                .map(PathBuf::from)
                .or(file.edge.geo_database),
            trusted_proxies: file
                .edge
                .trusted_proxies
                .unwrap_or_default()
                .iter()
                .map(|p| {
                    SourceIp::parse(p).with_context(|| {
                        format!("[edge] trusted_proxies: {p:?} is not an address or CIDR block")
                    })
                })
                .collect::<anyhow::Result<_>>()?,
        };
        Ok(Self {
            edge,
            data_dir,
            api_listen,
            region,
            domains,
            root_keys,
        })
    }
}
