//! The edge's Prometheus metrics, per distribution: requests by status class and result,
//! response bytes by result (the inputs of hit ratios in requests and in bytes), origin
//! latency and errors, collapsed waiters, invalidations, access log lines dropped and files
//! delivered; and the cache tiers' size and evictions, read from the cache when scraped.
//!
//! A request pays for a few atomic additions and nothing else: each distribution resolves its
//! counters once ([`DistributionMetrics`], kept on the distribution), so the hit path never
//! hashes a label set or takes a lock.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use prometheus_client::collector::Collector;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet,
};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;

use crate::cache::Cache;
use crate::headers::CacheStatus;
use crate::origin::FailoverReason;

/// A counter split into cache-line-sized slots, one per worker thread (modulo [`SHARDS`]):
/// the hit path adds to its own thread's slot, so cores do not fight over one cache line; a
/// scrape sums the slots.
#[derive(Clone, Debug, Default)]
pub struct ShardedCounter(Arc<[Slot; SHARDS]>);

const SHARDS: usize = 16;

#[derive(Debug, Default)]
#[repr(align(128))]
struct Slot(AtomicU64);

fn shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    SHARD.with(|s| *s)
}

impl ShardedCounter {
    pub fn inc_by(&self, n: u64) {
        self.0[shard()].0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }
}

impl TypedMetric for ShardedCounter {
    const TYPE: MetricType = MetricType::Counter;
}

impl EncodeMetric for ShardedCounter {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        encoder.encode_counter::<NoLabelSet, _, u64>(&self.get(), None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// The result a request is counted under: CloudFront's `x-edge-result-type`, plus `Pass` for
/// requests the behavior does not cache (CloudFront says `Miss` for those too).
const RESULTS: [CacheStatus; 7] = [
    CacheStatus::Hit,
    CacheStatus::RefreshHit,
    CacheStatus::Miss,
    CacheStatus::Pass,
    CacheStatus::Error,
    CacheStatus::Redirect,
    CacheStatus::FunctionGenerated,
];

fn result_index(s: CacheStatus) -> usize {
    RESULTS.iter().position(|r| *r == s).unwrap_or(0)
}

fn result_label(s: CacheStatus) -> &'static str {
    match s {
        CacheStatus::Hit => "Hit",
        CacheStatus::RefreshHit => "RefreshHit",
        CacheStatus::Miss => "Miss",
        CacheStatus::Pass => "Pass",
        CacheStatus::Error => "Error",
        CacheStatus::Redirect => "Redirect",
        CacheStatus::FunctionGenerated => "FunctionGeneratedResponse",
    }
}

const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Why an origin request failed: no connection, no answer in time, or a 5xx answer.
const ORIGIN_ERRORS: [&str; 3] = ["connect", "timeout", "5xx"];

/// The distribution label of requests that matched none.
pub const NO_DISTRIBUTION: &str = "-";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    distribution: String,
    status_class: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    distribution: String,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DistributionLabel {
    distribution: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FunctionLabels {
    distribution: String,
    event_type: &'static str,
    /// `ok`, `error` (it threw or returned nothing valid) or `limit` (stopped).
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OriginErrorLabels {
    distribution: String,
    kind: &'static str,
}

fn origin_latency() -> Histogram {
    // 1 ms to ~33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The edge's metric families, registered once.
#[derive(Debug)]
pub struct EdgeMetrics {
    requests: Family<RequestLabels, ShardedCounter>,
    response_bytes: Family<ResultLabels, ShardedCounter>,
    origin_duration: Family<DistributionLabel, Histogram, fn() -> Histogram>,
    origin_errors: Family<OriginErrorLabels, Counter>,
    collapsed: Family<DistributionLabel, Counter>,
    invalidations: Family<DistributionLabel, Counter>,
    functions: Family<FunctionLabels, Counter>,
    log_lines_dropped: Family<DistributionLabel, Counter>,
    log_files: Family<DistributionLabel, Counter>,
    log_delivery_failures: Family<DistributionLabel, Counter>,
    unmatched: std::sync::OnceLock<Arc<DistributionMetrics>>,
}

impl EdgeMetrics {
    /// The families, registered under `wharf_edge_…` in `registry`, and the cache's tiers.
    pub fn register(registry: &mut Registry, cache: Arc<Cache>) -> Arc<Self> {
        let m = Self {
            requests: Family::default(),
            response_bytes: Family::default(),
            origin_duration: Family::new_with_constructor(origin_latency),
            origin_errors: Family::default(),
            collapsed: Family::default(),
            invalidations: Family::default(),
            functions: Family::default(),
            log_lines_dropped: Family::default(),
            log_files: Family::default(),
            log_delivery_failures: Family::default(),
            unmatched: std::sync::OnceLock::new(),
        };
        let r = registry.sub_registry_with_prefix("wharf_edge");
        r.register(
            "requests",
            "Viewer requests, by distribution, status class and result (x-edge-result-type; Pass: not cached by its behavior)",
            m.requests.clone(),
        );
        r.register(
            "response_bytes",
            "Body bytes of viewer responses by distribution and result (counted when a response starts if its length is known, else as it is sent)",
            m.response_bytes.clone(),
        );
        r.register(
            "origin_request_duration_seconds",
            "Time from sending an origin request to its response head (or failure)",
            m.origin_duration.clone(),
        );
        r.register(
            "origin_errors",
            "Origin requests that failed, by kind: connect, timeout, 5xx",
            m.origin_errors.clone(),
        );
        r.register(
            "collapsed_waiters",
            "Viewer requests that waited for another viewer's origin request to the same key",
            m.collapsed.clone(),
        );
        r.register(
            "invalidations",
            "Invalidations created",
            m.invalidations.clone(),
        );
        r.register(
            "function_invocations",
            "CloudFront Function invocations, by event type and result",
            m.functions.clone(),
        );
        r.register(
            "log_lines_dropped",
            "Access log lines dropped because the delivery queue was full",
            m.log_lines_dropped.clone(),
        );
        r.register(
            "log_files_delivered",
            "Access log files delivered to their bucket",
            m.log_files.clone(),
        );
        r.register(
            "log_delivery_failures",
            "Access log files the bucket did not take (dropped)",
            m.log_delivery_failures.clone(),
        );
        r.register_collector(Box::new(CacheTiers(cache)));
        Arc::new(m)
    }

    /// A distribution's counters, resolved once (kept on its [`Distribution`]).
    ///
    /// [`Distribution`]: crate::distribution::Distribution
    pub fn distribution(&self, id: &str) -> DistributionMetrics {
        let dist = || id.to_owned();
        let requests = std::array::from_fn(|class| {
            std::array::from_fn(|result| {
                self.requests
                    .get_or_create(&RequestLabels {
                        distribution: dist(),
                        status_class: CLASSES[class],
                        result: result_label(RESULTS[result]),
                    })
                    .clone()
            })
        });
        let response_bytes = std::array::from_fn(|result| {
            self.response_bytes
                .get_or_create(&ResultLabels {
                    distribution: dist(),
                    result: result_label(RESULTS[result]),
                })
                .clone()
        });
        let label = DistributionLabel {
            distribution: dist(),
        };
        DistributionMetrics {
            requests,
            response_bytes,
            origin_duration: self.origin_duration.get_or_create(&label).clone(),
            origin_errors: std::array::from_fn(|kind| {
                self.origin_errors
                    .get_or_create(&OriginErrorLabels {
                        distribution: dist(),
                        kind: ORIGIN_ERRORS[kind],
                    })
                    .clone()
            }),
            collapsed: self.collapsed.get_or_create(&label).clone(),
            log_lines_dropped: self.log_lines_dropped.get_or_create(&label).clone(),
        }
    }

    /// An access log file of distribution `id` delivered.
    pub fn log_file_delivered(&self, id: &str) {
        self.log_files
            .get_or_create(&DistributionLabel {
                distribution: id.to_owned(),
            })
            .inc();
    }

    /// An access log file of distribution `id` the sink refused.
    pub fn log_delivery_failed(&self, id: &str) {
        self.log_delivery_failures
            .get_or_create(&DistributionLabel {
                distribution: id.to_owned(),
            })
            .inc();
    }

    /// An invalidation created for distribution `id`.
    pub fn invalidation(&self, id: &str) {
        self.invalidations
            .get_or_create(&DistributionLabel {
                distribution: id.to_owned(),
            })
            .inc();
    }

    /// A CloudFront Function ran for distribution `id` on `event_type`.
    pub fn function(&self, id: &str, event_type: &'static str, result: &'static str) {
        self.functions
            .get_or_create(&FunctionLabels {
                distribution: id.to_owned(),
                event_type,
                result,
            })
            .inc();
    }

    /// The counters of requests that matched no distribution.
    pub fn unmatched(&self) -> &DistributionMetrics {
        self.unmatched
            .get_or_init(|| Arc::new(self.distribution(NO_DISTRIBUTION)))
    }
}

/// One distribution's counters; counting is an atomic addition.
#[derive(Debug)]
pub struct DistributionMetrics {
    requests: [[ShardedCounter; RESULTS.len()]; CLASSES.len()],
    response_bytes: [ShardedCounter; RESULTS.len()],
    origin_duration: Histogram,
    origin_errors: [Counter; ORIGIN_ERRORS.len()],
    collapsed: Counter,
    log_lines_dropped: Counter,
}

impl DistributionMetrics {
    /// A viewer response: its status, result and (declared) body length.
    pub fn response(&self, status: StatusCode, result: CacheStatus, body_bytes: u64) {
        let class = usize::from(status.as_u16() / 100)
            .saturating_sub(1)
            .min(CLASSES.len() - 1);
        let r = result_index(result);
        self.requests[class][r].inc_by(1);
        if body_bytes > 0 {
            self.response_bytes[r].inc_by(body_bytes);
        }
    }

    /// The counter of body bytes for `result`, for a body whose length was not declared:
    /// counted as it is sent.
    pub fn response_bytes(&self, result: CacheStatus) -> ShardedCounter {
        self.response_bytes[result_index(result)].clone()
    }

    /// One origin request: how long until its answer, and how it failed if it did.
    pub fn origin_request(
        &self,
        elapsed: Duration,
        status: Option<StatusCode>,
        error: Option<FailoverReason>,
    ) {
        self.origin_duration.observe(elapsed.as_secs_f64());
        let kind = match (status, error) {
            (Some(s), _) if s.is_server_error() => Some(2),
            (_, Some(FailoverReason::Timeout)) => Some(1),
            (_, Some(_)) => Some(0),
            _ => None,
        };
        if let Some(k) = kind {
            self.origin_errors[k].inc();
        }
    }

    pub fn collapsed_waiter(&self) {
        self.collapsed.inc();
    }

    pub fn log_line_dropped(&self) {
        self.log_lines_dropped.inc();
    }
}

/// The cache tiers' bytes and evictions, read when scraped.
struct CacheTiers(Arc<Cache>);

impl std::fmt::Debug for CacheTiers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CacheTiers")
    }
}

impl Collector for CacheTiers {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = self.0.stats();
        let tiers = [
            ("memory", s.memory_bytes, s.memory_evictions),
            ("disk", s.disk_bytes, s.disk_evictions),
        ];
        {
            let gauge = ConstGauge::new(0i64);
            let mut family = encoder.encode_descriptor(
                "cache_bytes",
                "Bytes held by each cache tier",
                None,
                gauge.metric_type(),
            )?;
            for (tier, bytes, _) in tiers {
                let g = ConstGauge::new(i64::try_from(bytes).unwrap_or(i64::MAX));
                g.encode(family.encode_family(&[("tier", tier)])?)?;
            }
        }
        let counter = ConstCounter::new(0u64);
        let mut family = encoder.encode_descriptor(
            "cache_evictions",
            "Evictions from each cache tier (memory: chunks; disk: whole objects)",
            None,
            counter.metric_type(),
        )?;
        for (tier, _, evictions) in tiers {
            ConstCounter::new(evictions).encode(family.encode_family(&[("tier", tier)])?)?;
        }
        Ok(())
    }
}
