//! Logging: a request's access log line in CloudFront's standard format, for distributions
//! whose `Logging` is enabled. The response body is wrapped to count the bytes sent and to
//! time the first and the last; when the body ends or the viewer goes away, the record goes
//! to the delivery queue without waiting ([`crate::access_log::delivery`]).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};
use http_body::{Body, Frame, SizeHint};

use super::Edge;
use super::context::RequestCtx;
use crate::access_log::delivery::AccessLogs;
use crate::access_log::{LogRecord, ResultType, ViewerFields};
use crate::distribution::{Distribution, Logging};
use crate::headers::CacheStatus;
use crate::respond::EdgeBody;

impl Edge {
    /// Wraps `resp`'s body so that the request is logged once the body ends or is dropped.
    pub(super) fn log(
        logs: &Arc<AccessLogs>,
        logging: Arc<Logging>,
        ctx: RequestCtx,
        resp: &mut Response<EdgeBody>,
        received: Instant,
    ) {
        let status = resp.status();
        let result = result_type(status, ctx.outcome.cache_status);
        let detailed_result = match result {
            ResultType::Error => ctx.outcome.error_detail.unwrap_or("Error"),
            r => r.as_str(),
        };
        // What hyper declares on the wire: the header, else the body's known length.
        let exact = resp.body().size_hint().exact();
        let h = resp.headers();
        let declared = crate::cache::content_length(h);
        let (dist, mut record) = record(logging, ctx, status.as_u16(), result, detailed_result);
        record.response_bytes = head_size(status, h);
        record.content_type = h.get(header::CONTENT_TYPE).cloned();
        record.content_length = h
            .get(header::CONTENT_LENGTH)
            .cloned()
            .or_else(|| exact.map(HeaderValue::from));
        record.range = crate::cache::parse_content_range(h).map(|(start, end, _)| (start, end));
        let inner = std::mem::take(resp.body_mut());
        // hyper stops reading a body once it has sent the length it declared.
        let length = exact.or(declared);
        *resp.body_mut() = EdgeBody::new(LoggedBody {
            inner,
            length,
            record: Some(record),
            dist,
            logs: logs.clone(),
            received,
            sent: 0,
            first_byte: None,
            ended: false,
            failed: false,
        });
    }
}

/// The record of `ctx`'s request, with what its response head says still to be filled in.
fn record(
    logging: Arc<Logging>,
    ctx: RequestCtx,
    status: u16,
    result: ResultType,
    detailed_result: &'static str,
) -> (Arc<Distribution>, Box<LogRecord>) {
    let RequestCtx {
        request_id,
        dist,
        method,
        uri,
        version,
        mut headers,
        client,
        tls,
        request_bytes,
        ..
    } = ctx;
    let viewer = ViewerFields {
        // HTTP/2 and HTTP/3 name the host in `:authority`.
        host: headers.remove(header::HOST).or_else(|| {
            uri.authority()
                .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        }),
        referer: headers.remove(header::REFERER),
        user_agent: headers.remove(header::USER_AGENT),
        cookie: if logging.include_cookies {
            cookie(&headers)
        } else {
            None
        },
        x_forwarded_for: headers.remove(&crate::headers::X_FORWARDED_FOR),
    };
    let record = Box::new(LogRecord {
        logging,
        finished: SystemTime::UNIX_EPOCH,
        request_id,
        client,
        method,
        uri,
        version,
        tls,
        viewer,
        request_bytes,
        status,
        response_bytes: 0,
        result,
        response_result: result,
        detailed_result,
        time_taken: Duration::ZERO,
        time_to_first_byte: Duration::ZERO,
        content_type: None,
        content_length: None,
        range: None,
    });
    (dist, record)
}

/// Hands a finished record to the delivery queue, counting it when the queue is full.
fn submit(logs: &AccessLogs, dist: &Distribution, record: Box<LogRecord>) {
    if !logs.submit(record)
        && let Some(m) = dist.metrics.get()
    {
        m.log_line_dropped();
    }
}

/// A request of a logging distribution that has no response yet. Should its future be dropped
/// first (the viewer went away before the response head: hyper drops a request's future when
/// its connection closes, h2 and h3 when its stream is reset), it is logged as CloudFront
/// logs it: `sc-status` 000, an `Error` of kind `ClientCommError`.
pub(super) struct Unanswered<'e> {
    logs: Option<&'e Arc<AccessLogs>>,
    ctx: Option<RequestCtx>,
    received: Instant,
}

impl<'e> Unanswered<'e> {
    /// `logs` is the edge's delivery, when it has one; nothing is logged unless `ctx`'s
    /// distribution logs.
    pub fn new(logs: Option<&'e Arc<AccessLogs>>, ctx: RequestCtx, received: Instant) -> Self {
        Self {
            logs,
            ctx: Some(ctx),
            received,
        }
    }

    pub fn ctx(&mut self) -> &mut RequestCtx {
        self.ctx
            .as_mut()
            .expect("the context is taken only by `answered`")
    }

    /// The response head is ready: the request is logged with its response from now on.
    pub fn answered(mut self) -> RequestCtx {
        self.ctx.take().expect("the context is taken only once")
    }
}

impl Drop for Unanswered<'_> {
    fn drop(&mut self) {
        let (Some(logs), Some(ctx)) = (self.logs, self.ctx.take()) else {
            return;
        };
        let Some(logging) = ctx.dist.logging.clone() else {
            return;
        };
        let (dist, mut r) = record(logging, ctx, 0, ResultType::Error, "ClientCommError");
        let took = self.received.elapsed();
        r.finished = SystemTime::now();
        r.time_taken = took;
        r.time_to_first_byte = took;
        submit(logs, &dist, r);
    }
}

/// CloudFront's result type of a response: `Error` for every 4xx and 5xx.
fn result_type(status: StatusCode, cache: CacheStatus) -> ResultType {
    if status.is_client_error() || status.is_server_error() {
        return ResultType::Error;
    }
    match cache {
        CacheStatus::Hit => ResultType::Hit,
        CacheStatus::RefreshHit => ResultType::RefreshHit,
        CacheStatus::Miss | CacheStatus::Pass => ResultType::Miss,
        CacheStatus::Error => ResultType::Error,
        CacheStatus::Redirect => ResultType::Redirect,
        CacheStatus::FunctionGenerated => ResultType::FunctionGeneratedResponse,
    }
}

/// The viewer's cookies: one `Cookie` field, or several (HTTP/2) joined as one.
fn cookie(h: &HeaderMap) -> Option<HeaderValue> {
    let mut all = h.get_all(header::COOKIE).iter();
    let first = all.next()?;
    let rest: Vec<&HeaderValue> = all.collect();
    if rest.is_empty() {
        return Some(first.clone());
    }
    let mut joined = first.as_bytes().to_vec();
    for v in rest {
        joined.extend_from_slice(b"; ");
        joined.extend_from_slice(v.as_bytes());
    }
    HeaderValue::from_bytes(&joined).ok()
}

/// The response head's size as HTTP/1.1 writes it: the status line, each field (and the
/// `Date` hyper adds when there is none), the blank line.
fn head_size(status: StatusCode, h: &HeaderMap) -> u64 {
    let reason = status.canonical_reason().map_or(0, str::len);
    // `HTTP/1.1 200 OK\r\n`
    let line = 13 + reason + 2;
    let fields: usize = h.iter().map(|(n, v)| n.as_str().len() + v.len() + 4).sum();
    // `date: Wed, 02 Dec 2026 10:00:00 GMT\r\n`
    let date = if h.contains_key(header::DATE) { 0 } else { 37 };
    (line + fields + date + 2) as u64
}

/// A response body that logs its request when it ends or is dropped.
struct LoggedBody {
    inner: EdgeBody,
    /// The body's declared length, when it has one.
    length: Option<u64>,
    record: Option<Box<LogRecord>>,
    dist: Arc<Distribution>,
    logs: Arc<AccessLogs>,
    received: Instant,
    sent: u64,
    first_byte: Option<Duration>,
    ended: bool,
    /// The body broke off (the origin or the cache failed mid-stream).
    failed: bool,
}

impl Body for LoggedBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = &mut *self;
        if this.first_byte.is_none() {
            this.first_byte = Some(this.received.elapsed());
        }
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.sent += data.len() as u64;
                }
            }
            Poll::Ready(Some(Err(_))) => this.failed = true,
            Poll::Ready(None) => this.ended = true,
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for LoggedBody {
    fn drop(&mut self) {
        let Some(mut r) = self.record.take() else {
            return;
        };
        let took = self.received.elapsed();
        r.finished = SystemTime::now();
        r.time_taken = took;
        r.time_to_first_byte = self.first_byte.unwrap_or(took);
        r.response_bytes += self.sent;
        if self.failed {
            r.result = ResultType::Error;
            r.detailed_result = "OriginReadError";
        } else if !(self.ended || self.inner.is_end_stream() || self.length == Some(self.sent)) {
            // CloudFront: `Error` here and not in x-edge-response-result-type means the viewer
            // went away before the download finished.
            r.result = ResultType::Error;
            r.detailed_result = "ClientCommError";
        }
        submit(&self.logs, &self.dist, r);
    }
}
