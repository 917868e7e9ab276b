//! A stored response: its head (status and headers, updatable on a 304), the request values
//! its `Vary` names, and which fixed-size chunks of its body the tiers hold.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};

use super::fill::Fill;

/// Bodies are stored in chunks of this size: a range touches only the chunks it needs, and a
/// fill hands each finished chunk to the tiers while the rest still streams.
pub const CHUNK_SIZE: u64 = 1 << 20;

/// A partial response the origin sent for a viewer's suffix range (`bytes=-n`) is kept when it
/// is at most this long: as a fragment of the entry, outside the chunk grid.
pub const FRAGMENT_MAX: u64 = 64 * 1024;

/// The memory tier's slot for an entry's fragment (chunk indexes never reach it).
pub const FRAGMENT_SLOT: u32 = u32::MAX;

pub fn chunk_of(offset: u64) -> u32 {
    u32::try_from(offset / CHUNK_SIZE).unwrap_or(u32::MAX)
}

pub fn chunk_count(size: u64) -> u32 {
    u32::try_from(size.div_ceil(CHUNK_SIZE)).unwrap_or(u32::MAX)
}

/// The head of a stored response.
#[derive(Debug, Clone)]
pub struct Head {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// Seconds since the epoch when the request that produced it was sent / the response came.
    pub request_time: i64,
    pub response_time: i64,
}

impl Head {
    /// Its current age at `now` (RFC 9111 §4.2.3).
    pub fn age(&self, now: i64) -> u64 {
        crate::freshness::current_age(&self.headers, self.request_time, self.response_time, now)
    }
}

/// Bytes `[start, start + len)` of the body that arrived as a 206 not aligned to chunks (RFC
/// 9111 §3.4: partial content, stored to answer ranges within it and to complete the entry).
/// The bytes live in the memory tier; if it evicts them the fragment is simply gone.
#[derive(Debug, Clone)]
pub struct Fragment {
    pub start: u64,
    pub len: u64,
    /// The viewer's `Range` that fetched it and the origin's `Content-Range`: the same request
    /// is answered with the origin's own 206 again.
    pub asked: HeaderValue,
    pub content_range: HeaderValue,
}

impl Fragment {
    pub fn end(&self) -> u64 {
        self.start + self.len
    }
}

#[derive(Default)]
pub struct Chunks {
    /// Body length, once known (from Content-Length, Content-Range, or the end of the fill).
    pub size: Option<u64>,
    pub present: Vec<bool>,
    /// The fills under way for this entry.
    pub fills: Vec<Arc<Fill>>,
    pub fragment: Option<Fragment>,
}

impl Chunks {
    pub fn has(&self, idx: u32) -> bool {
        self.present.get(idx as usize).copied().unwrap_or(false)
    }
    pub fn set(&mut self, idx: u32) {
        let i = idx as usize;
        if self.present.len() <= i {
            self.present.resize(i + 1, false);
        }
        self.present[i] = true;
    }
    pub fn complete(&self) -> bool {
        self.size
            .is_some_and(|s| (0..chunk_count(s)).all(|i| self.has(i)))
    }
}

pub struct Entry {
    pub id: u64,
    /// The cache key without `Vary`.
    pub primary: String,
    /// Distribution ID and path, for invalidation.
    pub dist: String,
    pub path: String,
    /// (lower-case header name, the request's normalised value) for each name in `Vary`.
    pub vary: Vec<(String, Option<String>)>,
    /// Its cache tags (`CacheTagConfig`), each written `#tag` as invalidations name them.
    pub tags: Vec<String>,
    /// The invalidation clock when stored.
    pub stored_seq: u64,
    /// Seconds an error response stays cached (`ErrorCachingMinTTL`), when this is one.
    pub error_ttl: Option<u64>,
    pub head: RwLock<Head>,
    pub chunks: Mutex<Chunks>,
    pub last_access: AtomicU64,
}

impl Entry {
    pub fn head(&self) -> Head {
        self.head
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn chunks(&self) -> std::sync::MutexGuard<'_, Chunks> {
        self.chunks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn size(&self) -> Option<u64> {
        self.chunks().size
    }

    pub fn touch(&self, now: u64) {
        self.last_access.store(now, Ordering::Relaxed);
    }

    /// RFC 9111 §3.2 / §4.3.4: a 304 updates the stored header fields, except the ones that
    /// describe the stored body: its length, range, coding and digest (`Content-MD5`), and
    /// the `ETag` that selected it (our weakened ETag of a compressed body stays weak too).
    pub fn update_headers(&self, fresh: &HeaderMap, request_time: i64, response_time: i64) {
        let mut head = self
            .head
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let keep: [HeaderName; 5] = [
            http::header::CONTENT_LENGTH,
            http::header::CONTENT_RANGE,
            http::header::CONTENT_ENCODING,
            http::header::TRANSFER_ENCODING,
            HeaderName::from_static("content-md5"),
        ];
        let mut names: Vec<&HeaderName> = fresh.keys().collect();
        names.dedup();
        for name in names {
            if keep.contains(name) || crate::headers::is_hop_by_hop(name) {
                continue;
            }
            if name == http::header::ETAG && head.headers.contains_key(name) {
                continue;
            }
            // A compressed body's Vary: Accept-Encoding is ours to keep.
            if name == http::header::VARY
                && head.headers.contains_key(http::header::CONTENT_ENCODING)
            {
                continue;
            }
            head.headers.remove(name);
            for v in fresh.get_all(name) {
                head.headers.append(name.clone(), v.clone());
            }
        }
        head.request_time = request_time;
        head.response_time = response_time;
    }

    /// Whether a request with these `Vary` values may reuse this response.
    /// Whether a request with these values of the `Vary` fields may reuse this response
    /// (RFC 9111 §4.1). A response in one language (`Content-Language`) also serves a request
    /// whose `Accept-Language` prefers that language above all others.
    pub fn selected_by(&self, vary_value: &dyn Fn(&str) -> Option<String>) -> bool {
        self.vary.iter().all(|(name, v)| {
            let rv = vary_value(name);
            rv == *v || (name == "accept-language" && self.in_language(rv.as_deref()))
        })
    }

    fn in_language(&self, accept_language: Option<&str>) -> bool {
        let Some(wanted) = accept_language.and_then(crate::cache_key::preferred_language) else {
            return false;
        };
        let head = self
            .head
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut langs = head.headers.get_all(http::header::CONTENT_LANGUAGE).iter();
        match (langs.next().and_then(|v| v.to_str().ok()), langs.next()) {
            (Some(l), None) => !l.contains(',') && l.trim().eq_ignore_ascii_case(wanted),
            _ => false,
        }
    }
}

/// The on-disk form of an entry's head and chunk map (`<id>.meta`, JSON, format version 1).
#[derive(Debug, Serialize, Deserialize)]
pub struct StoredEntry {
    pub format: u32,
    pub id: u64,
    pub primary: String,
    pub dist: String,
    pub path: String,
    pub vary: Vec<(String, Option<String>)>,
    /// Absent in entries stored before cache tags.
    #[serde(default)]
    pub tags: Vec<String>,
    pub stored_seq: u64,
    pub error_ttl: Option<u64>,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub request_time: i64,
    pub response_time: i64,
    pub size: Option<u64>,
    pub present: Vec<u32>,
}

pub const STORED_ENTRY_FORMAT: u32 = 1;

impl StoredEntry {
    pub fn of(e: &Entry) -> Self {
        let head = e.head();
        let chunks = e.chunks();
        Self {
            format: STORED_ENTRY_FORMAT,
            id: e.id,
            primary: e.primary.clone(),
            dist: e.dist.clone(),
            path: e.path.clone(),
            vary: e.vary.clone(),
            tags: e.tags.clone(),
            stored_seq: e.stored_seq,
            error_ttl: e.error_ttl,
            status: head.status.as_u16(),
            headers: head
                .headers
                .iter()
                .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect(),
            request_time: head.request_time,
            response_time: head.response_time,
            size: chunks.size,
            present: (0..chunks.present.len() as u32)
                .filter(|&i| chunks.has(i))
                .collect(),
        }
    }

    pub fn into_entry(self) -> Option<Entry> {
        if self.format != STORED_ENTRY_FORMAT {
            return None;
        }
        let mut headers = HeaderMap::new();
        for (n, v) in &self.headers {
            headers.append(
                HeaderName::from_bytes(n.as_bytes()).ok()?,
                HeaderValue::from_str(v).ok()?,
            );
        }
        let mut chunks = Chunks {
            size: self.size,
            ..Default::default()
        };
        for i in self.present {
            chunks.set(i);
        }
        Some(Entry {
            id: self.id,
            primary: self.primary,
            dist: self.dist,
            path: self.path,
            vary: self.vary,
            tags: self.tags,
            stored_seq: self.stored_seq,
            error_ttl: self.error_ttl,
            head: RwLock::new(Head {
                status: StatusCode::from_u16(self.status).ok()?,
                headers,
                request_time: self.request_time,
                response_time: self.response_time,
            }),
            chunks: Mutex::new(chunks),
            last_access: AtomicU64::new(0),
        })
    }
}
