//! S3's action names as policies write them (`s3:GetObject`), and what each acts on: S3 refuses
//! a bucket policy naming an action it does not have (`Policy has invalid action`) or one that
//! applies to none of the statement's resources.

/// What an action's resource is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionScope {
    /// `arn:aws:s3:::BUCKET/KEY`
    Object,
    /// `arn:aws:s3:::BUCKET`
    Bucket,
    /// No resource of its own (`*`): listing buckets, the account's settings.
    Account,
}

const OBJECT: &[&str] = &[
    "AbortMultipartUpload",
    "BypassGovernanceRetention",
    "DeleteObject",
    "DeleteObjectTagging",
    "DeleteObjectVersion",
    "DeleteObjectVersionTagging",
    "GetObject",
    "GetObjectAcl",
    "GetObjectAttributes",
    "GetObjectLegalHold",
    "GetObjectRetention",
    "GetObjectTagging",
    "GetObjectTorrent",
    "GetObjectVersion",
    "GetObjectVersionAcl",
    "GetObjectVersionAttributes",
    "GetObjectVersionForReplication",
    "GetObjectVersionTagging",
    "GetObjectVersionTorrent",
    "InitiateReplication",
    "ListMultipartUploadParts",
    "ObjectOwnerOverrideToBucketOwner",
    "PutObject",
    "PutObjectAcl",
    "PutObjectLegalHold",
    "PutObjectRetention",
    "PutObjectTagging",
    "PutObjectVersionAcl",
    "PutObjectVersionTagging",
    "ReplicateDelete",
    "ReplicateObject",
    "ReplicateTags",
    "RestoreObject",
];

const BUCKET: &[&str] = &[
    "CreateBucket",
    "DeleteBucket",
    "DeleteBucketOwnershipControls",
    "DeleteBucketPolicy",
    "DeleteBucketWebsite",
    "GetAccelerateConfiguration",
    "GetAnalyticsConfiguration",
    "GetBucketAcl",
    "GetBucketCORS",
    "GetBucketLocation",
    "GetBucketLogging",
    "GetBucketNotification",
    "GetBucketObjectLockConfiguration",
    "GetBucketOwnershipControls",
    "GetBucketPolicy",
    "GetBucketPolicyStatus",
    "GetBucketPublicAccessBlock",
    "GetBucketRequestPayment",
    "GetBucketTagging",
    "GetBucketVersioning",
    "GetBucketWebsite",
    "GetEncryptionConfiguration",
    "GetIntelligentTieringConfiguration",
    "GetInventoryConfiguration",
    "GetLifecycleConfiguration",
    "GetMetricsConfiguration",
    "GetReplicationConfiguration",
    "ListBucket",
    "ListBucketMultipartUploads",
    "ListBucketVersions",
    "PutAccelerateConfiguration",
    "PutAnalyticsConfiguration",
    "PutBucketAcl",
    "PutBucketCORS",
    "PutBucketLogging",
    "PutBucketNotification",
    "PutBucketObjectLockConfiguration",
    "PutBucketOwnershipControls",
    "PutBucketPolicy",
    "PutBucketPublicAccessBlock",
    "PutBucketRequestPayment",
    "PutBucketTagging",
    "PutBucketVersioning",
    "PutBucketWebsite",
    "PutEncryptionConfiguration",
    "PutIntelligentTieringConfiguration",
    "PutInventoryConfiguration",
    "PutLifecycleConfiguration",
    "PutMetricsConfiguration",
    "PutReplicationConfiguration",
];

const ACCOUNT: &[&str] = &[
    "ListAllMyBuckets",
    "GetAccountPublicAccessBlock",
    "PutAccountPublicAccessBlock",
];

/// The scope of an S3 action named without wildcards (any case), or `None` if S3 has no such
/// action.
pub fn s3_action_scope(name: &str) -> Option<ActionScope> {
    let is = |list: &[&str]| list.iter().any(|a| a.eq_ignore_ascii_case(name));
    if is(OBJECT) {
        Some(ActionScope::Object)
    } else if is(BUCKET) {
        Some(ActionScope::Bucket)
    } else if is(ACCOUNT) {
        Some(ActionScope::Account)
    } else {
        None
    }
}

/// Whether `name` (after `s3:`, wildcards allowed) names at least one of S3's actions.
pub fn is_known_s3_action(name: &str) -> bool {
    if !name.contains(['*', '?']) {
        return s3_action_scope(name).is_some();
    }
    OBJECT
        .iter()
        .chain(BUCKET)
        .chain(ACCOUNT)
        .any(|a| super::pattern::wildcard_match(name, a, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_scopes() {
        assert_eq!(s3_action_scope("getobject"), Some(ActionScope::Object));
        assert_eq!(s3_action_scope("ListBucket"), Some(ActionScope::Bucket));
        assert_eq!(
            s3_action_scope("ListAllMyBuckets"),
            Some(ActionScope::Account)
        );
        assert_eq!(s3_action_scope("GetObjectt"), None);
        assert!(is_known_s3_action("Get*"));
        assert!(is_known_s3_action("*"));
        assert!(!is_known_s3_action("Fly*"));
    }
}
