//! The SQLite schema and its migrations.
//!
//! The format version is SQLite's `user_version`. A new file gets the current schema; an older
//! format is migrated in one transaction on open (each step below); a newer one is refused.

use std::collections::HashMap;

use rusqlite::{Connection, params};

use super::rows::{VersionClock, key_string, parse_json};
use crate::error::{StoreError, StoreResult};
use crate::meta::{BlobRef, FORMAT_VERSION};

/// Format 4.
///
/// `buckets.versioning` is `''` (never versioned), `Enabled` or `Suspended`; `bucket_configs`
/// holds a bucket's other configurations (its tag set, …) as the S3 layer writes them, by kind.
/// `versions` holds every version of every object: `version_id` is unique and sorts newest
/// first; `null_version` marks the version S3 calls `null`; `delete_marker` a version that is a
/// delete marker (no body, size 0, empty ETag). A key's versions are adjacent in the primary
/// key's order, newest first.
/// `keys` has one row per key of a bucket that has been versioned: its current (newest)
/// version, whether that is a delete marker, and its null version (keys of buckets never
/// versioned have one version, their null version, and no row). Reads, writes and listings of current objects go
/// through it, so a write never rewrites an older version's row and a key with a thousand
/// versions costs what a key with one does.
/// `user_policies` are users' identity policies (IAM inline policies), by name, as given.
/// `mfa_devices` are users' virtual MFA devices: their TOTP secret (base32) and the last step
/// whose code was used, so no code is accepted twice.
/// `blobs` counts how many rows (versions and parts) name each blob file; a blob whose count is
/// 0 since `unreferenced_ms` is garbage once its grace period has passed. `settings` holds
/// values fixed when the store is made (its account ID).
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    canonical_id TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS access_keys (
    access_key_id TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    region TEXT NOT NULL,
    versioning TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS versions (
    bucket TEXT NOT NULL,
    key BLOB NOT NULL,
    version_id TEXT NOT NULL,
    null_version INTEGER NOT NULL,
    delete_marker INTEGER NOT NULL DEFAULT 0,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    owner TEXT NOT NULL,
    attrs TEXT NOT NULL,
    checksum TEXT,
    inline_body BLOB,
    blobs TEXT,
    parts TEXT,
    upload_id TEXT,
    PRIMARY KEY (bucket, key, version_id)
);
CREATE TABLE IF NOT EXISTS bucket_configs (
    bucket TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (bucket, kind)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS keys (
    bucket TEXT NOT NULL,
    key BLOB NOT NULL,
    current TEXT NOT NULL,
    current_is_marker INTEGER NOT NULL,
    null_version TEXT,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key BLOB NOT NULL,
    initiated_ms INTEGER NOT NULL,
    owner TEXT NOT NULL,
    attrs TEXT NOT NULL,
    checksum_algorithm TEXT,
    checksum_type TEXT
);
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads(bucket, key, upload_id);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL REFERENCES uploads(upload_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    blob TEXT NOT NULL,
    checksum TEXT,
    PRIMARY KEY (upload_id, part_number)
);
CREATE TABLE IF NOT EXISTS user_policies (
    user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (user_name, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mfa_devices (
    serial TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    last_step INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS blobs (
    id TEXT PRIMARY KEY,
    refs INTEGER NOT NULL,
    unreferenced_ms INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blobs_unreferenced ON blobs(unreferenced_ms) WHERE refs = 0;
";

/// Brings the database at `conn` to [`FORMAT_VERSION`]. Writes nothing when it is already
/// there, so a server can start on a full disk.
pub fn migrate(conn: &Connection, clock: &VersionClock) -> StoreResult<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version == FORMAT_VERSION {
        return Ok(());
    }
    if version > FORMAT_VERSION {
        return Err(StoreError::Corrupt(format!(
            "metadata format {version} is newer than this build understands ({FORMAT_VERSION})"
        )));
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let res = (|| {
        conn.execute_batch(SCHEMA)?;
        if version == 1 {
            v1_to_v2(conn, clock)?;
        }
        if version == 2 {
            // Format 2 marked current versions in their rows; format 3 keeps them in `keys`.
            conn.execute_batch("ALTER TABLE versions DROP COLUMN is_latest")?;
        }
        if version == 1 || version == 2 {
            // Format 3: the buckets' versioning state (every older bucket is unversioned, so
            // no key needs a row in `keys` yet).
            conn.execute_batch(
                "ALTER TABLE buckets ADD COLUMN versioning TEXT NOT NULL DEFAULT ''",
            )?;
        }
        conn.execute_batch(&format!("PRAGMA user_version = {FORMAT_VERSION}"))?;
        Ok(())
    })();
    match res {
        Ok(()) => {
            conn.execute_batch("COMMIT")?;
            Ok(())
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Format 1 kept one row per key in `objects` and no reference counts: each row becomes the
/// key's null version, and every blob named by a row or a part gets its count.
fn v1_to_v2(conn: &Connection, clock: &VersionClock) -> StoreResult<()> {
    let mut refs: HashMap<String, i64> = HashMap::new();
    {
        let mut read = conn.prepare(
            "SELECT bucket, key, size, etag, last_modified_ms, owner, attrs, checksum, \
             inline_body, blobs, parts FROM objects ORDER BY rowid",
        )?;
        let mut insert = conn.prepare(
            "INSERT INTO versions (bucket, key, version_id, null_version, size, etag, \
             last_modified_ms, owner, attrs, checksum, inline_body, blobs, parts) \
             VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        let mut rows = read.query([])?;
        while let Some(r) = rows.next()? {
            let key: Vec<u8> = r.get(1)?;
            key_string(key.clone())?;
            let blobs: Option<String> = r.get(9)?;
            for b in parse_json::<Vec<BlobRef>>(blobs.clone())?.unwrap_or_default() {
                *refs.entry(b.id.as_str().to_owned()).or_default() += 1;
            }
            insert.execute(params![
                r.get::<_, String>(0)?,
                key,
                clock.next_id(0).as_str(),
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, Option<Vec<u8>>>(8)?,
                blobs,
                r.get::<_, Option<String>>(10)?,
            ])?;
        }
        let mut parts = conn.prepare("SELECT blob FROM parts")?;
        let mut rows = parts.query([])?;
        while let Some(r) = rows.next()? {
            *refs.entry(r.get::<_, String>(0)?).or_default() += 1;
        }
    }
    let mut insert = conn.prepare("INSERT INTO blobs (id, refs) VALUES (?1, ?2)")?;
    for (id, n) in refs {
        insert.execute(params![id, n])?;
    }
    conn.execute_batch("DROP TABLE objects")?;
    Ok(())
}

#[cfg(test)]
pub mod tests {
    /// Format 2's schema (version rows marked `is_latest`), for migration tests.
    pub const SCHEMA_V2: &str = "
CREATE TABLE users (name TEXT PRIMARY KEY, canonical_id TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL);
CREATE TABLE access_keys (access_key_id TEXT PRIMARY KEY, secret TEXT NOT NULL, user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE);
CREATE TABLE buckets (name TEXT PRIMARY KEY, owner TEXT NOT NULL, created_ms INTEGER NOT NULL, region TEXT NOT NULL);
CREATE TABLE versions (bucket TEXT NOT NULL, key BLOB NOT NULL, version_id TEXT NOT NULL, null_version INTEGER NOT NULL, is_latest INTEGER NOT NULL, delete_marker INTEGER NOT NULL DEFAULT 0, size INTEGER NOT NULL, etag TEXT NOT NULL, last_modified_ms INTEGER NOT NULL, owner TEXT NOT NULL, attrs TEXT NOT NULL, checksum TEXT, inline_body BLOB, blobs TEXT, parts TEXT, upload_id TEXT, PRIMARY KEY (bucket, key, version_id));
CREATE TABLE uploads (upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key BLOB NOT NULL, initiated_ms INTEGER NOT NULL, owner TEXT NOT NULL, attrs TEXT NOT NULL, checksum_algorithm TEXT, checksum_type TEXT);
CREATE INDEX uploads_by_key ON uploads(bucket, key, upload_id);
CREATE TABLE parts (upload_id TEXT NOT NULL REFERENCES uploads(upload_id) ON DELETE CASCADE, part_number INTEGER NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL, last_modified_ms INTEGER NOT NULL, blob TEXT NOT NULL, checksum TEXT, PRIMARY KEY (upload_id, part_number));
CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE blobs (id TEXT PRIMARY KEY, refs INTEGER NOT NULL, unreferenced_ms INTEGER) WITHOUT ROWID;
CREATE INDEX blobs_unreferenced ON blobs(unreferenced_ms) WHERE refs = 0;
PRAGMA user_version = 2;
";

    /// Format 1's schema, for migration tests.
    pub const SCHEMA_V1: &str = "
CREATE TABLE users (name TEXT PRIMARY KEY, canonical_id TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL);
CREATE TABLE access_keys (access_key_id TEXT PRIMARY KEY, secret TEXT NOT NULL, user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE);
CREATE TABLE buckets (name TEXT PRIMARY KEY, owner TEXT NOT NULL, created_ms INTEGER NOT NULL, region TEXT NOT NULL);
CREATE TABLE objects (bucket TEXT NOT NULL, key BLOB NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL, last_modified_ms INTEGER NOT NULL, owner TEXT NOT NULL, attrs TEXT NOT NULL, checksum TEXT, inline_body BLOB, blobs TEXT, parts TEXT);
CREATE UNIQUE INDEX objects_by_key ON objects(bucket, key);
CREATE TABLE uploads (upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key BLOB NOT NULL, initiated_ms INTEGER NOT NULL, owner TEXT NOT NULL, attrs TEXT NOT NULL, checksum_algorithm TEXT, checksum_type TEXT);
CREATE INDEX uploads_by_key ON uploads(bucket, key, upload_id);
CREATE TABLE parts (upload_id TEXT NOT NULL REFERENCES uploads(upload_id) ON DELETE CASCADE, part_number INTEGER NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL, last_modified_ms INTEGER NOT NULL, blob TEXT NOT NULL, checksum TEXT, PRIMARY KEY (upload_id, part_number));
PRAGMA user_version = 1;
";
}
