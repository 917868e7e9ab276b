//! Blob reference counts, kept in the same transaction as the rows that name the blobs.

use std::collections::HashSet;

use rusqlite::{Connection, params};

use super::rows::limit;
use crate::blob::BlobId;
use crate::error::{StoreError, StoreResult};

/// Counts one more reference to each of `ids`. A blob seen for the first time starts at 1; the
/// callers guarantee a blob they share is still referenced (see the `meta` module's rules).
pub fn add(c: &Connection, ids: impl IntoIterator<Item = BlobId>) -> StoreResult<()> {
    let mut stmt = c.prepare_cached(
        "INSERT INTO blobs (id, refs, unreferenced_ms) VALUES (?1, 1, NULL) \
         ON CONFLICT(id) DO UPDATE SET refs = refs + 1, unreferenced_ms = NULL",
    )?;
    for id in ids {
        stmt.execute([id.as_str()])?;
    }
    Ok(())
}

/// Counts one reference less to each of `ids`; a blob that falls to zero is stamped with
/// `now_ms`, from which its grace period runs.
pub fn remove(
    c: &Connection,
    ids: impl IntoIterator<Item = BlobId>,
    now_ms: i64,
) -> StoreResult<()> {
    let mut stmt = c.prepare_cached(
        "UPDATE blobs SET refs = refs - 1, \
         unreferenced_ms = CASE WHEN refs = 1 THEN ?2 ELSE NULL END \
         WHERE id = ?1 AND refs > 0",
    )?;
    for id in ids {
        if stmt.execute(params![id.as_str(), now_ms])? != 1 {
            return Err(StoreError::Corrupt(format!(
                "blob {} is named by a row but has no reference count",
                id.as_str()
            )));
        }
    }
    Ok(())
}

pub fn unreferenced(c: &Connection, before_ms: i64, max: usize) -> StoreResult<Vec<BlobId>> {
    let mut stmt = c.prepare_cached(
        "SELECT id FROM blobs WHERE refs = 0 AND unreferenced_ms < ?1 ORDER BY unreferenced_ms LIMIT ?2",
    )?;
    let ids = stmt
        .query_map(params![before_ms, limit(max)], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ids.iter().filter_map(|s| BlobId::parse(s)).collect())
}

/// Deletes the rows of those of `ids` still unreferenced; returns them.
pub fn forget(c: &Connection, ids: Vec<BlobId>) -> StoreResult<Vec<BlobId>> {
    let mut stmt = c.prepare_cached("DELETE FROM blobs WHERE id = ?1 AND refs = 0")?;
    let mut gone = Vec::new();
    for id in ids {
        if stmt.execute([id.as_str()])? == 1 {
            gone.push(id);
        }
    }
    Ok(gone)
}

pub fn known(c: &Connection, prefix: &str) -> StoreResult<HashSet<BlobId>> {
    let upper = crate::list::successor(prefix.as_bytes())
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_else(|| "\u{10ffff}".to_owned());
    let mut stmt = c.prepare_cached("SELECT id FROM blobs WHERE id >= ?1 AND id < ?2")?;
    let ids = stmt
        .query_map(params![prefix, upper], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ids.iter().filter_map(|s| BlobId::parse(s)).collect())
}
