//! Recycled chunk buffers. Every chunk the cache holds (filled from an origin or read back
//! from the disk tier) lives in a 1 MiB buffer; when the last reference to a chunk goes (the
//! memory tier evicted it and no viewer is still sending it), its buffer returns here instead
//! of to malloc, and the next chunk reuses it: no page faults, no zeroing, and no freed
//! megabytes stranded in malloc's per-thread arenas. At most [`MAX_IDLE`] buffers wait here, so
//! the idle pool costs at most that many MiB. Shorter chunks (an object's last, or a small
//! object's only one) get buffers of their own length, so the memory tier's byte count stays
//! the memory they hold.

use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;

use super::entry::CHUNK_SIZE;

/// Idle buffers kept for reuse.
pub const MAX_IDLE: usize = 16;

const LEN: usize = CHUNK_SIZE as usize;

type Idle = Arc<Mutex<Vec<Vec<u8>>>>;

fn idle() -> &'static Idle {
    static IDLE: OnceLock<Idle> = OnceLock::new();
    IDLE.get_or_init(Idle::default)
}

/// A chunk buffer, filled to `len`.
pub struct ChunkBuf {
    buf: Vec<u8>,
    len: usize,
}

impl ChunkBuf {
    /// A buffer for a chunk of `size` bytes: a recycled one for a full chunk when one is
    /// idle, else a new one of that size. Its contents are whatever the last chunk left;
    /// callers overwrite what they use.
    pub fn take(size: usize) -> Self {
        let size = size.min(LEN);
        let reused = if size == LEN {
            idle()
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .pop()
        } else {
            None
        };
        Self {
            buf: reused.unwrap_or_else(|| vec![0; size]),
            len: 0,
        }
    }

    /// The first `len` bytes (at most the buffer's size), to be written.
    pub fn fill_to(&mut self, len: usize) -> &mut [u8] {
        self.len = len.min(self.buf.len());
        &mut self.buf[..self.len]
    }

    /// Appends `data`, as much as fits.
    pub fn extend(&mut self, data: &[u8]) {
        let end = (self.len + data.len()).min(self.buf.len());
        let n = end - self.len;
        self.buf[self.len..end].copy_from_slice(&data[..n]);
        self.len = end;
    }

    /// The bytes, shared; the buffer comes back here when the last clone drops.
    pub fn freeze(self) -> Bytes {
        Bytes::from_owner(self)
    }
}

impl AsRef<[u8]> for ChunkBuf {
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Drop for ChunkBuf {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        if buf.len() != LEN {
            return;
        }
        let mut idle = idle()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_hold_only_what_was_written() {
        let mut a = ChunkBuf::take(11);
        a.extend(b"hello ");
        a.extend(b"world");
        let bytes = a.freeze();
        assert_eq!(&bytes[..], b"hello world");
        let slice = bytes.slice(6..);
        drop(bytes);
        assert_eq!(&slice[..], b"world");
        // A full chunk's buffer goes back to the pool and is handed out again.
        let mut full = ChunkBuf::take(LEN);
        full.fill_to(LEN)[0] = 7;
        let full = full.freeze();
        let ptr = full.as_ptr();
        drop(full);
        let again = ChunkBuf::take(LEN);
        assert_eq!(again.buf.as_ptr(), ptr);
        assert_eq!(again.buf[0], 7, "reused, not zeroed again");
    }
}
