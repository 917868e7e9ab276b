//! ListObjects (v1) and ListObjectsV2.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use wharf_store::{ListEntry, ListPage, ListQuery, ObjectSummary};

use crate::WharfS3;
use crate::access::{Access, BucketRole};
use crate::convert::{etag, owner_of, storage_class, timestamp, url_encode};
use crate::error::StoreResultExt;

/// S3 returns at most 1,000 keys a page whatever max-keys asks.
pub const MAX_KEYS: usize = 1000;

pub fn max_keys(v: Option<i32>) -> S3Result<usize> {
    match v {
        None => Ok(MAX_KEYS),
        Some(n) if n < 0 => Err(s3_error!(InvalidArgument, "max-keys cannot be negative")),
        Some(n) => Ok(usize::try_from(n).unwrap_or(0).min(MAX_KEYS)),
    }
}

pub fn url_encoding(e: Option<&EncodingType>) -> S3Result<bool> {
    match e.map(EncodingType::as_str) {
        None => Ok(false),
        Some("url") => Ok(true),
        Some(_) => Err(s3_error!(
            InvalidArgument,
            "Invalid Encoding Method specified in Request"
        )),
    }
}

/// Encodes a key or prefix when the client asked for `encoding-type=url`.
pub fn enc(url: bool, s: &str) -> String {
    if url { url_encode(s) } else { s.to_owned() }
}

pub fn object_entry(o: &ObjectSummary, url: bool, owner: Option<Owner>) -> Object {
    Object {
        key: Some(enc(url, &o.key)),
        size: i64::try_from(o.size).ok(),
        e_tag: Some(etag(&o.etag)),
        last_modified: Some(timestamp(o.last_modified_ms)),
        storage_class: Some(ObjectStorageClass::from(storage_class(
            o.storage_class.as_deref(),
        ))),
        owner,
        checksum_algorithm: o
            .checksum
            .as_ref()
            .map(|c| vec![ChecksumAlgorithm::from(c.algorithm.as_str().to_owned())]),
        checksum_type: o
            .checksum
            .as_ref()
            .map(|c| ChecksumType::from(c.kind.as_str().to_owned())),
        ..Default::default()
    }
}

fn split(page: &ListPage, url: bool, owner: Option<&Owner>) -> (Vec<Object>, Vec<CommonPrefix>) {
    let mut contents = Vec::new();
    let mut prefixes = Vec::new();
    for e in &page.entries {
        match e {
            ListEntry::Object(o) => contents.push(object_entry(o, url, owner.cloned())),
            ListEntry::CommonPrefix(p) => prefixes.push(CommonPrefix {
                prefix: Some(enc(url, p)),
            }),
        }
    }
    (contents, prefixes)
}

fn encode_token(last: &str) -> String {
    base64_simd::URL_SAFE_NO_PAD.encode_to_string(last.as_bytes())
}

fn decode_token(token: &str) -> S3Result<String> {
    base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            s3_error!(
                InvalidArgument,
                "The continuation token provided is incorrect"
            )
        })
}

pub async fn list_objects_v2(
    s3: &WharfS3,
    req: S3Request<ListObjectsV2Input>,
) -> S3Result<S3Response<ListObjectsV2Output>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let (user, _) = s3
        .authorize(
            &caller,
            &input.bucket,
            BucketRole::Target,
            Access::bucket("s3:ListBucket"),
        )
        .await?;
    let url = url_encoding(input.encoding_type.as_ref())?;
    let max = max_keys(input.max_keys)?;
    let after = match &input.continuation_token {
        Some(t) => Some(decode_token(t)?),
        None => input.start_after.clone().filter(|s| !s.is_empty()),
    };
    let q = ListQuery {
        prefix: input.prefix.clone().unwrap_or_default(),
        delimiter: input.delimiter.clone().filter(|d| !d.is_empty()),
        after,
        max_keys: max,
    };
    let page = s3.store.list_objects(&input.bucket, &q).await.s3()?;
    let owner = input.fetch_owner.unwrap_or(false).then(|| owner_of(&user));
    let (contents, prefixes) = split(&page, url, owner.as_ref());
    let next = page
        .is_truncated
        .then(|| page.entries.last().map(|e| encode_token(e.sort_key())))
        .flatten();
    Ok(S3Response::new(ListObjectsV2Output {
        name: Some(input.bucket),
        prefix: Some(enc(url, &q.prefix)),
        delimiter: q.delimiter.as_deref().map(|d| enc(url, d)),
        max_keys: Some(i32::try_from(max).unwrap_or(1000)),
        key_count: Some(i32::try_from(page.entries.len()).unwrap_or(0)),
        is_truncated: Some(page.is_truncated),
        continuation_token: input.continuation_token,
        next_continuation_token: next,
        start_after: input.start_after.map(|s| enc(url, &s)),
        contents: (!contents.is_empty()).then_some(contents),
        common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
        encoding_type: input.encoding_type,
        ..Default::default()
    }))
}

pub async fn list_objects(
    s3: &WharfS3,
    req: S3Request<ListObjectsInput>,
) -> S3Result<S3Response<ListObjectsOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let (user, _) = s3
        .authorize(
            &caller,
            &input.bucket,
            BucketRole::Target,
            Access::bucket("s3:ListBucket"),
        )
        .await?;
    let url = url_encoding(input.encoding_type.as_ref())?;
    let max = max_keys(input.max_keys)?;
    let q = ListQuery {
        prefix: input.prefix.clone().unwrap_or_default(),
        delimiter: input.delimiter.clone().filter(|d| !d.is_empty()),
        after: input.marker.clone().filter(|m| !m.is_empty()),
        max_keys: max,
    };
    let page = s3.store.list_objects(&input.bucket, &q).await.s3()?;
    let owner = owner_of(&user);
    let (contents, prefixes) = split(&page, url, Some(&owner));
    // S3 returns NextMarker only when a delimiter was given; clients use the last key otherwise.
    let next_marker = (page.is_truncated && q.delimiter.is_some())
        .then(|| page.entries.last().map(|e| enc(url, e.sort_key())))
        .flatten();
    Ok(S3Response::new(ListObjectsOutput {
        name: Some(input.bucket),
        prefix: Some(enc(url, &q.prefix)),
        marker: Some(input.marker.map(|m| enc(url, &m)).unwrap_or_default()),
        delimiter: q.delimiter.as_deref().map(|d| enc(url, d)),
        max_keys: Some(i32::try_from(max).unwrap_or(1000)),
        is_truncated: Some(page.is_truncated),
        next_marker,
        contents: (!contents.is_empty()).then_some(contents),
        common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
        encoding_type: input.encoding_type,
        ..Default::default()
    }))
}
