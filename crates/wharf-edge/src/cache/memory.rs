//! The memory tier: chunks by (entry, index) with a byte budget. `quick_cache` evicts with
//! CLOCK-Pro-style hot/cold tracking, so a scan of cold objects does not push out the hot set.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use quick_cache::sync::Cache;
use quick_cache::{Lifecycle, Weighter};

#[derive(Clone)]
struct ChunkWeight;

impl Weighter<(u64, u32), Bytes> for ChunkWeight {
    fn weight(&self, _key: &(u64, u32), val: &Bytes) -> u64 {
        // Count the bookkeeping too, so tiny chunks are not free.
        val.len() as u64 + 64
    }
}

/// Counts the chunks the tier evicts (for the metrics).
#[derive(Clone, Default)]
struct CountEvictions(Arc<AtomicU64>);

impl Lifecycle<(u64, u32), Bytes> for CountEvictions {
    type RequestState = ();

    fn begin_request(&self) {}

    fn on_evict(&self, _: &mut (), _: (u64, u32), _: Bytes) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

pub struct MemoryTier {
    chunks: Cache<(u64, u32), Bytes, ChunkWeight, std::hash::RandomState, CountEvictions>,
    evictions: Arc<AtomicU64>,
}

impl MemoryTier {
    pub fn new(budget_bytes: u64) -> Self {
        let estimated_items =
            usize::try_from((budget_bytes / 16_384).clamp(64, 1 << 20)).unwrap_or(1 << 20);
        let evictions = CountEvictions::default();
        Self {
            evictions: evictions.0.clone(),
            chunks: Cache::with(
                estimated_items,
                budget_bytes.max(1),
                ChunkWeight,
                std::hash::RandomState::default(),
                evictions,
            ),
        }
    }

    pub fn get(&self, entry: u64, idx: u32) -> Option<Bytes> {
        self.chunks.get(&(entry, idx))
    }

    pub fn insert(&self, entry: u64, idx: u32, chunk: Bytes) {
        self.chunks.insert((entry, idx), chunk);
    }

    /// Drops an entry's chunks `0..chunks` and its fragment.
    pub fn remove(&self, entry: u64, chunks: u32) {
        for i in (0..chunks).chain([super::entry::FRAGMENT_SLOT]) {
            self.chunks.remove(&(entry, i));
        }
    }

    pub fn weight(&self) -> u64 {
        self.chunks.weight()
    }

    /// Chunks evicted to keep the budget, since start.
    pub fn evictions(&self) -> u64 {
        self.evictions.load(Ordering::Relaxed)
    }
}
