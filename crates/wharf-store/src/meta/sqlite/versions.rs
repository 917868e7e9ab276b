//! Object versions inside a transaction: the key's current version, committing a new one,
//! removing one, and the listings.

use rusqlite::{Connection, OptionalExtension, params};
use wharf_model::VersionId;

use super::refs;
use super::rows::{
    SUMMARY_COLUMNS, VersionClock, json, limit, object_columns, object_from_row, opt_json,
    parse_json, query_all, summary_from_row, to_i64,
};
use crate::error::{StoreError, StoreResult};
use crate::meta::{
    BlobRef, BodyLayout, KeyBound, ObjectRecord, ObjectSummary, VersionBound, WriteCondition,
};

pub fn bucket_exists(c: &Connection, bucket: &str) -> StoreResult<bool> {
    Ok(c.prepare_cached("SELECT 1 FROM buckets WHERE name = ?1")?
        .query_row([bucket], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The version reads and listings show for the key: its current one, unless that is a delete
/// marker.
pub fn current(c: &Connection, bucket: &str, key: &str) -> StoreResult<Option<ObjectRecord>> {
    let sql = concat!(
        "SELECT ",
        object_columns!(),
        " FROM versions WHERE bucket = ?1 AND key = ?2 AND is_latest = 1 AND delete_marker = 0"
    );
    Ok(query_all(c, sql, params![bucket, key.as_bytes()], object_from_row)?.pop())
}

/// The version S3 names `id` (`null`: the null version), unless it is a delete marker.
pub fn by_id(
    c: &Connection,
    bucket: &str,
    key: &str,
    id: &str,
) -> StoreResult<Option<ObjectRecord>> {
    let rows = if id == wharf_model::NULL_VERSION {
        let sql = concat!(
            "SELECT ",
            object_columns!(),
            " FROM versions WHERE bucket = ?1 AND key = ?2 AND null_version = 1 \
             AND delete_marker = 0"
        );
        query_all(c, sql, params![bucket, key.as_bytes()], object_from_row)?
    } else {
        let Some(id) = VersionId::parse(id) else {
            return Ok(None);
        };
        let sql = concat!(
            "SELECT ",
            object_columns!(),
            " FROM versions WHERE bucket = ?1 AND key = ?2 AND version_id = ?3 \
             AND delete_marker = 0"
        );
        query_all(
            c,
            sql,
            params![bucket, key.as_bytes(), id.as_str()],
            object_from_row,
        )?
    };
    Ok(rows.into_iter().next())
}

/// What a write needs to know of one of a key's versions (never its body).
struct Head {
    version_id: VersionId,
    etag: String,
    blobs: Option<String>,
    delete_marker: bool,
}

/// The key's current version and its null version (often the same row), read lightly.
#[derive(Default)]
struct KeyVersions {
    latest: Option<Head>,
    null: Option<Head>,
}

impl KeyVersions {
    fn read(c: &Connection, bucket: &str, key: &str) -> StoreResult<Self> {
        // Newest first: the first row is the current version and, without versioning, the
        // null version too, so only versioned keys read further.
        let mut stmt = c.prepare_cached(
            "SELECT version_id, null_version, is_latest, delete_marker, etag, blobs \
             FROM versions WHERE bucket = ?1 AND key = ?2 ORDER BY version_id",
        )?;
        let mut rows = stmt.query(params![bucket, key.as_bytes()])?;
        let mut out = Self::default();
        while out.null.is_none()
            && let Some(r) = rows.next()?
        {
            let id: String = r.get(0)?;
            let head = Head {
                version_id: VersionId::parse(&id)
                    .ok_or_else(|| StoreError::Corrupt(format!("bad version id {id:?}")))?,
                etag: r.get(4)?,
                blobs: r.get(5)?,
                delete_marker: r.get(3)?,
            };
            let (null, latest): (bool, bool) = (r.get(1)?, r.get(2)?);
            if latest {
                out.latest = Some(Head {
                    version_id: head.version_id.clone(),
                    etag: head.etag.clone(),
                    blobs: None,
                    delete_marker: head.delete_marker,
                });
            }
            if null {
                out.null = Some(head);
            }
        }
        Ok(out)
    }

    /// The ETag client conditions are evaluated against: the current version's, unless it is
    /// a delete marker (then the key has no current object).
    fn current_etag(&self) -> Option<&str> {
        self.latest
            .as_ref()
            .filter(|h| !h.delete_marker)
            .map(|h| h.etag.as_str())
    }
}

/// Deletes one of the key's versions and releases its blobs.
fn remove_version(
    c: &Connection,
    bucket: &str,
    key: &str,
    head: &Head,
    now_ms: i64,
) -> StoreResult<()> {
    c.prepare_cached("DELETE FROM versions WHERE bucket = ?1 AND key = ?2 AND version_id = ?3")?
        .execute(params![bucket, key.as_bytes(), head.version_id.as_str()])?;
    let blobs: Vec<BlobRef> = parse_json(head.blobs.clone())?.unwrap_or_default();
    refs::remove(c, blobs.into_iter().map(|b| b.id), now_ms)
}

fn version_exists(c: &Connection, bucket: &str, key: &str, id: &VersionId) -> StoreResult<bool> {
    Ok(c.prepare_cached(
        "SELECT 1 FROM versions WHERE bucket = ?1 AND key = ?2 AND version_id = ?3",
    )?
    .exists(params![bucket, key.as_bytes(), id.as_str()])?)
}

/// Commits `object` as the key's current version, replacing its null version.
pub fn put(
    c: &Connection,
    clock: &VersionClock,
    mut object: ObjectRecord,
    cond: &WriteCondition,
) -> StoreResult<ObjectRecord> {
    if !bucket_exists(c, &object.bucket)? {
        return Err(StoreError::NoSuchBucket);
    }
    let versions = KeyVersions::read(c, &object.bucket, &object.key)?;
    if !cond.client_conditions_hold(versions.current_etag()) {
        return Err(StoreError::PreconditionFailed);
    }
    if let Some(src) = &cond.source
        && !version_exists(c, &src.bucket, &src.key, &src.version_id)?
    {
        return Err(StoreError::SourceChanged);
    }
    if let Some(null) = &versions.null {
        remove_version(c, &object.bucket, &object.key, null, crate::now_ms())?;
    }
    // Without versioning, the null version was the current one; nothing else is to be demoted.
    let newest = versions.latest.map_or(0, |h| h.version_id.sequence());
    object.version_id = clock.next_id(newest);
    object.null_version = true;
    insert(c, &object)?;
    refs::add(c, object.body.blob_ids())?;
    Ok(object)
}

fn insert(c: &Connection, o: &ObjectRecord) -> StoreResult<()> {
    let (inline, blobs) = match &o.body {
        BodyLayout::Inline(b) => (Some(b.as_ref()), None),
        BodyLayout::Blobs(b) => (None, Some(json(b)?)),
    };
    let parts = if o.parts.is_empty() {
        None
    } else {
        Some(json(&o.parts)?)
    };
    c.prepare_cached(concat!(
        "INSERT INTO versions (",
        object_columns!(),
        ", is_latest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 1)"
    ))?
    .execute(params![
        o.bucket,
        o.key.as_bytes(),
        o.version_id.as_str(),
        o.null_version,
        to_i64(o.size),
        o.etag,
        o.last_modified_ms,
        o.owner,
        json(&o.attrs)?,
        opt_json(&o.checksum)?,
        inline,
        blobs,
        parts,
        o.upload_id,
    ])?;
    Ok(())
}

/// Removes the key's current (null) version if `cond` holds.
pub fn delete(
    c: &Connection,
    bucket: &str,
    key: &str,
    cond: &WriteCondition,
) -> StoreResult<Option<ObjectRecord>> {
    if !bucket_exists(c, bucket)? {
        return Err(StoreError::NoSuchBucket);
    }
    let versions = KeyVersions::read(c, bucket, key)?;
    if !cond.client_conditions_hold(versions.current_etag()) {
        return Err(StoreError::PreconditionFailed);
    }
    let Some(null) = versions.null else {
        return Ok(None);
    };
    let removed = by_id(c, bucket, key, null.version_id.as_str())?;
    remove_version(c, bucket, key, &null, crate::now_ms())?;
    Ok(removed)
}

/// Where a listing starts: the later of the bound and the prefix, and whether it is inclusive.
fn start_of(prefix: &str, from: &KeyBound) -> (Vec<u8>, bool) {
    let p = prefix.as_bytes().to_vec();
    match from {
        KeyBound::Unbounded => (p, true),
        KeyBound::After(k) if k.as_slice() >= p.as_slice() => (k.clone(), false),
        KeyBound::AtOrAfter(k) if k.as_slice() >= p.as_slice() => (k.clone(), true),
        _ => (p, true),
    }
}

/// Drops the rows after the first whose key leaves the prefix (rows come in key order).
fn within_prefix(mut rows: Vec<ObjectSummary>, prefix: &str) -> Vec<ObjectSummary> {
    if let Some(end) = rows.iter().position(|o| !o.key.starts_with(prefix)) {
        rows.truncate(end);
    }
    rows
}

pub fn list_current(
    c: &Connection,
    bucket: &str,
    prefix: &str,
    from: &KeyBound,
    max: usize,
) -> StoreResult<Vec<ObjectSummary>> {
    let (start, inclusive) = start_of(prefix, from);
    let op = if inclusive { ">=" } else { ">" };
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM versions WHERE bucket = ?1 AND key {op} ?2 \
         AND is_latest = 1 AND delete_marker = 0 ORDER BY key LIMIT ?3"
    );
    let rows = query_all(
        c,
        &sql,
        params![bucket, start, limit(max)],
        summary_from_row,
    )?;
    Ok(within_prefix(rows, prefix))
}

pub fn list_all(
    c: &Connection,
    bucket: &str,
    prefix: &str,
    from: &VersionBound,
    max: usize,
) -> StoreResult<Vec<ObjectSummary>> {
    let rows = match from {
        VersionBound::Keys(bound) => {
            let (start, inclusive) = start_of(prefix, bound);
            let op = if inclusive { ">=" } else { ">" };
            let sql = format!(
                "SELECT {SUMMARY_COLUMNS} FROM versions WHERE bucket = ?1 AND key {op} ?2 \
                 ORDER BY key, version_id LIMIT ?3"
            );
            query_all(
                c,
                &sql,
                params![bucket, start, limit(max)],
                summary_from_row,
            )?
        }
        VersionBound::AfterVersion(key, id) if key.as_slice() >= prefix.as_bytes() => {
            let sql = format!(
                "SELECT {SUMMARY_COLUMNS} FROM versions WHERE bucket = ?1 \
                 AND (key, version_id) > (?2, ?3) ORDER BY key, version_id LIMIT ?4"
            );
            query_all(
                c,
                &sql,
                params![bucket, key, id.as_str(), limit(max)],
                summary_from_row,
            )?
        }
        // A marker before the prefix starts the listing at the prefix.
        VersionBound::AfterVersion(..) => {
            return list_all(
                c,
                bucket,
                prefix,
                &VersionBound::Keys(KeyBound::Unbounded),
                max,
            );
        }
    };
    Ok(within_prefix(rows, prefix))
}
