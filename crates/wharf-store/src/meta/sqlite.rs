//! [`MetaStore`] on SQLite (bundled), in WAL mode with `synchronous=FULL`.
//!
//! Writes go through the group-commit writer thread; reads run on a small pool of read
//! connections in `spawn_blocking`, so no SQLite call ever blocks the async runtime. WAL lets
//! readers run beside the writer, and a reply is sent only after COMMIT, so a read that starts
//! after a write was acknowledged sees it (read-after-write consistency).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, Row, params};
use wharf_model::{AccessKey, User};

use super::group_commit::Writer;
use super::*;
use crate::error::StoreError;

const SCHEMA: &str = "
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
    region TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL,
    key BLOB NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    owner TEXT NOT NULL,
    attrs TEXT NOT NULL,
    checksum TEXT,
    inline_body BLOB,
    blobs TEXT,
    parts TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS objects_by_key ON objects(bucket, key);
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
";

const OBJECT_COLUMNS: &str =
    "bucket, key, size, etag, last_modified_ms, owner, attrs, checksum, inline_body, blobs, parts";
const SUMMARY_COLUMNS: &str = "key, size, etag, last_modified_ms, owner, attrs, checksum";
const UPLOAD_COLUMNS: &str =
    "upload_id, bucket, key, initiated_ms, owner, attrs, checksum_algorithm, checksum_type";
const PART_COLUMNS: &str = "upload_id, part_number, size, etag, last_modified_ms, blob, checksum";

/// Read connections kept open for reuse.
const READ_POOL: usize = 16;

pub struct SqliteMeta {
    writer: Writer,
    readers: Arc<ReadPool>,
}

struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

fn open_conn(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
    )?;
    Ok(conn)
}

impl SqliteMeta {
    /// Opens (creating or migrating) the database at `path`.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let conn = open_conn(path)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > FORMAT_VERSION {
            return Err(StoreError::Corrupt(format!(
                "metadata format {version} is newer than this build understands ({FORMAT_VERSION})"
            )));
        }
        // Migration step: format 0 (new file) -> 1 creates the schema. Later formats add steps here.
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(&format!("PRAGMA user_version = {FORMAT_VERSION}"))?;
        Ok(Self {
            writer: Writer::start(conn)?,
            readers: Arc::new(ReadPool {
                path: path.to_path_buf(),
                idle: Mutex::new(Vec::new()),
            }),
        })
    }

    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let pool = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.idle.lock().map_err(|_| StoreError::Closed)?.pop();
            let conn = match conn {
                Some(c) => c,
                None => open_conn(&pool.path)?,
            };
            let res = f(&conn);
            if let Ok(mut idle) = pool.idle.lock()
                && idle.len() < READ_POOL
            {
                idle.push(conn);
            }
            res
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }
}

fn json<T: serde::Serialize>(v: &T) -> StoreResult<String> {
    Ok(serde_json::to_string(v)?)
}

fn opt_json<T: serde::Serialize>(v: &Option<T>) -> StoreResult<Option<String>> {
    v.as_ref().map(json).transpose()
}

fn parse_json<T: serde::de::DeserializeOwned>(s: Option<String>) -> StoreResult<Option<T>> {
    s.map(|s| serde_json::from_str(&s))
        .transpose()
        .map_err(Into::into)
}

fn key_string(bytes: Vec<u8>) -> StoreResult<String> {
    String::from_utf8(bytes).map_err(|_| StoreError::Corrupt("object key is not UTF-8".into()))
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn object_from_row(r: &Row<'_>) -> StoreResult<ObjectRecord> {
    let inline: Option<Vec<u8>> = r.get(8)?;
    let blobs: Option<Vec<BlobRef>> = parse_json(r.get(9)?)?;
    let body = match (inline, blobs) {
        (Some(b), _) => BodyLayout::Inline(b.into()),
        (None, Some(b)) => BodyLayout::Blobs(b),
        (None, None) => BodyLayout::Inline(Bytes::new()),
    };
    Ok(ObjectRecord {
        bucket: r.get(0)?,
        key: key_string(r.get(1)?)?,
        size: to_u64(r.get(2)?),
        etag: r.get(3)?,
        last_modified_ms: r.get(4)?,
        owner: r.get(5)?,
        attrs: parse_json(r.get(6)?)?.unwrap_or_default(),
        checksum: parse_json(r.get(7)?)?,
        body,
        parts: parse_json(r.get(10)?)?.unwrap_or_default(),
    })
}

fn summary_from_row(r: &Row<'_>) -> StoreResult<ObjectSummary> {
    let attrs: ObjectAttrs = parse_json(r.get(5)?)?.unwrap_or_default();
    Ok(ObjectSummary {
        key: key_string(r.get(0)?)?,
        size: to_u64(r.get(1)?),
        etag: r.get(2)?,
        last_modified_ms: r.get(3)?,
        owner: r.get(4)?,
        storage_class: attrs.storage_class,
        checksum: parse_json(r.get(6)?)?,
    })
}

fn upload_from_row(r: &Row<'_>) -> StoreResult<UploadRecord> {
    let alg: Option<String> = r.get(6)?;
    let kind: Option<String> = r.get(7)?;
    Ok(UploadRecord {
        upload_id: r.get(0)?,
        bucket: r.get(1)?,
        key: key_string(r.get(2)?)?,
        initiated_ms: r.get(3)?,
        owner: r.get(4)?,
        attrs: parse_json(r.get(5)?)?.unwrap_or_default(),
        checksum_algorithm: alg.as_deref().and_then(ChecksumAlgorithm::parse),
        checksum_type: kind.as_deref().and_then(ChecksumType::parse),
    })
}

fn part_from_row(r: &Row<'_>) -> StoreResult<PartRecord> {
    let blob: String = r.get(5)?;
    Ok(PartRecord {
        upload_id: r.get(0)?,
        part_number: u32::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
        size: to_u64(r.get(2)?),
        etag: r.get(3)?,
        last_modified_ms: r.get(4)?,
        blob: BlobId::parse(&blob)
            .ok_or_else(|| StoreError::Corrupt(format!("bad blob id {blob:?}")))?,
        checksum: parse_json(r.get(6)?)?,
    })
}

fn query_all<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: fn(&Row<'_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(f(r)?);
    }
    Ok(out)
}

fn get_object_tx(conn: &Connection, bucket: &str, key: &str) -> StoreResult<Option<ObjectRecord>> {
    let sql = format!("SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2");
    Ok(query_all(conn, &sql, params![bucket, key.as_bytes()], object_from_row)?.pop())
}

fn bucket_exists(conn: &Connection, bucket: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM buckets WHERE name = ?1")?
        .query_row([bucket], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Writes `object` in place of whatever the key held; returns the replaced body's blobs.
fn put_object_tx(
    conn: &Connection,
    object: &ObjectRecord,
    cond: &PutCondition,
) -> StoreResult<Vec<BlobId>> {
    if !bucket_exists(conn, &object.bucket)? {
        return Err(StoreError::NoSuchBucket);
    }
    let old = get_object_tx(conn, &object.bucket, &object.key)?;
    if !cond.check(old.as_ref().map(|o| o.etag.as_str())) {
        return Err(StoreError::PreconditionFailed);
    }
    let (inline, blobs) = match &object.body {
        BodyLayout::Inline(b) => (Some(b.to_vec()), None),
        BodyLayout::Blobs(b) => (None, Some(json(b)?)),
    };
    let parts = if object.parts.is_empty() {
        None
    } else {
        Some(json(&object.parts)?)
    };
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO objects ({OBJECT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    ))?
    .execute(params![
        object.bucket,
        object.key.as_bytes(),
        to_i64(object.size),
        object.etag,
        object.last_modified_ms,
        object.owner,
        json(&object.attrs)?,
        opt_json(&object.checksum)?,
        inline,
        blobs,
        parts,
    ])?;
    // A body rewritten in place (copy onto itself) keeps its blobs.
    let keep: HashSet<BlobId> = object.body.blob_ids().into_iter().collect();
    Ok(old
        .map(|o| o.body.blob_ids())
        .unwrap_or_default()
        .into_iter()
        .filter(|b| !keep.contains(b))
        .collect())
}

fn delete_upload_tx(conn: &Connection, upload_id: &str) -> StoreResult<Vec<BlobId>> {
    let parts = query_all(
        conn,
        &format!("SELECT {PART_COLUMNS} FROM parts WHERE upload_id = ?1"),
        [upload_id],
        part_from_row,
    )?;
    conn.prepare_cached("DELETE FROM parts WHERE upload_id = ?1")?
        .execute([upload_id])?;
    conn.prepare_cached("DELETE FROM uploads WHERE upload_id = ?1")?
        .execute([upload_id])?;
    Ok(parts.into_iter().map(|p| p.blob).collect())
}

/// Where to start a listing: the later of the bound and the prefix.
fn start_of(prefix: &str, from: &KeyBound) -> (Vec<u8>, bool) {
    let p = prefix.as_bytes().to_vec();
    match from {
        KeyBound::Unbounded => (p, true),
        KeyBound::After(k) if k.as_slice() >= p.as_slice() => (k.clone(), false),
        KeyBound::AtOrAfter(k) if k.as_slice() >= p.as_slice() => (k.clone(), true),
        _ => (p, true),
    }
}

#[async_trait::async_trait]
impl MetaStore for SqliteMeta {
    async fn create_user(&self, user: User, key: AccessKey) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                let exists = c
                    .prepare_cached("SELECT 1 FROM users WHERE name = ?1")?
                    .exists([&user.name])?;
                if exists {
                    return Err(StoreError::UserAlreadyExists(user.name));
                }
                c.prepare_cached(
                    "INSERT INTO users (name, canonical_id, display_name) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![
                    user.name,
                    user.canonical_id,
                    user.display_name
                ])?;
                insert_key(c, &key)
            })
            .await
    }

    async fn add_access_key(&self, key: AccessKey) -> StoreResult<()> {
        self.writer.write(move |c| insert_key(c, &key)).await
    }

    async fn delete_user(&self, name: &str) -> StoreResult<()> {
        let name = name.to_owned();
        self.writer
            .write(move |c| {
                c.prepare_cached("DELETE FROM access_keys WHERE user_name = ?1")?
                    .execute([&name])?;
                match c
                    .prepare_cached("DELETE FROM users WHERE name = ?1")?
                    .execute([&name])?
                {
                    0 => Err(StoreError::NoSuchUser(name)),
                    _ => Ok(()),
                }
            })
            .await
    }

    async fn get_user(&self, name: &str) -> StoreResult<Option<User>> {
        let name = name.to_owned();
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT name, canonical_id, display_name FROM users WHERE name = ?1",
            )?
            .query_row([name], |r| {
                Ok(User {
                    name: r.get(0)?,
                    canonical_id: r.get(1)?,
                    display_name: r.get(2)?,
                })
            })
            .optional()?)
        })
        .await
    }

    async fn list_users(&self) -> StoreResult<Vec<(User, Vec<String>)>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT name, canonical_id, display_name FROM users ORDER BY name")?;
            let users: Vec<User> = stmt
                .query_map([], |r| Ok(User { name: r.get(0)?, canonical_id: r.get(1)?, display_name: r.get(2)? }))?
                .collect::<Result<_, _>>()?;
            let mut out = Vec::new();
            for u in users {
                let keys: Vec<String> = c
                    .prepare_cached("SELECT access_key_id FROM access_keys WHERE user_name = ?1 ORDER BY access_key_id")?
                    .query_map([&u.name], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                out.push((u, keys));
            }
            Ok(out)
        })
        .await
    }

    async fn lookup_access_key(
        &self,
        access_key_id: &str,
    ) -> StoreResult<Option<(AccessKey, User)>> {
        let id = access_key_id.to_owned();
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT k.access_key_id, k.secret, u.name, u.canonical_id, u.display_name \
                 FROM access_keys k JOIN users u ON u.name = k.user_name WHERE k.access_key_id = ?1",
            )?
            .query_row([id], |r| {
                Ok((
                    AccessKey { access_key_id: r.get(0)?, secret_access_key: r.get(1)?, user_name: r.get(2)? },
                    User { name: r.get(2)?, canonical_id: r.get(3)?, display_name: r.get(4)? },
                ))
            })
            .optional()?)
        })
        .await
    }

    async fn create_bucket(&self, b: BucketRecord) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                let owner: Option<String> = c
                    .prepare_cached("SELECT owner FROM buckets WHERE name = ?1")?
                    .query_row([&b.name], |r| r.get(0))
                    .optional()?;
                match owner {
                    Some(o) if o == b.owner => Err(StoreError::BucketAlreadyOwnedByYou),
                    Some(_) => Err(StoreError::BucketAlreadyExists),
                    None => {
                        c.prepare_cached("INSERT INTO buckets (name, owner, created_ms, region) VALUES (?1, ?2, ?3, ?4)")?
                            .execute(params![b.name, b.owner, b.created_ms, b.region])?;
                        Ok(())
                    }
                }
            })
            .await
    }

    async fn get_bucket(&self, name: &str) -> StoreResult<Option<BucketRecord>> {
        let name = name.to_owned();
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT name, owner, created_ms, region FROM buckets WHERE name = ?1",
            )?
            .query_row([name], |r| {
                Ok(BucketRecord {
                    name: r.get(0)?,
                    owner: r.get(1)?,
                    created_ms: r.get(2)?,
                    region: r.get(3)?,
                })
            })
            .optional()?)
        })
        .await
    }

    async fn list_buckets(&self, owner: &str) -> StoreResult<Vec<BucketRecord>> {
        let owner = owner.to_owned();
        self.read(move |c| {
            let mut stmt = c.prepare_cached("SELECT name, owner, created_ms, region FROM buckets WHERE owner = ?1 ORDER BY name")?;
            let rows = stmt
                .query_map([owner], |r| Ok(BucketRecord { name: r.get(0)?, owner: r.get(1)?, created_ms: r.get(2)?, region: r.get(3)? }))?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn delete_bucket(&self, name: &str) -> StoreResult<Vec<BlobId>> {
        let name = name.to_owned();
        self.writer
            .write(move |c| {
                if !bucket_exists(c, &name)? {
                    return Err(StoreError::NoSuchBucket);
                }
                if c.prepare_cached("SELECT 1 FROM objects WHERE bucket = ?1 LIMIT 1")?
                    .exists([&name])?
                {
                    return Err(StoreError::BucketNotEmpty);
                }
                let uploads: Vec<String> = c
                    .prepare_cached("SELECT upload_id FROM uploads WHERE bucket = ?1")?
                    .query_map([&name], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                let mut blobs = Vec::new();
                for u in uploads {
                    blobs.extend(delete_upload_tx(c, &u)?);
                }
                c.prepare_cached("DELETE FROM buckets WHERE name = ?1")?
                    .execute([&name])?;
                Ok(blobs)
            })
            .await
    }

    async fn get_object(&self, bucket: &str, key: &str) -> StoreResult<Option<ObjectRecord>> {
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        self.read(move |c| get_object_tx(c, &bucket, &key)).await
    }

    async fn put_object(
        &self,
        object: ObjectRecord,
        cond: PutCondition,
    ) -> StoreResult<Vec<BlobId>> {
        self.writer
            .write(move |c| put_object_tx(c, &object, &cond))
            .await
    }

    async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        cond: PutCondition,
    ) -> StoreResult<Option<Vec<BlobId>>> {
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        self.writer
            .write(move |c| {
                if !bucket_exists(c, &bucket)? {
                    return Err(StoreError::NoSuchBucket);
                }
                let old = get_object_tx(c, &bucket, &key)?;
                if cond.if_match.is_some() && !cond.check(old.as_ref().map(|o| o.etag.as_str())) {
                    return Err(StoreError::PreconditionFailed);
                }
                let Some(old) = old else {
                    return Ok(None);
                };
                c.prepare_cached("DELETE FROM objects WHERE bucket = ?1 AND key = ?2")?
                    .execute(params![bucket, key.as_bytes()])?;
                Ok(Some(old.body.blob_ids()))
            })
            .await
    }

    async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        from: KeyBound,
        limit: usize,
    ) -> StoreResult<Vec<ObjectSummary>> {
        let (bucket, prefix) = (bucket.to_owned(), prefix.to_owned());
        self.read(move |c| {
            let (start, inclusive) = start_of(&prefix, &from);
            let op = if inclusive { ">=" } else { ">" };
            let sql = format!("SELECT {SUMMARY_COLUMNS} FROM objects WHERE bucket = ?1 AND key {op} ?2 ORDER BY key LIMIT ?3");
            let mut rows = query_all(c, &sql, params![bucket, start, i64::try_from(limit).unwrap_or(i64::MAX)], summary_from_row)?;
            if let Some(end) = rows.iter().position(|o| !o.key.starts_with(&prefix)) {
                rows.truncate(end);
            }
            Ok(rows)
        })
        .await
    }

    async fn create_upload(&self, u: UploadRecord) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                if !bucket_exists(c, &u.bucket)? {
                    return Err(StoreError::NoSuchBucket);
                }
                c.prepare_cached(&format!(
                    "INSERT INTO uploads ({UPLOAD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                ))?
                .execute(params![
                    u.upload_id,
                    u.bucket,
                    u.key.as_bytes(),
                    u.initiated_ms,
                    u.owner,
                    json(&u.attrs)?,
                    u.checksum_algorithm.map(|a| a.as_str()),
                    u.checksum_type.map(|t| t.as_str()),
                ])?;
                Ok(())
            })
            .await
    }

    async fn get_upload(&self, upload_id: &str) -> StoreResult<Option<UploadRecord>> {
        let id = upload_id.to_owned();
        self.read(move |c| {
            Ok(query_all(
                c,
                &format!("SELECT {UPLOAD_COLUMNS} FROM uploads WHERE upload_id = ?1"),
                [id],
                upload_from_row,
            )?
            .pop())
        })
        .await
    }

    async fn put_part(&self, p: PartRecord) -> StoreResult<Option<BlobId>> {
        self.writer
            .write(move |c| {
                if !c.prepare_cached("SELECT 1 FROM uploads WHERE upload_id = ?1")?.exists([&p.upload_id])? {
                    return Err(StoreError::NoSuchUpload);
                }
                let old: Option<String> = c
                    .prepare_cached("SELECT blob FROM parts WHERE upload_id = ?1 AND part_number = ?2")?
                    .query_row(params![p.upload_id, p.part_number], |r| r.get(0))
                    .optional()?;
                c.prepare_cached(&format!("INSERT OR REPLACE INTO parts ({PART_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"))?
                    .execute(params![
                        p.upload_id,
                        p.part_number,
                        to_i64(p.size),
                        p.etag,
                        p.last_modified_ms,
                        p.blob.as_str(),
                        opt_json(&p.checksum)?,
                    ])?;
                Ok(old.as_deref().and_then(BlobId::parse))
            })
            .await
    }

    async fn list_parts(
        &self,
        upload_id: &str,
        after: u32,
        limit: usize,
    ) -> StoreResult<Vec<PartRecord>> {
        let id = upload_id.to_owned();
        self.read(move |c| {
            let sql = format!("SELECT {PART_COLUMNS} FROM parts WHERE upload_id = ?1 AND part_number > ?2 ORDER BY part_number LIMIT ?3");
            query_all(c, &sql, params![id, after, i64::try_from(limit).unwrap_or(i64::MAX)], part_from_row)
        })
        .await
    }

    async fn complete_upload(
        &self,
        upload_id: &str,
        build: CompleteFn,
        cond: PutCondition,
    ) -> StoreResult<(ObjectRecord, Vec<BlobId>)> {
        let id = upload_id.to_owned();
        self.writer
            .write(move |c| {
                let upload = query_all(
                    c,
                    &format!("SELECT {UPLOAD_COLUMNS} FROM uploads WHERE upload_id = ?1"),
                    [&id],
                    upload_from_row,
                )?
                .pop()
                .ok_or(StoreError::NoSuchUpload)?;
                let parts = query_all(
                    c,
                    &format!(
                        "SELECT {PART_COLUMNS} FROM parts WHERE upload_id = ?1 ORDER BY part_number"
                    ),
                    [&id],
                    part_from_row,
                )?;
                let (object, mut unused) = build(&upload, &parts)?;
                let replaced = put_object_tx(c, &object, &cond)?;
                c.prepare_cached("DELETE FROM parts WHERE upload_id = ?1")?
                    .execute([&id])?;
                c.prepare_cached("DELETE FROM uploads WHERE upload_id = ?1")?
                    .execute([&id])?;
                unused.extend(replaced);
                Ok((object, unused))
            })
            .await
    }

    async fn abort_upload(&self, upload_id: &str) -> StoreResult<Vec<BlobId>> {
        let id = upload_id.to_owned();
        self.writer
            .write(move |c| {
                if !c
                    .prepare_cached("SELECT 1 FROM uploads WHERE upload_id = ?1")?
                    .exists([&id])?
                {
                    return Err(StoreError::NoSuchUpload);
                }
                delete_upload_tx(c, &id)
            })
            .await
    }

    async fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
        after: Option<(Vec<u8>, String)>,
        limit: usize,
    ) -> StoreResult<Vec<UploadRecord>> {
        let (bucket, prefix) = (bucket.to_owned(), prefix.to_owned());
        self.read(move |c| {
            let (key, upload) = after.unwrap_or_default();
            let start = if key.as_slice() >= prefix.as_bytes() { key } else { prefix.as_bytes().to_vec() };
            let sql = format!(
                "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE bucket = ?1 AND (key > ?2 OR (key = ?2 AND upload_id > ?3)) \
                 ORDER BY key, upload_id LIMIT ?4"
            );
            let mut rows = query_all(c, &sql, params![bucket, start, upload, i64::try_from(limit).unwrap_or(i64::MAX)], upload_from_row)?;
            if let Some(end) = rows.iter().position(|u| !u.key.starts_with(&prefix)) {
                rows.truncate(end);
            }
            Ok(rows)
        })
        .await
    }

    async fn live_blobs(&self) -> StoreResult<HashSet<BlobId>> {
        self.read(|c| {
            let mut live = HashSet::new();
            let mut stmt = c.prepare("SELECT blobs FROM objects WHERE blobs IS NOT NULL")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let refs: Vec<BlobRef> = serde_json::from_str(&r.get::<_, String>(0)?)?;
                live.extend(refs.into_iter().map(|b| b.id));
            }
            let mut stmt = c.prepare("SELECT blob FROM parts")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                if let Some(id) = BlobId::parse(&r.get::<_, String>(0)?) {
                    live.insert(id);
                }
            }
            Ok(live)
        })
        .await
    }
}

fn insert_key(c: &Connection, key: &AccessKey) -> StoreResult<()> {
    if c.prepare_cached("SELECT 1 FROM access_keys WHERE access_key_id = ?1")?
        .exists([&key.access_key_id])?
    {
        return Err(StoreError::AccessKeyAlreadyExists);
    }
    if !c
        .prepare_cached("SELECT 1 FROM users WHERE name = ?1")?
        .exists([&key.user_name])?
    {
        return Err(StoreError::NoSuchUser(key.user_name.clone()));
    }
    c.prepare_cached(
        "INSERT INTO access_keys (access_key_id, secret, user_name) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![
        key.access_key_id,
        key.secret_access_key,
        key.user_name
    ])?;
    Ok(())
}
