//! Object versions inside a transaction: the key's current version, committing a new one,
//! removing one, and the listings.
//!
//! A key's versions are rows of `versions`. Once its bucket has been versioned, its row in
//! `keys` names its current (newest) version and its null version; before that a key has one
//! version, its null version, and no such row (an unversioned write costs what it did before
//! versioning existed). Every lookup of one version is a primary-key lookup, and a write
//! inserts or deletes version rows and updates the key's small row: it never rewrites an older
//! version's row, however many the key has.

use rusqlite::{Connection, OptionalExtension, params};
use wharf_model::VersionId;

use super::refs;
use super::rows::{
    self, SUMMARY_COLUMNS, VersionClock, json, limit, object_columns, object_from_row, opt_json,
    parse_json, query_all, summary_from_row, to_i64,
};
use crate::error::{StoreError, StoreResult};
use crate::meta::{
    AttrsUpdate, BlobRef, BodyLayout, DeleteMarker, Deletion, KeyBound, ObjectAttrs, ObjectRecord,
    ObjectSummary, RemovedVersion, VersionBound, Versioning, WriteCondition,
};

pub fn bucket_exists(c: &Connection, bucket: &str) -> StoreResult<bool> {
    Ok(c.prepare_cached("SELECT 1 FROM buckets WHERE name = ?1")?
        .query_row([bucket], |_| Ok(()))
        .optional()?
        .is_some())
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

/// A key's row in `keys`.
#[derive(Debug, Clone)]
struct KeyRow {
    current: VersionId,
    current_is_marker: bool,
    null: Option<VersionId>,
}

impl KeyRow {
    /// The key's row: kept in `keys` once the bucket has been versioned; before that every key
    /// has one version, its null version, which is all there is to say.
    fn of(
        c: &Connection,
        versioning: Versioning,
        bucket: &str,
        key: &str,
    ) -> StoreResult<Option<Self>> {
        if versioning != Versioning::Unversioned {
            return Self::read(c, bucket, key);
        }
        let only: Option<String> = c
            .prepare_cached(
                "SELECT version_id FROM versions WHERE bucket = ?1 AND key = ?2 \
                 ORDER BY version_id LIMIT 1",
            )?
            .query_row(params![bucket, key.as_bytes()], |r| r.get(0))
            .optional()?;
        let Some(id) = only else {
            return Ok(None);
        };
        let id = rows::version_id(id)?;
        Ok(Some(Self {
            current: id.clone(),
            current_is_marker: false,
            null: Some(id),
        }))
    }

    fn read(c: &Connection, bucket: &str, key: &str) -> StoreResult<Option<Self>> {
        let row: Option<(String, bool, Option<String>)> = c
            .prepare_cached(
                "SELECT current, current_is_marker, null_version FROM keys \
                 WHERE bucket = ?1 AND key = ?2",
            )?
            .query_row(params![bucket, key.as_bytes()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((current, current_is_marker, null)) = row else {
            return Ok(None);
        };
        Ok(Some(Self {
            current: rows::version_id(current)?,
            current_is_marker,
            null: null.map(rows::version_id).transpose()?,
        }))
    }

    /// The row after a new version `id` (a marker or not) was added: it is current, and the
    /// null version if it was written as one, else the null version stays `kept_null`.
    fn newest(id: &VersionId, marker: bool, is_null: bool, kept_null: Option<VersionId>) -> Self {
        Self {
            current: id.clone(),
            current_is_marker: marker,
            null: if is_null { Some(id.clone()) } else { kept_null },
        }
    }

    fn write(&self, c: &Connection, bucket: &str, key: &str) -> StoreResult<()> {
        c.prepare_cached(
            "INSERT OR REPLACE INTO keys (bucket, key, current, current_is_marker, null_version) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            bucket,
            key.as_bytes(),
            self.current.as_str(),
            self.current_is_marker,
            self.null.as_ref().map(VersionId::as_str)
        ])?;
        Ok(())
    }

    /// The id S3 names `id` by (`null`: the null version), if the key has such a version id.
    fn resolve(&self, id: &str) -> Option<VersionId> {
        if id == wharf_model::NULL_VERSION {
            self.null.clone()
        } else {
            VersionId::parse(id)
        }
    }

    fn marker(&self, head: &Head) -> DeleteMarker {
        DeleteMarker {
            version_id: head.version_id.clone(),
            null_version: self.null.as_ref() == Some(&head.version_id),
            last_modified_ms: head.last_modified_ms,
            is_latest: self.current == head.version_id,
        }
    }
}

/// What a write needs to know of one version (never its body).
struct Head {
    version_id: VersionId,
    etag: String,
    delete_marker: bool,
    last_modified_ms: i64,
}

fn head(c: &Connection, bucket: &str, key: &str, id: &VersionId) -> StoreResult<Option<Head>> {
    let row: Option<(String, bool, i64)> = c
        .prepare_cached(
            "SELECT etag, delete_marker, last_modified_ms FROM versions \
             WHERE bucket = ?1 AND key = ?2 AND version_id = ?3",
        )?
        .query_row(params![bucket, key.as_bytes(), id.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    Ok(row.map(|(etag, delete_marker, last_modified_ms)| Head {
        version_id: id.clone(),
        etag,
        delete_marker,
        last_modified_ms,
    }))
}

/// The version reads and listings show for the key: its current one, unless that is a delete
/// marker.
pub fn current(c: &Connection, bucket: &str, key: &str) -> StoreResult<Option<ObjectRecord>> {
    // The newest row is the current version: one search of the primary key, whatever the
    // number of versions (the key's row in `keys` would cost a second).
    let sql = concat!(
        "SELECT ",
        object_columns!(),
        ", delete_marker FROM versions WHERE bucket = ?1 AND key = ?2 \
         ORDER BY version_id LIMIT 1"
    );
    let mut stmt = c.prepare_cached(sql)?;
    let mut rows = stmt.query(params![bucket, key.as_bytes()])?;
    match rows.next()? {
        Some(r) if !r.get::<_, bool>(14)? => Ok(Some(object_from_row(r)?)),
        _ => Ok(None),
    }
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

/// Checks the client's conditions against the key's current version (none if it is a delete
/// marker).
fn conditions_hold(
    c: &Connection,
    bucket: &str,
    key: &str,
    row: Option<&KeyRow>,
    cond: &WriteCondition,
) -> StoreResult<()> {
    if cond.if_match.is_none() && cond.if_none_match.is_none() {
        return Ok(());
    }
    let current = match row {
        Some(r) if !r.current_is_marker => head(c, bucket, key, &r.current)?,
        _ => None,
    };
    if cond.client_conditions_hold(current.as_ref().map(|h| h.etag.as_str())) {
        Ok(())
    } else {
        Err(StoreError::PreconditionFailed)
    }
}

/// Deletes one of the key's versions and releases its blobs (its row in `keys` is the
/// caller's to update).
fn remove_version(c: &Connection, bucket: &str, key: &str, id: &VersionId) -> StoreResult<()> {
    let blobs: Option<Option<String>> = c
        .prepare_cached(
            "DELETE FROM versions WHERE bucket = ?1 AND key = ?2 AND version_id = ?3 \
             RETURNING blobs",
        )?
        .query_row(params![bucket, key.as_bytes(), id.as_str()], |r| r.get(0))
        .optional()?;
    let blobs: Vec<BlobRef> = parse_json(blobs.flatten())?.unwrap_or_default();
    refs::remove(c, blobs.into_iter().map(|b| b.id), crate::now_ms())
}

fn version_exists(c: &Connection, bucket: &str, key: &str, id: &VersionId) -> StoreResult<bool> {
    Ok(c.prepare_cached(
        "SELECT 1 FROM versions WHERE bucket = ?1 AND key = ?2 AND version_id = ?3",
    )?
    .exists(params![bucket, key.as_bytes(), id.as_str()])?)
}

/// Makes room for a new current version: unless versioning is enabled, it replaces the null
/// version, which goes. Returns the null version that stays (if any) and the sequence the new
/// version's id must follow.
fn make_room(
    c: &Connection,
    bucket: &str,
    key: &str,
    row: Option<&KeyRow>,
    replaces_null: bool,
) -> StoreResult<(Option<VersionId>, u64)> {
    let newest = row.map_or(0, |r| r.current.sequence());
    let null = row.and_then(|r| r.null.clone());
    match null {
        Some(id) if replaces_null => {
            remove_version(c, bucket, key, &id)?;
            Ok((None, newest))
        }
        other => Ok((other, newest)),
    }
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
    let (bucket, key) = (object.bucket.clone(), object.key.clone());
    let row = KeyRow::of(c, versioning, &bucket, &key)?;
    conditions_hold(c, &bucket, &key, row.as_ref(), cond)?;
    if let Some(src) = &cond.source
        && !version_exists(c, &src.bucket, &src.key, &src.version_id)?
    {
        return Err(StoreError::SourceChanged);
    }
    let null_version = versioning != Versioning::Enabled;
    let (null, newest) = make_room(c, &bucket, &key, row.as_ref(), null_version)?;
    object.version_id = clock.next_id(newest);
    object.null_version = null_version;
    insert(c, &object)?;
    refs::add(c, object.body.blob_ids())?;
    if versioning != Versioning::Unversioned {
        KeyRow::newest(&object.version_id, false, null_version, null).write(c, &bucket, &key)?;
    }
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
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
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

/// After the key's current version went: the newest remaining becomes current, or the key
/// has no versions left.
fn refresh_key(
    c: &Connection,
    bucket: &str,
    key: &str,
    null: Option<VersionId>,
) -> StoreResult<()> {
    let newest: Option<(String, bool)> = c
        .prepare_cached(
            "SELECT version_id, delete_marker FROM versions WHERE bucket = ?1 AND key = ?2 \
             ORDER BY version_id LIMIT 1",
        )?
        .query_row(params![bucket, key.as_bytes()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    match newest {
        Some((id, current_is_marker)) => KeyRow {
            current: rows::version_id(id)?,
            current_is_marker,
            null,
        }
        .write(c, bucket, key),
        None => {
            c.prepare_cached("DELETE FROM keys WHERE bucket = ?1 AND key = ?2")?
                .execute(params![bucket, key.as_bytes()])?;
            Ok(())
        }
    }
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
    let row = KeyRow::of(c, versioning, bucket, key)?;
    conditions_hold(c, bucket, key, row.as_ref(), cond)?;
    let null = row.as_ref().and_then(|r| r.null.clone());
    let removed = match &null {
        Some(id) if versioning != Versioning::Enabled => by_id(c, bucket, key, id.as_str())?,
        _ => None,
    };
    if versioning == Versioning::Unversioned {
        if let Some(id) = null {
            remove_version(c, bucket, key, &id)?;
        }
        return Ok(Deletion {
            removed,
            marker: None,
        });
    }
    let null_version = versioning == Versioning::Suspended;
    let (null, newest) = make_room(c, bucket, key, row.as_ref(), null_version)?;
    let marker = DeleteMarker {
        version_id: clock.next_id(newest),
        null_version,
        last_modified_ms: crate::now_ms(),
        is_latest: true,
    };
    c.prepare_cached(
        "INSERT INTO versions (bucket, key, version_id, null_version, delete_marker, size, \
         etag, last_modified_ms, owner, attrs) VALUES (?1, ?2, ?3, ?4, 1, 0, '', ?5, ?6, '{}')",
    )?
    .execute(params![
        bucket,
        key.as_bytes(),
        marker.version_id.as_str(),
        null_version,
        marker.last_modified_ms,
        owner,
    ])?;
    KeyRow::newest(&marker.version_id, true, null_version, null).write(c, bucket, key)?;
    Ok(Deletion {
        removed,
        marker: Some(marker),
    })
}

/// The delete marker that is the key's current version (`id` none) or version `id`.
pub fn marker(
    c: &Connection,
    bucket: &str,
    key: &str,
    id: Option<&str>,
) -> StoreResult<Option<DeleteMarker>> {
    let versioning = versioning_of(c, bucket)?;
    let Some(row) = KeyRow::of(c, versioning, bucket, key)? else {
        return Ok(None);
    };
    let vid = match id {
        None if row.current_is_marker => row.current.clone(),
        None => return Ok(None),
        Some(id) => match row.resolve(id) {
            Some(v) => v,
            None => return Ok(None),
        },
    };
    Ok(head(c, bucket, key, &vid)?
        .filter(|h| h.delete_marker)
        .map(|h| row.marker(&h)))
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
    let versioning = versioning_of(c, bucket)?;
    let Some(row) = KeyRow::of(c, versioning, bucket, key)? else {
        return Ok(None);
    };
    let Some(vid) = row.resolve(id) else {
        return Ok(None);
    };
    let Some(h) = head(c, bucket, key, &vid)? else {
        return Ok(None);
    };
    let etag = (!h.delete_marker).then_some(h.etag.as_str());
    if !cond.client_conditions_hold(etag) {
        return Err(StoreError::PreconditionFailed);
    }
    let removed = if h.delete_marker {
        RemovedVersion::Marker(row.marker(&h))
    } else {
        match by_id(c, bucket, key, vid.as_str())? {
            Some(o) => RemovedVersion::Object(Box::new(o)),
            None => return Ok(None),
        }
    };
    if let RemovedVersion::Object(o) = &removed
        && o.attrs.locked_at(crate::now_ms(), cond.bypass_governance)
    {
        return Err(StoreError::ObjectLocked);
    }
    remove_version(c, bucket, key, &vid)?;
    let null = row.null.clone().filter(|n| *n != vid);
    // (A never-versioned bucket's keys have no row in `keys` to keep.)
    if versioning != Versioning::Unversioned {
        if row.current == vid {
            refresh_key(c, bucket, key, null)?;
        } else if null != row.null {
            KeyRow { null, ..row }.write(c, bucket, key)?;
        }
    }
    Ok(Some(removed))
}

/// Changes the attributes of version `id` (not a delete marker); `false` if there is none.
pub fn update_attrs(
    c: &Connection,
    bucket: &str,
    key: &str,
    id: &VersionId,
    update: AttrsUpdate,
) -> StoreResult<bool> {
    let attrs: Option<String> = c
        .prepare_cached(
            "SELECT attrs FROM versions WHERE bucket = ?1 AND key = ?2 AND version_id = ?3 \
             AND delete_marker = 0",
        )?
        .query_row(params![bucket, key.as_bytes(), id.as_str()], |r| r.get(0))
        .optional()?;
    let Some(attrs) = attrs else {
        return Ok(false);
    };
    let mut attrs: ObjectAttrs = parse_json(Some(attrs))?.unwrap_or_default();
    if !update(&mut attrs) {
        return Ok(true);
    }
    c.prepare_cached(
        "UPDATE versions SET attrs = ?4 WHERE bucket = ?1 AND key = ?2 AND version_id = ?3",
    )?
    .execute(params![bucket, key.as_bytes(), id.as_str(), json(&attrs)?])?;
    Ok(true)
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
    // Never versioned: every key's one row is current.
    let sql = if versioning_of(c, bucket)? == Versioning::Unversioned {
        format!(
            "SELECT {SUMMARY_COLUMNS} FROM versions v LEFT JOIN keys k \
             ON k.bucket = v.bucket AND k.key = v.key \
             WHERE v.bucket = ?1 AND v.key {op} ?2 ORDER BY v.key LIMIT ?3"
        )
    } else {
        format!(
            "SELECT {SUMMARY_COLUMNS} FROM keys k JOIN versions v \
         ON v.bucket = k.bucket AND v.key = k.key AND v.version_id = k.current \
         WHERE k.bucket = ?1 AND k.key {op} ?2 AND k.current_is_marker = 0 \
         ORDER BY k.key LIMIT ?3"
        )
    };
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
                "SELECT {SUMMARY_COLUMNS} FROM versions v \
                 LEFT JOIN keys k ON k.bucket = v.bucket AND k.key = v.key \
                 WHERE v.bucket = ?1 AND v.key {op} ?2 ORDER BY v.key, v.version_id LIMIT ?3"
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
                "SELECT {SUMMARY_COLUMNS} FROM versions v \
                 LEFT JOIN keys k ON k.bucket = v.bucket AND k.key = v.key \
                 WHERE v.bucket = ?1 AND (v.key, v.version_id) > (?2, ?3) \
                 ORDER BY v.key, v.version_id LIMIT ?4"
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
