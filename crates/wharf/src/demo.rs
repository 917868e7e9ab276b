//! `wharf serve --demo`: on a new data directory, a private bucket `demo-site` with an
//! `index.html`, and a distribution that reads it through Origin Access Control with the bucket
//! policy AWS documents for OAC (only that distribution may read); then the URLs and
//! credentials to use it.

use std::net::SocketAddr;

use anyhow::Result;
use wharf_store::{BucketRecord, Store, StoreError, now_ms};

use crate::config::Config;
use crate::root::ROOT_USER;

pub const DEMO_BUCKET: &str = "demo-site";

const INDEX_HTML: &str = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Wharf demo</title></head>\n<body><h1>Hello from Wharf</h1><p>This page is the object <code>index.html</code> in the bucket <code>demo-site</code>.</p></body></html>\n";

/// The demo distribution's ID: it answers on `demo.localhost` and, as the default
/// distribution, on any other host name.
pub const DEMO_DISTRIBUTION: &str = "demo";

/// A CloudFront `DistributionConfig` in the CLI's JSON form, in front of the demo bucket.
const DEMO_DISTRIBUTION_JSON: &str = r#"{
  "CallerReference": "wharf-demo",
  "Comment": "Wharf demo: the demo-site bucket behind the edge",
  "Enabled": true,
  "DefaultRootObject": "index.html",
  "Origins": {"Quantity": 1, "Items": [{
    "Id": "demo-site",
    "DomainName": "demo-site.s3.localhost",
    "S3OriginConfig": {"OriginAccessIdentity": ""},
    "OriginAccessControlId": "demo-oac"
  }]},
  "DefaultCacheBehavior": {
    "TargetOriginId": "demo-site",
    "ViewerProtocolPolicy": "allow-all",
    "AllowedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"],
      "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
    "Compress": true,
    "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"
  },
  "PriceClass": "PriceClass_All"
}
"#;

/// The demo's Origin Access Control, in the CLI's `OriginAccessControlConfig` shape.
pub const DEMO_OAC: &str = "demo-oac";
const DEMO_OAC_JSON: &str = r#"{
  "Name": "demo-site",
  "Description": "Wharf demo: the edge reads demo-site as CloudFront's service principal",
  "SigningProtocol": "sigv4",
  "SigningBehavior": "always",
  "OriginAccessControlOriginType": "s3"
}
"#;

/// The bucket policy AWS documents for OAC: CloudFront may read, for this distribution only.
fn demo_bucket_policy(account: &str) -> String {
    format!(
        r#"{{
  "Version": "2012-10-17",
  "Statement": [{{
    "Sid": "AllowCloudFrontServicePrincipalReadOnly",
    "Effect": "Allow",
    "Principal": {{"Service": "cloudfront.amazonaws.com"}},
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::{DEMO_BUCKET}/*",
    "Condition": {{"StringEquals": {{"AWS:SourceArn": "arn:aws:cloudfront::{account}:distribution/{DEMO_DISTRIBUTION}"}}}}
  }}]
}}
"#
    )
}

pub async fn run(
    store: &Store,
    addr: SocketAddr,
    edge_addr: SocketAddr,
    cfg: &Config,
) -> Result<()> {
    let Some(root) = store.meta().get_user(ROOT_USER).await? else {
        anyhow::bail!("no root user")
    };
    let bucket = BucketRecord {
        name: DEMO_BUCKET.into(),
        owner: root.canonical_id.clone(),
        created_ms: now_ms(),
        region: cfg.region.clone(),
        versioning: Default::default(),
    };
    // A new bucket blocks public access and has ACLs disabled, as S3's do (the demo's policy is
    // not public).
    let configs = vec![
        (
            wharf_s3::public_access::BUCKET_PUBLIC_ACCESS_BLOCK.to_owned(),
            wharf_s3::public_access::PublicAccessBlock::ALL.to_json(),
        ),
        (
            wharf_s3::ops::acl::BUCKET_OWNERSHIP.to_owned(),
            wharf_s3::ops::acl::BUCKET_OWNER_ENFORCED.to_owned(),
        ),
    ];
    match store.create_bucket_with(bucket, configs).await {
        Ok(()) => {
            store
                .put_bytes(
                    DEMO_BUCKET,
                    "index.html",
                    &root.canonical_id,
                    bytes::Bytes::from_static(INDEX_HTML.as_bytes()),
                    Some("text/html; charset=utf-8".into()),
                )
                .await?;
        }
        Err(StoreError::BucketAlreadyOwnedByYou) => {}
        Err(e) => return Err(e.into()),
    }
    // The policy that lets the distribution in (an older demo's bucket gets it too).
    if store
        .meta()
        .bucket_config(DEMO_BUCKET, wharf_s3::bucket_policy::BUCKET_POLICY)
        .await?
        .is_none()
    {
        let policy = demo_bucket_policy(store.account_id());
        store
            .set_bucket_config(
                DEMO_BUCKET,
                wharf_s3::bucket_policy::BUCKET_POLICY,
                Some(policy),
            )
            .await?;
    }
    let dir = &cfg.edge.distributions_dir;
    let oac = dir
        .join("origin-access-controls")
        .join(format!("{DEMO_OAC}.json"));
    if !oac.exists() {
        std::fs::create_dir_all(dir.join("origin-access-controls"))?;
        std::fs::write(&oac, DEMO_OAC_JSON)?;
    }
    let file = dir.join(format!("{DEMO_DISTRIBUTION}.json"));
    if !file.exists() {
        std::fs::create_dir_all(dir)?;
        std::fs::write(&file, DEMO_DISTRIBUTION_JSON)?;
    }
    let port = addr.port();
    let edge_port = edge_addr.port();
    println!("wharf: demo bucket s3://{DEMO_BUCKET} holds index.html");
    println!(
        "  access:             the bucket is private; the distribution reads it with Origin Access Control ({}) and the bucket policy lets only that distribution in (aws s3api get-bucket-policy --bucket {DEMO_BUCKET})",
        oac.display()
    );
    println!(
        "  distribution:       {DEMO_DISTRIBUTION} ({})",
        file.display()
    );
    println!(
        "  site via the edge:  http://{DEMO_DISTRIBUTION}.localhost:{edge_port}/  (and http://{edge_addr}/)"
    );
    println!("  S3 endpoint:        http://{addr}");
    println!(
        "  virtual-host style: http://{DEMO_BUCKET}.localhost:{port}/index.html  (private: needs a signature, e.g. aws s3 presign)"
    );
    let region = &cfg.region;
    match &cfg.root_keys {
        Some(_) => {
            println!(
                "  credentials:        the root keys from WHARF_ROOT_ACCESS_KEY / WHARF_ROOT_SECRET_KEY or wharf.toml"
            );
            println!("  shell setup:        export AWS_DEFAULT_REGION={region}  (and the keys)");
        }
        None => {
            let file = cfg.data_dir.join("root-credentials");
            println!("  credentials:        {}", file.display());
            println!(
                "  shell setup:        . {} && export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION={region}",
                file.display()
            );
        }
    }
    println!("  try:  aws --endpoint-url http://{addr} s3 cp s3://{DEMO_BUCKET}/index.html -");
    println!("        aws --endpoint-url http://{addr} s3 presign s3://{DEMO_BUCKET}/index.html");
    Ok(())
}
