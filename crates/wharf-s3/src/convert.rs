//! Conversions between the store's records and s3s's DTOs: timestamps, ETags, checksums,
//! system headers and owners.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use s3s::dto::{self, ETag, Timestamp};
use s3s::{S3Result, s3_error};
use wharf_auth::User;
use wharf_store::{Checksum, ChecksumAlgorithm, ObjectAttrs};

pub fn timestamp(ms: i64) -> Timestamp {
    let t = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    Timestamp::from(t)
}

/// An HTTP date (`Last-Modified`), to the second.
pub fn http_date(ms: i64) -> String {
    httpdate::fmt_http_date(
        UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds_of_ms(ms)).unwrap_or(0)),
    )
}

pub fn ms_of(ts: &Timestamp) -> i64 {
    let t: time::OffsetDateTime = ts.clone().into();
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

pub fn seconds_of_ms(ms: i64) -> i64 {
    ms.div_euclid(1000)
}

pub fn now_system() -> SystemTime {
    SystemTime::now()
}

pub fn etag(value: &str) -> ETag {
    ETag::Strong(value.to_owned())
}

pub fn owner(user_id: &str, display_name: Option<&str>) -> dto::Owner {
    dto::Owner {
        id: Some(user_id.to_owned()),
        display_name: display_name.map(str::to_owned),
    }
}

pub fn owner_of(user: &User) -> dto::Owner {
    owner(&user.canonical_id, Some(&user.display_name))
}

/// The five checksum fields and the type, as every output shape carries them.
#[derive(Default)]
pub struct ChecksumFields {
    pub crc32: Option<String>,
    pub crc32c: Option<String>,
    pub crc64nvme: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    pub kind: Option<dto::ChecksumType>,
}

impl ChecksumFields {
    pub fn of(c: Option<&Checksum>) -> Self {
        let mut f = Self::default();
        let Some(c) = c else { return f };
        let v = Some(c.value.clone());
        match c.algorithm {
            ChecksumAlgorithm::Crc32 => f.crc32 = v,
            ChecksumAlgorithm::Crc32c => f.crc32c = v,
            ChecksumAlgorithm::Crc64Nvme => f.crc64nvme = v,
            ChecksumAlgorithm::Sha1 => f.sha1 = v,
            ChecksumAlgorithm::Sha256 => f.sha256 = v,
        }
        f.kind = Some(dto::ChecksumType::from(c.kind.as_str().to_owned()));
        f
    }
}

/// Fills the checksum fields of an output struct from a [`ChecksumFields`].
#[macro_export]
macro_rules! set_checksums {
    ($out:expr, $fields:expr) => {{
        let f = $fields;
        $out.checksum_crc32 = f.crc32;
        $out.checksum_crc32c = f.crc32c;
        $out.checksum_crc64nvme = f.crc64nvme;
        $out.checksum_sha1 = f.sha1;
        $out.checksum_sha256 = f.sha256;
    }};
}

/// The single checksum a request carries in `x-amz-checksum-*` headers, if any.
pub fn header_checksum(
    crc32: &Option<String>,
    crc32c: &Option<String>,
    crc64nvme: &Option<String>,
    sha1: &Option<String>,
    sha256: &Option<String>,
) -> S3Result<Option<(ChecksumAlgorithm, String)>> {
    let given: Vec<(ChecksumAlgorithm, String)> = [
        (ChecksumAlgorithm::Crc32, crc32),
        (ChecksumAlgorithm::Crc32c, crc32c),
        (ChecksumAlgorithm::Crc64Nvme, crc64nvme),
        (ChecksumAlgorithm::Sha1, sha1),
        (ChecksumAlgorithm::Sha256, sha256),
    ]
    .into_iter()
    .filter_map(|(a, v)| v.clone().map(|v| (a, v)))
    .collect();
    match given.len() {
        0 => Ok(None),
        1 => Ok(given.into_iter().next()),
        _ => Err(s3_error!(
            InvalidRequest,
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
        )),
    }
}

pub fn parse_algorithm(a: &dto::ChecksumAlgorithm) -> S3Result<ChecksumAlgorithm> {
    ChecksumAlgorithm::parse(a.as_str()).ok_or_else(|| {
        s3_error!(
            InvalidRequest,
            "Checksum algorithm provided is unsupported."
        )
    })
}

/// System headers and user metadata given on a PUT, COPY (REPLACE) or CreateMultipartUpload.
pub struct AttrInput {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
    pub expires: Option<Timestamp>,
    pub website_redirect_location: Option<String>,
    pub storage_class: Option<dto::StorageClass>,
    pub metadata: Option<dto::Metadata>,
}

/// Takes the system headers and metadata out of any input shape that carries them
/// (PutObject, CopyObject with REPLACE, CreateMultipartUpload).
#[macro_export]
macro_rules! attr_input {
    ($input:expr) => {
        $crate::convert::AttrInput {
            content_type: $input.content_type,
            content_encoding: $input.content_encoding,
            content_disposition: $input.content_disposition,
            content_language: $input.content_language,
            cache_control: $input.cache_control,
            expires: $input.expires,
            website_redirect_location: $input.website_redirect_location,
            storage_class: $input.storage_class,
            metadata: $input.metadata,
        }
    };
}

/// S3 limits user-defined metadata to 2 KB (names and values, as UTF-8).
const MAX_USER_METADATA: usize = 2 * 1024;

/// Storage classes S3 accepts on a general-purpose bucket; all keep their bytes alike here,
/// and GLACIER and DEEP_ARCHIVE objects are archived: read only once restored.
pub const STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
];

/// `x-amz-restore` of an archived object with a restore requested, as S3 shows it:
/// `ongoing-request="true"`, or `ongoing-request="false", expiry-date="…"` once ready.
pub fn restore_header(attrs: &ObjectAttrs, now_ms: i64) -> Option<String> {
    let r = attrs.restore?;
    if now_ms < r.ready_ms {
        return Some("ongoing-request=\"true\"".to_owned());
    }
    (now_ms < r.expiry_ms()).then(|| {
        format!(
            "ongoing-request=\"false\", expiry-date=\"{}\"",
            http_date(r.expiry_ms())
        )
    })
}

/// `Content-Encoding` as stored: `aws-chunked` describes how the request body was sent, not
/// the object, so S3 drops it (`gzip, aws-chunked` is stored as `gzip`).
fn stored_encoding(v: Option<String>) -> Option<String> {
    let v = v?;
    let kept: Vec<&str> = v
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked"))
        .collect();
    (!kept.is_empty()).then(|| kept.join(", "))
}

impl AttrInput {
    pub fn into_attrs(self) -> S3Result<ObjectAttrs> {
        let user_metadata: std::collections::BTreeMap<String, String> = self
            .metadata
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        let meta_size: usize = user_metadata.iter().map(|(k, v)| k.len() + v.len()).sum();
        if meta_size > MAX_USER_METADATA {
            return Err(s3_error!(
                MetadataTooLarge,
                "Your metadata headers exceed the maximum allowed metadata size."
            ));
        }
        let storage_class = match self.storage_class {
            Some(sc) if !STORAGE_CLASSES.contains(&sc.as_str()) => {
                return Err(s3_error!(
                    InvalidStorageClass,
                    "The storage class you specified is not valid"
                ));
            }
            Some(sc) if sc.as_str() == "STANDARD" => None,
            sc => sc.map(|s| s.as_str().to_owned()),
        };
        Ok(ObjectAttrs {
            content_type: self.content_type,
            content_encoding: stored_encoding(self.content_encoding),
            content_disposition: self.content_disposition,
            content_language: self.content_language,
            cache_control: self.cache_control,
            expires_ms: self.expires.as_ref().map(ms_of),
            website_redirect_location: self.website_redirect_location,
            storage_class,
            user_metadata,
            tags: Vec::new(),
            restore: None,
            retention: None,
            legal_hold: None,
            acl: Vec::new(),
        })
    }
}

pub fn storage_class(attrs_class: Option<&str>) -> String {
    attrs_class.unwrap_or("STANDARD").to_owned()
}

pub fn metadata_map(attrs: &ObjectAttrs) -> Option<dto::Metadata> {
    if attrs.user_metadata.is_empty() {
        None
    } else {
        Some(
            attrs
                .user_metadata
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }
}

/// Percent-encodes a key or prefix for `encoding-type=url` listings, as S3 does.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_chunked_is_not_a_stored_encoding() {
        assert_eq!(
            stored_encoding(Some("gzip, aws-chunked".into())).as_deref(),
            Some("gzip")
        );
        assert_eq!(stored_encoding(Some("aws-chunked".into())), None);
        assert_eq!(stored_encoding(Some("br".into())).as_deref(), Some("br"));
        assert_eq!(stored_encoding(None), None);
    }
}
