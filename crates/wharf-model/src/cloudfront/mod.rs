//! CloudFront's shapes (API version 2020-05-31): distributions, cache, origin request and
//! response headers policies, public keys and key groups.
//!
//! CloudFront wraps every list as `{"Quantity": n, "Items": [...]}`; [`Items`] is that wrapper,
//! and `check` refuses a `Quantity` that disagrees with the list, as CloudFront does.

mod distribution;
mod invalidation;
mod origin_access;
mod policy;
mod response_headers;
mod trusted_keys;
mod viewer_certificate;
mod wildcard;

pub use distribution::*;
pub use invalidation::*;
pub use origin_access::*;
pub use policy::*;
pub use response_headers::*;
pub use trusted_keys::*;
pub use viewer_certificate::*;
pub use wildcard::wildcard_matches;

use serde::{Deserialize, Deserializer, Serialize};

/// Why a CloudFront document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// Not JSON of the right shape (CloudFront's `MalformedInput`).
    #[error("malformed input: {0}")]
    Malformed(String),
    /// Well-formed but not a valid configuration (CloudFront's `InvalidArgument`).
    #[error("invalid argument: {0}")]
    Invalid(String),
}

/// CloudFront's list wrapper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Items<T> {
    pub quantity: u32,
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
}

impl<T> Default for Items<T> {
    fn default() -> Self {
        Self {
            quantity: 0,
            items: Vec::new(),
        }
    }
}

impl<T> Items<T> {
    pub fn of(items: Vec<T>) -> Self {
        Self {
            quantity: u32::try_from(items.len()).unwrap_or(u32::MAX),
            items,
        }
    }

    /// CloudFront refuses a list whose `Quantity` is not its length.
    pub fn check(&self, what: &str) -> Result<(), ModelError> {
        if usize::try_from(self.quantity).ok() == Some(self.items.len()) {
            Ok(())
        } else {
            Err(ModelError::Invalid(format!(
                "{what}: Quantity {} but {} items",
                self.quantity,
                self.items.len()
            )))
        }
    }
}

/// CloudFront's API has some numbers as strings (`ResponseCode`); accept either.
pub(crate) fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        S(String),
        N(i64),
    }
    Ok(match Either::deserialize(d)? {
        Either::S(s) => s,
        Either::N(n) => n.to_string(),
    })
}

#[cfg(test)]
mod tests;
