//! [`MetaStore`] on SQLite (bundled), in WAL mode with `synchronous=FULL`.
//!
//! Writes go through the group-commit writer thread; reads run on a small pool of read
//! connections in `spawn_blocking`, so no SQLite call ever blocks the async runtime. WAL lets
//! readers run beside the writer, and a reply is sent only after COMMIT, so a read that starts
//! after a write was acknowledged sees it (read-after-write consistency).
//!
//! Each family of rows has its own module of functions that run inside a transaction
//! ([`accounts`], [`versions`], [`uploads`], [`refs`]); the trait implementation below only
//! sends them to the writer or the readers.

mod accounts;
mod refs;
mod rows;
pub(crate) mod schema;
mod uploads;
mod versions;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, params};
use wharf_model::{AccessKey, User};

use self::rows::{UPLOAD_COLUMNS, VersionClock, limit, query_all, upload_from_row};
use super::group_commit::Writer;
use super::*;
use crate::error::StoreError;

/// The writer connection's page cache, in KiB.
const WRITER_CACHE_KIB: u32 = 64 * 1024;

/// Read connections kept open for reuse.
const READ_POOL: usize = 16;

pub struct SqliteMeta {
    writer: Writer,
    readers: Arc<ReadPool>,
    clock: Arc<VersionClock>,
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
        // The writer's page cache at 64 MiB (SQLite's default is 2 MiB): a versioned bucket's
        // writes land all over a growing B-tree, whose interior and leaf pages otherwise leave
        // the cache between writes (bench/versioning.sh: versioned/unversioned 4 KiB PUT 0.80x
        // with the default, 0.93x with this; RESULTS.md). Pages are allocated as used.
        conn.execute_batch(&format!("PRAGMA cache_size=-{WRITER_CACHE_KIB};"))?;
        let clock = Arc::new(VersionClock::default());
        schema::migrate(&conn, &clock)?;
        Ok(Self {
            writer: Writer::start(conn)?,
            readers: Arc::new(ReadPool {
                path: path.to_path_buf(),
                idle: Mutex::new(Vec::new()),
            }),
            clock,
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

#[async_trait::async_trait]
impl MetaStore for SqliteMeta {
    async fn create_user(&self, user: User, key: AccessKey) -> StoreResult<()> {
        self.writer
            .write(move |c| accounts::create_user(c, &user, &key))
            .await
    }

    async fn add_access_key(&self, key: AccessKey) -> StoreResult<()> {
        self.writer
            .write(move |c| accounts::insert_key(c, &key))
            .await
    }

    async fn delete_user(&self, name: &str) -> StoreResult<()> {
        let name = name.to_owned();
        self.writer
            .write(move |c| accounts::delete_user(c, &name))
            .await
    }

    async fn get_user(&self, name: &str) -> StoreResult<Option<User>> {
        let name = name.to_owned();
        self.read(move |c| accounts::get_user(c, &name)).await
    }

    async fn list_users(&self) -> StoreResult<Vec<(User, Vec<String>)>> {
        self.read(accounts::list_users).await
    }

    async fn lookup_access_key(
        &self,
        access_key_id: &str,
    ) -> StoreResult<Option<(AccessKey, User)>> {
        let id = access_key_id.to_owned();
        self.read(move |c| accounts::lookup_access_key(c, &id))
            .await
    }

    async fn put_user_policy(&self, user: &str, name: &str, document: String) -> StoreResult<()> {
        let (user, name) = (user.to_owned(), name.to_owned());
        self.writer
            .write(move |c| accounts::put_user_policy(c, &user, &name, &document))
            .await
    }

    async fn delete_user_policy(&self, user: &str, name: &str) -> StoreResult<bool> {
        let (user, name) = (user.to_owned(), name.to_owned());
        self.writer
            .write(move |c| accounts::delete_user_policy(c, &user, &name))
            .await
    }

    async fn user_policies(&self, user: &str) -> StoreResult<Vec<(String, String)>> {
        let user = user.to_owned();
        self.read(move |c| accounts::user_policies(c, &user)).await
    }

    async fn create_mfa_device(&self, device: MfaDevice) -> StoreResult<()> {
        self.writer
            .write(move |c| accounts::create_mfa_device(c, &device))
            .await
    }

    async fn mfa_device(&self, serial: &str) -> StoreResult<Option<MfaDevice>> {
        let serial = serial.to_owned();
        self.read(move |c| accounts::mfa_device(c, &serial)).await
    }

    async fn use_mfa_step(&self, serial: &str, step: u64) -> StoreResult<bool> {
        let serial = serial.to_owned();
        self.writer
            .write(move |c| accounts::use_mfa_step(c, &serial, step))
            .await
    }

    async fn init_setting(&self, name: &str, value: &str) -> StoreResult<String> {
        let (name, value) = (name.to_owned(), value.to_owned());
        self.writer
            .write(move |c| accounts::init_setting(c, &name, &value))
            .await
    }

    async fn setting(&self, name: &str) -> StoreResult<Option<String>> {
        let name = name.to_owned();
        self.read(move |c| accounts::setting(c, &name)).await
    }

    async fn set_setting(&self, name: &str, value: Option<String>) -> StoreResult<()> {
        let name = name.to_owned();
        self.writer
            .write(move |c| accounts::set_setting(c, &name, value.as_deref()))
            .await
    }

    async fn create_bucket_with(
        &self,
        b: BucketRecord,
        configs: Vec<(String, String)>,
    ) -> StoreResult<()> {
        self.writer
            .write(move |c| accounts::create_bucket(c, &b, &configs))
            .await
    }

    async fn get_bucket(&self, name: &str) -> StoreResult<Option<BucketRecord>> {
        let name = name.to_owned();
        self.read(move |c| accounts::get_bucket(c, &name)).await
    }

    async fn list_buckets(&self, owner: &str) -> StoreResult<Vec<BucketRecord>> {
        let owner = owner.to_owned();
        self.read(move |c| accounts::list_buckets(c, &owner)).await
    }

    async fn delete_bucket(&self, name: &str) -> StoreResult<()> {
        let name = name.to_owned();
        self.writer
            .write(move |c| accounts::delete_bucket(c, &name))
            .await
    }

    async fn set_versioning(&self, bucket: &str, state: Versioning) -> StoreResult<()> {
        let bucket = bucket.to_owned();
        self.writer
            .write(move |c| accounts::set_versioning(c, &bucket, state))
            .await
    }

    async fn bucket_config(&self, bucket: &str, kind: &str) -> StoreResult<Option<String>> {
        let (bucket, kind) = (bucket.to_owned(), kind.to_owned());
        self.read(move |c| accounts::bucket_config(c, &bucket, &kind))
            .await
    }

    async fn set_bucket_config(
        &self,
        bucket: &str,
        kind: &str,
        value: Option<String>,
    ) -> StoreResult<()> {
        let (bucket, kind) = (bucket.to_owned(), kind.to_owned());
        self.writer
            .write(move |c| accounts::set_bucket_config(c, &bucket, &kind, value.as_deref()))
            .await
    }

    async fn update_attrs(
        &self,
        bucket: &str,
        key: &str,
        version_id: &VersionId,
        update: AttrsUpdate,
    ) -> StoreResult<bool> {
        let (bucket, key, id) = (bucket.to_owned(), key.to_owned(), version_id.clone());
        self.writer
            .write(move |c| versions::update_attrs(c, &bucket, &key, &id, update))
            .await
    }

    async fn get_object(&self, bucket: &str, key: &str) -> StoreResult<Option<ObjectRecord>> {
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        self.read(move |c| versions::current(c, &bucket, &key))
            .await
    }

    async fn get_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> StoreResult<Option<ObjectRecord>> {
        let (bucket, key, id) = (bucket.to_owned(), key.to_owned(), version_id.to_owned());
        self.read(move |c| versions::by_id(c, &bucket, &key, &id))
            .await
    }

    async fn put_object(
        &self,
        object: ObjectRecord,
        cond: WriteCondition,
    ) -> StoreResult<ObjectRecord> {
        let clock = self.clock.clone();
        self.writer
            .write(move |c| versions::put(c, &clock, object, &cond))
            .await
    }

    async fn get_delete_marker(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> StoreResult<Option<DeleteMarker>> {
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        let id = version_id.map(str::to_owned);
        self.read(move |c| versions::marker(c, &bucket, &key, id.as_deref()))
            .await
    }

    async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        owner: &str,
        cond: WriteCondition,
    ) -> StoreResult<Deletion> {
        let (bucket, key, owner) = (bucket.to_owned(), key.to_owned(), owner.to_owned());
        let clock = self.clock.clone();
        self.writer
            .write(move |c| versions::delete(c, &clock, &bucket, &key, &owner, &cond))
            .await
    }

    async fn delete_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
        cond: WriteCondition,
    ) -> StoreResult<Option<RemovedVersion>> {
        let (bucket, key, id) = (bucket.to_owned(), key.to_owned(), version_id.to_owned());
        self.writer
            .write(move |c| versions::delete_version(c, &bucket, &key, &id, &cond))
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
        self.read(move |c| versions::list_current(c, &bucket, &prefix, &from, limit))
            .await
    }

    async fn list_versions(
        &self,
        bucket: &str,
        prefix: &str,
        from: VersionBound,
        limit: usize,
    ) -> StoreResult<Vec<ObjectSummary>> {
        let (bucket, prefix) = (bucket.to_owned(), prefix.to_owned());
        self.read(move |c| versions::list_all(c, &bucket, &prefix, &from, limit))
            .await
    }

    async fn create_upload(&self, u: UploadRecord) -> StoreResult<()> {
        self.writer.write(move |c| uploads::create(c, &u)).await
    }

    async fn get_upload(&self, upload_id: &str) -> StoreResult<Option<UploadRecord>> {
        let id = upload_id.to_owned();
        self.read(move |c| uploads::get(c, &id)).await
    }

    async fn put_part(&self, p: PartRecord) -> StoreResult<()> {
        self.writer.write(move |c| uploads::put_part(c, &p)).await
    }

    async fn list_parts(
        &self,
        upload_id: &str,
        after: u32,
        max: usize,
    ) -> StoreResult<Vec<PartRecord>> {
        let id = upload_id.to_owned();
        self.read(move |c| {
            let sql = format!(
                "SELECT {} FROM parts WHERE upload_id = ?1 AND part_number > ?2 \
                 ORDER BY part_number LIMIT ?3",
                rows::PART_COLUMNS
            );
            query_all(c, &sql, params![id, after, limit(max)], rows::part_from_row)
        })
        .await
    }

    async fn complete_upload(
        &self,
        upload_id: &str,
        build: CompleteFn,
        cond: WriteCondition,
    ) -> StoreResult<ObjectRecord> {
        let id = upload_id.to_owned();
        let clock = self.clock.clone();
        self.writer
            .write(move |c| uploads::complete(c, &clock, &id, build, &cond))
            .await
    }

    async fn abort_upload(&self, upload_id: &str) -> StoreResult<()> {
        let id = upload_id.to_owned();
        self.writer
            .write(move |c| {
                if uploads::get(c, &id)?.is_none() {
                    return Err(StoreError::NoSuchUpload);
                }
                uploads::delete(c, &id)
            })
            .await
    }

    async fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
        after: Option<(Vec<u8>, String)>,
        max: usize,
    ) -> StoreResult<Vec<UploadRecord>> {
        let (bucket, prefix) = (bucket.to_owned(), prefix.to_owned());
        self.read(move |c| {
            let (key, upload) = after.unwrap_or_default();
            let start = if key.as_slice() >= prefix.as_bytes() {
                key
            } else {
                prefix.as_bytes().to_vec()
            };
            let sql = format!(
                "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE bucket = ?1 \
                 AND (key > ?2 OR (key = ?2 AND upload_id > ?3)) ORDER BY key, upload_id LIMIT ?4"
            );
            let mut rows = query_all(
                c,
                &sql,
                params![bucket, start, upload, limit(max)],
                upload_from_row,
            )?;
            if let Some(end) = rows.iter().position(|u| !u.key.starts_with(&prefix)) {
                rows.truncate(end);
            }
            Ok(rows)
        })
        .await
    }

    async fn unreferenced_blobs(&self, before_ms: i64, max: usize) -> StoreResult<Vec<BlobId>> {
        self.read(move |c| refs::unreferenced(c, before_ms, max))
            .await
    }

    async fn forget_blobs(&self, ids: Vec<BlobId>) -> StoreResult<Vec<BlobId>> {
        self.writer.write(move |c| refs::forget(c, ids)).await
    }

    async fn known_blobs(&self, prefix: &str) -> StoreResult<HashSet<BlobId>> {
        let prefix = prefix.to_owned();
        self.read(move |c| refs::known(c, &prefix)).await
    }
}

#[cfg(test)]
mod tests;
