//! The S3 API's Prometheus metrics: requests by operation and status, bytes in and out by
//! operation, and the time to each response's head by operation.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The operation of a request that never reached one (a bad signature, a refused header).
pub const NO_OPERATION: &str = "Unknown";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationStatus {
    operation: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Operation {
    operation: &'static str,
}

fn latency() -> Histogram {
    // 0.5 ms to ~16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The operation name as a `&'static str` (s3s lends it only for the check): each of the
/// hundred or so names is leaked once.
pub fn intern(name: &str) -> &'static str {
    static NAMES: std::sync::RwLock<Vec<&'static str>> = std::sync::RwLock::new(Vec::new());
    let read = |names: &[&'static str]| names.iter().copied().find(|n| *n == name);
    if let Some(n) = read(
        &NAMES
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    ) {
        return n;
    }
    let mut names = NAMES
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(n) = read(&names) {
        return n;
    }
    let n: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.push(n);
    n
}

/// Where s3s's access check writes the name of the operation a request resolved to, for the
/// endpoint to count it under (a request extension).
#[derive(Clone, Debug, Default)]
pub struct OperationName(Arc<OnceLock<&'static str>>);

impl OperationName {
    pub fn set(&self, name: &'static str) {
        let _ = self.0.set(name);
    }

    pub fn get(&self) -> &'static str {
        self.0.get().copied().unwrap_or(NO_OPERATION)
    }
}

#[derive(Debug)]
pub struct S3Metrics {
    requests: Family<OperationStatus, Counter>,
    received: Family<Operation, Counter>,
    sent: Family<Operation, Counter>,
    duration: Family<Operation, Histogram, fn() -> Histogram>,
}

impl S3Metrics {
    /// The families, registered under `wharf_s3_…` in `registry`.
    pub fn register(registry: &mut Registry) -> Arc<Self> {
        let m = Self {
            requests: Family::default(),
            received: Family::default(),
            sent: Family::default(),
            duration: Family::new_with_constructor(latency),
        };
        let r = registry.sub_registry_with_prefix("wharf_s3");
        r.register(
            "requests",
            "S3 API requests by operation and HTTP status",
            m.requests.clone(),
        );
        r.register(
            "received_bytes",
            "Request body bytes (as declared by Content-Length or x-amz-decoded-content-length) by operation",
            m.received.clone(),
        );
        r.register(
            "sent_bytes",
            "Response body bytes by operation (counted when a response starts if its length is known, else as it is sent)",
            m.sent.clone(),
        );
        r.register(
            "request_duration_seconds",
            "Time from a request's arrival to its response head, by operation",
            m.duration.clone(),
        );
        Arc::new(m)
    }

    /// One answered request. Returns the counter for body bytes sent when the response's
    /// length was not known (`sent_known` is `None`): the caller counts them as they go.
    pub fn answered(
        &self,
        operation: &'static str,
        status: u16,
        elapsed: Duration,
        received: u64,
        sent_known: Option<u64>,
    ) -> Option<Counter> {
        self.requests
            .get_or_create(&OperationStatus { operation, status })
            .inc();
        let op = Operation { operation };
        self.duration
            .get_or_create(&op)
            .observe(elapsed.as_secs_f64());
        if received > 0 {
            self.received.get_or_create(&op).inc_by(received);
        }
        let sent = self.sent.get_or_create(&op).clone();
        match sent_known {
            Some(n) => {
                if n > 0 {
                    sent.inc_by(n);
                }
                None
            }
            None => Some(sent),
        }
    }
}
