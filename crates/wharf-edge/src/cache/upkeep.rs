//! The cache's upkeep, on a thread of its own: it writes the invalidation journal's new lines
//! (no file is written on a thread that serves requests) and compacts tombstones, dropping
//! those no stored response needs.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::Cache;
use super::entry::Entry;

/// How often the cache's upkeep runs (see [`Cache::upkeep`]).
pub const UPKEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Tombstones recorded between two compactions of the invalidations.
pub const COMPACT_AFTER_TOMBSTONES: usize = 1_000;

/// Starts the upkeep thread; it ends once the cache is dropped.
pub(super) fn start(cache: &Arc<Cache>) -> std::io::Result<()> {
    let weak = Arc::downgrade(cache);
    std::thread::Builder::new()
        .name("wharf-cache-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                match weak.upgrade() {
                    Some(c) => c.upkeep(),
                    None => return,
                }
            }
        })?;
    Ok(())
}

impl Cache {
    /// The cache's upkeep, every [`UPKEEP_INTERVAL`] on a thread of its own: writes the
    /// invalidation journal's new lines, and compacts tombstones once
    /// [`COMPACT_AFTER_TOMBSTONES`] more were recorded.
    pub fn upkeep(&self) {
        if let Err(e) = self.invalidations.flush_journal() {
            tracing::warn!(error = %e, "could not write the invalidation journal");
        }
        if self.invalidations.recorded_since_compaction() >= COMPACT_AFTER_TOMBSTONES {
            self.compact_invalidations();
        }
    }

    /// Drops tombstones nothing stored needs: a tombstone matters only while a response of
    /// its distribution stored before it remains at its path (or under its prefix). A
    /// distribution that still has more than
    /// [`super::invalidation::MAX_TOMBSTONES_PER_DISTRIBUTION`] then loses its responses stored
    /// before the newer half of them, so that half can go (never a purge of all). Blocks
    /// (file writes): for the upkeep thread.
    pub fn compact_invalidations(&self) {
        self.compact_needed();
        let overflowing = self.invalidations.overflowing();
        for dist in &overflowing {
            let Some(cutoff) = self.invalidations.overflow_cutoff(dist) else {
                continue;
            };
            let old: Vec<Arc<Entry>> = self
                .index
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .values()
                .flatten()
                .filter(|e| e.dist == *dist && e.stored_seq < cutoff)
                .cloned()
                .collect();
            for e in &old {
                self.remove(e);
            }
            self.invalidations.drop_older(dist, cutoff);
        }
        if !overflowing.is_empty() {
            self.compact_needed();
        }
    }

    fn compact_needed(&self) {
        let (entries, clock) = {
            let index = self
                .index
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Read with the index: every response numbered below it is in this snapshot.
            let clock = self.invalidations.current();
            let entries: Vec<Arc<Entry>> = index.values().flatten().cloned().collect();
            (entries, clock)
        };
        // The oldest response stored at each path of each distribution.
        let mut oldest: HashMap<&str, BTreeMap<&str, u64>> = HashMap::new();
        for e in &entries {
            // Its path, and its cache tags (`#tag`, as their tombstones are kept).
            for key in std::iter::once(&e.path).chain(&e.tags) {
                let seq = oldest
                    .entry(e.dist.as_str())
                    .or_default()
                    .entry(key.as_str())
                    .or_insert(e.stored_seq);
                *seq = (*seq).min(e.stored_seq);
            }
        }
        let needed = |dist: &str, path: &str, prefix: bool, seq: u64| {
            if seq >= clock {
                return true;
            }
            let Some(paths) = oldest.get(dist) else {
                return false;
            };
            if prefix {
                paths
                    .range(path..)
                    .take_while(|(p, _)| p.starts_with(path))
                    .any(|(_, &s)| s < seq)
            } else {
                paths.get(path).is_some_and(|&s| s < seq)
            }
        };
        if let Err(e) = self.invalidations.compact(&needed) {
            tracing::warn!(error = %e, "could not rewrite the invalidation journal");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{CacheConfig, entry, invalidation};

    fn cache() -> Arc<Cache> {
        Cache::open(&CacheConfig {
            memory_bytes: 1 << 20,
            disk_bytes: 0,
            dir: None,
        })
        .unwrap()
    }

    fn store(c: &Cache, dist: &str, path: &str) -> Arc<Entry> {
        let head = entry::Head {
            status: http::StatusCode::OK,
            headers: http::HeaderMap::new(),
            request_time: 0,
            response_time: 0,
        };
        let e = c.new_entry(
            format!("{dist}{path}"),
            dist,
            path,
            Vec::new(),
            head,
            Some(0),
            None,
            Vec::new(),
        );
        c.insert(e)
    }

    fn present(c: &Cache, dist: &str, path: &str) -> bool {
        c.lookup(&format!("{dist}{path}"), &|_| None).is_some()
    }

    #[test]
    fn steady_unsafe_methods_never_purge_a_distribution() {
        let c = cache();
        store(&c, "d", "/kept");
        store(&c, "d", "/posted");
        // More unsafe-method invalidations than the tombstone maximum, compacted as they come.
        let n = invalidation::MAX_TOMBSTONES_PER_DISTRIBUTION + 20_000;
        for i in 0..n {
            c.invalidate_uri("d", &format!("/form/{i}"));
            if c.invalidations.recorded_since_compaction() >= COMPACT_AFTER_TOMBSTONES {
                c.compact_invalidations();
            }
        }
        c.invalidate_uri("d", "/posted");
        c.compact_invalidations();
        assert!(present(&c, "d", "/kept"), "an untouched response survives");
        assert!(!present(&c, "d", "/posted"), "an invalidated one does not");
        // Nothing stored ever was at the form paths: those tombstones all went. `/posted`'s
        // stayed while its old response was stored, and goes with it.
        assert_eq!(c.invalidations.count("d"), 1);
        c.compact_invalidations();
        assert_eq!(c.invalidations.count("d"), 0);
        store(&c, "d", "/form/7");
        assert!(present(&c, "d", "/form/7"));
    }

    #[test]
    fn too_many_live_tombstones_evict_the_oldest_responses_not_all() {
        let c = cache();
        let old = store(&c, "d", "/old");
        let max = invalidation::MAX_TOMBSTONES_PER_DISTRIBUTION;
        // More stored responses than the maximum, each then invalidated: every tombstone is
        // needed. One invalidation of all but three paths, then one each for the last three.
        let paths: Vec<String> = (0..max + 3).map(|i| format!("/p/{i}")).collect();
        for p in &paths {
            store(&c, "d", p);
        }
        c.invalidations.invalidate("d", &paths[..max]);
        let newer = store(&c, "d", "/newer");
        for p in &paths[max..] {
            c.invalidations.invalidate("d", std::slice::from_ref(p));
        }
        store(&c, "other", "/x");
        assert_eq!(c.invalidations.count("d"), max + 3);
        c.compact_invalidations();
        // What predates the tombstones that had to go is evicted (`/old` too); `/newer` and
        // other distributions are kept, and no tombstone is left that nothing needs.
        assert!(!present(&c, "d", "/old") && !present(&c, "d", &paths[max]));
        assert!(present(&c, "d", "/newer") && present(&c, "other", "/x"));
        assert_eq!(c.invalidations.count("d"), 0);
        assert!(old.stored_seq < newer.stored_seq);
    }
}
