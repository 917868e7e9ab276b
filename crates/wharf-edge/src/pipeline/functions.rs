//! CloudFront Functions on the viewer's request (after the access checks, before the cache)
//! and on the response the viewer is about to get. A viewer-request function changes the
//! request (its URI, query string, headers and cookies: the cache key and the origin request
//! follow) or answers it itself; a viewer-response function changes the status and headers.
//! A viewer-request function of runtime 2.0 may also send the request to another origin
//! ([`crate::origin::book`]).
//!
//! A function that throws or is stopped by a limit gets the viewer CloudFront's 503, logged as
//! `FunctionExecutionError` (`FunctionThrottledError` for a limit); one that returns something
//! invalid or asks for an invalid origin gets its 502, logged as `FunctionValidationError`.
//! Each is counted in `wharf_edge_function_invocations`.

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
        let mut run = self.event(ctx, EventType::ViewerRequest, |c, r| {
            f.run_viewer_request(c, r)
        });
        let origin_change = run.origin.take();
        let dist = ctx.dist.clone();
        let behavior_origin = &dist.behaviors[ctx.behavior].target_origin_id;
        let outcome = self.judge(ctx, EventType::ViewerRequest, run, |outcome| {
            // A request goes on to the origin the function asked for; a response needs none.
            if let (RequestOutcome::Continue(_), Some(change)) = (&outcome, &origin_change) {
                let origin = dist
                    .origins
                    .resolve(behavior_origin, change)
                    .map_err(FunctionError::BadOutput)?;
                return Ok((outcome, Some(origin)));
            }
            Ok((outcome, None))
        });
        match outcome {
            Ok((RequestOutcome::Continue(change), origin)) => {
                ctx.origin = origin;
                ctx.path = change.uri;
                ctx.query = change.query;
                ctx.headers = change.headers;
                Ok(())
            }
            Ok((RequestOutcome::Respond(made), _)) => {
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

    /// What a run came to: its meaning, or CloudFront's 503 (502 for an invalid result),
    /// counted and logged.
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
            Err(FunctionError::BadOutput(_)) => "invalid",
            Err(_) => "error",
        };
        self.metrics.function(&ctx.dist.id, event.name(), label);
        result.map_err(|e| {
            tracing::info!(distribution = %ctx.dist.id, event = event.name(), error = %e, "CloudFront Function failed");
            ctx.outcome.cache_status = CacheStatus::Error;
            let (status, detail) = match e {
                FunctionError::Limit(_) => (StatusCode::SERVICE_UNAVAILABLE, "FunctionThrottledError"),
                FunctionError::BadOutput(_) => (StatusCode::BAD_GATEWAY, "FunctionValidationError"),
                _ => (StatusCode::SERVICE_UNAVAILABLE, "FunctionExecutionError"),
            };
            ctx.outcome.error_detail = Some(detail);
            Box::new(respond::error_page(status, FAILED, &ctx.request_id))
        })
    }
}
