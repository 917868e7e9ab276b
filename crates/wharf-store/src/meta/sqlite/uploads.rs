//! Multipart uploads and their parts inside a transaction. Each stored part holds one reference
//! to its blob.

use rusqlite::{Connection, OptionalExtension, params};

use super::refs;
use super::rows::{
    PART_COLUMNS, UPLOAD_COLUMNS, VersionClock, json, opt_json, part_from_row, query_all, to_i64,
    upload_from_row,
};
use super::versions;
use crate::blob::BlobId;
use crate::error::{StoreError, StoreResult};
use crate::meta::{CompleteFn, ObjectRecord, PartRecord, UploadRecord, WriteCondition};

pub fn get(c: &Connection, upload_id: &str) -> StoreResult<Option<UploadRecord>> {
    let sql = format!("SELECT {UPLOAD_COLUMNS} FROM uploads WHERE upload_id = ?1");
    Ok(query_all(c, &sql, [upload_id], upload_from_row)?.pop())
}

pub fn create(c: &Connection, u: &UploadRecord) -> StoreResult<()> {
    if !versions::bucket_exists(c, &u.bucket)? {
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
}

pub fn put_part(c: &Connection, p: &PartRecord) -> StoreResult<()> {
    if !c
        .prepare_cached("SELECT 1 FROM uploads WHERE upload_id = ?1")?
        .exists([&p.upload_id])?
    {
        return Err(StoreError::NoSuchUpload);
    }
    let old: Option<String> = c
        .prepare_cached("SELECT blob FROM parts WHERE upload_id = ?1 AND part_number = ?2")?
        .query_row(params![p.upload_id, p.part_number], |r| r.get(0))
        .optional()?;
    c.prepare_cached(&format!(
        "INSERT OR REPLACE INTO parts ({PART_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))?
    .execute(params![
        p.upload_id,
        p.part_number,
        to_i64(p.size),
        p.etag,
        p.last_modified_ms,
        p.blob.as_str(),
        opt_json(&p.checksum)?,
    ])?;
    refs::add(c, [p.blob.clone()])?;
    if let Some(old) = old.as_deref().and_then(BlobId::parse) {
        refs::remove(c, [old], crate::now_ms())?;
    }
    Ok(())
}

pub fn parts(c: &Connection, upload_id: &str) -> StoreResult<Vec<PartRecord>> {
    let sql = format!("SELECT {PART_COLUMNS} FROM parts WHERE upload_id = ?1 ORDER BY part_number");
    query_all(c, &sql, [upload_id], part_from_row)
}

/// Deletes an upload and its parts, releasing the parts' blobs.
pub fn delete(c: &Connection, upload_id: &str) -> StoreResult<()> {
    let parts = parts(c, upload_id)?;
    c.prepare_cached("DELETE FROM parts WHERE upload_id = ?1")?
        .execute([upload_id])?;
    c.prepare_cached("DELETE FROM uploads WHERE upload_id = ?1")?
        .execute([upload_id])?;
    refs::remove(c, parts.into_iter().map(|p| p.blob), crate::now_ms())
}

/// Turns the upload into the key's current version: the version takes references to the parts
/// it uses (read in this same transaction, so they exist), then every part lets go of its own.
pub fn complete(
    c: &Connection,
    clock: &VersionClock,
    upload_id: &str,
    build: CompleteFn,
    cond: &WriteCondition,
) -> StoreResult<ObjectRecord> {
    let upload = get(c, upload_id)?.ok_or(StoreError::NoSuchUpload)?;
    let parts = parts(c, upload_id)?;
    let mut object = build(&upload, &parts)?;
    object.upload_id = Some(upload_id.to_owned());
    let committed = versions::put(c, clock, object, cond)?;
    delete(c, upload_id)?;
    Ok(committed)
}
