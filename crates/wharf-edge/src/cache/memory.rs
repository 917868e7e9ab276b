//! The memory tier: chunks by (entry, index) with a byte budget. `quick_cache` evicts with
//! CLOCK-Pro-style hot/cold tracking, so a scan of cold objects does not push out the hot set.

use bytes::Bytes;
use quick_cache::Weighter;
use quick_cache::sync::Cache;

#[derive(Clone)]
struct ChunkWeight;

impl Weighter<(u64, u32), Bytes> for ChunkWeight {
    fn weight(&self, _key: &(u64, u32), val: &Bytes) -> u64 {
        // Count the bookkeeping too, so tiny chunks are not free.
        val.len() as u64 + 64
    }
}

pub struct MemoryTier {
    chunks: Cache<(u64, u32), Bytes, ChunkWeight>,
}

impl MemoryTier {
    pub fn new(budget_bytes: u64) -> Self {
        let estimated_items =
            usize::try_from((budget_bytes / 16_384).clamp(64, 1 << 20)).unwrap_or(1 << 20);
        Self {
            chunks: Cache::with_weighter(estimated_items, budget_bytes.max(1), ChunkWeight),
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
}
