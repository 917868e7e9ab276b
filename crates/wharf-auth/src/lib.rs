//! Credentials and identities.
//!
//! A [`User`] is what S3 calls an owner: it has a canonical ID (64 hex characters, as S3's) and a
//! display name, and one or more access keys. The shapes live in `wharf-model`; this crate makes
//! new identities and keys from the system's random source. Storing them is the store's job,
//! and verifying request signatures is s3s's (wharf-s3 feeds it the secret for an access key).
//! [`cloudfront_signature`] verifies CloudFront's signed URLs and cookies; [`policy`] is the IAM
//! policy language (parse and evaluate).

pub mod cloudfront_signature;
pub mod policy;
pub mod sigv4;
pub mod sigv4a;
pub mod totp;

pub use wharf_model::{AccessKey, IdentityError, User, validate_user_name};

/// Length of an access key ID, as AWS issues them (`AKIA` + 16 characters).
const ACCESS_KEY_LEN: usize = 20;
/// Length of a secret access key, as AWS issues them.
const SECRET_KEY_LEN: usize = 40;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the system random source failed: {0}")]
    Random(String),
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

/// A new user with a fresh random canonical ID.
pub fn new_user(name: &str) -> Result<User, AuthError> {
    validate_user_name(name)?;
    Ok(User {
        name: name.to_owned(),
        canonical_id: hex::encode(random_bytes::<32>()?),
        display_name: name.to_owned(),
    })
}

/// A fresh random key pair for `user_name`, shaped as AWS issues them.
pub fn generate_access_key(user_name: &str) -> Result<AccessKey, AuthError> {
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
    Ok(AccessKey {
        access_key_id,
        secret_access_key,
        user_name: user_name.to_owned(),
    })
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
        let k = generate_access_key("alice").unwrap();
        assert_eq!(k.access_key_id.len(), ACCESS_KEY_LEN);
        assert!(k.access_key_id.starts_with("AKIA"));
        assert_eq!(k.secret_access_key.len(), SECRET_KEY_LEN);
        assert_ne!(
            k.secret_access_key,
            generate_access_key("alice").unwrap().secret_access_key
        );
        assert!(!format!("{k:?}").contains(&k.secret_access_key));
    }

    #[test]
    fn users_get_distinct_canonical_ids() {
        let a = new_user("alice").unwrap();
        let b = new_user("alice").unwrap();
        assert_eq!(a.canonical_id.len(), 64);
        assert_ne!(a.canonical_id, b.canonical_id);
        assert!(new_user("bad name").is_err());
    }
}
