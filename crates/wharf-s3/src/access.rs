//! Who is asking, and whether they may do what they ask.
//!
//! s3s verifies signatures; everything after that is decided here, for signed and anonymous
//! requests alike (s3s's own default would refuse anonymous requests before we could answer
//! `NoSuchBucket`, as S3 does for a bucket that does not exist). Each operation names the
//! action it needs ([`Access`]: `s3:GetObject` on `arn:aws:s3:::BUCKET/KEY`, with its own
//! condition keys), and [`WharfS3::authorize`] decides as AWS documents: an explicit `Deny` in
//! the bucket policy or one of the caller's identity policies wins; else the request is allowed
//! if the caller owns the bucket (S3's bucket owner has every right on it), or a policy or an
//! ACL (the bucket's, or for what that leaves undecided the object version's; only where Object
//! Ownership enables ACLs) allows it; else it is denied. The
//! owner may always read, change and delete the bucket's policy, so no policy can lock them
//! out (S3 keeps this right for the owning account's root user). `x-amz-expected-bucket-owner`
//! (and `x-amz-source-expected-bucket-owner` for a copy source) must name the bucket owner's
//! account, as on S3.
//!
//! Identities as policies see them: the node is one account (`Store::account_id`); the user
//! named `root` is its root user (`arn:aws:iam::ACCOUNT:root`), every other user an IAM user
//! (`arn:aws:iam::ACCOUNT:user/NAME`); each has its own canonical ID and owns the buckets it
//! creates.

use std::sync::Arc;

use s3s::access::{S3Access, S3AccessContext};
use s3s::{S3Request, S3Result, s3_error};
use wharf_auth::policy::{self, Effect, Policy};
use wharf_model::User;
use wharf_store::BucketRecord;

use crate::WharfS3;
use crate::bucket_policy::BucketPolicies;
use crate::condition_keys::ConditionKeys;
use crate::error::StoreResultExt;

/// Set by [`crate::normalize`] on a request it passes on after s3s verified its signature: the
/// access key that signed it.
#[derive(Debug, Clone)]
pub struct VerifiedAccessKey(pub String);

/// The caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `None`: an anonymous request.
    pub user: Option<User>,
    /// The user's identity policies (none for anonymous callers).
    identity_policies: Arc<[Policy]>,
    expected_owner: Option<String>,
    expected_source_owner: Option<String>,
    conditions: Arc<ConditionKeys>,
}

/// Which `…expected-bucket-owner` header applies to a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketRole {
    /// The bucket the request addresses.
    Target,
    /// The bucket a copy reads from.
    CopySource,
}

/// What an operation asks to do: an action on the bucket or on one of its objects, with the
/// condition keys only the operation knows.
#[derive(Debug, Clone)]
pub struct Access<'a> {
    pub action: &'static str,
    pub key: Option<&'a str>,
    pub extra: Vec<(&'static str, String)>,
    /// The tags of the object version acted on, when a policy asks for them
    /// (`s3:ExistingObjectTag/KEY`).
    pub existing_tags: Vec<(String, String)>,
}

impl<'a> Access<'a> {
    /// An action on the bucket itself (`arn:aws:s3:::BUCKET`).
    pub fn bucket(action: &'static str) -> Self {
        Access {
            action,
            key: None,
            extra: Vec::new(),
            existing_tags: Vec::new(),
        }
    }

    /// An action on one object (`arn:aws:s3:::BUCKET/KEY`).
    pub fn object(action: &'static str, key: &'a str) -> Self {
        Access {
            action,
            key: Some(key),
            extra: Vec::new(),
            existing_tags: Vec::new(),
        }
    }

    /// An action on one object that S3 names differently when a version is named
    /// (`s3:GetObject` / `s3:GetObjectVersion`).
    pub fn version(
        action: &'static str,
        version_action: &'static str,
        key: &'a str,
        version_id: Option<&str>,
    ) -> Self {
        match version_id {
            Some(v) => Access {
                action: version_action,
                key: Some(key),
                extra: vec![("s3:versionid", v.to_owned())],
                existing_tags: Vec::new(),
            },
            None => Access::object(action, key),
        }
    }

    fn resource(&self, bucket: &str) -> String {
        resource_arn(bucket, self.key)
    }
}

/// `arn:aws:s3:::BUCKET` or `arn:aws:s3:::BUCKET/KEY`.
fn resource_arn(bucket: &str, key: Option<&str>) -> String {
    match key {
        Some(k) => format!("arn:aws:s3:::{bucket}/{k}"),
        None => format!("arn:aws:s3:::{bucket}"),
    }
}

/// What the rules say of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// An explicit `Deny`: nothing else can allow it.
    Denied,
    /// Nothing allowed it (an object's own ACL still may).
    Undecided,
}

/// The actions on a bucket's policy, which its owner can never lose.
const POLICY_ACTIONS: [&str; 3] = [
    "s3:GetBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
];

impl Caller {
    /// The signed-in user; anonymous callers are refused.
    pub fn signed_in(&self) -> S3Result<&User> {
        self.user.as_ref().ok_or_else(access_denied)
    }

    /// The caller as policies name it.
    fn principal(&self, account: &str) -> policy::Caller {
        match &self.user {
            None => policy::Caller::Anonymous,
            Some(u) if u.name == wharf_model::ROOT_USER => policy::Caller::Root {
                account: account.to_owned(),
                canonical_id: u.canonical_id.clone(),
            },
            Some(u) => policy::Caller::User {
                account: account.to_owned(),
                name: u.name.clone(),
                canonical_id: u.canonical_id.clone(),
            },
        }
    }

    fn owns(&self, bucket: &BucketRecord) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| u.canonical_id == bucket.owner)
    }
}

pub fn access_denied() -> s3s::S3Error {
    s3_error!(AccessDenied, "Access Denied")
}

const EXPECTED_BUCKET_OWNER: http::HeaderName =
    http::HeaderName::from_static("x-amz-expected-bucket-owner");
const SOURCE_EXPECTED_BUCKET_OWNER: http::HeaderName =
    http::HeaderName::from_static("x-amz-source-expected-bucket-owner");

fn header(req_headers: &http::HeaderMap, name: &http::HeaderName) -> Option<String> {
    req_headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

impl WharfS3 {
    /// Who signed `req` (s3s checked the signature), or an anonymous caller.
    pub(crate) async fn caller<T>(&self, req: &S3Request<T>) -> S3Result<Caller> {
        let key = req
            .credentials
            .as_ref()
            .map(|c| c.access_key.clone())
            .or_else(|| {
                req.extensions
                    .get::<VerifiedAccessKey>()
                    .map(|k| k.0.clone())
            });
        let (user, identity_policies) = match key {
            Some(k) => {
                let (user, policies) = self.identities.user_of(&k).await?;
                (Some(user), policies)
            }
            None => (None, Arc::from([])),
        };
        Ok(Caller {
            user,
            identity_policies,
            expected_owner: header(&req.headers, &EXPECTED_BUCKET_OWNER),
            expected_source_owner: header(&req.headers, &SOURCE_EXPECTED_BUCKET_OWNER),
            conditions: req
                .extensions
                .get::<Arc<ConditionKeys>>()
                .cloned()
                .unwrap_or_default(),
        })
    }

    /// The bucket, whoever asks: `NoSuchBucket` if it does not exist, `AccessDenied` if the
    /// expected owner (if given) is not the owner's account. What the caller may do in it is
    /// [`Self::allowed`]'s question.
    pub(crate) async fn bucket(
        &self,
        caller: &Caller,
        bucket: &str,
        role: BucketRole,
    ) -> S3Result<BucketRecord> {
        let Some(b) = self.store.meta().get_bucket(bucket).await.s3()? else {
            return Err(crate::ops::bucket::no_such_bucket());
        };
        let expected = match role {
            BucketRole::Target => &caller.expected_owner,
            BucketRole::CopySource => &caller.expected_source_owner,
        };
        if let Some(account) = expected
            && account != self.store.account_id()
        {
            return Err(access_denied());
        }
        Ok(b)
    }

    /// Whether the caller may do `access` in `bucket` (see the module's text).
    pub(crate) async fn allowed(
        &self,
        caller: &Caller,
        bucket: &BucketRecord,
        access: &Access<'_>,
    ) -> S3Result<bool> {
        Ok(self.verdict(caller, bucket, access).await? == Verdict::Allow)
    }

    /// What the owner's rights, the bucket's ACL and policy, and the caller's identity
    /// policies say together about `access` (an object's own ACL is asked separately, by
    /// [`Self::object_acl_allows`], for what this leaves undecided).
    pub(crate) async fn verdict(
        &self,
        caller: &Caller,
        bucket: &BucketRecord,
        access: &Access<'_>,
    ) -> S3Result<Verdict> {
        let owner = caller.owns(bucket);
        if owner && POLICY_ACTIONS.contains(&access.action) {
            return Ok(Verdict::Allow);
        }
        let rules = self.policies.of(bucket).await?;
        let acl = self.acl_allows(caller, &rules, access.action, None).await?;
        if rules.policy.is_none() && caller.identity_policies.is_empty() {
            return Ok(if owner || acl {
                Verdict::Allow
            } else {
                Verdict::Undecided
            });
        }
        let account = self.store.account_id();
        let mut ctx = caller.conditions.context(
            caller.principal(account),
            access.action,
            access.resource(&bucket.name),
            &access.extra,
        );
        for (k, v) in &access.existing_tags {
            ctx.set(&format!("s3:existingobjecttag/{k}"), v.clone());
        }
        let bucket_answer = self.policies.evaluate(&rules, &ctx).await?;
        let answers: Vec<Option<Effect>> = [
            owner.then_some(Effect::Allow),
            acl.then_some(Effect::Allow),
            bucket_answer,
        ]
        .into_iter()
        .chain(caller.identity_policies.iter().map(|p| p.evaluate(&ctx)))
        .collect();
        Ok(if answers.contains(&Some(Effect::Deny)) {
            Verdict::Denied
        } else if policy::decide(answers) {
            Verdict::Allow
        } else {
            Verdict::Undecided
        })
    }

    /// Whether an ACL grants the caller `action`: the bucket's (`object_acl: None`) or an
    /// object's. ACLs count only when the bucket's Object Ownership enables them, and the
    /// groups' grants not under Block Public Access's `IgnorePublicAcls`.
    async fn acl_allows(
        &self,
        caller: &Caller,
        rules: &crate::bucket_policy::BucketRules,
        action: &str,
        object_acl: Option<&[crate::acl::Grant]>,
    ) -> S3Result<bool> {
        let acl = object_acl.unwrap_or(&rules.acl);
        if acl.is_empty() || rules.ownership == crate::ops::acl::BUCKET_OWNER_ENFORCED {
            return Ok(false);
        }
        let Some(permission) = crate::acl::permission_for(action, object_acl.is_some()) else {
            return Ok(false);
        };
        let ignore_public = self.policies.block_for(rules).await?.ignore_public_acls;
        let who = caller.user.as_ref().map(|u| u.canonical_id.as_str());
        Ok(crate::acl::grants(acl, who, permission, ignore_public))
    }

    /// Whether a policy that applies to the caller in this bucket names an object's existing
    /// tags (`s3:ExistingObjectTag/…`): the version is then read before the decision.
    pub(crate) async fn needs_existing_tags(
        &self,
        caller: &Caller,
        bucket: &BucketRecord,
    ) -> S3Result<bool> {
        use crate::bucket_policy::EXISTING_OBJECT_TAG;
        let rules = self.policies.of(bucket).await?;
        Ok(rules.policy_names_object_tags
            || caller
                .identity_policies
                .iter()
                .any(|p| p.mentions_key(EXISTING_OBJECT_TAG)))
    }

    /// Whether an object version's own ACL grants the caller `action` (asked when the bucket's
    /// rules left it undecided).
    pub(crate) async fn object_acl_allows(
        &self,
        caller: &Caller,
        bucket: &BucketRecord,
        action: &str,
        acl: &[crate::acl::Grant],
    ) -> S3Result<bool> {
        let rules = self.policies.of(bucket).await?;
        self.acl_allows(caller, &rules, action, Some(acl)).await
    }

    /// For actions outside any bucket (CreateBucket, ListBuckets): a signed-in caller may, as
    /// every user always could, unless one of their identity policies denies it.
    pub(crate) fn account_action_allowed(
        &self,
        caller: &Caller,
        action: &str,
        resource: String,
    ) -> S3Result<()> {
        caller.signed_in()?;
        if caller.identity_policies.is_empty() {
            return Ok(());
        }
        let ctx = caller.conditions.context(
            caller.principal(self.store.account_id()),
            action,
            resource,
            &[],
        );
        let denied = caller
            .identity_policies
            .iter()
            .any(|p| p.evaluate(&ctx) == Some(Effect::Deny));
        if denied { Err(access_denied()) } else { Ok(()) }
    }

    /// The bucket, if the caller may do `access` in it, with the user the request acts as: the
    /// caller, or for an anonymous request the bucket's owner. `NoSuchBucket` if it does not
    /// exist (whoever asks), else `AccessDenied` unless allowed.
    pub(crate) async fn authorize(
        &self,
        caller: &Caller,
        bucket: &str,
        role: BucketRole,
        access: Access<'_>,
    ) -> S3Result<(User, BucketRecord)> {
        let b = self.bucket(caller, bucket, role).await?;
        if !self.allowed(caller, &b, &access).await? {
            return Err(access_denied());
        }
        let user = self.acting_user(caller, &b).await?;
        Ok((user, b))
    }

    /// The user a request acts as in a bucket: the caller, or for an anonymous request the
    /// bucket's owner.
    pub(crate) async fn acting_user(
        &self,
        caller: &Caller,
        bucket: &BucketRecord,
    ) -> S3Result<User> {
        match &caller.user {
            Some(u) => Ok(u.clone()),
            None => self.identities.owner_named(&bucket.owner).await,
        }
    }

    /// Whether `x-amz-bypass-governance-retention` counts for this caller: they must be allowed
    /// `s3:BypassGovernanceRetention` on the object (the bucket owner is, unless denied).
    pub(crate) async fn may_bypass_governance(
        &self,
        caller: &Caller,
        bucket: &BucketRecord,
        key: &str,
    ) -> S3Result<bool> {
        let access = Access::object("s3:BypassGovernanceRetention", key);
        self.allowed(caller, bucket, &access).await
    }
}

/// Decides for reads that do not come through the S3 API (the edge's in-process origin for a
/// bucket of this node) as for those that do: the caller (anonymous, or CloudFront's service
/// principal or Origin Access Identity) owns nothing, so the bucket policy alone decides.
#[derive(Clone)]
pub struct BucketAccess {
    pub(crate) policies: BucketPolicies,
}

impl BucketAccess {
    pub fn new(policies: BucketPolicies) -> Self {
        Self { policies }
    }

    /// Whether `caller` may do `action` on the bucket (`key: None`) or one of its objects, with
    /// these condition keys (`aws:SourceArn`, `aws:SecureTransport`, …) besides the time.
    pub async fn allows(
        &self,
        bucket: &BucketRecord,
        caller: policy::Caller,
        action: &str,
        key: Option<&str>,
        keys: &[(&'static str, String)],
    ) -> S3Result<bool> {
        let rules = self.policies.of(bucket).await?;
        if rules.policy.is_none() {
            return Ok(false);
        }
        let resource = resource_arn(&bucket.name, key);
        let ctx = Arc::new(ConditionKeys::default()).context(caller, action, resource, keys);
        Ok(policy::decide([self
            .policies
            .evaluate(&rules, &ctx)
            .await?]))
    }
}

/// Lets every request whose signature s3s accepted (or that carries none) reach the
/// operations, which decide with [`WharfS3::authorize`].
pub struct DecideInOperations;

#[async_trait::async_trait]
impl S3Access for DecideInOperations {
    /// Notes the operation the request resolved to, for the metrics.
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let name = crate::metrics::intern(cx.s3_op().name());
        if let Some(slot) = cx.extensions_mut().get::<crate::metrics::OperationName>() {
            slot.set(name);
        }
        Ok(())
    }
}
