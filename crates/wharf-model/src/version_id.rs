//! Object version ids.
//!
//! Every row the store keeps for an object gets a unique version id when it is committed. S3
//! shows it as `x-amz-version-id`, except for the *null version* (a row written while the
//! bucket's versioning was off or suspended), which S3 names `null`; the store still keeps a
//! unique id for it, so that concurrency checks never confuse two null versions written one
//! after the other.
//!
//! Ids are 32 lowercase hex characters, URL-safe and opaque: the first 16 encode the commit
//! sequence inverted, so ids sort newest first (S3 lists versions newest first), and the last 16
//! are random, so ids are unique across stores too.

use std::fmt;

/// The version S3 calls `null`.
pub const NULL_VERSION: &str = "null";

/// Length of a version id.
const LEN: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VersionId(String);

impl VersionId {
    /// The id of the version committed `seq`-th (larger is newer), with a random `salt`.
    pub fn from_sequence(seq: u64, salt: u64) -> Self {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(LEN);
        for word in [u64::MAX - seq, salt] {
            for shift in (0..16).rev() {
                s.push(char::from(DIGITS[(word >> (shift * 4)) as usize & 0xf]));
            }
        }
        Self(s)
    }

    /// Accepts only what [`VersionId::from_sequence`] makes (never `null`).
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == LEN
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| Self(s.to_owned()))
    }

    /// The commit sequence this id was made from.
    pub fn sequence(&self) -> u64 {
        u64::MAX - u64::from_str_radix(&self.0[..16], 16).unwrap_or(u64::MAX)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_versions_sort_first() {
        let old = VersionId::from_sequence(1_000, 7);
        let new = VersionId::from_sequence(1_001, 3);
        assert!(new < old);
        assert_eq!(new.sequence(), 1_001);
        assert_eq!(VersionId::parse(new.as_str()), Some(new));
    }

    #[test]
    fn ids_are_the_inverted_sequence_then_the_salt_in_hex() {
        let id = VersionId::from_sequence(0x1234, 0xfedc_ba98_7654_3210);
        assert_eq!(id.as_str(), "ffffffffffffedcbfedcba9876543210");
        assert_eq!(id.sequence(), 0x1234);
    }

    #[test]
    fn only_our_shape_parses() {
        for bad in [
            "null",
            "",
            "ABCDEF0123456789abcdef0123456789",
            "../../etc/passwd",
            "0123",
        ] {
            assert_eq!(VersionId::parse(bad), None, "{bad}");
        }
        assert!(VersionId::parse(&"0".repeat(32)).is_some());
    }
}
