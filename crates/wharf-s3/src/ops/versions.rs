//! ListObjectVersions. Versioning arrives later; until then every object is its only version,
//! `null`, which is what S3 answers for a bucket that never had versioning enabled. Clients use
//! this call to empty buckets, so it must exist and paginate exactly.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use wharf_store::{ListEntry, ListQuery};

use super::list::{enc, max_keys, url_encoding};
use crate::WharfS3;
use crate::convert::{etag, owner_of, storage_class, timestamp};
use crate::error::StoreResultExt;

pub async fn list_object_versions(
    s3: &WharfS3,
    req: S3Request<ListObjectVersionsInput>,
) -> S3Result<S3Response<ListObjectVersionsOutput>> {
    let user = s3.identities.requester(&req).await?;
    let input = req.input;
    s3.owned_bucket(&user, &input.bucket).await?;
    let url = url_encoding(input.encoding_type.as_ref())?;
    let max = max_keys(input.max_keys)?;
    let q = ListQuery {
        prefix: input.prefix.clone().unwrap_or_default(),
        delimiter: input.delimiter.clone().filter(|d| !d.is_empty()),
        // Each key has one version, so resuming after the key marker resumes after its version.
        after: input.key_marker.clone().filter(|m| !m.is_empty()),
        max_keys: max,
    };
    let page = s3.store.list_objects(&input.bucket, &q).await.s3()?;
    let owner = owner_of(&user);
    let mut versions = Vec::new();
    let mut prefixes = Vec::new();
    for e in &page.entries {
        match e {
            ListEntry::Object(o) => versions.push(ObjectVersion {
                key: Some(enc(url, &o.key)),
                version_id: Some("null".to_owned()),
                is_latest: Some(true),
                size: i64::try_from(o.size).ok(),
                e_tag: Some(etag(&o.etag)),
                last_modified: Some(timestamp(o.last_modified_ms)),
                owner: Some(owner.clone()),
                storage_class: Some(ObjectVersionStorageClass::from(storage_class(
                    o.storage_class.as_deref(),
                ))),
                checksum_algorithm: o
                    .checksum
                    .as_ref()
                    .map(|c| vec![ChecksumAlgorithm::from(c.algorithm.as_str().to_owned())]),
                checksum_type: o
                    .checksum
                    .as_ref()
                    .map(|c| ChecksumType::from(c.kind.as_str().to_owned())),
                ..Default::default()
            }),
            ListEntry::CommonPrefix(p) => prefixes.push(CommonPrefix {
                prefix: Some(enc(url, p)),
            }),
        }
    }
    let last = page
        .is_truncated
        .then(|| page.entries.last().map(|e| e.sort_key().to_owned()))
        .flatten();
    Ok(S3Response::new(ListObjectVersionsOutput {
        name: Some(input.bucket),
        prefix: Some(enc(url, &q.prefix)),
        delimiter: input.delimiter.map(|d| enc(url, &d)),
        max_keys: Some(i32::try_from(max).unwrap_or(1000)),
        is_truncated: Some(page.is_truncated),
        key_marker: Some(input.key_marker.map(|m| enc(url, &m)).unwrap_or_default()),
        version_id_marker: Some(input.version_id_marker.unwrap_or_default()),
        next_version_id_marker: last.as_ref().map(|_| "null".to_owned()),
        next_key_marker: last.map(|k| enc(url, &k)),
        versions: (!versions.is_empty()).then_some(versions),
        common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
        encoding_type: input.encoding_type,
        ..Default::default()
    }))
}
