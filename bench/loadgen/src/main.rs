//! A small S3 load generator for `bench/`: N concurrent clients doing SigV4-signed
//! (UNSIGNED-PAYLOAD) PUTs or GETs of one object size for a fixed time, over keep-alive
//! connections with TCP_NODELAY. Prints one JSON line: requests/s, MiB/s, p50/p99 latency.
//!
//! usage: wharf-loadgen OP ENDPOINT BUCKET SIZE CONCURRENCY SECONDS [KEYS]
//!   OP = put | get | fill | get-unsigned | put-stream | get-stream | mkbucket
//!   fill: PUT KEYS objects once (for a GET run); get-unsigned: plain GET (nginx);
//!   put-stream: one streaming PUT of SIZE bytes from a generator (no buffering);
//!   get-stream: one GET of that object, counting bytes; mkbucket: CreateBucket.
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

impl Target {
    fn request(&self, method: &str, key: &str, len: Option<u64>, body: Body) -> http::Request<Body> {
        let path = if key.is_empty() { format!("/{}", self.bucket) } else { format!("/{}/{}", self.bucket, key) };
        let mut b = http::Request::builder().method(method).uri(format!("{}{}", self.endpoint, path)).header("host", &self.host);
        if let Some(n) = len {
            b = b.header("content-length", n);
        }
        if self.signed {
            let now = time::OffsetDateTime::now_utc();
            let amz_date = now.format(time::macros::format_description!("[year][month][day]T[hour][minute][second]Z")).expect("format");
            let date = &amz_date[..8];
            let canonical = format!(
                "{method}\n{path}\n\nhost:{}\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:{amz_date}\n\nhost;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD",
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
        eprintln!("usage: wharf-loadgen OP ENDPOINT BUCKET SIZE CONCURRENCY SECONDS [KEYS]");
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
    let payload = Bytes::from((0..size).map(|i| (i % 251) as u8).collect::<Vec<u8>>());

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
        let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
        let mut tasks = Vec::new();
        for k in 0..keys {
            let (client, target, payload, sem) = (client.clone(), target.clone(), payload.clone(), sem.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = sem.acquire().await;
                let resp = client.request(target.request("PUT", &format!("obj-{k}"), Some(payload.len() as u64), full(payload))).await.expect("fill");
                assert!(resp.status().is_success(), "fill PUT: {}", resp.status());
                let _ = resp.into_body().collect().await;
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
        let (client, target, payload, bytes, errors, op) = (client.clone(), target.clone(), payload.clone(), bytes.clone(), errors.clone(), op.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = 0usize;
            while Instant::now() < deadline {
                let t0 = Instant::now();
                let req = match op.as_str() {
                    "put" => target.request("PUT", &format!("put-{c}-{i}"), Some(payload.len() as u64), full(payload.clone())),
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
                            bytes.fetch_add(if op == "put" { payload.len() as u64 } else { n }, Ordering::Relaxed);
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
