//! CloudFront Functions on the viewer's request (after the access checks, before the cache)
//! and on the response the viewer is about to get. A viewer-request function changes the
//! request (its URI, query string, headers and cookies: the cache key and the origin request
//! follow) or answers it itself; a viewer-response function changes the status and headers.
//! A function that throws, returns something invalid or is stopped by a limit gets the viewer
//! CloudFront's 503, logged as `FunctionExecutionError` (`FunctionThrottledError` for a limit)
//! and counted in `wharf_edge_function_invocations`.

use http::{Response, StatusCode};
use wharf_functions::event::{
    EventContext, EventType, RequestOutcome, ViewerRequest, response_outcome, viewer_response_event,
};
use wharf_functions::{Execution, FunctionError};

use super::context::RequestCtx;
use super::{Edge, Refusal};
use crate::headers::CacheStatus;
use crate::registry::DOMAIN_SUFFIX;
use crate::respond::{self, EdgeBody};

const FAILED: &str = "The CloudFront function associated with the CloudFront distribution is invalid or could not run.";

impl Edge {
    /// Runs the behavior's viewer-request function, if it has one: `Err` holds the answer
    /// when the function made one (or failed).
    pub(super) fn viewer_request_function(&self, ctx: &mut RequestCtx) -> Result<(), Refusal> {
        let Some(f) = ctx.behavior().viewer_request_function.clone() else {
            return Ok(());
        };
        let run = self.event(ctx, EventType::ViewerRequest, |c, r| {
            f.run_viewer_request(c, r)
        });
        let outcome = self.judge(ctx, EventType::ViewerRequest, run, Ok);
        match outcome {
            Ok(RequestOutcome::Continue(change)) => {
                ctx.path = change.uri;
                ctx.query = change.query;
                ctx.headers = change.headers;
                Ok(())
            }
            Ok(RequestOutcome::Respond(made)) => {
                ctx.outcome.cache_status = CacheStatus::FunctionGenerated;
                let mut r = Response::new(respond::full(made.body));
                *r.status_mut() = made.status;
                *r.headers_mut() = made.headers;
                Err(Box::new(r))
            }
            Err(failed) => Err(failed),
        }
    }

    /// Runs the behavior's viewer-response function on `resp`, if it has one.
    pub(super) fn viewer_response_function(
        &self,
        ctx: &mut RequestCtx,
        mut resp: Response<EdgeBody>,
    ) -> Response<EdgeBody> {
        let Some(f) = ctx.behavior().viewer_response_function.clone() else {
            return resp;
        };
        let event = self.event(ctx, EventType::ViewerResponse, |c, r| {
            viewer_response_event(c, r, resp.status(), resp.headers())
        });
        let run = f.run(&event);
        match self.judge(ctx, EventType::ViewerResponse, run, |o| {
            response_outcome(&o)
        }) {
            Ok((status, headers)) => {
                *resp.status_mut() = status;
                *resp.headers_mut() = headers;
                resp
            }
            Err(failed) => *failed,
        }
    }

    /// What `make` does with the context of an `event_type` event for this request and the
    /// viewer's request (builds the event, or runs a function on them).
    fn event<T>(
        &self,
        ctx: &RequestCtx,
        event_type: EventType,
        make: impl FnOnce(&EventContext<'_>, &ViewerRequest<'_>) -> T,
    ) -> T {
        let ip = self
            .viewers
            .address(ctx.client, &ctx.headers)
            .map(|a| a.to_string());
        let domain = format!("{}{DOMAIN_SUFFIX}", ctx.dist.id.to_ascii_lowercase());
        make(
            &EventContext {
                distribution_id: &ctx.dist.id,
                distribution_domain: &domain,
                request_id: &ctx.request_id,
                event_type,
            },
            &ViewerRequest {
                method: ctx.method.as_str(),
                uri: &ctx.path,
                query: ctx.query.as_deref(),
                headers: &ctx.headers,
                viewer_ip: ip.as_deref(),
            },
        )
    }

    /// What a run came to: its meaning, or CloudFront's 503 (counted and logged).
    fn judge<O, T>(
        &self,
        ctx: &mut RequestCtx,
        event: EventType,
        run: Execution<O>,
        meaning: impl FnOnce(O) -> Result<T, FunctionError>,
    ) -> Result<T, Refusal> {
        let result = run.output.and_then(meaning);
        let label = match &result {
            Ok(_) => "ok",
            Err(FunctionError::Limit(_)) => "limit",
            Err(_) => "error",
        };
        self.metrics.function(&ctx.dist.id, event.name(), label);
        result.map_err(|e| {
            tracing::info!(distribution = %ctx.dist.id, event = event.name(), error = %e, "CloudFront Function failed");
            ctx.outcome.cache_status = CacheStatus::Error;
            ctx.outcome.error_detail = Some(match e {
                FunctionError::Limit(_) => "FunctionThrottledError",
                _ => "FunctionExecutionError",
            });
            Box::new(respond::error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                FAILED,
                &ctx.request_id,
            ))
        })
    }
}
