//! `wharf.toml`, exactly as written. Every key is optional.
//!
//! ```toml
//! data_dir = "./wharf-data"      # where metadata and blobs live
//! region = "us-east-1"           # region of new buckets, answered by GetBucketLocation
//! regions = ["eu-west-1"]        # more regions a CreateBucket LocationConstraint may name
//!
//! [api]
//! listen = "127.0.0.1:9000"      # the AWS API endpoint (S3)
//! domains = ["localhost"]        # base domains for bucket.<domain> virtual-hosted addressing
//! allow_sigv2 = true             # accept SigV2 signatures, as S3 does (false refuses them)
//! restore_secs = 5               # how long a RestoreObject of a GLACIER or DEEP_ARCHIVE
//!                                # object takes (WHARF_RESTORE_SECS)
//! website_listen = "127.0.0.1:9002"  # the S3 website endpoint, BUCKET.s3-website.<domain>
//!                                # (off unless set; --website-listen, WHARF_WEBSITE_LISTEN)
//!
//! [edge]
//! listen = "127.0.0.1:8080"      # the CDN edge (viewer requests)
//! distributions_dir = "DIR"      # ID.json DistributionConfig files (default DATA_DIR/distributions)
//! default_distribution = "ID"    # serves requests whose Host names no distribution
//! pop = "WHARF1-C1"              # the X-Amz-Cf-Pop value
//! memory_cache_mb = 256          # memory tier budget
//! disk_cache_mb = 10240          # disk tier budget (0: memory only)
//! origin_ca_file = "PATH"        # PEM CA certificates trusted for HTTPS origins, beside the
//!                                # system's
//! tls_listen = "127.0.0.1:8443"  # the edge over HTTPS too (needs the two files below)
//! tls_cert_file = "PATH"         # PEM certificate chain viewers are shown
//! tls_key_file = "PATH"          # its PEM private key
//!
//! [edge.origin_access]           # signs requests to remote S3 origins with an
//! access_key = "..."             # OriginAccessControlId (SigV4, service s3)
//! secret_key = "..."
//! region = "us-east-1"           # when the endpoint's name does not say (default: region)
//!
//! [server]                       # limits of every listener (S3 API and edge)
//! header_read_timeout_secs = 30  # a request's head must arrive within this (also between
//!                                # keep-alive requests)
//! tls_handshake_timeout_secs = 10
//! idle_timeout_secs = 60         # an HTTP/2 connection with no request this long is closed
//! max_connections = 10000        # default: 10,000, or half the open-files limit less 256
//!                                # if that is lower; at the cap the longest-idle connection
//!                                # makes room
//! body_idle_timeout_secs = 60    # a request body silent this long fails
//! body_grace_secs = 20           # then it must average at least:
//! body_min_bytes_per_sec = 500
//!
//! [store]
//! blob_grace_secs = 5            # how long a blob no object names any more stays on disk
//!                                # (reads in progress are always let finish)
//!
//! [console]
//! listen = "127.0.0.1:9001"      # Prometheus metrics at /metrics ("off": no console listener)
//!
//! [root]                         # root credentials; random ones are generated if absent
//! access_key = "..."
//! secret_key = "..."
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Directory for the metadata database and blob files.
    pub data_dir: Option<PathBuf>,
    /// Region new buckets are created in.
    pub region: Option<String>,
    /// Regions a `LocationConstraint` may name (besides `region`).
    pub regions: Option<Vec<String>>,
    #[serde(default)]
    pub api: ApiSection,
    #[serde(default)]
    pub edge: EdgeSection,
    #[serde(default)]
    pub server: ServerSection,
    #[serde(default)]
    pub store: StoreSection,
    #[serde(default)]
    pub console: ConsoleSection,
    #[serde(default)]
    pub root: RootSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSection {
    /// Address of the console listener (`/metrics`), or `off`.
    pub listen: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// Seconds a blob no object or part names any more stays on disk.
    pub blob_grace_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Seconds within which a request's head must arrive.
    pub header_read_timeout_secs: Option<u64>,
    /// Seconds within which a TLS handshake must finish.
    pub tls_handshake_timeout_secs: Option<u64>,
    /// Seconds an HTTP/2 connection may stay without a request.
    pub idle_timeout_secs: Option<u64>,
    /// Open connections across all listeners.
    pub max_connections: Option<usize>,
    /// Seconds a request body may stay silent.
    pub body_idle_timeout_secs: Option<u64>,
    /// Seconds before a request body's minimum rate applies.
    pub body_grace_secs: Option<u64>,
    /// The slowest average rate a request body may arrive at.
    pub body_min_bytes_per_sec: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeSection {
    /// Address of the CDN edge.
    pub listen: Option<String>,
    /// Directory of `ID.json` distribution configs (reloaded on change).
    pub distributions_dir: Option<PathBuf>,
    /// The distribution for requests whose `Host` matches none.
    pub default_distribution: Option<String>,
    /// `X-Amz-Cf-Pop` value.
    pub pop: Option<String>,
    /// Memory tier budget in MiB.
    pub memory_cache_mb: Option<u64>,
    /// Disk tier budget in MiB (0 turns the disk tier off).
    pub disk_cache_mb: Option<u64>,
    /// PEM bundle of CA certificates trusted for HTTPS origins (beside the system's).
    pub origin_ca_file: Option<PathBuf>,
    /// Address of the edge's HTTPS listener.
    pub tls_listen: Option<String>,
    /// The viewer certificate chain (PEM) and its private key.
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    /// HTTP/3 beside the HTTPS listener (default true).
    pub http3: Option<bool>,
    /// Credentials for Origin Access Control to remote S3 origins.
    #[serde(default)]
    pub origin_access: OriginAccessSection,
    /// A MaxMind GeoIP2/GeoLite2 Country database (`.mmdb`) for `GeoRestriction`.
    pub geo_database: Option<PathBuf>,
    /// A MaxMind GeoLite2-ASN (or GeoIP2-ISP) database for `CloudFront-Viewer-ASN`.
    pub asn_database: Option<PathBuf>,
    /// Addresses or CIDR blocks of proxies in front of the edge whose `X-Forwarded-For`
    /// names the viewer.
    pub trusted_proxies: Option<Vec<String>>,
    /// Seconds between deliveries of access log files.
    pub log_delivery_interval_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OriginAccessSection {
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub region: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSection {
    /// Address of the AWS API endpoint.
    pub listen: Option<String>,
    /// Base domains for virtual-hosted-style requests.
    pub domains: Option<Vec<String>>,
    /// Accept SigV2 signatures (default true).
    pub allow_sigv2: Option<bool>,
    /// Seconds a RestoreObject of a GLACIER or DEEP_ARCHIVE object takes (default 5).
    pub restore_secs: Option<u64>,
    /// Address of the S3 website endpoint (off unless set).
    pub website_listen: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootSection {
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
}

impl FileConfig {
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_example_parses() {
        let c: FileConfig = toml::from_str(
            "data_dir = \"/tmp/x\"\nregion = \"eu-west-1\"\n[api]\nlisten = \"0.0.0.0:9000\"\ndomains = [\"s3.local\"]\n[edge]\nlisten = \"0.0.0.0:8080\"\ndistributions_dir = \"/etc/wharf/d\"\ndefault_distribution = \"E1\"\nmemory_cache_mb = 64\n[root]\naccess_key = \"AKIAEXAMPLE\"\nsecret_key = \"secretsecret\"\n",
        )
        .unwrap();
        assert_eq!(c.region.as_deref(), Some("eu-west-1"));
        assert_eq!(c.api.domains.unwrap(), vec!["s3.local".to_owned()]);
        assert!(toml::from_str::<FileConfig>("bogus = 1").is_err());
    }
}
