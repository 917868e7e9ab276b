//! Credentials and identities.
//!
//! A [`User`] is what S3 calls an owner: it has a canonical ID (64 hex characters, as S3's) and a
//! display name, and one or more access keys. This crate makes new identities and keys; storing
//! them is the store's job, and verifying request signatures is s3s's (wharf-s3 feeds it the
//! secret for an access key). [`cloudfront_signature`] verifies CloudFront's signed URLs and
//! cookies. The IAM policy language arrives here later.

pub mod cloudfront_signature;

use serde::{Deserialize, Serialize};

/// Length of an access key ID, as AWS issues them (`AKIA` + 16 characters).
const ACCESS_KEY_LEN: usize = 20;
/// Length of a secret access key, as AWS issues them.
const SECRET_KEY_LEN: usize = 40;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the system random source failed: {0}")]
    Random(String),
    #[error("invalid user name {0:?}: use 1 to 64 characters of letters, digits and +=,.@_-")]
    InvalidUserName(String),
    #[error("invalid access key: use 3 to 128 characters of letters and digits")]
    InvalidAccessKey,
    #[error("invalid secret key: use 8 to 128 printable characters")]
    InvalidSecretKey,
}

/// An identity that owns buckets and signs requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    /// S3's `Owner.ID`: 64 lowercase hex characters.
    pub canonical_id: String,
    /// S3's `Owner.DisplayName`.
    pub display_name: String,
}

/// An access key pair belonging to a user.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub user_name: String,
}

impl std::fmt::Debug for AccessKey {
    // Never print secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("access_key_id", &self.access_key_id)
            .field("user_name", &self.user_name)
            .finish_non_exhaustive()
    }
}

impl User {
    /// A new user with a fresh random canonical ID.
    pub fn new(name: &str) -> Result<Self, AuthError> {
        validate_user_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            canonical_id: hex::encode(random_bytes::<32>()?),
            display_name: name.to_owned(),
        })
    }
}

impl AccessKey {
    /// A fresh random key pair for `user_name`.
    pub fn generate(user_name: &str) -> Result<Self, AuthError> {
        const KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        const SECRET_ALPHABET: &[u8] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut access_key_id = String::from("AKIA");
        for b in random_bytes::<{ ACCESS_KEY_LEN - 4 }>()? {
            access_key_id.push(KEY_ALPHABET[usize::from(b) % KEY_ALPHABET.len()] as char);
        }
        let secret_access_key = random_bytes::<SECRET_KEY_LEN>()?
            .iter()
            .map(|b| SECRET_ALPHABET[usize::from(*b) % SECRET_ALPHABET.len()] as char)
            .collect();
        Ok(Self {
            access_key_id,
            secret_access_key,
            user_name: user_name.to_owned(),
        })
    }

    /// A key pair given by the operator (config, env or command line), validated.
    pub fn given(
        user_name: &str,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> Result<Self, AuthError> {
        if !(3..=128).contains(&access_key_id.len())
            || !access_key_id.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(AuthError::InvalidAccessKey);
        }
        if !(8..=128).contains(&secret_access_key.len())
            || !secret_access_key.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(AuthError::InvalidSecretKey);
        }
        Ok(Self {
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret_access_key.to_owned(),
            user_name: user_name.to_owned(),
        })
    }
}

/// IAM's rule for user names.
pub fn validate_user_name(name: &str) -> Result<(), AuthError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(AuthError::InvalidUserName(name.to_owned()))
    }
}

/// Compares two secrets in constant time.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// `N` bytes from the operating system's random source.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_aws_shape() {
        let k = AccessKey::generate("alice").unwrap();
        assert_eq!(k.access_key_id.len(), ACCESS_KEY_LEN);
        assert!(k.access_key_id.starts_with("AKIA"));
        assert_eq!(k.secret_access_key.len(), SECRET_KEY_LEN);
        assert_ne!(
            k.secret_access_key,
            AccessKey::generate("alice").unwrap().secret_access_key
        );
        assert!(!format!("{k:?}").contains(&k.secret_access_key));
    }

    #[test]
    fn users_get_distinct_canonical_ids() {
        let a = User::new("alice").unwrap();
        let b = User::new("alice").unwrap();
        assert_eq!(a.canonical_id.len(), 64);
        assert_ne!(a.canonical_id, b.canonical_id);
        assert!(User::new("bad name").is_err());
    }

    #[test]
    fn given_keys_are_validated() {
        assert!(AccessKey::given("root", "AK", "secretsecret").is_err());
        assert!(AccessKey::given("root", "AKIAEXAMPLE", "short").is_err());
        assert!(AccessKey::given("root", "AKIAEXAMPLE", "wJalrXUtnFEMI/K7MDENG").is_ok());
    }
}
pub mod sigv4;
