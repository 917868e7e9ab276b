//! Rows to records and back: column lists, JSON columns, integer conversions, and the clock that
//! numbers versions.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use rusqlite::{Connection, Row};
use wharf_model::VersionId;

use crate::blob::BlobId;
use crate::checksum::{ChecksumAlgorithm, ChecksumType};
use crate::error::{StoreError, StoreResult};
use crate::meta::{
    BlobRef, BodyLayout, ObjectAttrs, ObjectRecord, ObjectSummary, PartRecord, UploadRecord,
};

/// The columns [`object_from_row`] reads, in its order (a macro, so statements that use it are
/// string constants: no formatting on the per-request paths).
macro_rules! object_columns {
    () => {
        "bucket, key, version_id, null_version, size, etag, last_modified_ms, owner, attrs, \
         checksum, inline_body, blobs, parts, upload_id"
    };
}
pub(crate) use object_columns;
/// Read from `versions v` joined to `keys k`: the key's row says which version is current; a
/// key without one (its bucket never versioned) has one version, which is.
pub const SUMMARY_COLUMNS: &str = "v.key, v.version_id, v.null_version, \
     (k.current IS NULL OR v.version_id = k.current), \
     v.size, v.etag, v.last_modified_ms, v.owner, v.attrs, v.checksum, v.delete_marker";
pub const UPLOAD_COLUMNS: &str =
    "upload_id, bucket, key, initiated_ms, owner, attrs, checksum_algorithm, checksum_type";
pub const PART_COLUMNS: &str =
    "upload_id, part_number, size, etag, last_modified_ms, blob, checksum";

/// Numbers versions in commit order: each id is later than the one before, and roughly the
/// commit time in microseconds, so ids keep sorting newest first across restarts. (The writer
/// also makes each new version of a key newer than the key's current one, whatever the clock
/// says.)
#[derive(Debug)]
pub struct VersionClock {
    last: AtomicU64,
    /// Random per process, mixed into every id's salt (no system call per id).
    seed: u64,
}

impl Default for VersionClock {
    fn default() -> Self {
        let mut b = [0u8; 8];
        // The salt only makes ids unique across stores; a failed random source still leaves
        // them unique within this one.
        let _ = getrandom::fill(&mut b);
        Self {
            last: AtomicU64::new(0),
            seed: u64::from_le_bytes(b),
        }
    }
}

/// SplitMix64's finaliser: spreads a counter into a random-looking word.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl VersionClock {
    /// The next version id, later than `at_least`.
    pub fn next_id(&self, at_least: u64) -> VersionId {
        let now = crate::now_ms().max(0).unsigned_abs() * 1000;
        let mut seq = 0;
        let _ = self
            .last
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |prev| {
                seq = prev
                    .saturating_add(1)
                    .max(now)
                    .max(at_least.saturating_add(1));
                Some(seq)
            });
        VersionId::from_sequence(seq, mix(self.seed ^ seq))
    }
}

pub fn json<T: serde::Serialize>(v: &T) -> StoreResult<String> {
    Ok(serde_json::to_string(v)?)
}

pub fn opt_json<T: serde::Serialize>(v: &Option<T>) -> StoreResult<Option<String>> {
    v.as_ref().map(json).transpose()
}

pub fn parse_json<T: serde::de::DeserializeOwned>(s: Option<String>) -> StoreResult<Option<T>> {
    s.map(|s| serde_json::from_str(&s))
        .transpose()
        .map_err(Into::into)
}

pub fn key_string(bytes: Vec<u8>) -> StoreResult<String> {
    String::from_utf8(bytes).map_err(|_| StoreError::Corrupt("object key is not UTF-8".into()))
}

pub fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

pub fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub fn version_id(s: String) -> StoreResult<VersionId> {
    VersionId::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("bad version id {s:?}")))
}

pub fn object_from_row(r: &Row<'_>) -> StoreResult<ObjectRecord> {
    let inline: Option<Vec<u8>> = r.get(10)?;
    let blobs: Option<Vec<BlobRef>> = parse_json(r.get(11)?)?;
    let body = match (inline, blobs) {
        (Some(b), _) => BodyLayout::Inline(Bytes::from(b)),
        (None, Some(b)) => BodyLayout::Blobs(b),
        (None, None) => BodyLayout::Inline(Bytes::new()),
    };
    Ok(ObjectRecord {
        bucket: r.get(0)?,
        key: key_string(r.get(1)?)?,
        version_id: version_id(r.get(2)?)?,
        null_version: r.get(3)?,
        size: to_u64(r.get(4)?),
        etag: r.get(5)?,
        last_modified_ms: r.get(6)?,
        owner: r.get(7)?,
        attrs: parse_json(r.get(8)?)?.unwrap_or_default(),
        checksum: parse_json(r.get(9)?)?,
        body,
        parts: parse_json(r.get(12)?)?.unwrap_or_default(),
        upload_id: r.get(13)?,
    })
}

pub fn summary_from_row(r: &Row<'_>) -> StoreResult<ObjectSummary> {
    let attrs: ObjectAttrs = parse_json(r.get(8)?)?.unwrap_or_default();
    Ok(ObjectSummary {
        key: key_string(r.get(0)?)?,
        version_id: version_id(r.get(1)?)?,
        null_version: r.get(2)?,
        is_latest: r.get(3)?,
        size: to_u64(r.get(4)?),
        etag: r.get(5)?,
        last_modified_ms: r.get(6)?,
        owner: r.get(7)?,
        storage_class: attrs.storage_class,
        checksum: parse_json(r.get(9)?)?,
        delete_marker: r.get(10)?,
    })
}

pub fn upload_from_row(r: &Row<'_>) -> StoreResult<UploadRecord> {
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

pub fn part_from_row(r: &Row<'_>) -> StoreResult<PartRecord> {
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

pub fn query_all<T>(
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
