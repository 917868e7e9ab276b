//! A small S3 load generator for `bench/`: N concurrent clients doing SigV4-signed
//! (UNSIGNED-PAYLOAD) PUTs or GETs of one object size for a fixed time, over keep-alive
//! connections with TCP_NODELAY. Prints one JSON line: requests/s, MiB/s, p50/p99 latency.
//!
//! usage: wharf-loadgen OP ENDPOINT BUCKET SIZE CONCURRENCY SECONDS [KEYS [VERSIONS]]
//!   OP = put | put-over | get | fill | get-unsigned | put-stream | get-stream | mkbucket |
//!        versioning | list-versions | policy | unblock
//!   fill: PUT KEYS objects VERSIONS times (default once; for a GET run); put-over: overwrite
//!   those KEYS objects; get-unsigned: plain GET (nginx);
//!   put-stream: one streaming PUT of SIZE bytes from a generator (no buffering);
//!   get-stream: one GET of that object, counting bytes; mkbucket: CreateBucket;
//!   versioning: PutBucketVersioning Enabled; list-versions: page through ListObjectVersions
//!   1,000 entries a page, timing each page; policy: PutBucketPolicy with the document on
//!   standard input; unblock: DeletePublicAccessBlock (so a public policy may be put).
//! Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sha2::{Digest, Sha256};

type Body = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

struct Target {
    endpoint: String,
    host: String,
    bucket: String,
    ak: String,
    sk: String,
    signed: bool,
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// A query string as SigV4 canonicalises it: names and values percent-encoded, sorted.
fn canonical_query(query: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect::<String>()
    };
    let mut pairs: Vec<(String, String)> = query.iter().map(|(k, v)| (enc(k), enc(v))).collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

impl Target {
    fn request(&self, method: &str, key: &str, len: Option<u64>, body: Body) -> http::Request<Body> {
        self.request_q(method, key, &[], len, body)
    }

    fn request_q(&self, method: &str, key: &str, query: &[(&str, &str)], len: Option<u64>, body: Body) -> http::Request<Body> {
        let path = if key.is_empty() { format!("/{}", self.bucket) } else { format!("/{}/{}", self.bucket, key) };
        let q = canonical_query(query);
        let uri = if q.is_empty() { format!("{}{}", self.endpoint, path) } else { format!("{}{}?{q}", self.endpoint, path) };
        let mut b = http::Request::builder().method(method).uri(uri).header("host", &self.host);
        if let Some(n) = len {
            b = b.header("content-length", n);
        }
        if self.signed {
            let now = time::OffsetDateTime::now_utc();
            let amz_date = now.format(time::macros::format_description!("[year][month][day]T[hour][minute][second]Z")).expect("format");
            let date = &amz_date[..8];
            let canonical = format!(
                "{method}\n{path}\n{q}\nhost:{}\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:{amz_date}\n\nhost;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD",
                self.host
            );
            let scope = format!("{date}/us-east-1/s3/aws4_request");
            let to_sign = format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex::encode(Sha256::digest(canonical.as_bytes())));
            let k = hmac(format!("AWS4{}", self.sk).as_bytes(), date);
            let k = hmac(&k, "us-east-1");
            let k = hmac(&k, "s3");
            let k = hmac(&k, "aws4_request");
            let sig = hex::encode(hmac(&k, &to_sign));
            b = b
                .header("x-amz-date", &amz_date)
                .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
                .header(
                    "authorization",
                    format!("AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={sig}", self.ak),
                );
        }
        b.body(body).expect("valid request")
    }
}

/// How much longer than one body the random pool is: room for distinct windows.
const POOL_SLACK: usize = 1 << 20;

/// `n` pseudo-random bytes (xorshift64*, seeded from the clock: no two runs alike).
fn random_bytes(n: usize) -> Vec<u8> {
    let mut x = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0x9e37_79b9_7f4a_7c15, |d| d.as_nanos() as u64)
        | 1;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(n);
    out
}

/// The body of request `i` of client `c`: a window of the random pool at an offset of its own,
/// with (c, i) written over its first bytes, so no two requests send the same body. Bodies up
/// to 1 MiB are copied (cheap); larger ones are a window of the pool as it is.
fn unique_body(pool: &Bytes, len: usize, c: usize, i: usize) -> Bytes {
    let slack = pool.len() - len;
    let offset = if slack == 0 { 0 } else { (i.wrapping_mul(4099) ^ c.wrapping_mul(65_537)) % slack };
    let window = pool.slice(offset..offset + len);
    if len > 1 << 20 {
        return window;
    }
    let mut b = window.to_vec();
    let stamp = [c.to_le_bytes(), i.to_le_bytes()].concat();
    let n = stamp.len().min(b.len());
    b[..n].copy_from_slice(&stamp[..n]);
    Bytes::from(b)
}

fn full(bytes: Bytes) -> Body {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

fn empty() -> Body {
    full(Bytes::new())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 7 {
        eprintln!("usage: wharf-loadgen OP ENDPOINT BUCKET SIZE CONCURRENCY SECONDS [KEYS [VERSIONS]]");
        std::process::exit(2);
    }
    let (op, endpoint, bucket) = (args[1].clone(), args[2].trim_end_matches('/').to_owned(), args[3].clone());
    let size: u64 = args[4].parse().expect("SIZE");
    let concurrency: usize = args[5].parse().expect("CONCURRENCY");
    let seconds: f64 = args[6].parse().expect("SECONDS");
    let keys: usize = args.get(7).map_or(concurrency, |k| k.parse().expect("KEYS"));
    let host = endpoint.trim_start_matches("http://").to_owned();
    let target = Arc::new(Target {
        endpoint,
        host,
        bucket,
        ak: std::env::var("AWS_ACCESS_KEY_ID").unwrap_or_default(),
        sk: std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_default(),
        signed: op != "get-unsigned",
    });
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<HttpConnector, Body> = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(concurrency * 2).build(connector);
    // PUT bodies are random and unique per request, so a server's compression or
    // deduplication is never measured as speed: each request sends a different window of a
    // random pool (made once; xorshift, as fast as memory), stamped with its own counter.
    let pool = Bytes::from(random_bytes(usize::try_from(size).unwrap_or(0) + POOL_SLACK));
    let payload = pool.slice(..usize::try_from(size).unwrap_or(0));

    if op == "versioning" {
        let xml = Bytes::from_static(b"<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>Enabled</Status></VersioningConfiguration>");
        let resp = client.request(target.request_q("PUT", "", &[("versioning", "")], Some(xml.len() as u64), full(xml))).await.expect("request");
        println!("{{\"op\":\"versioning\",\"status\":{}}}", resp.status().as_u16());
        return;
    }
    if op == "unblock" {
        let resp = client.request(target.request_q("DELETE", "", &[("publicAccessBlock", "")], Some(0), empty())).await.expect("request");
        println!("{{\"op\":\"unblock\",\"status\":{}}}", resp.status().as_u16());
        return;
    }
    if op == "policy" {
        // PutBucketPolicy with the document read from standard input.
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).expect("policy on stdin");
        let body = Bytes::from(text);
        let resp = client.request(target.request_q("PUT", "", &[("policy", "")], Some(body.len() as u64), full(body))).await.expect("request");
        println!("{{\"op\":\"policy\",\"status\":{}}}", resp.status().as_u16());
        return;
    }
    if op == "list-versions" {
        // Pages through ListObjectVersions 1,000 entries at a time, timing each page.
        let mut pages = Vec::new();
        let (mut key_marker, mut version_marker) = (String::new(), String::new());
        let mut entries = 0usize;
        let started = Instant::now();
        loop {
            let mut q = vec![("versions", ""), ("max-keys", "1000")];
            if !key_marker.is_empty() {
                q.push(("key-marker", &key_marker));
                q.push(("version-id-marker", &version_marker));
            }
            let t0 = Instant::now();
            let resp = client.request(target.request_q("GET", "", &q, None, empty())).await.expect("request");
            assert!(resp.status().is_success(), "ListObjectVersions: {}", resp.status());
            let body = resp.into_body().collect().await.expect("body").to_bytes();
            pages.push(t0.elapsed());
            let text = String::from_utf8_lossy(&body);
            entries += text.matches("<Version>").count() + text.matches("<DeleteMarker>").count();
            let tag = |name: &str| text.split(&format!("<{name}>")).nth(1).and_then(|r| r.split(&format!("</{name}>")).next()).map(str::to_owned);
            if tag("IsTruncated").as_deref() != Some("true") {
                break;
            }
            key_marker = tag("NextKeyMarker").unwrap_or_default();
            version_marker = tag("NextVersionIdMarker").unwrap_or_default();
        }
        let secs = started.elapsed().as_secs_f64();
        pages.sort();
        let pct = |p: f64| pages.get(((pages.len() as f64 * p) as usize).min(pages.len().saturating_sub(1))).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        println!("{{\"op\":\"list-versions\",\"entries\":{entries},\"pages\":{},\"seconds\":{secs:.3},\"page_p50_ms\":{:.3},\"page_p99_ms\":{:.3}}}", pages.len(), pct(0.5), pct(0.99));
        return;
    }
    if op == "mkbucket" {
        let resp = client.request(target.request("PUT", "", Some(0), empty())).await.expect("request");
        println!("{{\"op\":\"mkbucket\",\"status\":{}}}", resp.status().as_u16());
        return;
    }
    if op == "get-stream" {
        let started = Instant::now();
        let resp = client.request(target.request("GET", "stream-object", None, empty())).await.expect("request");
        let status = resp.status();
        let mut body = resp.into_body();
        let mut n = 0u64;
        while let Some(Ok(f)) = body.frame().await {
            n += f.data_ref().map_or(0, |d| d.len() as u64);
        }
        let secs = started.elapsed().as_secs_f64();
        println!("{{\"op\":\"get-stream\",\"size\":{n},\"status\":{},\"seconds\":{secs:.3},\"mib_per_s\":{:.1}}}", status.as_u16(), n as f64 / secs / (1 << 20) as f64);
        return;
    }
    if op == "fill" || op == "put-stream" {
        let started = Instant::now();
        let body: Body = if op == "put-stream" {
            // A body generated on the fly: 1 MiB chunks of one buffer, never the whole object.
            let chunk = Bytes::from(vec![7u8; 1 << 20]);
            let n = size.div_ceil(1 << 20);
            let last = size - (n.saturating_sub(1)) * (1 << 20);
            let stream = futures::stream::iter((0..n).map(move |i| {
                let c = if i + 1 == n { chunk.slice(..usize::try_from(last).unwrap_or(0)) } else { chunk.clone() };
                Ok::<_, std::io::Error>(hyper::body::Frame::data(c))
            }));
            BodyExt::boxed(StreamBody::new(stream))
        } else {
            empty()
        };
        if op == "put-stream" {
            let resp = client.request(target.request("PUT", "stream-object", Some(size), body)).await.expect("request");
            let status = resp.status();
            let _ = resp.into_body().collect().await;
            let secs = started.elapsed().as_secs_f64();
            println!("{{\"op\":\"put-stream\",\"size\":{size},\"status\":{},\"seconds\":{secs:.3},\"mib_per_s\":{:.1}}}", status.as_u16(), size as f64 / secs / (1 << 20) as f64);
            return;
        }
        // Each key is written VERSIONS times (default once), one write after the other.
        let versions: usize = args.get(8).map_or(1, |v| v.parse().expect("VERSIONS"));
        let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
        let mut tasks = Vec::new();
        for k in 0..keys {
            let (client, target, pool, len, sem) = (client.clone(), target.clone(), pool.clone(), payload.len(), sem.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = sem.acquire().await;
                for v in 0..versions {
                    let body = unique_body(&pool, len, usize::MAX - v, k);
                    let resp = client.request(target.request("PUT", &format!("obj-{k}"), Some(body.len() as u64), full(body))).await.expect("fill");
                    assert!(resp.status().is_success(), "fill PUT: {}", resp.status());
                    let _ = resp.into_body().collect().await;
                }
            }));
        }
        for t in tasks {
            t.await.expect("fill task");
        }
        println!("{{\"op\":\"fill\",\"keys\":{keys},\"size\":{size},\"seconds\":{:.3}}}", started.elapsed().as_secs_f64());
        return;
    }

    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let bytes = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..concurrency {
        let (client, target, payload, bytes, errors, op, pool) = (client.clone(), target.clone(), payload.clone(), bytes.clone(), errors.clone(), op.clone(), pool.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = 0usize;
            while Instant::now() < deadline {
                let t0 = Instant::now();
                let req = match op.as_str() {
                    "put" => target.request("PUT", &format!("put-{c}-{i}"), Some(payload.len() as u64), full(unique_body(&pool, payload.len(), c, i))),
                    // Overwrites of the KEYS objects a fill wrote (new versions in a versioned bucket).
                    "put-over" => target.request("PUT", &format!("obj-{}", (c + i * concurrency) % keys), Some(payload.len() as u64), full(unique_body(&pool, payload.len(), c, i))),
                    _ => target.request("GET", &format!("obj-{}", (c + i * concurrency) % keys), None, empty()),
                };
                i += 1;
                match client.request(req).await {
                    Ok(resp) => {
                        let ok = resp.status().is_success();
                        let mut body = resp.into_body();
                        let mut n = 0u64;
                        while let Some(frame) = body.frame().await {
                            match frame {
                                Ok(f) => n += f.data_ref().map_or(0, |d| d.len() as u64),
                                Err(_) => break,
                            }
                        }
                        if ok {
                            bytes.fetch_add(if op.starts_with("put") { payload.len() as u64 } else { n }, Ordering::Relaxed);
                            lat.push(t0.elapsed());
                        } else {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("task"));
    }
    let secs = started.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1))).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    println!(
        "{{\"op\":\"{op}\",\"size\":{size},\"concurrency\":{concurrency},\"requests\":{},\"errors\":{},\"seconds\":{secs:.3},\"req_per_s\":{:.1},\"mib_per_s\":{:.1},\"p50_ms\":{:.3},\"p99_ms\":{:.3}}}",
        lat.len(),
        errors.load(Ordering::Relaxed),
        lat.len() as f64 / secs,
        bytes.load(Ordering::Relaxed) as f64 / secs / (1 << 20) as f64,
        pct(0.5),
        pct(0.99)
    );
}
