//! The console listener: Prometheus metrics at `/metrics`, in the OpenMetrics text format
//! (which Prometheus scrapes natively).

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// The content type of the OpenMetrics text format.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct ListenerLabel {
    listener: &'static str,
}

/// Open connections by listener (`s3`, `edge`, `edge_tls`, `console`).
#[derive(Clone, Debug, Default)]
pub struct OpenConnections(Family<ListenerLabel, Gauge>);

impl OpenConnections {
    pub fn register(registry: &mut Registry) -> Self {
        let open = Self::default();
        registry.register(
            "wharf_open_connections",
            "Open client connections, by listener",
            open.0.clone(),
        );
        open
    }

    /// The gauge of one listener.
    pub fn of(&self, listener: &'static str) -> Gauge {
        self.0.get_or_create(&ListenerLabel { listener }).clone()
    }
}

/// Answers one console request.
pub fn handle<B>(registry: &Registry, req: &Request<B>) -> Response<Full<Bytes>> {
    let respond = |status: StatusCode, content_type: &'static str, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static(content_type),
        );
        r
    };
    if req.uri().path() != "/metrics" {
        return respond(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found: the console serves /metrics\n".into(),
        );
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = respond(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "GET /metrics\n".into(),
        );
        r.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let mut text = String::new();
    match prometheus_client::encoding::text::encode(&mut text, registry) {
        Ok(()) => respond(StatusCode::OK, OPENMETRICS, text),
        Err(_) => respond(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain; charset=utf-8",
            "the metrics could not be encoded\n".into(),
        ),
    }
}

/// What the console's accept loop awaits for each request.
type Answer = std::future::Ready<Result<Response<Full<Bytes>>, std::convert::Infallible>>;

/// The handler the console's accept loop runs.
pub fn handler(
    registry: Arc<Registry>,
) -> impl Fn(Request<crate::listener::Body>, std::net::SocketAddr) -> Answer
+ Clone
+ Send
+ Sync
+ 'static {
    move |req, _peer| std::future::ready(Ok(handle(&registry, &req)))
}
