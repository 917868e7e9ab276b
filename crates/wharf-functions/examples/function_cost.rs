//! What a viewer-request function adds to a request, in process: the event built from a
//! browser-like request, AWS's URL-rewrite example run on it, and its result read back, as the
//! edge does for every request of a behavior with the function. Prints the time per call
//! (median of 5 batches). Used by `bench/functions.sh`.
//!
//!     cargo run --release --example function_cost -p wharf-functions
//!
//! Under callgrind (instructions per call, repeatably):
//!
//!     FUNCTION_COST_CALLS=2000 valgrind --tool=callgrind target/release/examples/function_cost

use std::time::Instant;

use http::{HeaderMap, HeaderValue};
use wharf_functions::event::{
    EventContext, EventType, ViewerRequest, request_outcome, viewer_request_event,
};
use wharf_functions::{Function, JsRuntime};

const URL_REWRITE: &str = r#"
function handler(event) {
    var request = event.request;
    var uri = request.uri;
    if (uri.endsWith('/')) {
        request.uri += 'index.html';
    } else if (!uri.includes('.')) {
        request.uri += '/index.html';
    }
    return request;
}"#;

fn main() {
    let mut headers = HeaderMap::new();
    for (n, v) in [
        ("host", "e2qwruhapomqzl.cloudfront.localhost"),
        (
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
        ),
        (
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        ),
        ("accept-language", "en-GB,en;q=0.9"),
        ("accept-encoding", "gzip, deflate, br"),
        ("cookie", "session=abc123; theme=dark"),
        ("cloudfront-viewer-country", "GB"),
    ] {
        headers.insert(n, HeaderValue::from_static(v));
    }
    let f = Function::new("rewrite", "E1", JsRuntime::V2, URL_REWRITE);
    let ectx = EventContext {
        distribution_id: "E2QWRUHAPOMQZL",
        distribution_domain: "e2qwruhapomqzl.cloudfront.localhost",
        request_id: "req",
        event_type: EventType::ViewerRequest,
    };
    let req = ViewerRequest {
        method: "GET",
        uri: "/blog/",
        query: Some("utm_source=x&page=2"),
        headers: &headers,
        viewer_ip: Some("198.51.100.11"),
    };
    // As the edge calls it: the event built in JavaScript, the request read straight back.
    let call = || {
        f.run_viewer_request(&ectx, &req)
            .output
            .expect("the function runs")
    };
    call();
    // `FUNCTION_COST_CALLS` makes the batches smaller (for callgrind).
    let n: u32 = std::env::var("FUNCTION_COST_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let mut batches = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(call());
        }
        batches.push(t.elapsed() / n);
    }
    batches.sort();
    // The JSON path (TestFunction's, and the viewer-response event's) for comparison: the
    // event as JSON, the run on it, the result read back.
    let t = Instant::now();
    let mut ev = None;
    for _ in 0..n {
        ev = Some(std::hint::black_box(viewer_request_event(&ectx, &req)));
    }
    let event_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    let ev = ev.expect("built");
    let t = Instant::now();
    let mut out = None;
    for _ in 0..n {
        out = Some(std::hint::black_box(f.run(&ev).output.expect("runs")));
    }
    let run_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    let out = out.expect("ran");
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(request_outcome(&out).expect("a request"));
    }
    let outcome_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    eprintln!(
        "the JSON path: event {event_us:.2} us, run {run_us:.2} us, outcome {outcome_us:.2} us"
    );
    println!(
        "{{\"per_call_us\": {:.2}, \"batches_us\": [{}]}}",
        batches[2].as_secs_f64() * 1e6,
        batches
            .iter()
            .map(|b| format!("{:.2}", b.as_secs_f64() * 1e6))
            .collect::<Vec<_>>()
            .join(", ")
    );
}
