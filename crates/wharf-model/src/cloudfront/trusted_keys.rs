//! Public keys and key groups: what a cache behavior's `TrustedKeyGroups` names, so that only
//! signed URLs and signed cookies made with one of their private keys reach it.

use serde::{Deserialize, Serialize};

use super::ModelError;

/// `PublicKeyConfig`, as `aws cloudfront create-public-key --public-key-config file://…`
/// takes it. `EncodedKey` is a PEM `PUBLIC KEY` (RSA 2048 or ECDSA P-256).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicKeyConfig {
    pub caller_reference: String,
    pub name: String,
    pub encoded_key: String,
    #[serde(default)]
    pub comment: Option<String>,
}

impl PublicKeyConfig {
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let k: Self =
            serde_json::from_str(text).map_err(|e| ModelError::Malformed(e.to_string()))?;
        if k.name.is_empty() || k.encoded_key.trim().is_empty() {
            return Err(ModelError::Invalid(
                "a public key needs a Name and an EncodedKey".into(),
            ));
        }
        if k.comment.as_ref().is_some_and(|c| c.chars().count() > 128) {
            return Err(ModelError::Invalid(
                "a public key's Comment is at most 128 characters".into(),
            ));
        }
        Ok(k)
    }
}

/// `KeyGroupConfig`, as `aws cloudfront create-key-group --key-group-config file://…` takes
/// it: the IDs of the public keys in the group (CloudFront allows up to five).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyGroupConfig {
    pub name: String,
    pub items: Vec<String>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// CloudFront's quota of public keys in one key group.
pub const MAX_KEYS_PER_KEY_GROUP: usize = 5;

impl KeyGroupConfig {
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let g: Self =
            serde_json::from_str(text).map_err(|e| ModelError::Malformed(e.to_string()))?;
        if g.name.is_empty() {
            return Err(ModelError::Invalid("a key group needs a Name".into()));
        }
        if g.items.is_empty() || g.items.len() > MAX_KEYS_PER_KEY_GROUP {
            return Err(ModelError::Invalid(format!(
                "a key group holds 1 to {MAX_KEYS_PER_KEY_GROUP} public keys"
            )));
        }
        Ok(g)
    }
}
