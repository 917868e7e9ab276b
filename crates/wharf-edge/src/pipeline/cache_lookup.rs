//! Cache lookup: a fresh stored response is a hit; a stale one is served while it revalidates
//! (`stale-while-revalidate`) or revalidated first; none is a miss.

use std::sync::Arc;

use http::{HeaderMap, Response, StatusCode};

use super::context::RequestCtx;
use super::{Edge, now};
use crate::cache::SpanError;
use crate::cache::SpanFetcher;
use crate::cache::entry::{Entry, Head};
use crate::freshness;
use crate::headers::CacheStatus;
use crate::respond::{self, EdgeBody};

impl Edge {
    pub(super) async fn cache_lookup(self: &Arc<Self>, ctx: &mut RequestCtx) -> Response<EdgeBody> {
        let primary = ctx.primary_key();
        let found = self
            .cache
            .lookup(&primary, &|name: &str| ctx.vary_value(name));
        if let Some(entry) = found {
            let head = entry.head();
            let f = ctx.freshness_of(&entry, &head);
            let age = head.age(now());
            if age < f.lifetime {
                return self
                    .answer_hit(ctx, &primary, &entry, head, CacheStatus::Hit)
                    .await;
            }
            let validator = freshness::has_validator(&head.headers);
            let stale_for = age - f.lifetime;
            if !f.must_revalidate && stale_for < f.stale_while_revalidate {
                self.revalidate_in_background(ctx, &primary, entry.clone());
                return self
                    .answer_hit(ctx, &primary, &entry, head, CacheStatus::Hit)
                    .await;
            }
            // Without a validator the request goes out unconditional, but through the same
            // path, so stale-if-error still applies if the origin fails.
            if validator || (!f.must_revalidate && stale_for < f.stale_if_error) {
                return self.revalidate(ctx, &primary, entry, stale_for, f).await;
            }
        }
        self.miss(ctx, &primary, true).await
    }

    /// Answers from a stored entry that may lack some of the bytes this viewer needs (it is
    /// partial, or only in the memory tier). The first missing span is asked for before the
    /// response is committed: if the object changed at the origin, the origin's new answer
    /// is used instead (RFC 9111 §3.4), not a stored head over a body that cannot be finished.
    pub(super) async fn answer_hit(
        &self,
        ctx: &mut RequestCtx,
        primary: &str,
        entry: &Arc<Entry>,
        head: Head,
        status: CacheStatus,
    ) -> Response<EdgeBody> {
        let (answer, fetch) = self.plan_answer(ctx, entry, head);
        if let (Some(fetch), respond::Answer::Body { start, end, .. }) = (&fetch, &answer) {
            let request_time = now();
            match self.cache.prepare(entry, *start, *end, fetch).await {
                Ok(()) | Err(SpanError::UnknownLength) => {}
                Err(SpanError::Origin(e)) => return self.origin_failed(ctx, &e),
                // A whole new representation answers the viewer's request as it is.
                Err(SpanError::Changed(resp)) if resp.status == StatusCode::OK => {
                    ctx.outcome.cache_status = CacheStatus::Miss;
                    let (r, _) = self.store_and_answer(ctx, primary, resp, request_time);
                    return r;
                }
                Err(SpanError::Changed(_)) => {
                    return Box::pin(self.miss(ctx, primary, true)).await;
                }
            }
        }
        ctx.outcome.cache_status = status;
        answer.into_response(&self.cache, entry, fetch)
    }

    /// Answers the viewer whose request fetched `entry`, with the fields the stored copy
    /// withholds from later viewers.
    pub(super) fn answer_fill(
        &self,
        ctx: &RequestCtx,
        entry: &Arc<Entry>,
        withheld: HeaderMap,
    ) -> Response<EdgeBody> {
        let (answer, fetch) = self.plan_answer(ctx, entry, entry.head());
        let mut r = answer.into_response(&self.cache, entry, fetch);
        if r.status() != StatusCode::NOT_MODIFIED {
            for (name, v) in &withheld {
                r.headers_mut().append(name.clone(), v.clone());
            }
        }
        r
    }

    /// The answer from a stored entry, and the way to the origin for the chunks it may lack
    /// (only an entry that is partial, or only in the memory tier, needs one).
    fn plan_answer(
        &self,
        ctx: &RequestCtx,
        entry: &Arc<Entry>,
        head: Head,
    ) -> (respond::Answer, Option<SpanFetcher>) {
        let fetch = self
            .cache
            .may_miss_chunks(entry)
            .then(|| self.span_fetcher(ctx));
        let age = head.age(now());
        let answer = respond::from_entry(&self.cache, entry, head, &ctx.method, &ctx.headers, age);
        (answer, fetch)
    }
}
