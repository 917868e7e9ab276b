//! The object cache: an index of stored responses by cache key, their bodies in fixed-size
//! chunks across a memory tier and a disk tier, fills that stream into both, request
//! collapsing ([`collapse`]), and invalidation.

pub mod buffers;
pub mod collapse;
pub mod disk;
pub mod entry;
pub mod fill;
pub mod invalidation;
pub mod memory;
pub mod upkeep;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use tokio::sync::watch;

use crate::origin::{OriginError, OriginResponse};
pub use collapse::{Collapse, LeaderGuard, Outcome};
use entry::{CHUNK_SIZE, Entry, FRAGMENT_SLOT, Fragment, StoredEntry, chunk_of};
use fill::{Fill, FillState};
use invalidation::Invalidations;

/// A range fill asks the origin for at most this many chunks at once.
pub const MAX_SPAN_CHUNKS: u64 = 16;

#[derive(Debug, Clone)]
pub struct CacheConfig {
    pub memory_bytes: u64,
    pub disk_bytes: u64,
    /// Where the disk tier lives; `None` for memory only.
    pub dir: Option<PathBuf>,
}

/// Fetches `[start, end)` of an entry's body from the origin (a range request; `end = None`:
/// to the end of the body).
pub type SpanFetcher = Arc<
    dyn Fn(u64, Option<u64>) -> BoxFuture<'static, Result<OriginResponse, OriginError>>
        + Send
        + Sync,
>;

/// What the tiers hold and have evicted.
#[derive(Debug, Clone, Copy, Default)]
pub struct CacheStats {
    pub memory_bytes: u64,
    /// Chunks evicted from memory.
    pub memory_evictions: u64,
    pub disk_bytes: u64,
    /// Whole entries evicted from disk.
    pub disk_evictions: u64,
}

pub struct Cache {
    index: RwLock<HashMap<String, Vec<Arc<Entry>>>>,
    pending: Mutex<HashMap<String, watch::Sender<Option<Outcome>>>>,
    memory: memory::MemoryTier,
    disk: Option<disk::DiskTier>,
    disk_used: AtomicU64,
    disk_evictions: AtomicU64,
    evicting: std::sync::atomic::AtomicBool,
    pub invalidations: Invalidations,
    next_id: AtomicU64,
    clock: AtomicU64,
}

impl Cache {
    pub fn open(cfg: &CacheConfig) -> std::io::Result<Arc<Self>> {
        let disk = match &cfg.dir {
            Some(d) if cfg.disk_bytes > 0 => {
                Some(disk::DiskTier::open(&d.join("entries"), cfg.disk_bytes)?)
            }
            _ => None,
        };
        let journal = cfg.dir.as_ref().map(|d| d.join("invalidations"));
        if let Some(d) = &cfg.dir {
            std::fs::create_dir_all(d)?;
        }
        let cache = Self {
            index: RwLock::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            memory: memory::MemoryTier::new(cfg.memory_bytes),
            disk,
            disk_used: AtomicU64::new(0),
            disk_evictions: AtomicU64::new(0),
            evicting: false.into(),
            invalidations: Invalidations::new(journal),
            next_id: AtomicU64::new(1),
            clock: AtomicU64::new(0),
        };
        if let Some(d) = &cache.disk {
            let mut index = cache
                .index
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut max_id = 0;
            for e in d.load() {
                max_id = max_id.max(e.id);
                cache.invalidations.observe(e.stored_seq);
                cache.disk_used.fetch_add(disk_bytes(&e), Ordering::Relaxed);
                index
                    .entry(e.primary.clone())
                    .or_default()
                    .push(Arc::new(e));
            }
            cache.next_id.store(max_id + 1, Ordering::Relaxed);
        }
        let cache = Arc::new(cache);
        upkeep::start(&cache)?;
        Ok(cache)
    }

    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::Relaxed)
    }

    /// Number of stored responses (all variants).
    pub fn len(&self) -> usize {
        self.index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .map(Vec::len)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The newest stored response for `primary` whose `Vary` values match the request's, unless
    /// it was invalidated.
    pub fn lookup(
        &self,
        primary: &str,
        vary_value: &dyn Fn(&str) -> Option<String>,
    ) -> Option<Arc<Entry>> {
        let found = {
            let index = self
                .index
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let variants = index.get(primary)?;
            variants
                .iter()
                .rev()
                .find(|e| e.selected_by(vary_value))
                .cloned()?
        };
        if self.invalidations.is_invalidated(
            &found.dist,
            &found.path,
            &found.tags,
            found.stored_seq,
        ) {
            self.remove(&found);
            return None;
        }
        found.touch(self.tick());
        Some(found)
    }

    /// Allocates an entry (not yet in the index).
    #[allow(clippy::too_many_arguments)]
    pub fn new_entry(
        &self,
        primary: String,
        dist: &str,
        path: &str,
        vary: Vec<(String, Option<String>)>,
        head: entry::Head,
        size: Option<u64>,
        error_ttl: Option<u64>,
        tags: Vec<String>,
    ) -> Entry {
        Entry {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            primary,
            dist: dist.to_owned(),
            path: path.to_owned(),
            vary,
            tags,
            stored_seq: self.invalidations.next_seq(),
            error_ttl,
            head: RwLock::new(head),
            chunks: Mutex::new(entry::Chunks {
                size,
                ..Default::default()
            }),
            last_access: AtomicU64::new(self.tick()),
        }
    }

    /// Adds `entry`, replacing stored responses with the same `Vary` values.
    pub fn insert(&self, mut entry: Entry) -> Arc<Entry> {
        let (entry, replaced) = {
            let mut index = self
                .index
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Numbered under the index lock: whoever reads the index and the clock together
            // (compaction) sees every response numbered before that clock.
            entry.stored_seq = self.invalidations.next_seq();
            let entry = Arc::new(entry);
            let variants = index.entry(entry.primary.clone()).or_default();
            let (gone, kept): (Vec<_>, Vec<_>) =
                variants.drain(..).partition(|e| e.vary == entry.vary);
            *variants = kept;
            variants.push(entry.clone());
            (entry, gone)
        };
        for old in replaced {
            self.forget(&old);
        }
        entry
    }

    /// Drops an entry from the index and the tiers.
    pub fn remove(&self, entry: &Arc<Entry>) {
        let removed = {
            let mut index = self
                .index
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match index.get_mut(&entry.primary) {
                Some(v) => {
                    let before = v.len();
                    v.retain(|e| !Arc::ptr_eq(e, entry));
                    let removed = v.len() != before;
                    if v.is_empty() {
                        index.remove(&entry.primary);
                    }
                    removed
                }
                None => false,
            }
        };
        if removed {
            self.forget(entry);
        }
    }

    fn forget(&self, entry: &Entry) {
        let chunks = entry.chunks().present.len();
        self.memory
            .remove(entry.id, u32::try_from(chunks).unwrap_or(u32::MAX));
        if let Some(d) = &self.disk {
            self.disk_used.fetch_sub(
                disk_bytes(entry).min(self.disk_used.load(Ordering::Relaxed)),
                Ordering::Relaxed,
            );
            d.remove(entry.id);
        }
    }

    /// Drops every stored response of `dist` for `path` now (unsafe-method invalidation,
    /// RFC 9111 §4.4), through the same tombstones as CloudFront invalidations.
    pub fn invalidate_uri(&self, dist: &str, path: &str) {
        self.invalidations.invalidate(dist, &[path.to_owned()]);
    }

    /// Starts filling `entry` from `start` (to `end`, or the end of the body) with `body`.
    pub fn start_fill(
        self: &Arc<Self>,
        entry: &Arc<Entry>,
        start: u64,
        end: Option<u64>,
        body: BoxStream<'static, std::io::Result<Bytes>>,
    ) {
        self.start_seeded_fill(entry, start, end, Bytes::new(), body);
    }

    /// A fill whose first bytes (`seed`, from `start`) the cache already holds: `body` brings
    /// the rest, from `start + seed.len()`.
    fn start_seeded_fill(
        self: &Arc<Self>,
        entry: &Arc<Entry>,
        start: u64,
        end: Option<u64>,
        seed: Bytes,
        body: BoxStream<'static, std::io::Result<Bytes>>,
    ) {
        let f = Fill::new(start, end);
        f.seed(seed);
        entry.chunks().fills.push(f.clone());
        fill::spawn(self.clone(), entry.clone(), f, body);
    }

    /// Keeps a partial response's body as `entry`'s fragment.
    pub fn store_fragment(&self, entry: &Entry, fragment: Fragment, bytes: Bytes) {
        self.memory.insert(entry.id, FRAGMENT_SLOT, bytes);
        entry.chunks().fragment = Some(fragment);
    }

    /// The origin's own 206 for a request whose `Range` is exactly the one that fetched the
    /// entry's fragment: `(Content-Range, body)`.
    pub fn replay_fragment(
        &self,
        entry: &Entry,
        range: &http::HeaderValue,
    ) -> Option<(http::HeaderValue, Bytes)> {
        let content_range = {
            let c = entry.chunks();
            let f = c.fragment.as_ref().filter(|f| f.asked == range)?;
            f.content_range.clone()
        };
        Some((content_range, self.memory.get(entry.id, FRAGMENT_SLOT)?))
    }

    /// The fragment's bytes from `pos` (to its end), if it holds `pos`.
    fn fragment_from(&self, entry: &Entry, pos: u64) -> Option<Bytes> {
        let start = {
            let c = entry.chunks();
            let f = c
                .fragment
                .as_ref()
                .filter(|f| f.start <= pos && pos < f.end())?;
            f.start
        };
        let b = self.memory.get(entry.id, FRAGMENT_SLOT)?;
        let from = usize::try_from(pos - start).ok()?;
        (from < b.len()).then(|| b.slice(from..))
    }

    pub(crate) async fn store_chunk(&self, entry: &Arc<Entry>, idx: u32, chunk: Bytes) {
        self.memory.insert(entry.id, idx, chunk.clone());
        if let Some(d) = &self.disk {
            let len = chunk.len() as u64;
            match d.write_chunk(entry.id, idx, chunk).await {
                Ok(()) => {
                    let used = self.disk_used.fetch_add(len, Ordering::Relaxed) + len;
                    if used > d.budget {
                        self.evict_disk();
                    }
                }
                Err(e) => tracing::warn!(error = %e, "edge disk tier write failed"),
            }
        }
        entry.chunks().set(idx);
    }

    /// Writes an entry's head and chunk map to the disk tier (after a fill, or a 304).
    pub(crate) async fn persist(&self, entry: &Arc<Entry>) {
        if let Some(d) = &self.disk
            && self.is_indexed(entry)
            && let Err(e) = d.write_meta(StoredEntry::of(entry)).await
        {
            tracing::warn!(error = %e, "edge disk tier metadata write failed");
        }
    }

    fn is_indexed(&self, entry: &Arc<Entry>) -> bool {
        let index = self
            .index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        index
            .get(&entry.primary)
            .is_some_and(|v| v.iter().any(|e| Arc::ptr_eq(e, entry)))
    }

    /// The tiers' sizes and evictions so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            memory_bytes: self.memory.weight(),
            memory_evictions: self.memory.evictions(),
            disk_bytes: if self.disk.is_some() {
                self.disk_used.load(Ordering::Relaxed)
            } else {
                0
            },
            disk_evictions: self.disk_evictions.load(Ordering::Relaxed),
        }
    }

    /// Evicts least-recently-used entries until the disk tier is under 90% of its budget.
    fn evict_disk(&self) {
        let Some(d) = &self.disk else { return };
        if self.evicting.swap(true, Ordering::AcqRel) {
            return;
        }
        let mut all: Vec<Arc<Entry>> = {
            let index = self
                .index
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            index.values().flatten().cloned().collect()
        };
        all.sort_by_key(|e| e.last_access.load(Ordering::Relaxed));
        let target = d.budget / 10 * 9;
        for e in all {
            if self.disk_used.load(Ordering::Relaxed) <= target {
                break;
            }
            if !e.chunks().fills.is_empty() {
                continue;
            }
            self.remove(&e);
            self.disk_evictions.fetch_add(1, Ordering::Relaxed);
        }
        self.evicting.store(false, Ordering::Release);
    }

    /// Whether reading this entry may find a chunk missing (so the reader needs the origin):
    /// it is still partial, or its chunks live only in the memory tier, which may evict them.
    pub fn may_miss_chunks(&self, entry: &Entry) -> bool {
        self.disk.is_none() || !entry.chunks().complete()
    }

    async fn read_chunk(&self, entry: &Arc<Entry>, idx: u32) -> Option<Bytes> {
        if let Some(c) = self.memory.get(entry.id, idx) {
            return Some(c);
        }
        let d = self.disk.as_ref()?;
        let size = entry.size()?;
        let start = u64::from(idx) * CHUNK_SIZE;
        let len = usize::try_from(CHUNK_SIZE.min(size.saturating_sub(start))).ok()?;
        let chunk = d.read_chunk(entry.id, idx, len).await.ok()?;
        self.memory.insert(entry.id, idx, chunk.clone());
        Some(chunk)
    }

    /// Streams `[start, end)` of an entry's body (`end = None`: to the end of the body),
    /// waiting on fills under way and fetching missing chunks through `fetch`.
    pub fn read(
        self: &Arc<Self>,
        entry: Arc<Entry>,
        start: u64,
        end: Option<u64>,
        fetch: Option<SpanFetcher>,
    ) -> BoxStream<'static, std::io::Result<Bytes>> {
        let cache = self.clone();
        let state = (cache, entry, start, end, fetch);
        Box::pin(futures::stream::unfold(Some(state), |state| async move {
            let (cache, entry, mut pos, end, fetch) = state?;
            match cache.next_piece(&entry, pos, end, fetch.as_ref()).await {
                Ok(Some(b)) => {
                    pos += b.len() as u64;
                    Some((Ok(b), Some((cache, entry, pos, end, fetch))))
                }
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        }))
    }

    async fn next_piece(
        self: &Arc<Self>,
        entry: &Arc<Entry>,
        pos: u64,
        end: Option<u64>,
        fetch: Option<&SpanFetcher>,
    ) -> std::io::Result<Option<Bytes>> {
        loop {
            let limit = match (end, entry.size()) {
                (Some(e), Some(s)) => Some(e.min(s)),
                (e, s) => e.or(s),
            };
            if limit.is_some_and(|l| pos >= l) {
                return Ok(None);
            }
            let idx = chunk_of(pos);
            let clip = |b: Bytes, base: u64| -> Bytes {
                let from = usize::try_from(pos - base).unwrap_or(0).min(b.len());
                let mut b = b.slice(from..);
                if let Some(l) = limit {
                    b.truncate(usize::try_from(l - pos).unwrap_or(usize::MAX));
                }
                b
            };
            if entry.chunks().has(idx) {
                if let Some(c) = self.read_chunk(entry, idx).await {
                    let piece = clip(c, u64::from(idx) * CHUNK_SIZE);
                    if piece.is_empty() {
                        return Ok(None);
                    }
                    return Ok(Some(piece));
                }
                // Evicted from memory with no copy on disk: fetch it again.
                let mut c = entry.chunks();
                if let Some(p) = c.present.get_mut(idx as usize) {
                    *p = false;
                }
            }
            let fill = entry.chunks().fills.iter().find(|f| f.covers(pos)).cloned();
            if let Some(f) = fill {
                let mut rx = f.subscribe();
                loop {
                    if let Some(b) = f.read_partial(pos) {
                        return Ok(Some(clip(b, pos)));
                    }
                    if entry.chunks().has(idx) {
                        break;
                    }
                    let p = f.progress();
                    match p.state {
                        FillState::Failed => {
                            return Err(std::io::Error::other("origin failed mid-body"));
                        }
                        FillState::Done => break,
                        FillState::Running => {}
                    }
                    if rx.changed().await.is_err() {
                        break;
                    }
                }
                if f.progress().state == FillState::Done && !entry.chunks().has(idx) {
                    // The fill ended before `pos`: the body is shorter than asked for.
                    if entry.size().is_none_or(|s| pos >= s) {
                        return Ok(None);
                    }
                } else {
                    continue;
                }
            }
            if let Some(b) = self.fragment_from(entry, pos) {
                return Ok(Some(clip(b, pos)));
            }
            // Nobody is fetching this chunk: ask the origin for it.
            let Some(fetch) = fetch else {
                return Err(std::io::Error::other("chunk missing from the cache"));
            };
            self.fetch_span(entry, pos, limit, fetch)
                .await
                .map_err(|e| match e {
                    SpanError::Origin(e) => std::io::Error::other(e.to_string()),
                    SpanError::Changed(_) => std::io::Error::other("object changed at the origin"),
                    SpanError::UnknownLength => {
                        std::io::Error::other("body of unknown length is incomplete")
                    }
                })?;
        }
    }

    /// The first byte of `[start, end)` that no chunk, fill or fragment of `entry` holds:
    /// where reading it would first need the origin.
    pub fn first_gap(&self, entry: &Entry, start: u64, end: Option<u64>) -> Option<u64> {
        let c = entry.chunks();
        let size = c.size?;
        let limit = end.map_or(size, |e| e.min(size));
        let mut pos = start;
        while pos < limit {
            if let Some(f) = c
                .fragment
                .as_ref()
                .filter(|f| f.start <= pos && pos < f.end())
            {
                pos = f.end();
                continue;
            }
            let idx = chunk_of(pos);
            if !c.has(idx) && !c.fills.iter().any(|f| f.covers(pos)) {
                return Some(pos);
            }
            pos = u64::from(idx + 1) * CHUNK_SIZE;
        }
        None
    }

    /// Before a response from `entry` is committed: asks the origin for the first span of
    /// `[start, end)` the cache lacks. An object that changed at the origin is then found
    /// while the response can still be replaced, not in the middle of its body.
    pub async fn prepare(
        self: &Arc<Self>,
        entry: &Arc<Entry>,
        start: u64,
        end: Option<u64>,
        fetch: &SpanFetcher,
    ) -> Result<(), SpanError> {
        match self.first_gap(entry, start, end) {
            Some(pos) => self.fetch_span(entry, pos, end, fetch).await,
            None => Ok(()),
        }
    }

    /// Asks the origin for the span from the chunk holding `pos` up to the next chunk we hold
    /// (or `limit`), and starts its fill.
    async fn fetch_span(
        self: &Arc<Self>,
        entry: &Arc<Entry>,
        pos: u64,
        limit: Option<u64>,
        fetch: &SpanFetcher,
    ) -> Result<(), SpanError> {
        let Some(size) = entry.size() else {
            return Err(SpanError::UnknownLength);
        };
        let idx = chunk_of(pos);
        let span_start = u64::from(idx) * CHUNK_SIZE;
        let want_end = limit.unwrap_or(size).min(size);
        let mut span_end = (span_start + MAX_SPAN_CHUNKS * CHUNK_SIZE)
            .min(want_end.div_ceil(CHUNK_SIZE) * CHUNK_SIZE)
            .min(size);
        {
            let c = entry.chunks();
            let mut i = idx + 1;
            while u64::from(i) * CHUNK_SIZE < span_end {
                if c.has(i) || c.fills.iter().any(|f| f.covers(u64::from(i) * CHUNK_SIZE)) {
                    span_end = u64::from(i) * CHUNK_SIZE;
                    break;
                }
                i += 1;
            }
        }
        // A fragment at the span's start combines with the rest (RFC 9111 §3.4): only the
        // bytes after it are asked for.
        let mut seed = self.fragment_from(entry, span_start).unwrap_or_default();
        seed.truncate(usize::try_from(span_end - span_start).unwrap_or(usize::MAX));
        let from = span_start + seed.len() as u64;
        let body = if from == span_end {
            Box::pin(futures::stream::empty()) as BoxStream<'static, _>
        } else {
            let resp = fetch(from, (span_end < size).then_some(span_end))
                .await
                .map_err(SpanError::Origin)?;
            let same = same_validator(&entry.head().headers, &resp.headers);
            match resp.status {
                http::StatusCode::PARTIAL_CONTENT
                    if same && content_range_start(&resp.headers) == Some(from) =>
                {
                    resp.body
                }
                // The whole representation, unchanged: its bytes from `from` will do.
                http::StatusCode::OK if same && content_length(&resp.headers) == Some(size) => {
                    fill::skip_bytes(resp.body, from)
                }
                _ => {
                    // The object changed at the origin: this stored copy is no longer whole.
                    self.remove(entry);
                    return Err(SpanError::Changed(resp));
                }
            }
        };
        if !entry.chunks().fills.iter().any(|f| f.covers(pos)) {
            self.start_seeded_fill(entry, span_start, Some(span_end), seed, body);
        }
        Ok(())
    }
}

/// Why the cache could not start fetching a span it lacks.
pub enum SpanError {
    Origin(OriginError),
    /// The origin's answer does not continue the stored object, which is dropped; the answer
    /// is handed back.
    Changed(OriginResponse),
    /// The stored body's length is unknown, so a span of it cannot be asked for.
    UnknownLength,
}

fn disk_bytes(e: &Entry) -> u64 {
    let c = e.chunks();
    let size = c.size.unwrap_or(0);
    (0..c.present.len() as u32)
        .filter(|&i| c.has(i))
        .map(|i| CHUNK_SIZE.min(size.saturating_sub(u64::from(i) * CHUNK_SIZE)))
        .sum()
}

fn same_validator(stored: &http::HeaderMap, fresh: &http::HeaderMap) -> bool {
    match (
        stored.get(http::header::ETAG),
        fresh.get(http::header::ETAG),
    ) {
        (Some(a), Some(b)) => a == b,
        (None, _) => {
            stored.get(http::header::LAST_MODIFIED) == fresh.get(http::header::LAST_MODIFIED)
        }
        (Some(_), None) => false,
    }
}

pub fn content_length(h: &http::HeaderMap) -> Option<u64> {
    h.get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The first byte of a `Content-Range: bytes a-b/n` header.
pub fn content_range_start(h: &http::HeaderMap) -> Option<u64> {
    parse_content_range(h).map(|(a, _, _)| a)
}

/// `(first, last, complete length)` of `Content-Range: bytes first-last/length`.
pub fn parse_content_range(h: &http::HeaderMap) -> Option<(u64, u64, Option<u64>)> {
    let v = h.get(http::header::CONTENT_RANGE)?.to_str().ok()?;
    let rest = v.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    let (a, b): (u64, u64) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    // The last byte is before the end (RFC 9110 §14.4), so `b + 1` never overflows.
    if b < a || b == u64::MAX {
        return None;
    }
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    if total.is_some_and(|t| b >= t) {
        return None;
    }
    Some((a, b, total))
}

#[cfg(test)]
mod tests {
    use super::parse_content_range;

    #[test]
    fn content_ranges_past_their_length_or_at_the_last_u64_are_invalid() {
        let cr = |v: &str| {
            let mut h = http::HeaderMap::new();
            h.insert(http::header::CONTENT_RANGE, v.parse().unwrap());
            parse_content_range(&h)
        };
        assert_eq!(cr("bytes 0-9/100"), Some((0, 9, Some(100))));
        assert_eq!(cr("bytes 0-9/*"), Some((0, 9, None)));
        assert_eq!(cr("bytes 0-100/100"), None);
        assert_eq!(cr("bytes 9-0/100"), None);
        let max = u64::MAX;
        assert_eq!(cr(&format!("bytes 0-{max}/{max}")), None);
        assert_eq!(cr(&format!("bytes 0-{max}/*")), None);
        assert_eq!(
            cr(&format!("bytes 0-{}/{max}", max - 1)),
            Some((0, max - 1, Some(max)))
        );
    }
}
