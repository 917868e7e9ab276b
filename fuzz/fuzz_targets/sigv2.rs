//! SigV2, end to end: requests carrying SigV2 signatures (header `Authorization: AWS AK:sig`,
//! or presigned `AWSAccessKeyId`/`Signature`/`Expires`) built from fuzz input go through the
//! whole S3 endpoint (our checks, s3s's SigV2 parser and verifier, the operations) over a real
//! store. Nothing panics, and nothing whose signature was not made with the secret passes.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use wharf_s3::{EndpointConfig, S3Endpoint};

struct World {
    rt: tokio::runtime::Runtime,
    endpoint: S3Endpoint,
    _dir: tempfile::TempDir,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let endpoint = rt.block_on(async {
            let store = wharf_store::Store::open(dir.path()).await.unwrap();
            let user = wharf_auth::new_user("root").unwrap();
            let key = wharf_model::AccessKey::given("root", "AKIAFUZZ", "fuzz-secret-key").unwrap();
            store.meta().create_user(user.clone(), key).await.unwrap();
            store
                .create_bucket(wharf_store::BucketRecord {
                    name: "bucket".into(),
                    owner: user.canonical_id,
                    created_ms: 0,
                    region: "us-east-1".into(),
                })
                .await
                .unwrap();
            S3Endpoint::new(
                store,
                EndpointConfig {
                    region: "us-east-1".into(),
                    regions: vec!["us-east-1".into()],
                    domains: vec!["localhost".into()],
                    allow_sigv2: true,
                },
            )
        });
        World { rt, endpoint, _dir: dir }
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (mode, rest) = (data[0], &data[1..]);
    let text = String::from_utf8_lossy(rest);
    let mut fields = text.splitn(4, '\n');
    let mut next = || fields.next().unwrap_or_default().to_owned();
    let (path, signature, date, method) = (next(), next(), next(), next());
    let method = match method.len() % 4 {
        0 => http::Method::GET,
        1 => http::Method::PUT,
        2 => http::Method::DELETE,
        _ => http::Method::HEAD,
    };
    let path = if path.starts_with('/') { path } else { format!("/bucket/{path}") };
    let enc = |s: &str| s.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
    let uri = if mode & 1 == 0 {
        path.clone()
    } else {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{path}{sep}AWSAccessKeyId=AKIAFUZZ&Expires={}&Signature={}", enc(&date), enc(&signature))
    };
    let Ok(uri) = uri.parse::<http::Uri>() else { return };
    let mut b = http::Request::builder().method(method).uri(uri).header("host", "127.0.0.1:9000");
    if mode & 1 == 0 {
        b = b.header("authorization", format!("AWS AKIAFUZZ:{signature}"));
        if let Ok(v) = http::HeaderValue::from_str(&date) {
            b = b.header("date", v);
        }
    }
    let Ok(req) = b.body(s3s::Body::from(bytes::Bytes::from(rest.to_vec()))) else { return };
    let w = world();
    let resp = w.rt.block_on(w.endpoint.call(req));
    // A signature not made with the secret never gets anything done.
    assert!(!resp.status().is_success(), "{:?} passed with a fuzzed signature", resp.status());
});
