//! Fills: an origin body being written into the cache while viewers read it.
//!
//! A fill covers a span of an entry's body, from a chunk boundary to the end of the body or of
//! the span. Its task owns the origin body: each finished chunk goes to the tiers and is marked
//! present, and the chunk still being assembled is readable from [`Fill::read_partial`].
//! Readers wait on a watch channel that moves whenever bytes arrive, so they stream as the
//! origin does rather than polling on a timer. The task is detached from every viewer: a
//! viewer that goes away never stops it. If the origin fails mid-body the entry is dropped and
//! readers still streaming get an error; readers that finished are unaffected and nothing
//! partial stays in the cache.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::watch;

use super::Cache;
use super::buffers::ChunkBuf;
use super::entry::{CHUNK_SIZE, Entry, chunk_of};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillState {
    Running,
    Done,
    Failed,
}

#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Bytes before this offset have arrived.
    pub upto: u64,
    pub state: FillState,
}

struct Partial {
    /// Offset of the chunk being assembled.
    offset: u64,
    pieces: Vec<Bytes>,
    len: u64,
}

pub struct Fill {
    pub start: u64,
    pub end: Option<u64>,
    progress: watch::Sender<Progress>,
    partial: Mutex<Partial>,
}

impl Fill {
    pub fn new(start: u64, end: Option<u64>) -> Arc<Self> {
        Arc::new(Self {
            start,
            end,
            progress: watch::Sender::new(Progress {
                upto: start,
                state: FillState::Running,
            }),
            partial: Mutex::new(Partial {
                offset: start,
                pieces: Vec::new(),
                len: 0,
            }),
        })
    }

    /// Bytes from `start` the cache already had (less than a chunk), before any of the body.
    pub fn seed(&self, seed: Bytes) {
        if !seed.is_empty() {
            self.push(seed);
        }
    }

    pub fn covers(&self, pos: u64) -> bool {
        pos >= self.start && self.end.is_none_or(|e| pos < e)
    }

    pub fn subscribe(&self) -> watch::Receiver<Progress> {
        self.progress.subscribe()
    }

    pub fn progress(&self) -> Progress {
        *self.progress.borrow()
    }

    /// Bytes from `pos` within the chunk being assembled, if it holds `pos`: the rest of the
    /// piece that holds it, without a copy.
    pub fn read_partial(&self, pos: u64) -> Option<Bytes> {
        let p = self
            .partial
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if pos < p.offset {
            return None;
        }
        let mut skip = pos - p.offset;
        for piece in &p.pieces {
            let len = piece.len() as u64;
            if skip < len {
                return Some(piece.slice(usize::try_from(skip).unwrap_or(0)..));
            }
            skip -= len;
        }
        None
    }

    fn push(&self, piece: Bytes) {
        let mut p = self
            .partial
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        p.len += piece.len() as u64;
        p.pieces.push(piece);
        let upto = p.offset + p.len;
        drop(p);
        self.progress.send_modify(|g| g.upto = upto);
    }

    /// The chunk being assembled, when it is full or the body ended.
    fn take_chunk(&self) -> (u64, Bytes) {
        let p = self
            .partial
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut buf = ChunkBuf::take(usize::try_from(p.len).unwrap_or(0));
        for piece in &p.pieces {
            buf.extend(piece);
        }
        (p.offset, buf.freeze())
    }

    /// Called once the chunk is present in the tiers: readers now find it there.
    fn advance(&self) {
        let mut p = self
            .partial
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        p.offset += p.len;
        p.len = 0;
        p.pieces.clear();
    }

    fn finish(&self, state: FillState) {
        self.progress.send_modify(|g| g.state = state);
    }

    fn partial_len(&self) -> u64 {
        self.partial
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len
    }
}

/// Runs a fill to its end on its own task.
pub fn spawn(
    cache: Arc<Cache>,
    entry: Arc<Entry>,
    fill: Arc<Fill>,
    mut body: BoxStream<'static, std::io::Result<Bytes>>,
) {
    tokio::spawn(async move {
        let mut pos = fill.start + fill.partial_len();
        let ok = loop {
            match body.next().await {
                Some(Ok(mut data)) => {
                    if let Some(end) = fill.end {
                        // A span fill keeps only what it asked for.
                        let room = end.saturating_sub(pos);
                        if (data.len() as u64) > room {
                            data.truncate(usize::try_from(room).unwrap_or(0));
                        }
                    }
                    while !data.is_empty() {
                        let room = CHUNK_SIZE - fill.partial_len();
                        let take = data.len().min(usize::try_from(room).unwrap_or(usize::MAX));
                        let piece = data.split_to(take);
                        pos += piece.len() as u64;
                        fill.push(piece);
                        if fill.partial_len() == CHUNK_SIZE {
                            let (offset, chunk) = fill.take_chunk();
                            cache.store_chunk(&entry, chunk_of(offset), chunk).await;
                            fill.advance();
                        }
                    }
                    if fill.end.is_some_and(|e| pos >= e) {
                        break true;
                    }
                }
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "origin failed mid-body; nothing of it is kept");
                    break false;
                }
                None => break true,
            }
        };
        let expected = entry.size();
        let ok = ok
            && match (fill.end, expected) {
                (Some(end), _) => pos == end,
                (None, Some(size)) => pos == size,
                (None, None) => true,
            };
        if !ok {
            fill.finish(FillState::Failed);
            cache.remove(&entry);
            return;
        }
        if fill.partial_len() > 0 {
            let (offset, chunk) = fill.take_chunk();
            cache.store_chunk(&entry, chunk_of(offset), chunk).await;
            fill.advance();
        }
        if fill.end.is_none() {
            let mut c = entry.chunks();
            c.size = Some(pos);
            if pos == 0 {
                c.set(0);
            }
        }
        fill.finish(FillState::Done);
        entry.chunks().fills.retain(|f| !Arc::ptr_eq(f, &fill));
        cache.persist(&entry).await;
    });
}

/// `body` without its first `n` bytes.
pub fn skip_bytes(
    body: BoxStream<'static, std::io::Result<Bytes>>,
    n: u64,
) -> BoxStream<'static, std::io::Result<Bytes>> {
    Box::pin(futures::stream::unfold(
        (body, n),
        |(mut body, mut n)| async move {
            loop {
                match body.next().await? {
                    Ok(mut b) => {
                        if n >= b.len() as u64 {
                            n -= b.len() as u64;
                            continue;
                        }
                        let b = b.split_off(usize::try_from(n).unwrap_or(0));
                        return Some((Ok(b), (body, 0)));
                    }
                    Err(e) => return Some((Err(e), (body, n))),
                }
            }
        },
    ))
}
