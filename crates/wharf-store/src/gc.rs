//! Garbage collection of blob files, and the read leases that hold it off.
//!
//! A blob file is deleted only when (1) no committed row names it (its reference count, kept
//! in the metadata transactions, is zero), (2) it has been so for a grace period, and (3) no
//! read in this process holds a lease on it. A read takes its leases when it starts streaming a
//! body, right after it read the row, and keeps them until the body is dropped; the grace
//! period covers the moment between reading the row and taking the lease. So a GET that raced
//! an overwrite finishes with the bytes it started with, however long it streams.
//!
//! The collector forgets a blob in the metadata store before it deletes the file (a crash in
//! between leaves an orphan file, which the start-up sweep removes), and since no row names
//! the blob, no new reference to it can be taken in between.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::blob::BlobId;
use crate::error::StoreResult;
use crate::{Store, now_ms};

/// How long an unreferenced blob stays on disk (unless the store is opened with another). It
/// need only outlast the moment between a read's row lookup and its lease, within one request
/// handler (microseconds, unless the server is stalled), and overwritten data should give its
/// space back soon.
pub const GRACE: Duration = Duration::from_secs(5);
/// The grace period while the disk is full: space freed by deletes is wanted back soon.
pub const FULL_DISK_GRACE: Duration = Duration::from_secs(1);
/// How often the collector runs (and the full-disk state is looked at).
const INTERVAL: Duration = Duration::from_secs(1);
/// Blobs one pass looks at.
const BATCH: usize = 1000;

/// Blobs being read, with how many reads hold each.
#[derive(Debug, Default)]
pub struct Leases {
    held: Mutex<HashMap<BlobId, usize>>,
}

impl Leases {
    /// Holds `ids` until the returned lease is dropped.
    pub fn acquire(self: &Arc<Self>, ids: Vec<BlobId>) -> Lease {
        if let Ok(mut held) = self.held.lock() {
            for id in &ids {
                *held.entry(id.clone()).or_default() += 1;
            }
        }
        Lease {
            leases: self.clone(),
            ids,
        }
    }

    fn is_held(&self, id: &BlobId) -> bool {
        self.held.lock().map_or(true, |h| h.contains_key(id))
    }
}

/// Blobs a read is using.
#[derive(Debug)]
pub struct Lease {
    leases: Arc<Leases>,
    ids: Vec<BlobId>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Ok(mut held) = self.leases.held.lock() {
            for id in &self.ids {
                if let Some(n) = held.get_mut(id) {
                    *n -= 1;
                    if *n == 0 {
                        held.remove(id);
                    }
                }
            }
        }
    }
}

impl Store {
    /// One collection pass over blobs unreferenced for longer than `grace`; returns how many
    /// files it deleted.
    pub async fn collect_garbage(&self, grace: Duration) -> StoreResult<usize> {
        let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        let mut deleted = 0;
        loop {
            let found = self
                .meta
                .unreferenced_blobs(now_ms().saturating_sub(grace_ms), BATCH)
                .await?;
            let exhausted = found.len() < BATCH;
            let free: Vec<BlobId> = found
                .into_iter()
                .filter(|id| !self.leases.is_held(id))
                .collect();
            if free.is_empty() {
                return Ok(deleted);
            }
            let gone = self.meta.forget_blobs(free).await?;
            deleted += gone.len();
            let blobs = self.blobs.clone();
            tokio::task::spawn_blocking(move || blobs.remove_files(&gone))
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            if exhausted {
                return Ok(deleted);
            }
        }
    }

    /// Runs the collector and the full-disk check for as long as this store (holding the data
    /// directory's lock) lives.
    pub(crate) fn spawn_collector(&self) {
        let owner = self.lock.as_ref().map(Arc::downgrade);
        let store = Store {
            lock: None,
            ..self.clone()
        };
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if owner.as_ref().is_some_and(|o| o.strong_count() == 0) {
                    return;
                }
                let grace = if store.capacity.is_full() {
                    FULL_DISK_GRACE.min(store.blob_grace)
                } else {
                    store.blob_grace
                };
                if let Err(e) = store.collect_garbage(grace).await {
                    tracing::warn!(error = %e, "blob garbage collection failed");
                }
                let capacity = store.capacity.clone();
                let _ = tokio::task::spawn_blocking(move || capacity.refresh()).await;
            }
        });
    }
}
