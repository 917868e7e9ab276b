//! Who owns buckets and signs requests: users (S3's owners) and their access keys.
//!
//! The shapes live here so the store can keep them without depending on `wharf-auth`, which
//! makes new identities and keys (it needs a random source) and checks signatures.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("invalid user name {0:?}: use 1 to 64 characters of letters, digits and +=,.@_-")]
    InvalidUserName(String),
    #[error("invalid access key: use 3 to 128 characters of letters and digits")]
    InvalidAccessKey,
    #[error("invalid secret key: use 8 to 128 printable characters")]
    InvalidSecretKey,
}

/// The user that is the account's root user (`arn:aws:iam::ACCOUNT:root`); made at first start.
pub const ROOT_USER: &str = "root";

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

impl AccessKey {
    /// A key pair given by the operator (config, env or command line), validated.
    pub fn given(
        user_name: &str,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> Result<Self, IdentityError> {
        if !(3..=128).contains(&access_key_id.len())
            || !access_key_id.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(IdentityError::InvalidAccessKey);
        }
        if !(8..=128).contains(&secret_access_key.len())
            || !secret_access_key.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(IdentityError::InvalidSecretKey);
        }
        Ok(Self {
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret_access_key.to_owned(),
            user_name: user_name.to_owned(),
        })
    }
}

/// IAM's rule for user names.
pub fn validate_user_name(name: &str) -> Result<(), IdentityError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(IdentityError::InvalidUserName(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_keys_are_validated() {
        assert!(AccessKey::given("root", "AK", "secretsecret").is_err());
        assert!(AccessKey::given("root", "AKIAEXAMPLE", "short").is_err());
        assert!(AccessKey::given("root", "AKIAEXAMPLE", "wJalrXUtnFEMI/K7MDENG").is_ok());
    }

    #[test]
    fn user_names_follow_iam() {
        assert!(validate_user_name("alice.smith@example").is_ok());
        assert!(validate_user_name("bad name").is_err());
        assert!(validate_user_name("").is_err());
        assert!(validate_user_name(&"a".repeat(65)).is_err());
    }

    #[test]
    fn debug_hides_the_secret() {
        let k = AccessKey::given("root", "AKIAEXAMPLE", "wJalrXUtnFEMI/K7MDENG").unwrap();
        assert!(!format!("{k:?}").contains("wJalr"));
    }
}
