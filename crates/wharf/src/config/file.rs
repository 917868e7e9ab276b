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
    pub root: RootSection,
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
            "data_dir = \"/tmp/x\"\nregion = \"eu-west-1\"\n[api]\nlisten = \"0.0.0.0:9000\"\ndomains = [\"s3.local\"]\n[root]\naccess_key = \"AKIAEXAMPLE\"\nsecret_key = \"secretsecret\"\n",
        )
        .unwrap();
        assert_eq!(c.region.as_deref(), Some("eu-west-1"));
        assert_eq!(c.api.domains.unwrap(), vec!["s3.local".to_owned()]);
        assert!(toml::from_str::<FileConfig>("bogus = 1").is_err());
    }
}
