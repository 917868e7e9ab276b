//! Invalidation, O(1) at request time.
//!
//! Every stored response carries the sequence number it was stored at; an invalidation takes
//! the next number and records a tombstone: exact paths in a map, wildcard paths (`/images/*`)
//! as prefixes grouped by length. A lookup checks the request path's own tombstone and, for
//! each distinct prefix length recorded, one map probe; a stored response older than a
//! matching tombstone is treated as absent. Nothing scans the cache, and every key variant of
//! a path (query strings, headers, cookies, encodings) is covered because tombstones match the
//! path alone.
//!
//! Tombstones are kept in a journal so they survive a restart with the disk tier. Recording
//! one only appends a line to memory; the cache's maintenance thread writes the lines out
//! (a CreateInvalidation waits for them with [`Invalidations::flush_journal`], off the async
//! runtime). A tombstone is useless once every response of its distribution still stored is
//! newer than it: [`Invalidations::compact`] drops those and rewrites the journal with the
//! rest, so steady unsafe-method traffic never piles up tombstones.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};

/// CloudFront: at most 3,000 paths in progress per distribution. Past this many live
/// tombstones, the cache evicts the distribution's oldest responses so it can drop the oldest
/// half of them (never a purge of everything).
pub const MAX_TOMBSTONES_PER_DISTRIBUTION: usize = 100_000;

#[derive(Default)]
struct DistTombstones {
    exact: HashMap<String, u64>,
    /// prefix length → prefix → seq.
    prefixes: BTreeMap<usize, HashMap<String, u64>>,
    count: usize,
}

impl DistTombstones {
    fn seqs(&self) -> impl Iterator<Item = u64> + '_ {
        self.exact
            .values()
            .chain(self.prefixes.values().flat_map(HashMap::values))
            .copied()
    }

    /// Drops tombstones older than `horizon`.
    fn drop_older(&mut self, horizon: u64) {
        self.exact.retain(|_, s| *s >= horizon);
        for slot in self.prefixes.values_mut() {
            slot.retain(|_, s| *s >= horizon);
        }
        self.prefixes.retain(|_, slot| !slot.is_empty());
        self.count = self.exact.len() + self.prefixes.values().map(HashMap::len).sum::<usize>();
    }
}

pub struct Invalidations {
    clock: AtomicU64,
    by_dist: RwLock<HashMap<String, DistTombstones>>,
    journal: Option<Journal>,
    /// Tombstones recorded since the last compaction.
    since_compaction: AtomicUsize,
}

struct Journal {
    path: PathBuf,
    /// Lines recorded and not yet written.
    pending: Mutex<String>,
    /// Held while the file is written, so appends and rewrites never interleave.
    writing: Mutex<()>,
}

/// A journal lock; a panic elsewhere leaves the lines intact, so poisoning is ignored.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub use wharf_model::cloudfront::{
    MAX_INVALIDATION_PATH_LEN, valid_cache_tag as valid_tag, valid_invalidation_path as valid_path,
};

impl Invalidations {
    pub fn new(journal: Option<PathBuf>) -> Self {
        let inv = Self {
            clock: AtomicU64::new(1),
            by_dist: RwLock::new(HashMap::new()),
            journal: journal.map(|path| Journal {
                path,
                pending: Mutex::new(String::new()),
                writing: Mutex::new(()),
            }),
            since_compaction: AtomicUsize::new(0),
        };
        if let Some(j) = &inv.journal
            && let Ok(text) = std::fs::read_to_string(&j.path)
        {
            for line in text.lines() {
                let mut parts = line.splitn(3, '\t');
                if let (Some(seq), Some(dist), Some(path)) =
                    (parts.next(), parts.next(), parts.next())
                    && let Ok(seq) = seq.parse()
                {
                    inv.record(dist, path, seq);
                    inv.observe(seq);
                }
            }
        }
        inv
    }

    /// The next sequence number (for a stored response or an invalidation).
    pub fn next_seq(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::Relaxed)
    }

    /// The number the next sequence number will be.
    pub fn current(&self) -> u64 {
        self.clock.load(Ordering::Relaxed)
    }

    /// Keeps the clock ahead of a number read back from disk.
    pub fn observe(&self, seq: u64) {
        self.clock.fetch_max(seq + 1, Ordering::Relaxed);
    }

    /// CreateInvalidation: checks every path as CloudFront does, then invalidates them all.
    /// The caller makes it durable with [`Self::flush_journal`].
    pub fn create_invalidation(&self, dist: &str, paths: &[String]) -> Result<(), String> {
        if let Some(bad) = paths.iter().find(|p| !valid_path(p)) {
            return Err(format!("invalid path {bad:?}"));
        }
        self.invalidate(dist, paths);
        Ok(())
    }

    /// Invalidates `paths` of `dist` (query strings are ignored, as CloudFront does). Takes
    /// effect at once; the journal lines are written later.
    pub fn invalidate(&self, dist: &str, paths: &[String]) {
        let seq = self.next_seq();
        let mut lines = String::new();
        for p in paths {
            let p = p.split('?').next().unwrap_or(p);
            self.record(dist, p, seq);
            lines.push_str(&format!("{seq}\t{dist}\t{p}\n"));
        }
        self.since_compaction
            .fetch_add(paths.len(), Ordering::Relaxed);
        if let Some(j) = &self.journal {
            lock(&j.pending).push_str(&lines);
        }
    }

    /// Writes the journal lines recorded so far and syncs them to disk. Blocks: not for an
    /// async runtime's threads.
    pub fn flush_journal(&self) -> std::io::Result<()> {
        let Some(j) = &self.journal else {
            return Ok(());
        };
        let _writing = lock(&j.writing);
        let lines = std::mem::take(&mut *lock(&j.pending));
        if lines.is_empty() {
            return Ok(());
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&j.path)?;
        f.write_all(lines.as_bytes())?;
        f.sync_data()
    }

    /// How many tombstones were recorded since the last compaction.
    pub fn recorded_since_compaction(&self) -> usize {
        self.since_compaction.load(Ordering::Relaxed)
    }

    /// Drops every tombstone nothing stored needs any more, then rewrites the journal with
    /// the rest. `needed(dist, path, prefix, seq)` says whether a response of `dist` stored
    /// before `seq` remains at `path` (under it, for a `prefix`). Blocks like
    /// [`Self::flush_journal`].
    pub fn compact(&self, needed: &dyn Fn(&str, &str, bool, u64) -> bool) -> std::io::Result<()> {
        self.since_compaction.store(0, Ordering::Relaxed);
        // Judged under the read lock (lookups go on), dropped under the write lock.
        let mut gone: Vec<(String, String, bool, u64)> = Vec::new();
        {
            let map = self
                .by_dist
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (dist, t) in map.iter() {
                for (path, &seq) in &t.exact {
                    if !needed(dist, path, false, seq) {
                        gone.push((dist.clone(), path.clone(), false, seq));
                    }
                }
                for slot in t.prefixes.values() {
                    for (prefix, &seq) in slot {
                        if !needed(dist, prefix, true, seq) {
                            gone.push((dist.clone(), prefix.clone(), true, seq));
                        }
                    }
                }
            }
        }
        if !gone.is_empty() {
            let mut map = self
                .by_dist
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (dist, path, prefix, seq) in gone {
                let Some(t) = map.get_mut(&dist) else {
                    continue;
                };
                // Unless invalidated again since it was judged.
                let removed = if prefix {
                    t.prefixes.get_mut(&path.len()).is_some_and(|slot| {
                        slot.get(&path) == Some(&seq) && slot.remove(&path).is_some()
                    })
                } else {
                    t.exact.get(&path) == Some(&seq) && t.exact.remove(&path).is_some()
                };
                t.count -= usize::from(removed);
            }
            for t in map.values_mut() {
                t.prefixes.retain(|_, slot| !slot.is_empty());
            }
            map.retain(|_, t| t.count > 0);
        }
        self.rewrite_journal()
    }

    /// The sequence number below which tombstones of `dist` must go so that at most half
    /// [`MAX_TOMBSTONES_PER_DISTRIBUTION`] remain, when it has more than the maximum (one
    /// invalidation of many paths shares a number: then fewer remain).
    pub fn overflow_cutoff(&self, dist: &str) -> Option<u64> {
        let map = self
            .by_dist
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let t = map.get(dist)?;
        if t.count <= MAX_TOMBSTONES_PER_DISTRIBUTION {
            return None;
        }
        let mut seqs: Vec<u64> = t.seqs().collect();
        seqs.sort_unstable();
        Some(seqs[seqs.len() - MAX_TOMBSTONES_PER_DISTRIBUTION / 2 - 1] + 1)
    }

    /// Distributions that have more tombstones than the maximum.
    pub fn overflowing(&self) -> Vec<String> {
        self.by_dist
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .filter(|(_, t)| t.count > MAX_TOMBSTONES_PER_DISTRIBUTION)
            .map(|(d, _)| d.clone())
            .collect()
    }

    /// Number of tombstones `dist` has.
    pub fn count(&self, dist: &str) -> usize {
        self.by_dist
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(dist)
            .map_or(0, |t| t.count)
    }

    /// Replaces the journal with the tombstones held now: a new file, synced, renamed over
    /// the old one.
    fn rewrite_journal(&self) -> std::io::Result<()> {
        let Some(j) = &self.journal else {
            return Ok(());
        };
        let _writing = lock(&j.writing);
        // Lines recorded from here on are in the snapshot or appended after it (or both:
        // replaying a line twice changes nothing).
        lock(&j.pending).clear();
        let mut text = String::new();
        {
            let map = self
                .by_dist
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (dist, t) in map.iter() {
                for (path, seq) in &t.exact {
                    text.push_str(&format!("{seq}\t{dist}\t{path}\n"));
                }
                for slot in t.prefixes.values() {
                    for (prefix, seq) in slot {
                        text.push_str(&format!("{seq}\t{dist}\t{prefix}*\n"));
                    }
                }
            }
        }
        let tmp = j.path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_data()?;
        std::fs::rename(&tmp, &j.path)?;
        if let Some(dir) = j.path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    fn record(&self, dist: &str, path: &str, seq: u64) {
        let mut map = self
            .by_dist
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let t = map.entry(dist.to_owned()).or_default();
        let (e, new) = match path.strip_suffix('*') {
            Some(prefix) => {
                let slot = t.prefixes.entry(prefix.len()).or_default();
                let new = !slot.contains_key(prefix);
                (slot.entry(prefix.to_owned()).or_insert(seq), new)
            }
            None => {
                let new = !t.exact.contains_key(path);
                (t.exact.entry(path.to_owned()).or_insert(seq), new)
            }
        };
        *e = (*e).max(seq);
        t.count += usize::from(new);
    }

    /// Whether a response for `path` stored at `stored_seq`, carrying the cache `tags` (each
    /// written `#tag`), has been invalidated since. A tag's tombstone is an exact one whose
    /// path is `#tag` (no path starts with `#`).
    pub fn is_invalidated(&self, dist: &str, path: &str, tags: &[String], stored_seq: u64) -> bool {
        let map = self
            .by_dist
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(t) = map.get(dist) else {
            return false;
        };
        if t.exact.get(path).is_some_and(|&s| s > stored_seq) {
            return true;
        }
        if tags
            .iter()
            .any(|tag| t.exact.get(tag).is_some_and(|&s| s > stored_seq))
        {
            return true;
        }
        for (&len, prefixes) in &t.prefixes {
            if len > path.len() {
                break;
            }
            if let Some(prefix) = path.get(..len)
                && prefixes.get(prefix).is_some_and(|&s| s > stored_seq)
            {
                return true;
            }
        }
        false
    }

    /// Drops tombstones of `dist` older than `cutoff`, once the cache holds nothing of it
    /// stored before `cutoff`.
    pub fn drop_older(&self, dist: &str, cutoff: u64) {
        if let Some(t) = self
            .by_dist
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_mut(dist)
        {
            t.drop_older(cutoff);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_wildcard_paths() {
        let inv = Invalidations::new(None);
        let old = inv.next_seq();
        inv.invalidate("d1", &["/a.html?v=1".into(), "/img/*".into()]);
        let new = inv.next_seq();
        assert!(inv.is_invalidated("d1", "/a.html", &[], old));
        assert!(!inv.is_invalidated("d1", "/a.html", &[], new));
        assert!(inv.is_invalidated("d1", "/img/x/y.png", &[], old));
        assert!(inv.is_invalidated("d1", "/img/", &[], old));
        assert!(!inv.is_invalidated("d1", "/img", &[], old));
        assert!(!inv.is_invalidated("d1", "/b.html", &[], old));
        assert!(!inv.is_invalidated("d2", "/a.html", &[], old));
        inv.invalidate("d1", &["/*".into()]);
        assert!(inv.is_invalidated("d1", "/anything", &[], new));
        assert!(valid_path("/a*") && !valid_path("/a*b") && !valid_path("a"));
        // Found by the fuzzer: an empty path, and a multi-byte last character.
        assert!(!valid_path("") && valid_path("/é"));
    }

    #[test]
    fn cache_tags_are_exact_tombstones_named_hash_tag() {
        let inv = Invalidations::new(None);
        let old = inv.next_seq();
        inv.invalidate("d1", &["#product:tv".into()]);
        let tv = ["#brand:x".to_owned(), "#product:tv".to_owned()];
        let radio = ["#product:radio".to_owned()];
        assert!(inv.is_invalidated("d1", "/a", &tv, old));
        assert!(!inv.is_invalidated("d1", "/a", &radio, old));
        assert!(!inv.is_invalidated("d1", "/a", &tv, inv.next_seq()));
        // A tag is not a path: no object's path matches it, nor a wildcard.
        assert!(!inv.is_invalidated("d1", "#product:tv", &[], inv.next_seq()));
        assert!(
            valid_path("#product:tv")
                && !valid_path("#")
                && !valid_path("#a*")
                && !valid_path("#a,b")
        );
    }

    #[test]
    fn create_invalidation_refuses_a_bad_path_and_invalidates_none() {
        let inv = Invalidations::new(None);
        let old = inv.next_seq();
        let err = inv
            .create_invalidation("d", &["/ok".into(), "/a*b".into()])
            .unwrap_err();
        assert!(err.contains("/a*b"), "{err}");
        assert!(!inv.is_invalidated("d", "/ok", &[], old));
        inv.create_invalidation("d", &["/ok".into()]).unwrap();
        assert!(inv.is_invalidated("d", "/ok", &[], old));
    }

    #[test]
    fn journal_survives_restart() {
        let dir = tempfile::tempdir().unwrap();
        let j = dir.path().join("inv");
        let seq = {
            let inv = Invalidations::new(Some(j.clone()));
            let s = inv.next_seq();
            inv.invalidate("d", &["/x/*".into()]);
            inv.flush_journal().unwrap();
            s
        };
        let inv = Invalidations::new(Some(j));
        assert!(inv.is_invalidated("d", "/x/1", &[], seq));
        assert!(inv.next_seq() > seq + 1);
    }

    #[test]
    fn compaction_drops_what_nothing_stored_needs_and_rewrites_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let j = dir.path().join("inv");
        let inv = Invalidations::new(Some(j.clone()));
        let stored = inv.next_seq();
        inv.invalidate("d", &["/old".into(), "/dir/*".into()]);
        inv.invalidate("e", &["/gone".into()]);
        let horizon = inv.current();
        inv.invalidate("d", &["/new".into()]);
        inv.flush_journal().unwrap();
        assert_eq!(inv.recorded_since_compaction(), 4);
        // d still stores a response under /dir/ from before its tombstones; e stores nothing.
        inv.compact(&|dist, path, prefix, seq| {
            seq >= horizon || (dist == "d" && prefix && path == "/dir/")
        })
        .unwrap();
        assert_eq!((inv.count("d"), inv.count("e")), (2, 0));
        assert!(inv.is_invalidated("d", "/dir/x", &[], stored));
        assert_eq!(inv.recorded_since_compaction(), 0);
        inv.compact(&|_, _, _, seq| seq >= horizon).unwrap();
        assert_eq!(inv.count("d"), 1);
        assert!(inv.is_invalidated("d", "/new", &[], stored));
        assert!(!inv.is_invalidated("d", "/old", &[], stored));
        let text = std::fs::read_to_string(&j).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        let again = Invalidations::new(Some(j));
        assert!(again.is_invalidated("d", "/new", &[], stored));
        assert_eq!((again.count("d"), again.count("e")), (1, 0));
    }

    #[test]
    fn the_same_path_twice_is_one_tombstone() {
        let inv = Invalidations::new(None);
        for _ in 0..3 {
            inv.invalidate("d", &["/a".into(), "/b/*".into()]);
        }
        assert_eq!(inv.count("d"), 2);
        assert_eq!(inv.overflow_cutoff("d"), None);
    }
}
