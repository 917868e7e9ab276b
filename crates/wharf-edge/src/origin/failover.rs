//! Origin groups: CloudFront sends a request to the primary origin and, only when that fails
//! (a status code in `FailoverCriteria`, a connection failure, or a timeout), sends the same
//! request to the secondary. Requests with a body are not failed over (CloudFront fails over
//! only GET, HEAD and OPTIONS).

use std::sync::Arc;

use futures::future::BoxFuture;
use http::Method;

use super::{FailoverReason, Origin, OriginError, OriginRequest, OriginResponse};

pub struct OriginGroup {
    pub primary: Arc<dyn Origin>,
    pub secondary: Arc<dyn Origin>,
    pub status_codes: Vec<u16>,
}

impl Origin for OriginGroup {
    fn fetch(&self, req: OriginRequest) -> BoxFuture<'static, Result<OriginResponse, OriginError>> {
        let primary = self.primary.clone();
        let secondary = self.secondary.clone();
        let codes = self.status_codes.clone();
        Box::pin(async move {
            let may_fail_over = matches!(req.method, Method::GET | Method::HEAD | Method::OPTIONS);
            if !may_fail_over {
                return primary.fetch(req).await;
            }
            let again = req.without_body();
            let reason = match primary.fetch(req).await {
                Ok(resp) if codes.contains(&resp.status.as_u16()) => FailoverReason::StatusCode,
                Ok(resp) => return Ok(resp),
                Err(e) => e.reason,
            };
            tracing::info!(reason = reason.as_str(), "origin group failing over");
            secondary.fetch(again).await
        })
    }

    fn timeout_budget(&self) -> std::time::Duration {
        self.primary.timeout_budget() + self.secondary.timeout_budget()
    }
}
