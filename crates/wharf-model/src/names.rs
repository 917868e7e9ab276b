//! Bucket names and object keys, validated by S3's rules.

use std::fmt;

/// S3: object keys are at most 1,024 bytes of UTF-8.
pub const MAX_KEY_LEN: usize = 1024;

/// S3: bucket names are 3 to 63 characters long.
const BUCKET_LEN: std::ops::RangeInclusive<usize> = 3..=63;

/// S3's general-purpose bucket naming rules forbid these prefixes and suffixes.
const RESERVED_PREFIXES: &[&str] = &["xn--", "sthree-", "amzn-s3-demo-"];
const RESERVED_SUFFIXES: &[&str] = &["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("The specified bucket is not valid.")]
    InvalidBucketName,
    #[error("Your key is too long")]
    KeyTooLong,
    #[error("Object key must not be empty")]
    EmptyKey,
    #[error("Object key contains a character S3 does not accept")]
    InvalidKeyCharacter,
}

/// A bucket name that follows S3's rules for general-purpose buckets.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BucketName(String);

impl BucketName {
    pub fn new(name: &str) -> Result<Self, NameError> {
        if is_valid_bucket_name(name) {
            Ok(Self(name.to_owned()))
        } else {
            Err(NameError::InvalidBucketName)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_valid_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    if !BUCKET_LEN.contains(&b.len()) {
        return false;
    }
    let ok_char = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-';
    let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !b.iter().all(|&c| ok_char(c)) || !edge(b[0]) || !edge(b[b.len() - 1]) {
        return false;
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return false;
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return false;
    }
    if RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
        || RESERVED_SUFFIXES.iter().any(|s| name.ends_with(s))
    {
        return false;
    }
    true
}

/// An object key: 1 to 1,024 bytes of UTF-8 without NUL.
///
/// Keys never reach the filesystem (blob files are named by random ids), so `../` and the like
/// are ordinary keys.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey(String);

impl ObjectKey {
    pub fn new(key: &str) -> Result<Self, NameError> {
        if key.is_empty() {
            return Err(NameError::EmptyKey);
        }
        if key.len() > MAX_KEY_LEN {
            return Err(NameError::KeyTooLong);
        }
        // XML 1.0 cannot carry NUL, so a key with one could never be listed.
        if key.contains('\0') {
            return Err(NameError::InvalidKeyCharacter);
        }
        Ok(Self(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3_rules() {
        let table = [
            ("my-bucket", true),
            ("a.b.c", true),
            ("abc", true),
            ("ab", false),
            (&"a".repeat(64), false),
            ("My-Bucket", false),
            ("-bucket", false),
            ("bucket-", false),
            ("my..bucket", false),
            ("my.-bucket", false),
            ("192.168.5.4", false),
            ("xn--bucket", false),
            ("bucket-s3alias", false),
            ("under_score", false),
        ];
        for (name, ok) in table {
            assert_eq!(BucketName::new(name).is_ok(), ok, "{name}");
        }
    }

    #[test]
    fn keys_are_bounded() {
        assert!(ObjectKey::new("../../etc/passwd").is_ok());
        assert_eq!(
            ObjectKey::new(&"k".repeat(1025)),
            Err(NameError::KeyTooLong)
        );
        assert!(ObjectKey::new(&"k".repeat(1024)).is_ok());
        assert_eq!(ObjectKey::new("a\0b"), Err(NameError::InvalidKeyCharacter));
        assert_eq!(ObjectKey::new(""), Err(NameError::EmptyKey));
    }
}
