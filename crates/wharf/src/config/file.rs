//! `wharf.toml`, exactly as written. Every key is optional.
//!
//! ```toml
//! data_dir = "./wharf-data"      # where metadata and blobs live
//! region = "us-east-1"           # region of new buckets, answered by GetBucketLocation
//!
//! [api]
//! listen = "127.0.0.1:9000"      # the AWS API endpoint (S3)
//! domains = ["localhost"]        # base domains for bucket.<domain> virtual-hosted addressing
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
    #[serde(default)]
    pub api: ApiSection,
    #[serde(default)]
    pub edge: EdgeSection,
    #[serde(default)]
    pub root: RootSection,
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
    /// Credentials for Origin Access Control to remote S3 origins.
    #[serde(default)]
    pub origin_access: OriginAccessSection,
    /// A MaxMind GeoIP2/GeoLite2 Country database (`.mmdb`) for `GeoRestriction`.
    pub geo_database: Option<PathBuf>,
    /// Addresses or CIDR blocks of proxies in front of the edge whose `X-Forwarded-For`
    /// names the viewer.
    pub trusted_proxies: Option<Vec<String>>,
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
