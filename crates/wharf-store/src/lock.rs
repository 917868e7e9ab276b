//! One server per data directory.
//!
//! `wharf serve` holds an exclusive lock on `DATA_DIR/lock` for as long as it runs (`flock`,
//! released by the kernel when the process ends, even by `kill -9`). A second server on the same
//! directory stops before it touches anything: otherwise its start-up sweep would delete the
//! first one's staged uploads. Admin commands (`wharf user …`) do not take the lock; they only
//! write through SQLite, which serialises writers itself.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::{StoreError, StoreResult};

const LOCK_FILE: &str = "lock";

/// The held lock; dropping it releases the directory.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

/// Takes the data directory's lock, or fails at once naming the process that holds it.
pub fn lock(data_dir: &Path) -> StoreResult<DirLock> {
    let path = data_dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(StoreError::DataDirInUse(format!(
                "the data directory {} is in use by another wharf serve{}",
                data_dir.display(),
                if holder.is_empty() {
                    String::new()
                } else {
                    format!(" (pid {holder})")
                }
            )));
        }
        Err(TryLockError::Error(e)) => return Err(e.into()),
    }
    // Who holds it, for the message a second server prints. Best effort: the lock is what counts.
    let _ = file.set_len(0);
    let _ = file.seek(SeekFrom::Start(0));
    let _ = write!(file, "{}", std::process::id());
    Ok(DirLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_dir_fails() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock(dir.path()).unwrap();
        let err = lock(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::DataDirInUse(_)), "{err}");
        assert!(
            err.to_string().contains(&std::process::id().to_string()),
            "{err}"
        );
        drop(held);
        lock(dir.path()).unwrap();
    }
}
