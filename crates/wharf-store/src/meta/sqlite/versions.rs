//! Object versions inside a transaction: the key's current version, committing a new one,
//! removing one, and the listings.

use rusqlite::{Connection, OptionalExtension, params};
use wharf_model::VersionId;

use super::refs;
use super::rows::{
    self, SUMMARY_COLUMNS, VersionClock, json, limit, object_columns, object_from_row, opt_json,
    parse_json, query_all, summary_from_row, to_i64,
};
use crate::error::{StoreError, StoreResult};
use crate::meta::{
    BlobRef, BodyLayout, DeleteMarker, Deletion, KeyBound, ObjectRecord, ObjectSummary,
    RemovedVersion, VersionBound, Versioning, WriteCondition,
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

/// The bucket's versioning state; `NoSuchBucket` if there is no such bucket.
fn versioning_of(c: &Connection, bucket: &str) -> StoreResult<Versioning> {
    let state: Option<String> = c
        .prepare_cached("SELECT versioning FROM buckets WHERE name = ?1")?
        .query_row([bucket], |r| r.get(0))
        .optional()?;
    match state.as_deref() {
        None => Err(StoreError::NoSuchBucket),
        Some("Enabled") => Ok(Versioning::Enabled),
        Some("Suspended") => Ok(Versioning::Suspended),
        Some(_) => Ok(Versioning::Unversioned),
    }
}

/// Makes a version no longer the key's current one.
fn demote(c: &Connection, bucket: &str, key: &str, id: &VersionId) -> StoreResult<()> {
    c.prepare_cached(
        "UPDATE versions SET is_latest = 0 WHERE bucket = ?1 AND key = ?2 AND version_id = ?3",
    )?
    .execute(params![bucket, key.as_bytes(), id.as_str()])?;
    Ok(())
}

/// Makes room for a new current version: without versioning enabled, the null version goes
/// (the new one replaces it); the current version, if it stays, is current no more. Returns
/// the sequence the new version's id must follow.
fn make_room(
    c: &Connection,
    bucket: &str,
    key: &str,
    versions: &KeyVersions,
    replaces_null: bool,
) -> StoreResult<u64> {
    let newest = versions
        .latest
        .as_ref()
        .map_or(0, |h| h.version_id.sequence());
    let mut latest_gone = false;
    if replaces_null && let Some(null) = &versions.null {
        remove_version(c, bucket, key, null, crate::now_ms())?;
        latest_gone = versions
            .latest
            .as_ref()
            .is_some_and(|l| l.version_id == null.version_id);
    }
    if let Some(latest) = &versions.latest
        && !latest_gone
    {
        demote(c, bucket, key, &latest.version_id)?;
    }
    Ok(newest)
}

/// Commits `object` as the key's current version: a new version when versioning is enabled,
/// else the key's new null version, replacing the old one.
pub fn put(
    c: &Connection,
    clock: &VersionClock,
    mut object: ObjectRecord,
    cond: &WriteCondition,
) -> StoreResult<ObjectRecord> {
    let versioning = versioning_of(c, &object.bucket)?;
    let versions = KeyVersions::read(c, &object.bucket, &object.key)?;
    if !cond.client_conditions_hold(versions.current_etag()) {
        return Err(StoreError::PreconditionFailed);
    }
    if let Some(src) = &cond.source
        && !version_exists(c, &src.bucket, &src.key, &src.version_id)?
    {
        return Err(StoreError::SourceChanged);
    }
    let null_version = versioning != Versioning::Enabled;
    let newest = make_room(c, &object.bucket, &object.key, &versions, null_version)?;
    object.version_id = clock.next_id(newest);
    object.null_version = null_version;
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

/// A simple DELETE if `cond` holds (see [`crate::meta::MetaStore::delete_object`]).
pub fn delete(
    c: &Connection,
    clock: &VersionClock,
    bucket: &str,
    key: &str,
    owner: &str,
    cond: &WriteCondition,
) -> StoreResult<Deletion> {
    let versioning = versioning_of(c, bucket)?;
    let versions = KeyVersions::read(c, bucket, key)?;
    if !cond.client_conditions_hold(versions.current_etag()) {
        return Err(StoreError::PreconditionFailed);
    }
    let removed = match &versions.null {
        Some(null) if versioning != Versioning::Enabled && !null.delete_marker => {
            by_id(c, bucket, key, null.version_id.as_str())?
        }
        _ => None,
    };
    if versioning == Versioning::Unversioned {
        if let Some(null) = &versions.null {
            remove_version(c, bucket, key, null, crate::now_ms())?;
        }
        return Ok(Deletion {
            removed,
            marker: None,
        });
    }
    let null_version = versioning == Versioning::Suspended;
    let newest = make_room(c, bucket, key, &versions, null_version)?;
    let marker = DeleteMarker {
        version_id: clock.next_id(newest),
        null_version,
        last_modified_ms: crate::now_ms(),
        is_latest: true,
    };
    c.prepare_cached(
        "INSERT INTO versions (bucket, key, version_id, null_version, is_latest, delete_marker, \
         size, etag, last_modified_ms, owner, attrs) \
         VALUES (?1, ?2, ?3, ?4, 1, 1, 0, '', ?5, ?6, '{}')",
    )?
    .execute(params![
        bucket,
        key.as_bytes(),
        marker.version_id.as_str(),
        null_version,
        marker.last_modified_ms,
        owner,
    ])?;
    Ok(Deletion {
        removed,
        marker: Some(marker),
    })
}

/// One version of a key as a DELETE by version id needs it (never its body).
struct Named {
    head: Head,
    null_version: bool,
    is_latest: bool,
    last_modified_ms: i64,
}

impl Named {
    fn marker(&self) -> DeleteMarker {
        DeleteMarker {
            version_id: self.head.version_id.clone(),
            null_version: self.null_version,
            last_modified_ms: self.last_modified_ms,
            is_latest: self.is_latest,
        }
    }
}

/// The version S3 names `id` (`null`: the null version), read lightly.
fn named_version(c: &Connection, bucket: &str, key: &str, id: &str) -> StoreResult<Option<Named>> {
    let id = if id == wharf_model::NULL_VERSION {
        None
    } else {
        match VersionId::parse(id) {
            Some(v) => Some(v),
            None => return Ok(None),
        }
    };
    let mut stmt = c.prepare_cached(
        "SELECT version_id, etag, blobs, delete_marker, is_latest, last_modified_ms, null_version \
         FROM versions WHERE bucket = ?1 AND key = ?2 \
         AND (version_id = ?3 OR (?3 IS NULL AND null_version = 1))",
    )?;
    let mut rows = stmt.query(params![
        bucket,
        key.as_bytes(),
        id.as_ref().map(VersionId::as_str)
    ])?;
    let Some(r) = rows.next()? else {
        return Ok(None);
    };
    Ok(Some(Named {
        head: Head {
            version_id: rows::version_id(r.get(0)?)?,
            etag: r.get(1)?,
            blobs: r.get(2)?,
            delete_marker: r.get(3)?,
        },
        is_latest: r.get(4)?,
        last_modified_ms: r.get(5)?,
        null_version: r.get(6)?,
    }))
}

/// The delete marker that is the key's current version (`id` none) or version `id`.
pub fn marker(
    c: &Connection,
    bucket: &str,
    key: &str,
    id: Option<&str>,
) -> StoreResult<Option<DeleteMarker>> {
    let id = match id {
        Some(id) => id.to_owned(),
        None => {
            let latest: Option<String> = c
                .prepare_cached(
                    "SELECT version_id FROM versions WHERE bucket = ?1 AND key = ?2 \
                     AND is_latest = 1 AND delete_marker = 1",
                )?
                .query_row(params![bucket, key.as_bytes()], |r| r.get(0))
                .optional()?;
            match latest {
                Some(v) => v,
                None => return Ok(None),
            }
        }
    };
    Ok(named_version(c, bucket, key, &id)?
        .filter(|n| n.head.delete_marker)
        .map(|n| n.marker()))
}

/// Removes version `id` of the key for good if `cond` holds for it; the next newest becomes
/// current if it was.
pub fn delete_version(
    c: &Connection,
    bucket: &str,
    key: &str,
    id: &str,
    cond: &WriteCondition,
) -> StoreResult<Option<RemovedVersion>> {
    versioning_of(c, bucket)?;
    let Some(named) = named_version(c, bucket, key, id)? else {
        return Ok(None);
    };
    let etag = (!named.head.delete_marker).then_some(named.head.etag.as_str());
    if !cond.client_conditions_hold(etag) {
        return Err(StoreError::PreconditionFailed);
    }
    let removed = if named.head.delete_marker {
        RemovedVersion::Marker(named.marker())
    } else {
        let Some(o) = by_id(c, bucket, key, named.head.version_id.as_str())? else {
            return Ok(None);
        };
        RemovedVersion::Object(Box::new(o))
    };
    remove_version(c, bucket, key, &named.head, crate::now_ms())?;
    if named.is_latest {
        c.prepare_cached(
            "UPDATE versions SET is_latest = 1 WHERE bucket = ?1 AND key = ?2 AND version_id = \
             (SELECT version_id FROM versions WHERE bucket = ?1 AND key = ?2 \
              ORDER BY version_id LIMIT 1)",
        )?
        .execute(params![bucket, key.as_bytes()])?;
    }
    Ok(Some(removed))
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
