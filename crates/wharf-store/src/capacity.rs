//! A full disk is survivable.
//!
//! The store keeps a *reserve*: a file of real, allocated bytes (`DATA_DIR/reserve`). When a
//! write finds the disk full (ENOSPC or SQLite's "database or disk is full"), or when the server
//! starts with less free space than the reserve, the store goes into *full mode*: the reserve
//! is deleted, which gives the metadata database room to commit deletes, and every request that
//! would add data is refused at once with [`StoreError::StorageFull`] (S3 507), before any of its
//! body is read. Reads, listings, deletes and aborts keep working, so a user can free space
//! through the API. Once the free space is back above twice the reserve, the reserve is
//! rewritten and writes are accepted again.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{StoreError, StoreResult};

const RESERVE_FILE: &str = "reserve";
/// The reserve: room for the metadata database's write-ahead log to grow while deletes commit
/// (SQLite checkpoints it at about 4 MiB), twice over.
pub const RESERVE_BYTES: u64 = 8 << 20;

#[derive(Debug)]
pub struct Capacity {
    reserve_path: PathBuf,
    reserve_bytes: u64,
    data_dir: PathBuf,
    full: AtomicBool,
}

/// Free bytes (for an unprivileged writer) on the filesystem holding `path`.
// The statvfs fields are u64 on 64-bit Linux but narrower elsewhere.
#[allow(clippy::useless_conversion)]
fn free_space(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `c` is a valid NUL-terminated path and `st` points to writable memory of the
    // right size; statvfs fills it in on success.
    let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: statvfs returned 0, so it initialised the struct.
    let st = unsafe { st.assume_init() };
    Ok(u64::from(st.f_bavail).saturating_mul(u64::from(st.f_frsize)))
}

impl Capacity {
    /// Looks at the filesystem under `data_dir`; in full mode at once if its free space is below
    /// the reserve (the reserve is then released, so the database can open and deletes commit).
    pub fn open(data_dir: &Path) -> Self {
        let cap = Self {
            reserve_path: data_dir.join(RESERVE_FILE),
            reserve_bytes: RESERVE_BYTES,
            data_dir: data_dir.to_path_buf(),
            full: AtomicBool::new(false),
        };
        if let Ok(free) = free_space(data_dir)
            && free < cap.reserve_bytes
        {
            cap.on_full();
        }
        cap
    }

    pub fn reserve_bytes(&self) -> u64 {
        self.reserve_bytes
    }

    pub fn is_full(&self) -> bool {
        self.full.load(Ordering::Relaxed)
    }

    /// `Err(StorageFull)` in full mode: for requests that would add data.
    pub fn check_writable(&self) -> StoreResult<()> {
        if self.is_full() {
            Err(StoreError::StorageFull)
        } else {
            Ok(())
        }
    }

    /// Passes `r` through; a `StorageFull` error puts the store in full mode.
    pub fn watch<T>(&self, r: StoreResult<T>) -> StoreResult<T> {
        if matches!(r, Err(StoreError::StorageFull)) {
            self.on_full();
        }
        r
    }

    /// Enters full mode and releases the reserve.
    pub fn on_full(&self) {
        if !self.full.swap(true, Ordering::SeqCst) {
            tracing::warn!(
                dir = %self.data_dir.display(),
                "the disk is full: refusing writes, serving reads and deletes"
            );
        }
        match std::fs::remove_file(&self.reserve_path) {
            Ok(()) => tracing::info!("released the storage reserve so deletes can commit"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(error = %e, "could not release the storage reserve"),
        }
    }

    /// Makes sure the reserve exists; leaves full mode once there is room for it and as much
    /// again. Returns whether the store accepts writes. Blocking (it may write the reserve).
    pub fn refresh(&self) -> bool {
        let have = std::fs::metadata(&self.reserve_path).map_or(0, |m| m.len());
        if have >= self.reserve_bytes {
            if self.full.swap(false, Ordering::SeqCst) {
                tracing::info!("free space is back: accepting writes again");
            }
            return true;
        }
        let free = free_space(&self.data_dir).unwrap_or(0);
        if self.is_full() && free < self.reserve_bytes.saturating_mul(2) {
            return false;
        }
        match self.write_reserve() {
            Ok(()) => {
                if self.full.swap(false, Ordering::SeqCst) {
                    tracing::info!("free space is back: accepting writes again");
                }
                true
            }
            Err(e) => {
                let _ = std::fs::remove_file(&self.reserve_path);
                if matches!(StoreError::from(e), StoreError::StorageFull) {
                    self.on_full();
                }
                false
            }
        }
    }

    /// Writes the reserve with real zeros (a sparse file would hold no space) and syncs it.
    fn write_reserve(&self) -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&self.reserve_path)?;
        let chunk = vec![0u8; 1 << 20];
        let mut left = self.reserve_bytes;
        while left > 0 {
            let n = usize::try_from(left.min(chunk.len() as u64)).unwrap_or(chunk.len());
            f.write_all(&chunk[..n])?;
            left -= n as u64;
        }
        f.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_written_released_and_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let cap = Capacity::open(dir.path());
        assert!(!cap.is_full());
        assert!(cap.refresh());
        let reserve = dir.path().join(RESERVE_FILE);
        assert_eq!(
            std::fs::metadata(&reserve).unwrap().len(),
            cap.reserve_bytes()
        );
        cap.watch::<()>(Err(StoreError::StorageFull)).unwrap_err();
        assert!(cap.is_full());
        assert!(!reserve.exists());
        assert!(matches!(cap.check_writable(), Err(StoreError::StorageFull)));
        // Space is plentiful here, so the next refresh leaves full mode.
        assert!(cap.refresh());
        assert!(!cap.is_full());
        assert!(reserve.exists());
    }
}
