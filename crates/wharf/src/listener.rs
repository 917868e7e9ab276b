//! Listeners: accepting connections, and keeping connections from exhausting the server.
//!
//! Every listener (the S3 API, the edge over HTTP and over TLS) runs [`accept_loop`] and shares
//! one [`Connections`] table:
//! - **A cap on open connections** ([`Limits::max_connections`], well below the open-files
//!   limit, see [`default_max_connections`]). At the cap a new connection evicts the one that has been idle longest (no request
//!   in flight), as nginx reuses keep-alive connections; if every connection is busy, the new
//!   one is closed at once. Accept never blocks and the server keeps answering.
//! - **Timeouts for connections that send nothing**: the request head must arrive within
//!   [`Limits::header_read_timeout`] (on a new connection and between keep-alive requests; hyper
//!   enforces it), a TLS handshake within [`Limits::tls_handshake_timeout`], and an HTTP/2
//!   connection with no stream open is closed after [`Limits::idle_timeout`].
//! - **`accept` errors** (EMFILE, ENFILE, ...) back off exponentially up to a second and are
//!   logged at most every ten seconds.
//! - **Graceful shutdown**: when `stop` turns true, accepting stops at once, every connection
//!   is told to finish its requests and close, and [`Connections::drained`] resolves when the
//!   last one has.
//!
//! Plain TCP listeners speak HTTP/1.1 (neither S3 nor CloudFront offers HTTP/2 without TLS);
//! TLS listeners speak what ALPN chose.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use prometheus_client::metrics::gauge::Gauge;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use wharf_s3::request_body::{BodyDeadlines, RequestBody};

use crate::tls;

/// HTTP/2 streams a client may have open on one connection (CloudFront's figure).
const MAX_CONCURRENT_STREAMS: u32 = 128;
/// How long an evicted connection gets to finish closing before it is dropped.
const EVICTION_GRACE: Duration = Duration::from_secs(1);
/// Longest pause after an `accept` error.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);
/// At most one log line per this long for refused connections or `accept` errors.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Limits every listener applies.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub tls_handshake_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    /// The deadlines of every request body ([`RequestBody`]).
    pub body: BodyDeadlines,
}

/// What handlers get as a request's body: the connection's, with its deadlines.
pub type Body = RequestBody<Incoming>;

/// One open connection.
#[derive(Debug)]
struct ConnState {
    in_flight: AtomicUsize,
    /// Milliseconds (since [`Connections::epoch`]) when it last became idle.
    idle_since_ms: AtomicU64,
    evict: Notify,
}

/// The open connections of all listeners.
pub struct Connections {
    limit: usize,
    epoch: Instant,
    open: Mutex<HashMap<u64, Arc<ConnState>>>,
    next_id: AtomicU64,
    all_closed: Notify,
}

impl Connections {
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit: limit.max(1),
            epoch: Instant::now(),
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            all_closed: Notify::new(),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub fn count(&self) -> usize {
        self.open.lock().map_or(0, |o| o.len())
    }

    /// Registers a new connection, evicting the longest-idle one at the cap; `None` if every
    /// open connection is busy.
    fn admit(self: &Arc<Self>, gauge: &Gauge) -> Option<Connection> {
        let mut open = self.open.lock().ok()?;
        if open.len() >= self.limit {
            let victim = open
                .values()
                .filter(|c| c.in_flight.load(Ordering::Relaxed) == 0)
                .min_by_key(|c| c.idle_since_ms.load(Ordering::Relaxed))?
                .clone();
            victim.evict.notify_one();
            // It leaves the table now; its task closes it.
            open.retain(|_, c| !Arc::ptr_eq(c, &victim));
        }
        let state = Arc::new(ConnState {
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(self.now_ms()),
            evict: Notify::new(),
        });
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        open.insert(id, state.clone());
        gauge.inc();
        Some(Connection {
            conns: self.clone(),
            id,
            state,
            gauge: gauge.clone(),
        })
    }

    /// Resolves once no connection is open.
    pub async fn drained(&self) {
        loop {
            let notified = self.all_closed.notified();
            if self.count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// A registered connection; dropping it unregisters it.
struct Connection {
    conns: Arc<Connections>,
    id: u64,
    state: Arc<ConnState>,
    /// Its listener's open connections (a metric).
    gauge: Gauge,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.gauge.dec();
        if let Ok(mut open) = self.conns.open.lock() {
            open.remove(&self.id);
            if open.is_empty() {
                self.conns.all_closed.notify_waiters();
            }
        }
    }
}

/// A request in flight on a connection, until its response body is done.
struct InFlight {
    state: Arc<ConnState>,
    conns: Arc<Connections>,
}

impl InFlight {
    fn begin(state: &Arc<ConnState>, conns: &Arc<Connections>) -> Self {
        state.in_flight.fetch_add(1, Ordering::Relaxed);
        Self {
            state: state.clone(),
            conns: conns.clone(),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.state
            .idle_since_ms
            .store(self.conns.now_ms(), Ordering::Relaxed);
        self.state.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A response body that keeps its request counted as in flight until it is sent or dropped.
struct TrackedBody<B> {
    inner: B,
    _in_flight: InFlight,
}

impl<B: http_body::Body + Unpin> http_body::Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<B::Data>, B::Error>>> {
        std::pin::Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Logs a repeated event at most every [`LOG_EVERY`], with how often it happened meanwhile.
struct RateLimitedLog {
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimitedLog {
    fn new() -> Self {
        Self {
            last: None,
            suppressed: 0,
        }
    }

    fn hit(&mut self, log: impl FnOnce(u64)) {
        if self.last.is_none_or(|t| t.elapsed() >= LOG_EVERY) {
            log(self.suppressed);
            self.last = Some(Instant::now());
            self.suppressed = 0;
        } else {
            self.suppressed += 1;
        }
    }
}

/// A connection's byte stream: plain TCP or TLS over it.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// Accepts connections until `stop` turns true, serving each with `handler` (over TLS when
/// `tls` is given).
pub async fn accept_loop<H, F, B, E>(
    listener: TcpListener,
    tls: Option<Arc<tls::ViewerTls>>,
    conns: Arc<Connections>,
    open: Gauge,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    handler: H,
) where
    H: Fn(http::Request<Body>, SocketAddr) -> F + Clone + Send + Sync + 'static,
    F: std::future::Future<Output = Result<http::Response<B>, E>> + Send + 'static,
    B: http_body::Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut builder = ConnBuilder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS);
    let h1 = builder.clone().http1_only();
    let h2 = builder.http2_only();
    let mut backoff = Duration::ZERO;
    let mut refused_log = RateLimitedLog::new();
    let mut error_log = RateLimitedLog::new();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => break,
        };
        let (stream, peer) = match accepted {
            Ok(c) => {
                backoff = Duration::ZERO;
                c
            }
            Err(e) => {
                // Out of file descriptors or similar: wait rather than spin.
                backoff = (backoff * 2).clamp(Duration::from_millis(5), MAX_ACCEPT_BACKOFF);
                error_log.hit(|n| {
                    tracing::warn!(error = %e, more = n, "accept failed; backing off");
                });
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => break,
                }
                continue;
            }
        };
        let Some(conn) = conns.admit(&open) else {
            refused_log.hit(|n| {
                tracing::warn!(
                    limit = conns.limit,
                    more = n,
                    "connection limit reached and every connection busy: refusing new ones"
                );
            });
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (handler, tls, stop, conns) =
            (handler.clone(), tls.clone(), stop.clone(), conns.clone());
        let (h1, h2) = (h1.clone(), h2.clone());
        tokio::spawn(async move {
            // The handshake runs on the connection's own task, never in the accept loop.
            let (io, http2, session): (Box<dyn Io>, bool, _) = match tls {
                None => (Box::new(stream), false, None),
                Some(tls) => {
                    match tokio::time::timeout(limits.tls_handshake_timeout, tls.accept(stream))
                        .await
                    {
                        Ok(Ok((s, fingerprints))) => {
                            let conn = s.get_ref().1;
                            let http2 = conn.alpn_protocol() == Some(b"h2");
                            let session = tls::session(conn, fingerprints);
                            (Box::new(s), http2, Some(session))
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, %peer, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    }
                }
            };
            serve(
                io, http2, &h1, &h2, conn, conns, limits, stop, handler, peer, session,
            )
            .await;
        });
    }
}

#[allow(clippy::too_many_arguments)]
async fn serve<H, F, B, E>(
    io: Box<dyn Io>,
    http2: bool,
    h1: &ConnBuilder<TokioExecutor>,
    h2: &ConnBuilder<TokioExecutor>,
    conn: Connection,
    conns: Arc<Connections>,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    handler: H,
    peer: SocketAddr,
    session: Option<wharf_edge::ViewerHttps>,
) where
    H: Fn(http::Request<Body>, SocketAddr) -> F + Clone + Send + Sync + 'static,
    F: std::future::Future<Output = Result<http::Response<B>, E>> + Send + 'static,
    B: http_body::Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let state = conn.state.clone();
    let svc = {
        let (state, conns) = (state.clone(), conns.clone());
        hyper::service::service_fn(move |req: http::Request<Incoming>| {
            let has_body = !http_body::Body::is_end_stream(req.body());
            let (parts, body) = req.into_parts();
            let (body, body_end) = RequestBody::watched(body, limits.body);
            let mut req = http::Request::from_parts(parts, body);
            // Requests over TLS carry the session: the edge knows the viewer used HTTPS.
            if let Some(s) = session {
                req.extensions_mut().insert(s);
            }
            let in_flight = InFlight::begin(&state, &conns);
            let fut = handler(req, peer);
            async move {
                let mut resp = fut.await?;
                // Answered before its body was read (an early refusal): the body's bytes may
                // still come (a client that sent `Expect: 100-continue` may send them anyway)
                // and must not be read as the next request, so this connection closes after
                // the answer. Found as SignatureDoesNotMatch on the request after a refused
                // upload, its method read as `xPUT`.
                if has_body && !http2 && !body_end.reached() {
                    resp.headers_mut().insert(
                        http::header::CONNECTION,
                        http::HeaderValue::from_static("close"),
                    );
                }
                Ok::<_, E>(resp.map(|inner| TrackedBody {
                    inner,
                    _in_flight: in_flight,
                }))
            }
        })
    };
    let builder = if http2 { h2 } else { h1 };
    let served = builder.serve_connection(TokioIo::new(io), svc);
    tokio::pin!(served);
    // Made once and kept registered: re-made in the loop, each wake-up of the connection
    // (every read and write readiness) would register and unregister them again.
    let evicted = state.evict.notified();
    tokio::pin!(evicted);
    let stopped = stop.changed();
    tokio::pin!(stopped);
    let mut idle_check = tokio::time::interval(Duration::from_secs(1));
    idle_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut closing: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            r = served.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                }
                break;
            }
            () = &mut evicted, if closing.is_none() => {
                served.as_mut().graceful_shutdown();
                closing = Some(tokio::time::Instant::now() + EVICTION_GRACE);
            }
            _ = &mut stopped, if closing.is_none() => {
                served.as_mut().graceful_shutdown();
                closing = Some(tokio::time::Instant::now() + Duration::from_secs(3600));
            }
            () = async {
                match closing {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            } => break,
            _ = idle_check.tick(), if http2 && closing.is_none() => {
                // HTTP/2 has no header timeout between streams: close a connection that has
                // had none open for too long.
                let idle_ms = conns.now_ms().saturating_sub(state.idle_since_ms.load(Ordering::Relaxed));
                if state.in_flight.load(Ordering::Relaxed) == 0
                    && Duration::from_millis(idle_ms) >= limits.idle_timeout
                {
                    served.as_mut().graceful_shutdown();
                    closing = Some(tokio::time::Instant::now() + EVICTION_GRACE);
                }
            }
        }
    }
    drop(conn);
}

/// Raises the soft limit on open files to the hard limit; returns the soft limit now.
pub fn raise_open_files_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the struct we pass, nothing else.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
    }
    lim.rlim_cur
}

/// File descriptors kept free of connections: the database, the edge's cache files.
pub const RESERVED_FILES: u64 = 256;
/// The default cap when the open-files limit is high (memory, not descriptors, is then the
/// limit: every connection holds buffers).
pub const DEFAULT_MAX_CONNECTIONS: u64 = 10_000;

/// The default connection cap under an open-files limit of `nofile`: each connection may also
/// have a file open (a blob it streams, a staging file it writes), so half of what is left.
pub fn default_max_connections(nofile: u64) -> usize {
    let cap = (nofile.saturating_sub(RESERVED_FILES) / 2).clamp(64, DEFAULT_MAX_CONNECTIONS);
    usize::try_from(cap).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_the_longest_idle_connection_makes_room() {
        let conns = Connections::new(2);
        let open = Gauge::default();
        let a = conns.admit(&open).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        let b = conns.admit(&open).unwrap();
        // a is idle longest: admitting c evicts it (its task closes it, then it is dropped).
        let c = conns.admit(&open).unwrap();
        assert_eq!(conns.count(), 2);
        assert_eq!(open.get(), 3);
        assert!(!conns.open.lock().unwrap().contains_key(&a.id));
        // With every connection busy, a new one is refused.
        let _busy_b = InFlight::begin(&b.state, &conns);
        let _busy_c = InFlight::begin(&c.state, &conns);
        assert!(conns.admit(&open).is_none());
        drop((a, b, c));
        assert_eq!(conns.count(), 0);
        assert_eq!(open.get(), 0);
    }

    #[test]
    fn the_cap_leaves_room_for_files() {
        assert_eq!(default_max_connections(1024), 384);
        assert_eq!(default_max_connections(100), 64);
        assert_eq!(default_max_connections(1 << 20), 10_000);
    }
}
