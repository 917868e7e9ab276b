//! Object checksums as S3 computes, stores and returns them.
//!
//! Every body that enters the store passes through one [`BodyHasher`], which always computes the
//! MD5 (the ETag) and, at most, one of S3's additional checksum algorithms. A multipart object's
//! checksum is either COMPOSITE (a checksum of the parts' checksums, suffixed `-N`) or, for the
//! CRC family, FULL_OBJECT (the parts' CRCs combined into the CRC of the whole body).

use md5::Digest as _;
use serde::{Deserialize, Serialize};

/// S3's additional checksum algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChecksumAlgorithm {
    #[serde(rename = "CRC32")]
    Crc32,
    #[serde(rename = "CRC32C")]
    Crc32c,
    #[serde(rename = "CRC64NVME")]
    Crc64Nvme,
    #[serde(rename = "SHA1")]
    Sha1,
    #[serde(rename = "SHA256")]
    Sha256,
}

impl ChecksumAlgorithm {
    pub const ALL: [Self; 5] = [
        Self::Crc32,
        Self::Crc32c,
        Self::Crc64Nvme,
        Self::Sha1,
        Self::Sha256,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Crc64Nvme => "CRC64NVME",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
    }

    /// The header (and trailer) that carries this checksum: `x-amz-checksum-crc32`, ….
    pub fn header_name(self) -> &'static str {
        match self {
            Self::Crc32 => "x-amz-checksum-crc32",
            Self::Crc32c => "x-amz-checksum-crc32c",
            Self::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Self::Sha1 => "x-amz-checksum-sha1",
            Self::Sha256 => "x-amz-checksum-sha256",
        }
    }

    fn crc(self) -> Option<crc_fast::CrcAlgorithm> {
        match self {
            Self::Crc32 => Some(crc_fast::CrcAlgorithm::Crc32IsoHdlc),
            Self::Crc32c => Some(crc_fast::CrcAlgorithm::Crc32Iscsi),
            Self::Crc64Nvme => Some(crc_fast::CrcAlgorithm::Crc64Nvme),
            Self::Sha1 | Self::Sha256 => None,
        }
    }

    /// Width of the raw digest in bytes.
    fn width(self) -> usize {
        match self {
            Self::Crc32 | Self::Crc32c => 4,
            Self::Crc64Nvme => 8,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }

    /// The raw digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let mut h = AlgorithmHasher::new(self);
        h.update(data);
        h.finalize()
    }
}

/// S3's `ChecksumType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChecksumType {
    #[serde(rename = "FULL_OBJECT")]
    FullObject,
    #[serde(rename = "COMPOSITE")]
    Composite,
}

impl ChecksumType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FullObject => "FULL_OBJECT",
            Self::Composite => "COMPOSITE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "FULL_OBJECT" => Some(Self::FullObject),
            "COMPOSITE" => Some(Self::Composite),
            _ => None,
        }
    }
}

/// A stored checksum: the algorithm, its base64 value as S3 returns it, and its type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksum {
    pub algorithm: ChecksumAlgorithm,
    /// Base64 of the raw digest; COMPOSITE values carry S3's `-N` part-count suffix.
    pub value: String,
    pub kind: ChecksumType,
}

impl Checksum {
    pub fn full_object(algorithm: ChecksumAlgorithm, raw: &[u8]) -> Self {
        Self {
            algorithm,
            value: base64_simd::STANDARD.encode_to_string(raw),
            kind: ChecksumType::FullObject,
        }
    }

    /// The raw digest (without a `-N` suffix), if the value is well-formed.
    pub fn raw(&self) -> Option<Vec<u8>> {
        let b64 = self.value.split('-').next().unwrap_or_default();
        base64_simd::STANDARD.decode_to_vec(b64).ok()
    }
}

enum AlgorithmHasher {
    Crc(crc_fast::Digest, usize),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl AlgorithmHasher {
    fn new(algorithm: ChecksumAlgorithm) -> Self {
        match (algorithm, algorithm.crc()) {
            (_, Some(crc)) => Self::Crc(crc_fast::Digest::new(crc), algorithm.width()),
            (ChecksumAlgorithm::Sha1, None) => Self::Sha1(sha1::Sha1::new()),
            _ => Self::Sha256(sha2::Sha256::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Self::Crc(d, _) => d.update(data),
            Self::Sha1(h) => h.update(data),
            Self::Sha256(h) => h.update(data),
        }
    }

    fn finalize(self) -> Vec<u8> {
        match self {
            Self::Crc(d, width) => {
                let v = d.finalize().to_be_bytes();
                v[8 - width..].to_vec()
            }
            Self::Sha1(h) => h.finalize().to_vec(),
            Self::Sha256(h) => h.finalize().to_vec(),
        }
    }
}

/// Hashes a body as it streams: always MD5, plus at most one additional checksum.
pub struct BodyHasher {
    md5: md5::Md5,
    extra: Option<(ChecksumAlgorithm, AlgorithmHasher)>,
}

/// What a [`BodyHasher`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyDigests {
    pub md5: [u8; 16],
    pub checksum: Option<Checksum>,
}

impl BodyHasher {
    pub fn new(algorithm: Option<ChecksumAlgorithm>) -> Self {
        Self {
            md5: md5::Md5::new(),
            extra: algorithm.map(|a| (a, AlgorithmHasher::new(a))),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        self.md5.update(data);
        if let Some((_, h)) = &mut self.extra {
            h.update(data);
        }
    }

    pub fn finalize(self) -> BodyDigests {
        BodyDigests {
            md5: self.md5.finalize().into(),
            checksum: self
                .extra
                .map(|(a, h)| Checksum::full_object(a, &h.finalize())),
        }
    }
}

/// Combines part checksums into the multipart object's checksum, as S3 does on completion.
///
/// `parts` are the parts' raw digests with their sizes. Returns `None` when the combination is
/// not defined (FULL_OBJECT over SHA).
pub fn combine_parts(
    algorithm: ChecksumAlgorithm,
    kind: ChecksumType,
    parts: &[(Vec<u8>, u64)],
) -> Option<Checksum> {
    match kind {
        ChecksumType::Composite => {
            let mut h = AlgorithmHasher::new(algorithm);
            for (raw, _) in parts {
                h.update(raw);
            }
            let raw = h.finalize();
            Some(Checksum {
                algorithm,
                value: format!(
                    "{}-{}",
                    base64_simd::STANDARD.encode_to_string(&raw),
                    parts.len()
                ),
                kind,
            })
        }
        ChecksumType::FullObject => {
            let crc = algorithm.crc()?;
            let width = algorithm.width();
            let mut acc: Option<u64> = None;
            for (raw, len) in parts {
                let mut buf = [0u8; 8];
                buf[8 - width..].copy_from_slice(raw.get(..width)?);
                let v = u64::from_be_bytes(buf);
                acc = Some(match acc {
                    None => v,
                    Some(a) => crc_fast::checksum_combine(crc, a, v, *len),
                });
            }
            let v = acc
                .unwrap_or_else(|| crc_fast::checksum(crc, &[]))
                .to_be_bytes();
            Some(Checksum::full_object(algorithm, &v[8 - width..]))
        }
    }
}

/// S3's ETag of a single-part object: hex MD5.
pub fn etag_of_md5(md5: &[u8; 16]) -> String {
    hex::encode(md5)
}

/// S3's ETag of a multipart object: hex MD5 of the concatenated binary part MD5s, then `-N`.
pub fn multipart_etag(part_etags: &[String]) -> Option<String> {
    let mut h = md5::Md5::new();
    for e in part_etags {
        h.update(hex::decode(e).ok()?);
    }
    Some(format!(
        "{}-{}",
        hex::encode(h.finalize()),
        part_etags.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(alg: ChecksumAlgorithm, data: &[u8]) -> String {
        base64_simd::STANDARD.encode_to_string(alg.digest(data))
    }

    #[test]
    fn known_vectors() {
        // Values as the AWS SDKs compute them for "hello world".
        let d = b"hello world";
        assert_eq!(b64(ChecksumAlgorithm::Crc32, d), "DUoRhQ==");
        assert_eq!(b64(ChecksumAlgorithm::Crc32c, d), "yZRlqg==");
        assert_eq!(
            b64(ChecksumAlgorithm::Sha1, d),
            "Kq5sNclPz7QV2+lfQIuc6R7oRu0="
        );
        assert_eq!(
            b64(ChecksumAlgorithm::Sha256, d),
            "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="
        );
        assert_eq!(b64(ChecksumAlgorithm::Crc64Nvme, d), "jSnVw/bqjr4=");
        let mut h = BodyHasher::new(None);
        h.update(d);
        assert_eq!(
            etag_of_md5(&h.finalize().md5),
            "5eb63bbbe01eeed093cb22bb8f5acdc3"
        );
    }

    #[test]
    fn full_object_crc_combines_parts() {
        let (a, b) = (b"hello ".as_slice(), b"world".as_slice());
        for alg in [
            ChecksumAlgorithm::Crc32,
            ChecksumAlgorithm::Crc32c,
            ChecksumAlgorithm::Crc64Nvme,
        ] {
            let parts = vec![
                (alg.digest(a), a.len() as u64),
                (alg.digest(b), b.len() as u64),
            ];
            let got = combine_parts(alg, ChecksumType::FullObject, &parts).unwrap();
            assert_eq!(got.value, b64(alg, b"hello world"), "{alg:?}");
        }
        assert!(combine_parts(ChecksumAlgorithm::Sha256, ChecksumType::FullObject, &[]).is_none());
    }

    #[test]
    fn composite_has_part_count() {
        let parts = vec![(ChecksumAlgorithm::Sha256.digest(b"x"), 1)];
        let c = combine_parts(ChecksumAlgorithm::Sha256, ChecksumType::Composite, &parts).unwrap();
        assert!(c.value.ends_with("-1"));
        assert_eq!(c.raw().unwrap().len(), 32);
    }

    #[test]
    fn multipart_etag_matches_s3() {
        let e1 = hex::encode(md5::Md5::digest(b"a"));
        let e2 = hex::encode(md5::Md5::digest(b"b"));
        let mut h = md5::Md5::new();
        h.update(md5::Md5::digest(b"a"));
        h.update(md5::Md5::digest(b"b"));
        assert_eq!(
            multipart_etag(&[e1, e2]).unwrap(),
            format!("{}-2", hex::encode(h.finalize()))
        );
    }
}
