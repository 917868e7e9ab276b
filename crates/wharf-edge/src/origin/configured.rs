//! An origin with its configuration's `OriginPath` and custom headers applied (and, for an
//! origin a function changed, the `Host` it asked for), so each member of an origin group
//! keeps its own.

use std::sync::Arc;

use futures::future::BoxFuture;
use http::{HeaderName, HeaderValue};
use wharf_model::cloudfront::Origin as OriginConfig;

use super::{Origin, OriginError, OriginRequest, OriginResponse};

/// An origin with its `OriginPath` and custom headers applied, so each member of an origin
/// group keeps its own.
pub(crate) struct ConfiguredOrigin {
    origin_path: String,
    custom_headers: Vec<(HeaderName, HeaderValue)>,
    /// The `Host` it is sent instead of its own (a function's `hostHeader`).
    host: Option<HeaderValue>,
    inner: Arc<dyn Origin>,
}

impl ConfiguredOrigin {
    /// The origin `inner` with `c`'s path and custom headers, sent `host` as its `Host` when
    /// given.
    pub(crate) fn configure(
        c: &OriginConfig,
        inner: Arc<dyn Origin>,
        host: Option<HeaderValue>,
    ) -> Result<Arc<dyn Origin>, String> {
        let mut o = Self::new(c, inner)?;
        o.host = host;
        Ok(Arc::new(o))
    }

    fn new(c: &OriginConfig, inner: Arc<dyn Origin>) -> Result<Self, String> {
        let mut custom_headers = Vec::new();
        for h in &c.custom_headers.items {
            let name = HeaderName::from_bytes(h.header_name.as_bytes())
                .map_err(|_| format!("bad custom header name {}", h.header_name))?;
            let value = HeaderValue::from_str(&h.header_value)
                .map_err(|_| format!("bad custom header value for {}", h.header_name))?;
            custom_headers.push((name, value));
        }
        Ok(Self {
            origin_path: c.origin_path.clone(),
            custom_headers,
            host: None,
            inner,
        })
    }
}

impl Origin for ConfiguredOrigin {
    fn fetch(
        &self,
        mut req: OriginRequest,
    ) -> BoxFuture<'static, Result<OriginResponse, OriginError>> {
        if !self.origin_path.is_empty() {
            req.path_and_query = format!("{}{}", self.origin_path, req.path_and_query);
        }
        for (n, v) in &self.custom_headers {
            req.headers.insert(n.clone(), v.clone());
        }
        if let Some(h) = &self.host {
            req.headers.insert(http::header::HOST, h.clone());
        }
        self.inner.fetch(req)
    }

    fn timeout_budget(&self) -> std::time::Duration {
        self.inner.timeout_budget()
    }
}
