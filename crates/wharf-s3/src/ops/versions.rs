//! ListObjectVersions. Every version and delete marker in key order, newest first per key, with
//! `KeyMarker` and `VersionIdMarker` pagination. Without versioning each key has one version,
//! `null`; clients use this call to empty buckets even so, so it must exist and paginate exactly.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use wharf_store::{ListEntry, VersionListQuery};

use super::list::{enc, max_keys, url_encoding};
use crate::WharfS3;
use crate::access::{Access, BucketRole};
use crate::convert::{etag, owner_of, storage_class, timestamp};
use crate::endpoint::VersionOrder;
use crate::error::StoreResultExt;

pub async fn list_object_versions(
    s3: &WharfS3,
    req: S3Request<ListObjectVersionsInput>,
) -> S3Result<S3Response<ListObjectVersionsOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let (user, _) = s3
        .authorize(
            &caller,
            &input.bucket,
            BucketRole::Target,
            Access::bucket("s3:ListBucketVersions"),
        )
        .await?;
    let url = url_encoding(input.encoding_type.as_ref())?;
    let max = max_keys(input.max_keys)?;
    let key_marker = input.key_marker.clone().filter(|m| !m.is_empty());
    let version_marker = input.version_id_marker.clone().filter(|m| !m.is_empty());
    if version_marker.is_some() && key_marker.is_none() {
        return Err(s3_error!(
            InvalidArgument,
            "A version-id marker cannot be specified without a key marker."
        ));
    }
    if let Some(v) = &version_marker
        && v != wharf_model::NULL_VERSION
        && wharf_model::VersionId::parse(v).is_none()
    {
        return Err(s3_error!(InvalidArgument, "Invalid version id specified"));
    }
    let q = VersionListQuery {
        prefix: input.prefix.clone().unwrap_or_default(),
        delimiter: input.delimiter.clone().filter(|d| !d.is_empty()),
        key_marker,
        version_marker,
        max_keys: max,
    };
    let page = s3.store.list_versions(&input.bucket, &q).await.s3()?;
    let owner = owner_of(&user);
    let mut versions = Vec::new();
    let mut markers = Vec::new();
    let mut prefixes = Vec::new();
    for e in &page.entries {
        match e {
            ListEntry::Object(o) if o.delete_marker => markers.push(DeleteMarkerEntry {
                key: Some(enc(url, &o.key)),
                version_id: Some(o.s3_version_id().to_owned()),
                is_latest: Some(o.is_latest),
                last_modified: Some(timestamp(o.last_modified_ms)),
                owner: Some(owner.clone()),
            }),
            ListEntry::Object(o) => versions.push(ObjectVersion {
                key: Some(enc(url, &o.key)),
                version_id: Some(o.s3_version_id().to_owned()),
                is_latest: Some(o.is_latest),
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
    // S3 interleaves versions and markers in listing order; s3s writes the two lists apart, so
    // the endpoint puts the elements back in this order.
    let order = VersionOrder(
        page.entries
            .iter()
            .filter_map(|e| match e {
                ListEntry::Object(o) => Some(o.delete_marker),
                ListEntry::CommonPrefix(_) => None,
            })
            .collect(),
    );
    let last = page.entries.last().filter(|_| page.is_truncated);
    let next_key_marker = last.map(|e| enc(url, e.sort_key()));
    let next_version_id_marker = match last {
        Some(ListEntry::Object(o)) => Some(o.s3_version_id().to_owned()),
        _ => None,
    };
    let mut resp = S3Response::new(ListObjectVersionsOutput {
        name: Some(input.bucket),
        prefix: Some(enc(url, &q.prefix)),
        delimiter: q.delimiter.as_deref().map(|d| enc(url, d)),
        max_keys: Some(i32::try_from(max).unwrap_or(1000)),
        is_truncated: Some(page.is_truncated),
        key_marker: Some(input.key_marker.map(|m| enc(url, &m)).unwrap_or_default()),
        version_id_marker: Some(input.version_id_marker.unwrap_or_default()),
        next_version_id_marker,
        next_key_marker,
        versions: (!versions.is_empty()).then_some(versions),
        delete_markers: (!markers.is_empty()).then_some(markers),
        common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
        encoding_type: input.encoding_type,
        ..Default::default()
    });
    resp.extensions.insert(order);
    Ok(resp)
}
