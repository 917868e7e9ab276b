//! `wharf serve --demo`: on a new data directory, a private bucket `demo-site` with an
//! `index.html` (and `blog/index.html`), and a distribution that reads it through Origin
//! Access Control with the bucket policy AWS documents for OAC (only that distribution may
//! read) and runs CloudFront's most common function, made through the control API, which
//! serves a directory's `index.html` (`/blog/` → `/blog/index.html`); then the URLs and
//! credentials to use it.

use std::net::SocketAddr;

use std::sync::Arc;

use anyhow::{Context as _, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wharf_control::Control;
use wharf_control::state::Kind;
use wharf_store::{BucketRecord, Store, StoreError, now_ms};

use crate::config::Config;
use crate::root::ROOT_USER;

pub const DEMO_BUCKET: &str = "demo-site";

const INDEX_HTML: &str = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Wharf demo</title></head>\n<body><h1>Hello from Wharf</h1><p>This page is the object <code>index.html</code> in the bucket <code>demo-site</code>.</p></body></html>\n";

/// The demo distribution's ID: it answers on `demo.localhost` and, as the default
/// distribution, on any other host name.
pub const DEMO_DISTRIBUTION: &str = "demo";

const BLOG_INDEX_HTML: &str = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Wharf demo blog</title></head>\n<body><h1>The blog</h1><p>This page is <code>blog/index.html</code>: the CloudFront Function <code>demo-index-rewrite</code> turned the request for <code>/blog/</code> into one for it.</p></body></html>\n";

/// The demo's CloudFront Function, made through the control API and published.
pub const DEMO_FUNCTION: &str = "demo-index-rewrite";
/// AWS's example "add index.html to request URLs that don't include a file name".
const DEMO_FUNCTION_CODE: &str = r#"// Wharf demo: a request for a directory gets its index document
// (/blog/ -> /blog/index.html, /about -> /about/index.html), as in AWS's examples.
function handler(event) {
    var request = event.request;
    var uri = request.uri;
    if (uri.endsWith('/')) {
        request.uri += 'index.html';
    } else if (!uri.includes('.')) {
        request.uri += '/index.html';
    }
    return request;
}
"#;

/// A CloudFront `DistributionConfig` in the CLI's JSON form, in front of the demo bucket;
/// `FUNCTION_ARN` stands for the demo function's ARN.
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
    "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
    "FunctionAssociations": {"Quantity": 1, "Items": [
      {"FunctionARN": "FUNCTION_ARN", "EventType": "viewer-request"}]}
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

/// One control API request made on the root's behalf; answers the body, or fails with the
/// API's error.
async fn control_call(
    control: &Arc<Control>,
    method: &str,
    target: &str,
    if_match: Option<&str>,
    body: String,
) -> Result<(http::HeaderMap, String)> {
    let mut req = http::Request::builder().method(method).uri(target);
    if let Some(etag) = if_match {
        req = req.header("if-match", etag);
    }
    let resp = control
        .handle_as_root(req.body(Full::new(Bytes::from(body)))?)
        .await;
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = String::from_utf8_lossy(&resp.into_body().collect().await?.to_bytes()).into_owned();
    if !status.is_success() {
        anyhow::bail!("{method} {target}: {status}: {text}");
    }
    Ok((headers, text))
}

/// The demo function, created and published through the control API unless it exists.
async fn ensure_function(control: &Arc<Control>) -> Result<String> {
    let arn = control.arn(Kind::Function, DEMO_FUNCTION);
    let live = format!("/2020-05-31/function/{DEMO_FUNCTION}/describe?Stage=LIVE");
    if control_call(control, "GET", &live, None, String::new())
        .await
        .is_ok()
    {
        return Ok(arn);
    }
    let create = format!(
        "<CreateFunctionRequest xmlns=\"{}\"><Name>{DEMO_FUNCTION}</Name><FunctionConfig><Comment>Wharf demo: serve a directory's index.html</Comment><Runtime>cloudfront-js-2.0</Runtime></FunctionConfig><FunctionCode>{}</FunctionCode></CreateFunctionRequest>",
        wharf_control::service_model::XMLNS,
        base64_simd::STANDARD.encode_to_string(DEMO_FUNCTION_CODE)
    );
    let (headers, _) = control_call(control, "POST", "/2020-05-31/function", None, create).await?;
    let etag = headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .context("CreateFunction answered no ETag")?
        .to_owned();
    let publish = format!("/2020-05-31/function/{DEMO_FUNCTION}/publish");
    control_call(control, "POST", &publish, Some(&etag), String::new()).await?;
    Ok(arn)
}

pub async fn run(
    store: &Store,
    control: &Arc<Control>,
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
            store
                .put_bytes(
                    DEMO_BUCKET,
                    "blog/index.html",
                    &root.canonical_id,
                    bytes::Bytes::from_static(BLOG_INDEX_HTML.as_bytes()),
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
    let function_arn = ensure_function(control).await?;
    let file = dir.join(format!("{DEMO_DISTRIBUTION}.json"));
    if !file.exists() {
        std::fs::create_dir_all(dir)?;
        std::fs::write(
            &file,
            DEMO_DISTRIBUTION_JSON.replace("FUNCTION_ARN", &function_arn),
        )?;
    }
    let port = addr.port();
    let edge_port = edge_addr.port();
    println!("wharf: demo bucket s3://{DEMO_BUCKET} holds index.html and blog/index.html");
    println!(
        "  access:             the bucket is private; the distribution reads it with Origin Access Control ({}) and the bucket policy lets only that distribution in (aws s3api get-bucket-policy --bucket {DEMO_BUCKET})",
        oac.display()
    );
    println!(
        "  distribution:       {DEMO_DISTRIBUTION} ({})",
        file.display()
    );
    println!(
        "  function:           {DEMO_FUNCTION} (CloudFront Function on viewer requests: /blog/ -> /blog/index.html; aws cloudfront describe-function --name {DEMO_FUNCTION})"
    );
    println!(
        "  site via the edge:  http://{DEMO_DISTRIBUTION}.localhost:{edge_port}/  and /blog/  (and http://{edge_addr}/)"
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
