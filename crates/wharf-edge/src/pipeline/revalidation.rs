//! Revalidation of a stale stored response: a conditional request (collapsed per key) that
//! either refreshes the stored copy (304), replaces it, or fails, when `stale-if-error` may
//! still serve it.

use std::sync::Arc;

use http::header::{self, HeaderValue};
use http::{Method, Response};

use super::Edge;
use super::cache_admission::Admitted;
use super::context::RequestCtx;
use super::now;
use crate::cache::entry::Entry;
use crate::cache::{Collapse, Outcome};
use crate::freshness;
use crate::headers::{self, CacheStatus};
use crate::origin::{OriginError, OriginResponse};
use crate::respond::EdgeBody;

enum Revalidated {
    NotModified,
    Replaced(OriginResponse, i64),
    ServerError(OriginResponse),
}

/// Revalidations of one primary key collapse under this key.
fn collapse_key(primary: &str) -> String {
    format!("R\n{primary}")
}

impl Edge {
    /// Revalidates a stale entry with a conditional request (collapsed), then answers.
    pub(super) async fn revalidate(
        &self,
        ctx: &mut RequestCtx,
        primary: &str,
        entry: Arc<Entry>,
        stale_for: u64,
        f: freshness::Freshness,
    ) -> Response<EdgeBody> {
        let may_serve_stale = !f.must_revalidate && stale_for < f.stale_if_error;
        let guard = match self.cache.collapse(&collapse_key(primary)) {
            Collapse::Leader(guard) => guard,
            Collapse::Follower(rx) => {
                self.metrics_of(&ctx.dist).collapsed_waiter();
                if let Outcome::Failed(e) = self.leaders_outcome(ctx, rx).await {
                    // The leader's failure is everyone's: stale-if-error, or the error.
                    if may_serve_stale {
                        let head = entry.head();
                        return self
                            .answer_hit(ctx, primary, &entry, head, CacheStatus::Hit)
                            .await;
                    }
                    return self.origin_failed(ctx, &e);
                }
                let found = self
                    .cache
                    .lookup(primary, &|name: &str| ctx.vary_value(name));
                if let Some(e) = found {
                    let head = e.head();
                    if head.age(now()) < ctx.freshness_of(&e, &head).lifetime {
                        return self
                            .answer_hit(ctx, primary, &e, head, CacheStatus::RefreshHit)
                            .await;
                    }
                }
                return self.miss(ctx, primary, false).await;
            }
        };
        match self.conditional_fetch(ctx, &entry).await {
            Ok(Revalidated::NotModified) => {
                guard.finish(Outcome::Stored(entry.clone()));
                let head = entry.head();
                self.answer_hit(ctx, primary, &entry, head, CacheStatus::RefreshHit)
                    .await
            }
            Ok(Revalidated::ServerError(resp)) => {
                // RFC 5861 stale-if-error. Otherwise the origin's error answers, and is not
                // stored: the stale copy stays for the next try.
                drop(guard);
                if may_serve_stale {
                    let head = entry.head();
                    return self
                        .answer_hit(ctx, primary, &entry, head, CacheStatus::Hit)
                        .await;
                }
                ctx.outcome.cache_status = CacheStatus::Miss;
                self.relay(ctx, resp)
            }
            Ok(Revalidated::Replaced(resp, request_time)) => {
                self.cache.remove(&entry);
                ctx.outcome.cache_status = CacheStatus::Miss;
                let (r, stored) = self.store_and_answer(ctx, primary, resp, request_time);
                match stored {
                    Some(e) => guard.finish(Outcome::Stored(e)),
                    None => drop(guard),
                }
                r
            }
            Err(e) => {
                guard.finish(Outcome::Failed(e.clone()));
                // RFC 5861 stale-if-error; CloudFront also serves what it has when the origin
                // cannot be reached.
                if may_serve_stale {
                    let head = entry.head();
                    return self
                        .answer_hit(ctx, primary, &entry, head, CacheStatus::Hit)
                        .await;
                }
                self.origin_failed(ctx, &e)
            }
        }
    }

    /// Sends the conditional request: a 304 updates the stored headers; a 5xx is handed back
    /// apart (the stale copy may still serve); another response is handed back to be stored
    /// in place of the old one.
    async fn conditional_fetch(
        &self,
        ctx: &mut RequestCtx,
        entry: &Arc<Entry>,
    ) -> Result<Revalidated, OriginError> {
        let head = entry.head();
        let mut req = self.origin_request(ctx, Method::GET);
        if let Some(etag) = head.headers.get(header::ETAG).and_then(|v| v.to_str().ok()) {
            // A weak ETag on a compressed body may be ours: offer the origin's strong one too,
            // so an origin that compares strongly still answers 304. Otherwise the stored
            // ETag goes back as it came.
            let ours = head.headers.contains_key(header::CONTENT_ENCODING);
            let value = match etag.strip_prefix("W/") {
                Some(strong) if ours => format!("{etag}, {strong}"),
                _ => etag.to_owned(),
            };
            if let Ok(v) = HeaderValue::from_str(&value) {
                req.headers.insert(header::IF_NONE_MATCH, v);
            }
        }
        if let Some(lm) = head.headers.get(header::LAST_MODIFIED) {
            req.headers.insert(header::IF_MODIFIED_SINCE, lm.clone());
        }
        let request_time = now();
        let resp = self.fetch(ctx, req).await?;
        if resp.status == http::StatusCode::NOT_MODIFIED {
            let mut fresh = resp.headers;
            headers::strip_hop_by_hop(&mut fresh);
            entry.update_headers(&fresh, request_time, now());
            self.cache.persist(entry).await;
            return Ok(Revalidated::NotModified);
        }
        if resp.status.is_server_error() {
            return Ok(Revalidated::ServerError(resp));
        }
        Ok(Revalidated::Replaced(resp, request_time))
    }

    /// Serves the stale copy now and revalidates it on a task of its own (one per key).
    pub(super) fn revalidate_in_background(
        self: &Arc<Self>,
        ctx: &RequestCtx,
        primary: &str,
        entry: Arc<Entry>,
    ) {
        let Collapse::Leader(guard) = self.cache.collapse(&collapse_key(primary)) else {
            return;
        };
        let mut ctx = ctx.as_get();
        let this = self.clone();
        let primary = primary.to_owned();
        tokio::spawn(async move {
            match this.conditional_fetch(&mut ctx, &entry).await {
                Ok(Revalidated::NotModified) => guard.finish(Outcome::Stored(entry)),
                Ok(Revalidated::Replaced(resp, request_time)) => {
                    this.cache.remove(&entry);
                    // The fill runs on its own task; nobody needs to read it now.
                    match this.admit(&mut ctx, &primary, resp, request_time, None, None) {
                        Admitted::Stored(e, _) => guard.finish(Outcome::Stored(e)),
                        Admitted::NotStored(_) => drop(guard),
                    }
                }
                Ok(Revalidated::ServerError(resp)) => {
                    tracing::info!(status = %resp.status, "background revalidation failed; stale copy kept")
                }
                Err(e) => {
                    tracing::info!(error = %e, "background revalidation failed; stale copy kept")
                }
            }
        });
    }
}
