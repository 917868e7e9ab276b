//! Listings with S3's prefix/delimiter semantics over the metadata store's ordered key index.
//!
//! The store yields keys in UTF-8 binary order from a bound. A key that contains the delimiter
//! after the prefix folds into a common prefix, and the scan then jumps past every key under it
//! (to the prefix's successor), so a prefix with a million keys costs one step. Pagination
//! resumes strictly after the last entry returned, which makes it exact under concurrent
//! writes: a key that exists for the whole listing appears exactly once.

use std::future::Future;

use wharf_model::VersionId;

use crate::Store;
use crate::error::StoreResult;
use crate::meta::{KeyBound, ObjectSummary, UploadRecord, VersionBound};

/// How many rows one step of a listing reads from the store.
const SCAN_BATCH: usize = 1000;

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub prefix: String,
    pub delimiter: Option<String>,
    /// Resume after this key or common prefix (marker, start-after, continuation token).
    pub after: Option<String>,
    pub max_keys: usize,
}

/// A listing of versions (ListObjectVersions): `KeyMarker` and `VersionIdMarker`.
#[derive(Debug, Clone)]
pub struct VersionListQuery {
    pub prefix: String,
    pub delimiter: Option<String>,
    /// Resume after this key: after all its versions, or after `version_marker` among them.
    pub key_marker: Option<String>,
    /// The S3 version id to resume after (`null` for the null version).
    pub version_marker: Option<String>,
    pub max_keys: usize,
}

/// A page of versions: [`ListEntry::Object`] entries are versions, newest first per key.
pub type VersionListPage = ListPage;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListEntry {
    Object(ObjectSummary),
    CommonPrefix(String),
}

impl ListEntry {
    /// The key or prefix this entry sorts by (what `NextMarker` names).
    pub fn sort_key(&self) -> &str {
        match self {
            Self::Object(o) => &o.key,
            Self::CommonPrefix(p) => p,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ListPage {
    pub entries: Vec<ListEntry>,
    pub is_truncated: bool,
}

#[derive(Debug, Clone, Default)]
pub struct UploadListPage {
    pub uploads: Vec<UploadRecord>,
    pub common_prefixes: Vec<String>,
    pub is_truncated: bool,
}

/// The smallest byte string greater than every string that starts with `prefix`.
pub(crate) fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut s = prefix.to_vec();
    while let Some(last) = s.pop() {
        if last < 0xff {
            s.push(last + 1);
            return Some(s);
        }
    }
    None
}

/// The common prefix `key` folds into, if any.
fn common_prefix<'k>(key: &'k str, prefix: &str, delimiter: Option<&str>) -> Option<&'k str> {
    let d = delimiter.filter(|d| !d.is_empty())?;
    let rest = key.get(prefix.len()..)?;
    rest.find(d).map(|i| &key[..prefix.len() + i + d.len()])
}

impl Store {
    pub async fn list_objects(&self, bucket: &str, q: &ListQuery) -> StoreResult<ListPage> {
        let first = match &q.after {
            Some(a) => KeyBound::After(a.as_bytes().to_vec()),
            None => KeyBound::Unbounded,
        };
        fold(
            &q.prefix,
            q.delimiter.as_deref(),
            q.after.as_deref(),
            q.max_keys,
            first,
            |from| self.meta.list_objects(bucket, &q.prefix, from, SCAN_BATCH),
            |o| KeyBound::After(o.key.as_bytes().to_vec()),
            KeyBound::AtOrAfter,
        )
        .await
    }

    /// ListObjectVersions: every version in key order, newest first per key, folded by
    /// delimiter. A `null` version marker names the key's null version; a marker naming no
    /// version resumes after the whole key.
    pub async fn list_versions(
        &self,
        bucket: &str,
        q: &VersionListQuery,
    ) -> StoreResult<VersionListPage> {
        let first = match (&q.key_marker, &q.version_marker) {
            (None, _) => VersionBound::Keys(KeyBound::Unbounded),
            (Some(k), None) => VersionBound::Keys(KeyBound::After(k.as_bytes().to_vec())),
            (Some(k), Some(v)) => {
                let id = if v == wharf_model::NULL_VERSION {
                    self.meta
                        .get_version(bucket, k, v)
                        .await?
                        .map(|o| o.version_id)
                } else {
                    VersionId::parse(v)
                };
                match id {
                    Some(id) => VersionBound::AfterVersion(k.as_bytes().to_vec(), id),
                    None => VersionBound::Keys(KeyBound::After(k.as_bytes().to_vec())),
                }
            }
        };
        fold(
            &q.prefix,
            q.delimiter.as_deref(),
            q.key_marker.as_deref(),
            q.max_keys,
            first,
            |from| self.meta.list_versions(bucket, &q.prefix, from, SCAN_BATCH),
            |o| VersionBound::AfterVersion(o.key.as_bytes().to_vec(), o.version_id.clone()),
            |k| VersionBound::Keys(KeyBound::AtOrAfter(k)),
        )
        .await
    }

    /// ListMultipartUploads: uploads in (key, upload id) order, folded by delimiter.
    pub async fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        after: Option<(String, String)>,
        max_uploads: usize,
    ) -> StoreResult<UploadListPage> {
        let mut page = UploadListPage::default();
        let mut from = after.map(|(k, u)| (k.into_bytes(), u));
        let mut count = 0;
        'scan: loop {
            let batch = self
                .meta
                .list_uploads(bucket, prefix, from.clone(), SCAN_BATCH)
                .await?;
            let exhausted = batch.len() < SCAN_BATCH;
            for u in batch {
                if count == max_uploads {
                    page.is_truncated = true;
                    break 'scan;
                }
                count += 1;
                if let Some(cp) = common_prefix(&u.key, prefix, delimiter) {
                    let cp = cp.to_owned();
                    match successor(cp.as_bytes()) {
                        // Resume at the successor: (succ, "") sorts before any upload there.
                        Some(n) => from = Some((n, String::new())),
                        None => {
                            page.common_prefixes.push(cp);
                            break 'scan;
                        }
                    }
                    page.common_prefixes.push(cp);
                    continue 'scan;
                }
                from = Some((u.key.as_bytes().to_vec(), u.upload_id.clone()));
                page.uploads.push(u);
            }
            if exhausted {
                break;
            }
        }
        Ok(page)
    }
}

/// The listing loop shared by objects and versions: reads rows from `first` in batches, folds
/// keys that contain the delimiter after the prefix into common prefixes (jumping past all keys
/// under one), skips prefixes at or before the marker, and stops after `max_keys` entries.
/// `after` is the bound just past a row; `at_or_after` the bound at a key.
#[allow(clippy::too_many_arguments)]
async fn fold<B, F, Fut>(
    prefix: &str,
    delimiter: Option<&str>,
    marker: Option<&str>,
    max_keys: usize,
    first: B,
    fetch: F,
    after: impl Fn(&ObjectSummary) -> B,
    at_or_after: impl Fn(Vec<u8>) -> B,
) -> StoreResult<ListPage>
where
    B: Clone,
    F: Fn(B) -> Fut,
    Fut: Future<Output = StoreResult<Vec<ObjectSummary>>>,
{
    let mut page = ListPage::default();
    if max_keys == 0 {
        return Ok(page);
    }
    let floor = marker.unwrap_or_default();
    let mut from = first;
    'scan: loop {
        let batch = fetch(from.clone()).await?;
        let exhausted = batch.len() < SCAN_BATCH;
        for o in batch {
            if let Some(cp) = common_prefix(&o.key, prefix, delimiter) {
                let cp = cp.to_owned();
                let next = successor(cp.as_bytes());
                // A prefix at or before the marker was returned on an earlier page.
                let seen = marker.is_some() && cp.as_str() <= floor;
                if !seen {
                    if page.entries.len() == max_keys {
                        page.is_truncated = true;
                        break 'scan;
                    }
                    page.entries.push(ListEntry::CommonPrefix(cp));
                }
                match next {
                    Some(n) => from = at_or_after(n),
                    None => break 'scan,
                }
                continue 'scan;
            }
            if page.entries.len() == max_keys {
                page.is_truncated = true;
                break 'scan;
            }
            from = after(&o);
            page.entries.push(ListEntry::Object(o));
        }
        if exhausted {
            break;
        }
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successor_skips_everything_under_a_prefix() {
        assert_eq!(successor(b"a/"), Some(b"a0".to_vec()));
        assert_eq!(successor(&[b'a', 0xff]), Some(b"b".to_vec()));
        assert_eq!(successor(&[0xff]), None);
    }

    #[test]
    fn common_prefixes_follow_the_delimiter() {
        assert_eq!(
            common_prefix("photos/2024/a.jpg", "photos/", Some("/")),
            Some("photos/2024/")
        );
        assert_eq!(common_prefix("photos/a.jpg", "photos/", Some("/")), None);
        assert_eq!(common_prefix("a--b--c", "", Some("--")), Some("a--"));
        assert_eq!(common_prefix("abc", "", None), None);
    }
}
