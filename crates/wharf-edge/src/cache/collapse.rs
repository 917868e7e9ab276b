//! Request collapsing: the first miss for a key becomes the leader and registers in the
//! cache's `pending` table; later misses for that key wait for the leader's outcome. When the
//! leader has the response head and stores it, the entry (still filling) is what followers
//! read, so one origin request serves them all, each streaming as bytes arrive. If the
//! response is not storable, followers go to the origin on their own; if none came, they
//! share the failure.

use std::sync::Arc;

use tokio::sync::watch;

use super::Cache;
use super::entry::Entry;

/// What a collapse leader decided.
#[derive(Clone)]
pub enum Outcome {
    Stored(Arc<Entry>),
    /// A response came that was not stored: each follower asks the origin itself.
    NotStored,
    /// No response came: the followers share the failure instead of trying again each.
    Failed(crate::origin::OriginError),
}

pub enum Collapse {
    Leader(LeaderGuard),
    Follower(watch::Receiver<Option<Outcome>>),
}

/// Held by the request that fetches for everyone; dropping it unfinished tells followers to
/// fetch for themselves.
pub struct LeaderGuard {
    cache: Arc<Cache>,
    key: String,
    tx: watch::Sender<Option<Outcome>>,
}

impl LeaderGuard {
    pub fn finish(self, outcome: Outcome) {
        self.tx.send_replace(Some(outcome));
    }
}

impl Drop for LeaderGuard {
    fn drop(&mut self) {
        self.tx.send_if_modified(|o| {
            if o.is_none() {
                *o = Some(Outcome::NotStored);
                true
            } else {
                false
            }
        });
        let mut p = self
            .cache
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if p.get(&self.key).is_some_and(|tx| tx.same_channel(&self.tx)) {
            p.remove(&self.key);
        }
    }
}

impl Cache {
    /// Joins the fetch in progress for `key`, or becomes the one that fetches.
    pub fn collapse(self: &Arc<Self>, key: &str) -> Collapse {
        let mut p = self
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(tx) = p.get(key) {
            return Collapse::Follower(tx.subscribe());
        }
        let (tx, _) = watch::channel(None);
        p.insert(key.to_owned(), tx.clone());
        Collapse::Leader(LeaderGuard {
            cache: self.clone(),
            key: key.to_owned(),
            tx,
        })
    }
}
