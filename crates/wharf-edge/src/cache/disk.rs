//! The disk tier: per entry, `<id>.meta` (its head and chunk map, JSON) and `<id>.body` (a
//! sparse file with chunk `i` at offset `i × CHUNK_SIZE`), under `DATA_DIR/edge-cache/`.
//!
//! It is a cache, so nothing here is fsync'd: a chunk is written before the map that names it,
//! and a `.body` without a `.meta` is deleted at start-up. The byte budget is kept by evicting
//! whole entries, least recently used first.

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::buffers::ChunkBuf;

use super::entry::{CHUNK_SIZE, Entry, StoredEntry};

pub struct DiskTier {
    dir: PathBuf,
    pub budget: u64,
}

impl DiskTier {
    pub fn open(dir: &Path, budget: u64) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
            budget,
        })
    }

    fn path(&self, id: u64, ext: &str) -> PathBuf {
        self.dir.join(format!("{id:016x}.{ext}"))
    }

    /// Reads back every entry; deletes bodies without a readable head.
    pub fn load(&self) -> Vec<Entry> {
        let mut out = Vec::new();
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return out;
        };
        let mut bodies = Vec::new();
        for e in rd.filter_map(Result::ok) {
            let p = e.path();
            match p.extension().and_then(|x| x.to_str()) {
                Some("meta") => {
                    let entry = std::fs::read(&p)
                        .ok()
                        .and_then(|b| serde_json::from_slice::<StoredEntry>(&b).ok())
                        .and_then(StoredEntry::into_entry);
                    match entry {
                        Some(en) => out.push(en),
                        None => {
                            let _ = std::fs::remove_file(&p);
                        }
                    }
                }
                Some("body") => bodies.push(p),
                Some("tmp") => {
                    let _ = std::fs::remove_file(&p);
                }
                _ => {}
            }
        }
        for b in bodies {
            let id = b
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| u64::from_str_radix(s, 16).ok());
            if !id.is_some_and(|id| out.iter().any(|e| e.id == id)) {
                let _ = std::fs::remove_file(&b);
            }
        }
        out
    }

    pub async fn write_chunk(&self, id: u64, idx: u32, chunk: Bytes) -> std::io::Result<()> {
        let path = self.path(id, "body");
        tokio::task::spawn_blocking(move || {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(false)
                .open(path)?;
            f.write_all_at(&chunk, u64::from(idx) * CHUNK_SIZE)
        })
        .await
        .map_err(std::io::Error::other)?
    }

    pub async fn read_chunk(&self, id: u64, idx: u32, len: usize) -> std::io::Result<Bytes> {
        let path = self.path(id, "body");
        tokio::task::spawn_blocking(move || {
            let f = std::fs::File::open(path)?;
            let mut buf = ChunkBuf::take(len);
            f.read_exact_at(buf.fill_to(len), u64::from(idx) * CHUNK_SIZE)?;
            Ok(buf.freeze())
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Writes the head and chunk map atomically (write a temporary file, rename).
    pub async fn write_meta(&self, stored: StoredEntry) -> std::io::Result<()> {
        let path = self.path(stored.id, "meta");
        let tmp = self.path(stored.id, "tmp");
        tokio::task::spawn_blocking(move || {
            let json = serde_json::to_vec(&stored).map_err(std::io::Error::other)?;
            std::fs::write(&tmp, json)?;
            std::fs::rename(&tmp, &path)
        })
        .await
        .map_err(std::io::Error::other)?
    }

    pub fn remove(&self, id: u64) {
        let (m, b) = (self.path(id, "meta"), self.path(id, "body"));
        tokio::task::spawn_blocking(move || {
            let _ = std::fs::remove_file(m);
            let _ = std::fs::remove_file(b);
        });
    }
}
