//! Block Public Access: four flags on a bucket (`PutPublicAccessBlock`, on for every new bucket
//! as S3 does since 2023) and on the account (`wharf public-access-block`), the two ORed:
//!
//! - `BlockPublicAcls`: a request that would grant the public access with an ACL (a
//!   `public-read`, `public-read-write` or `authenticated-read` canned ACL, or a grant to the
//!   AllUsers or AuthenticatedUsers groups) is refused with `AccessDenied`;
//! - `IgnorePublicAcls`: public ACL grants give nothing (ACLs grant nothing here yet);
//! - `BlockPublicPolicy`: `PutBucketPolicy` with a public policy is refused with `AccessDenied`;
//! - `RestrictPublicBuckets`: while the bucket's policy is public, its public statements grant
//!   nothing to callers outside the account (anonymous ones, Origin Access Identities); users
//!   of the account and AWS service principals (CloudFront with OAC) keep their access.

use serde::{Deserialize, Serialize};

/// The `bucket_configs` kind of a bucket's configuration.
pub const BUCKET_PUBLIC_ACCESS_BLOCK: &str = "public-access-block";
/// The store setting holding the account's configuration.
pub const ACCOUNT_PUBLIC_ACCESS_BLOCK: &str = "public_access_block";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicAccessBlock {
    #[serde(default)]
    pub block_public_acls: bool,
    #[serde(default)]
    pub ignore_public_acls: bool,
    #[serde(default)]
    pub block_public_policy: bool,
    #[serde(default)]
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// Every flag on: a new bucket's configuration.
    pub const ALL: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };

    /// What applies when both the account and the bucket say something: either one's flag.
    pub fn or(self, other: PublicAccessBlock) -> PublicAccessBlock {
        PublicAccessBlock {
            block_public_acls: self.block_public_acls || other.block_public_acls,
            ignore_public_acls: self.ignore_public_acls || other.ignore_public_acls,
            block_public_policy: self.block_public_policy || other.block_public_policy,
            restrict_public_buckets: self.restrict_public_buckets || other.restrict_public_buckets,
        }
    }

    pub fn to_json(self) -> String {
        serde_json::to_string(&self).unwrap_or_default()
    }

    /// A stored configuration; one that does not parse blocks everything.
    pub fn from_json(text: &str) -> PublicAccessBlock {
        serde_json::from_str(text).unwrap_or(PublicAccessBlock::ALL)
    }

    pub fn from_dto(c: &s3s::dto::PublicAccessBlockConfiguration) -> PublicAccessBlock {
        PublicAccessBlock {
            block_public_acls: c.block_public_acls == Some(true),
            ignore_public_acls: c.ignore_public_acls == Some(true),
            block_public_policy: c.block_public_policy == Some(true),
            restrict_public_buckets: c.restrict_public_buckets == Some(true),
        }
    }

    pub fn to_dto(self) -> s3s::dto::PublicAccessBlockConfiguration {
        s3s::dto::PublicAccessBlockConfiguration {
            block_public_acls: Some(self.block_public_acls),
            ignore_public_acls: Some(self.ignore_public_acls),
            block_public_policy: Some(self.block_public_policy),
            restrict_public_buckets: Some(self.restrict_public_buckets),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_combine() {
        let account = PublicAccessBlock {
            block_public_policy: true,
            ..Default::default()
        };
        let bucket = PublicAccessBlock {
            restrict_public_buckets: true,
            ..Default::default()
        };
        let both = account.or(bucket);
        assert!(
            both.block_public_policy && both.restrict_public_buckets && !both.block_public_acls
        );
        assert_eq!(
            PublicAccessBlock::from_json(&PublicAccessBlock::ALL.to_json()),
            PublicAccessBlock::ALL
        );
        assert_eq!(
            PublicAccessBlock::from_json("nonsense"),
            PublicAccessBlock::ALL
        );
    }
}
