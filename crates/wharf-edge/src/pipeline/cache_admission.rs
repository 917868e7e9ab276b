//! Cache admission: whether an origin response may be stored, what of it is stored (hop-by-hop
//! fields, `Set-Cookie` and `no-cache="f"` fields are not), compression of the stored body, and
//! the start of the fill that streams it into the cache and to every waiting viewer.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{HeaderMap, Method, Response, StatusCode};

use super::context::{NotStored, RequestCtx};
use super::{Edge, now};
use crate::cache::entry::{Entry, Fragment, Head};
use crate::cache::{content_length, parse_content_range};
use crate::cache_control::CacheControl;
use crate::cache_key;
use crate::compress::{self, Encoding};
use crate::distribution::DEFAULT_ERROR_CACHING_MIN_TTL;
use crate::freshness::{self, storable};
use crate::headers;
use crate::origin::OriginResponse;
use crate::respond::EdgeBody;

pub(super) enum Admitted {
    /// Stored; the header fields the stored copy withholds from reuse (`no-cache="a"`,
    /// `private="a"`) still go to the viewer whose request fetched the response.
    Stored(Arc<Entry>, HeaderMap),
    NotStored(OriginResponse),
}

impl Edge {
    /// Stores an origin response if it may be stored, and answers the viewer with it: the
    /// entry (when stored) is returned for collapsed viewers.
    pub(super) fn store_and_answer(
        &self,
        ctx: &mut RequestCtx,
        primary: &str,
        resp: OriginResponse,
        request_time: i64,
    ) -> (Response<EdgeBody>, Option<Arc<Entry>>) {
        match self.admit(ctx, primary, resp, request_time, None, None) {
            Admitted::Stored(e, withheld) => (self.answer_fill(ctx, &e, withheld), Some(e)),
            Admitted::NotStored(resp) => (self.relay(ctx, resp), None),
        }
    }

    /// Stores an origin response (and starts its fill) if it may be stored. `aligned` is the
    /// chunk-aligned range a miss asked for; `fragment` a short answer to a suffix range.
    pub(super) fn admit(
        &self,
        ctx: &mut RequestCtx,
        primary: &str,
        resp: OriginResponse,
        request_time: i64,
        aligned: Option<(u64, Option<u64>)>,
        fragment: Option<(Bytes, HeaderValue)>,
    ) -> Admitted {
        let dist = ctx.dist.clone();
        let b = &dist.behaviors[ctx.behavior];
        let response_time = now();
        let error_ttl = error_ttl(ctx, resp.status, &resp.headers);
        let mut head_headers = resp.headers.clone();
        headers::strip_hop_by_hop(&mut head_headers);
        if b.cache_policy.cookies.is_none()
            && b.origin_request_policy
                .as_ref()
                .is_none_or(|o| o.cookies.is_none())
        {
            // CloudFront drops Set-Cookie when no cookies are forwarded: a shared cache must
            // not hand one viewer's cookie to the next.
            head_headers.remove(header::SET_COOKIE);
        }
        // `no-cache="a"` and `private="a"`: the response is stored without those fields.
        let cc = CacheControl::from_headers(&resp.headers, &header::CACHE_CONTROL);
        let mut withheld = HeaderMap::new();
        for field in cc.unstorable_fields() {
            if let Ok(name) = header::HeaderName::from_bytes(field.as_bytes()) {
                for v in head_headers.get_all(&name) {
                    withheld.append(name.clone(), v.clone());
                }
            }
            head_headers.remove(field);
        }
        let storable = storable(
            &Method::GET,
            ctx.headers.contains_key(header::AUTHORIZATION),
            resp.status,
            &resp.headers,
            &b.cache_policy,
            error_ttl,
            response_time,
        );
        // A 206 for our aligned range is stored as the whole object's entry, partly filled; a
        // short one for a suffix range as its fragment.
        let mut keep_fragment = None;
        let (status, size, fill_start, fill_end) = match resp.status {
            StatusCode::PARTIAL_CONTENT => match parse_content_range(&resp.headers) {
                Some((a, z, Some(total))) if aligned.is_some_and(|(s, _)| s == a) => {
                    head_headers.remove(header::CONTENT_RANGE);
                    head_headers.insert(header::CONTENT_LENGTH, HeaderValue::from(total));
                    (StatusCode::OK, Some(total), a, Some(z + 1))
                }
                // The bytes that arrived count, even when fewer than Content-Range claims
                // (an incomplete response answers ranges within it, RFC 9111 §3.3).
                Some((a, z, Some(total)))
                    if let Some((bytes, asked)) = fragment
                        && !bytes.is_empty()
                        && (bytes.len() as u64) <= z - a + 1
                        && z < total
                        && let Some(content_range) =
                            resp.headers.get(header::CONTENT_RANGE).cloned() =>
                {
                    head_headers.remove(header::CONTENT_RANGE);
                    head_headers.insert(header::CONTENT_LENGTH, HeaderValue::from(total));
                    let f = Fragment {
                        start: a,
                        len: bytes.len() as u64,
                        asked,
                        content_range,
                    };
                    keep_fragment = Some((f, bytes));
                    (StatusCode::OK, Some(total), 0, Some(0))
                }
                _ => (resp.status, None, 0, None),
            },
            s => (s, content_length(&resp.headers), 0, None),
        };
        if let Err(reason) = storable {
            ctx.outcome.not_stored = Some(NotStored::Uncacheable(reason));
            return Admitted::NotStored(resp);
        }
        if resp.status == StatusCode::PARTIAL_CONTENT && status != StatusCode::OK {
            ctx.outcome.not_stored = Some(NotStored::UnexpectedRange);
            return Admitted::NotStored(resp);
        }
        let mut size = size;
        let mut body = resp.body;
        if b.compress
            && fill_end.is_none()
            && let Some(enc) = Encoding::choose(cache_key::normalized_accept_encoding(
                &ctx.headers,
                &b.cache_policy,
            ))
            && compress::applies(status, &head_headers)
        {
            compress::head(&mut head_headers, enc);
            size = None;
            body = compress::body(body, enc);
        }
        let vary: Vec<(String, Option<String>)> = freshness::vary_names(&head_headers)
            .into_iter()
            .map(|n| {
                let v = ctx.vary_value(&n);
                (n, v)
            })
            .collect();
        let tags = cache_tags(ctx, &head_headers);
        let head = Head {
            status,
            headers: head_headers,
            request_time,
            response_time,
        };
        let entry = self.cache.new_entry(
            primary.to_owned(),
            &ctx.dist.id,
            &ctx.path,
            vary,
            head,
            size,
            error_ttl,
            tags,
        );
        let entry = self.cache.insert(entry);
        match keep_fragment {
            Some((f, bytes)) => self.cache.store_fragment(&entry, f, bytes),
            None => self.cache.start_fill(&entry, fill_start, fill_end, body),
        }
        Admitted::Stored(entry, withheld)
    }
}

/// The object's cache tags: the values of the distribution's `CacheTagConfig` header in the
/// origin's response, comma-separated (`product:tv, brand:example`), each kept as `#tag`.
fn cache_tags(ctx: &RequestCtx, headers: &HeaderMap) -> Vec<String> {
    let Some(name) = &ctx.dist.cache_tag_header else {
        return Vec::new();
    };
    let mut tags: Vec<String> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| crate::cache::invalidation::valid_tag(t))
        .map(|t| format!("#{t}"))
        .collect();
    tags.sort();
    tags.dedup();
    tags
}

/// The error caching minimum TTL for `status` when CloudFront caches this error response:
/// the distribution's `CustomErrorResponse` for the code names it, else CloudFront's 10 s.
fn error_ttl(ctx: &RequestCtx, status: StatusCode, headers: &HeaderMap) -> Option<u64> {
    if !freshness::cached_error(status, headers) {
        return None;
    }
    Some(
        ctx.dist
            .error_responses
            .get(&status.as_u16())
            .map_or(DEFAULT_ERROR_CACHING_MIN_TTL, |e| e.caching_min_ttl),
    )
}
