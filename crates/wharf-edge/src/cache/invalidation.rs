//! Invalidation, O(1) at request time.
//!
//! Every stored response carries the sequence number it was stored at; an invalidation takes
//! the next number and records a tombstone: exact paths in a map, wildcard paths (`/images/*`)
//! as prefixes grouped by length. A lookup checks the request path's own tombstone and, for
//! each distinct prefix length recorded, one map probe; a stored response older than a
//! matching tombstone is treated as absent. Nothing scans the cache, and every key variant of
//! a path (query strings, headers, cookies, encodings) is covered because tombstones match the
//! path alone. Tombstones are appended to a journal so they survive a restart with the disk
//! tier.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// CloudFront: at most 3,000 paths in progress per distribution; we keep more tombstones than
/// that before folding a distribution's prefixes into one `/*`.
pub const MAX_TOMBSTONES_PER_DISTRIBUTION: usize = 100_000;

#[derive(Default)]
struct DistTombstones {
    exact: HashMap<String, u64>,
    /// prefix length → prefix → seq.
    prefixes: BTreeMap<usize, HashMap<String, u64>>,
    count: usize,
}

pub struct Invalidations {
    clock: AtomicU64,
    by_dist: RwLock<HashMap<String, DistTombstones>>,
    journal: Option<PathBuf>,
}

/// CloudFront: an invalidation path is at most 4,000 characters.
pub const MAX_INVALIDATION_PATH_LEN: usize = 4000;

/// A CloudFront invalidation path is valid when it starts with `/` and has `*` only at its end.
pub fn valid_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.strip_suffix('*').unwrap_or(path).contains('*')
        && path.len() <= MAX_INVALIDATION_PATH_LEN
}

impl Invalidations {
    pub fn new(journal: Option<PathBuf>) -> Self {
        let inv = Self {
            clock: AtomicU64::new(1),
            by_dist: RwLock::new(HashMap::new()),
            journal,
        };
        if let Some(j) = &inv.journal
            && let Ok(text) = std::fs::read_to_string(j)
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

    /// Keeps the clock ahead of a number read back from disk.
    pub fn observe(&self, seq: u64) {
        self.clock.fetch_max(seq + 1, Ordering::Relaxed);
    }

    /// CreateInvalidation: checks every path as CloudFront does, then invalidates them all.
    pub fn create_invalidation(&self, dist: &str, paths: &[String]) -> Result<(), String> {
        if let Some(bad) = paths.iter().find(|p| !valid_path(p)) {
            return Err(format!("invalid path {bad:?}"));
        }
        self.invalidate(dist, paths).map_err(|e| e.to_string())
    }

    /// Invalidates `paths` of `dist` (query strings are ignored, as CloudFront does).
    pub fn invalidate(&self, dist: &str, paths: &[String]) -> std::io::Result<()> {
        let seq = self.next_seq();
        let mut lines = String::new();
        for p in paths {
            let p = p.split('?').next().unwrap_or(p);
            self.record(dist, p, seq);
            lines.push_str(&format!("{seq}\t{dist}\t{p}\n"));
        }
        if let Some(j) = &self.journal {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(j)?;
            f.write_all(lines.as_bytes())?;
        }
        Ok(())
    }

    fn record(&self, dist: &str, path: &str, seq: u64) {
        let mut map = self
            .by_dist
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let t = map.entry(dist.to_owned()).or_default();
        if t.count >= MAX_TOMBSTONES_PER_DISTRIBUTION {
            *t = DistTombstones::default();
            t.prefixes.entry(1).or_default().insert("/".into(), seq);
        }
        t.count += 1;
        match path.strip_suffix('*') {
            Some(prefix) => {
                let slot = t.prefixes.entry(prefix.len()).or_default();
                let e = slot.entry(prefix.to_owned()).or_insert(seq);
                *e = (*e).max(seq);
            }
            None => {
                let e = t.exact.entry(path.to_owned()).or_insert(seq);
                *e = (*e).max(seq);
            }
        }
    }

    /// Whether a response for `path` stored at `stored_seq` has been invalidated since.
    pub fn is_invalidated(&self, dist: &str, path: &str, stored_seq: u64) -> bool {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_wildcard_paths() {
        let inv = Invalidations::new(None);
        let old = inv.next_seq();
        inv.invalidate("d1", &["/a.html?v=1".into(), "/img/*".into()])
            .unwrap();
        let new = inv.next_seq();
        assert!(inv.is_invalidated("d1", "/a.html", old));
        assert!(!inv.is_invalidated("d1", "/a.html", new));
        assert!(inv.is_invalidated("d1", "/img/x/y.png", old));
        assert!(inv.is_invalidated("d1", "/img/", old));
        assert!(!inv.is_invalidated("d1", "/img", old));
        assert!(!inv.is_invalidated("d1", "/b.html", old));
        assert!(!inv.is_invalidated("d2", "/a.html", old));
        inv.invalidate("d1", &["/*".into()]).unwrap();
        assert!(inv.is_invalidated("d1", "/anything", new));
        assert!(valid_path("/a*") && !valid_path("/a*b") && !valid_path("a"));
        // Found by the fuzzer: an empty path, and a multi-byte last character.
        assert!(!valid_path("") && valid_path("/é"));
    }

    #[test]
    fn create_invalidation_refuses_a_bad_path_and_invalidates_none() {
        let inv = Invalidations::new(None);
        let old = inv.next_seq();
        let err = inv
            .create_invalidation("d", &["/ok".into(), "/a*b".into()])
            .unwrap_err();
        assert!(err.contains("/a*b"), "{err}");
        assert!(!inv.is_invalidated("d", "/ok", old));
        inv.create_invalidation("d", &["/ok".into()]).unwrap();
        assert!(inv.is_invalidated("d", "/ok", old));
    }

    #[test]
    fn journal_survives_restart() {
        let dir = tempfile::tempdir().unwrap();
        let j = dir.path().join("inv");
        let seq = {
            let inv = Invalidations::new(Some(j.clone()));
            let s = inv.next_seq();
            inv.invalidate("d", &["/x/*".into()]).unwrap();
            s
        };
        let inv = Invalidations::new(Some(j));
        assert!(inv.is_invalidated("d", "/x/1", seq));
        assert!(inv.next_seq() > seq + 1);
    }
}
