//! The data directory is private: it holds every user's secret key (in the metadata database)
//! and every object. Directories are 0700 and files 0600; the store creates them so, and
//! [`secure_tree`] puts right what an older build or an operator left open.

use std::fs::{DirBuilder, Permissions};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and its parents) with [`DIR_MODE`].
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Sets every directory under `root` (itself included) to [`DIR_MODE`] and every file to
/// [`FILE_MODE`] where group or others had any access; returns how many it changed. Symbolic
/// links are left alone and not followed.
pub fn secure_tree(root: &Path) -> std::io::Result<usize> {
    let mut fixed = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        fixed += secure(&dir, DIR_MODE)?;
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                fixed += secure(&entry.path(), FILE_MODE)?;
            }
        }
    }
    Ok(fixed)
}

fn secure(path: &Path, mode: u32) -> std::io::Result<usize> {
    let current = std::fs::symlink_metadata(path)?.permissions().mode() & 0o777;
    if current & 0o077 == 0 {
        return Ok(0);
    }
    std::fs::set_permissions(path, Permissions::from_mode(mode))?;
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_modes_are_closed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        create_private_dir(&root.join("blobs/ab")).unwrap();
        std::fs::write(root.join("meta.sqlite3"), b"x").unwrap();
        std::fs::set_permissions(root.join("meta.sqlite3"), Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(root.join("blobs"), Permissions::from_mode(0o755)).unwrap();
        std::fs::write(root.join("blobs/ab/f"), b"x").unwrap();
        std::fs::set_permissions(root.join("blobs/ab/f"), Permissions::from_mode(0o604)).unwrap();
        assert_eq!(secure_tree(&root).unwrap(), 3);
        let mode = |p: &str| {
            std::fs::metadata(root.join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("meta.sqlite3"), 0o600);
        assert_eq!(mode("blobs"), 0o700);
        assert_eq!(mode("blobs/ab"), 0o700);
        assert_eq!(mode("blobs/ab/f"), 0o600);
        assert_eq!(secure_tree(&root).unwrap(), 0);
    }
}
