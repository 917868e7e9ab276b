//! `wharf invalidate`: a CreateInvalidation request to a running node, signed with SigV4 as
//! the AWS CLI signs it.

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use wharf_auth::sigv4;

/// The text of each `<name>` element in a CloudFront response document, in document order.
fn elements(xml: &str, name: &str) -> Vec<String> {
    fn walk(el: &wharf_control::xml::Element, name: &str, out: &mut Vec<String>) {
        if el.name == name {
            out.push(el.text.clone());
        }
        for c in &el.children {
            walk(c, name, out);
        }
    }
    let mut out = Vec::new();
    if let Ok(root) = wharf_control::xml::parse(xml.as_bytes()) {
        walk(&root, name, &mut out);
    }
    out
}

pub async fn run(endpoint: &str, distribution_id: &str, paths: &[String]) -> Result<()> {
    let (Ok(ak), Ok(sk)) = (
        std::env::var("WHARF_ROOT_ACCESS_KEY"),
        std::env::var("WHARF_ROOT_SECRET_KEY"),
    ) else {
        bail!("set WHARF_ROOT_ACCESS_KEY and WHARF_ROOT_SECRET_KEY to the node's root credentials");
    };
    let base: http::Uri = endpoint.parse().context("invalid --endpoint")?;
    let authority = base
        .authority()
        .context("--endpoint needs a host")?
        .to_string();
    let path = format!("/2020-05-31/distribution/{distribution_id}/invalidation");
    let caller = format!("wharf-{}", std::process::id());
    let items: String = paths
        .iter()
        .map(|p| {
            format!(
                "<Path>{}</Path>",
                p.replace('&', "&amp;").replace('<', "&lt;")
            )
        })
        .collect();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><InvalidationBatch xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\"><Paths><Quantity>{}</Quantity><Items>{items}</Items></Paths><CallerReference>{caller}</CallerReference></InvalidationBatch>",
        paths.len()
    );
    let amz_date = time::OffsetDateTime::now_utc().format(time::macros::format_description!(
        "[year][month][day]T[hour][minute][second]Z"
    ))?;
    let payload = sigv4::sha256_hex(body.as_bytes());
    let headers = vec![
        ("host".to_owned(), authority.clone()),
        ("x-amz-date".to_owned(), amz_date.clone()),
    ];
    let canonical = sigv4::Canonical {
        method: "POST",
        path: &path,
        query: "",
        headers: &headers,
        payload_sha256: &payload,
    };
    let auth = sigv4::authorization(&canonical, &ak, &sk, &amz_date, "us-east-1", "cloudfront");
    let scheme = base.scheme_str().unwrap_or("http");
    let req = http::Request::post(format!("{scheme}://{authority}{path}"))
        .header(header::HOST, &authority)
        .header("x-amz-date", &amz_date)
        .header(header::AUTHORIZATION, HeaderValue::from_str(&auth)?)
        .header(header::CONTENT_TYPE, "text/xml")
        .body(Full::new(Bytes::from(body)))?;
    let client = Client::builder(TokioExecutor::new()).build_http();
    let resp = client
        .request(req)
        .await
        .context("sending the invalidation")?;
    let status = resp.status();
    let text = resp.into_body().collect().await?.to_bytes();
    let text = String::from_utf8_lossy(&text);
    if !status.is_success() {
        let code = elements(&text, "Code")
            .into_iter()
            .next()
            .unwrap_or_default();
        let msg = elements(&text, "Message")
            .into_iter()
            .next()
            .unwrap_or_default();
        bail!("{status}: {code}: {msg}");
    }
    let id = elements(&text, "Id").into_iter().next().unwrap_or_default();
    let st = elements(&text, "Status")
        .into_iter()
        .next()
        .unwrap_or_default();
    println!("{id}\t{st}");
    Ok(())
}
