//! Configuration in two layers: [`file::FileConfig`] mirrors `wharf.toml`; [`Config`] is the
//! validated runtime form after command-line flags and environment variables are applied
//! (flags win over env, env over the file, the file over defaults).

pub mod file;

use std::net::SocketAddr;
use std::path::PathBuf;

use std::time::Duration;

use anyhow::{Context, Result};
use wharf_s3::request_body::BodyDeadlines;

use crate::listener::Limits;
use wharf_auth::cloudfront_signature::SourceIp;
use wharf_edge::origin::s3::OriginAccess;

/// The runtime configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub api_listen: SocketAddr,
    pub region: String,
    /// The regions a CreateBucket `LocationConstraint` may name.
    pub regions: Vec<String>,
    /// Accept SigV2 signatures (header and presigned), as S3 does for existing buckets.
    pub allow_sigv2: bool,
    /// Base domains for virtual-hosted-style S3 addressing.
    pub domains: Vec<String>,
    /// Root credentials given by the operator, if any.
    pub root_keys: Option<(String, String)>,
    pub edge: EdgeConfig,
    pub server: ServerConfig,
    /// How long a blob no row names stays on disk before the garbage collector deletes it.
    pub blob_grace: Duration,
    /// How long a RestoreObject of an archived object (GLACIER, DEEP_ARCHIVE) takes.
    pub restore_delay: Duration,
    pub console: ConsoleListen,
    /// The S3 website endpoint, if on.
    pub website_listen: Option<SocketAddr>,
}

/// Where the console listener (`/metrics`) binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleListen {
    /// The default address: if it is taken (another wharf on this machine), the server starts
    /// without a console and says so.
    Default(SocketAddr),
    /// An address the operator chose: failing to bind it stops the start.
    Given(SocketAddr),
    Off,
}

/// How long a restore of an archived object takes unless configured (S3 Glacier takes hours;
/// an emulator that tests restore flows wants seconds).
pub const DEFAULT_RESTORE_DELAY: Duration = Duration::from_secs(5);

/// The console's default address.
pub const DEFAULT_CONSOLE_LISTEN: &str = "127.0.0.1:9001";

/// Limits of every listener.
#[derive(Debug, Clone, Copy)]
pub struct ServerConfig {
    pub header_read_timeout: Duration,
    pub tls_handshake_timeout: Duration,
    pub idle_timeout: Duration,
    /// `None`: derived from the open-files limit.
    pub max_connections: Option<usize>,
    pub body: BodyDeadlines,
}

impl ServerConfig {
    /// The listeners' limits, under an open-files limit of `open_files`.
    pub fn limits(&self, open_files: u64) -> Limits {
        let cap = crate::listener::default_max_connections(open_files);
        Limits {
            header_read_timeout: self.header_read_timeout,
            tls_handshake_timeout: self.tls_handshake_timeout,
            idle_timeout: self.idle_timeout,
            max_connections: self.max_connections.unwrap_or(cap),
            body: self.body,
        }
    }
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
    pub asn_database: Option<PathBuf>,
    pub trusted_proxies: Vec<SourceIp>,
    /// How often access log files are delivered to their buckets.
    pub log_delivery_interval: Duration,
}

/// The edge's HTTPS listener: where, and the certificate it presents.
#[derive(Debug, Clone)]
pub struct EdgeTls {
    pub listen: SocketAddr,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// HTTP/3 (QUIC) on the same port over UDP.
    pub http3: bool,
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
    pub console_listen: Option<String>,
    pub website_listen: Option<String>,
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
        let console = match o
            .console_listen
            .or_else(|| env("WHARF_CONSOLE_LISTEN"))
            .or(file.console.listen)
        {
            Some(off) if off == "off" => ConsoleListen::Off,
            Some(a) => ConsoleListen::Given(
                a.parse()
                    .with_context(|| format!("invalid console listen address {a:?}"))?,
            ),
            None => ConsoleListen::Default(DEFAULT_CONSOLE_LISTEN.parse()?),
        };
        let region = env("WHARF_REGION")
            .or(file.region)
            .unwrap_or_else(|| "us-east-1".into());
        let domains = file.api.domains.unwrap_or_else(|| vec!["localhost".into()]);
        let mut regions = file.regions.unwrap_or_default();
        if !regions.contains(&region) {
            regions.push(region.clone());
        }
        let allow_sigv2 = file.api.allow_sigv2.unwrap_or(true);
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
                http3: file.edge.http3.unwrap_or(true),
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
            asn_database: env("WHARF_ASN_DATABASE")
                .map(PathBuf::from)
                .or(file.edge.asn_database),
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
            log_delivery_interval: Duration::from_secs(
                match env("WHARF_EDGE_LOG_DELIVERY_SECS") {
                    Some(v) => v.parse().with_context(|| {
                        format!("WHARF_EDGE_LOG_DELIVERY_SECS: {v:?} is not a number of seconds")
                    })?,
                    None => file.edge.log_delivery_interval_secs.unwrap_or(300),
                }
                .max(1),
            ),
        };
        let sv = &file.server;
        let secs = |v: Option<u64>, default: u64| Duration::from_secs(v.unwrap_or(default).max(1));
        let body_defaults = BodyDeadlines::default();
        let server = ServerConfig {
            header_read_timeout: secs(sv.header_read_timeout_secs, 30),
            tls_handshake_timeout: secs(sv.tls_handshake_timeout_secs, 10),
            idle_timeout: secs(sv.idle_timeout_secs, 60),
            max_connections: sv.max_connections,
            body: BodyDeadlines {
                idle: sv
                    .body_idle_timeout_secs
                    .map_or(body_defaults.idle, |s| Duration::from_secs(s.max(1))),
                grace: sv
                    .body_grace_secs
                    .map_or(body_defaults.grace, Duration::from_secs),
                min_bytes_per_sec: sv
                    .body_min_bytes_per_sec
                    .unwrap_or(body_defaults.min_bytes_per_sec),
            },
        };
        let blob_grace = file
            .store
            .blob_grace_secs
            .map_or(wharf_store::gc::GRACE, Duration::from_secs);
        let restore_delay = match env("WHARF_RESTORE_SECS") {
            Some(v) => Duration::from_secs(v.parse().map_err(|_| {
                anyhow::anyhow!("WHARF_RESTORE_SECS: {v:?} is not a number of seconds")
            })?),
            None => file
                .api
                .restore_secs
                .map_or(DEFAULT_RESTORE_DELAY, Duration::from_secs),
        };
        let website_listen = match o
            .website_listen
            .or_else(|| env("WHARF_WEBSITE_LISTEN"))
            .or(file.api.website_listen)
        {
            Some(a) => Some(
                a.parse()
                    .with_context(|| format!("invalid website listen address {a:?}"))?,
            ),
            None => None,
        };
        Ok(Self {
            website_listen,
            edge,
            server,
            blob_grace,
            restore_delay,
            console,
            data_dir,
            api_listen,
            region,
            regions,
            allow_sigv2,
            domains,
            root_keys,
        })
    }
}
