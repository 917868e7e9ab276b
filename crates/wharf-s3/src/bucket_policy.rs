//! What decides access to a bucket besides ownership: its policy and its Block Public Access
//! configuration, and the account's; and the CORS rules browsers are answered with. Every request to a bucket needs them, so they are read
//! once and cached per bucket (with the bucket's creation time, so a bucket deleted and made
//! again never inherits the old one's), the policy parsed. This process forgets an entry when
//! it writes one of them; a change made by another process on the same data directory (`wharf
//! public-access-block`) is seen within [`CACHE_TTL`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use s3s::S3Result;
use wharf_auth::policy::{Caller, Effect, Policy, PolicyKind, RequestContext};
use wharf_store::{BucketRecord, Store};

use crate::error::StoreResultExt;
use crate::public_access::{
    ACCOUNT_PUBLIC_ACCESS_BLOCK, BUCKET_PUBLIC_ACCESS_BLOCK, PublicAccessBlock,
};

/// The condition keys of an object's own tags (as policies normalise them).
pub const EXISTING_OBJECT_TAG: &str = "s3:existingobjecttag/";

/// The `bucket_configs` kind a bucket policy is stored under (its JSON text as given).
pub const BUCKET_POLICY: &str = "policy";

const CACHE_TTL: Duration = Duration::from_secs(2);
const CACHE_MAX: usize = 10_000;

/// A bucket's access rules, as stored.
#[derive(Debug)]
pub struct BucketRules {
    pub policy: Option<Policy>,
    /// Whether the policy is public ([`Policy::is_public`]).
    pub policy_is_public: bool,
    /// Whether the policy names objects' tags (`s3:ExistingObjectTag/…`), so a decision
    /// needs the version read first.
    pub policy_names_object_tags: bool,
    /// The bucket's own Block Public Access flags (none if it has no configuration).
    pub block: PublicAccessBlock,
    /// The bucket's CORS rules, if it has any.
    pub cors: Option<Vec<crate::cors::CorsRule>>,
    /// Its Object Ownership (`ObjectWriter` when it has no setting, as S3 reads old buckets).
    pub ownership: String,
    /// Its ACL grants beyond the owner's.
    pub acl: Vec<crate::acl::Grant>,
}

struct Cached {
    at: Instant,
    created_ms: i64,
    rules: Arc<BucketRules>,
}

#[derive(Clone)]
pub struct BucketPolicies {
    store: Store,
    cache: Arc<Mutex<HashMap<String, Cached>>>,
    account: Arc<Mutex<Option<(Instant, PublicAccessBlock)>>>,
}

impl std::fmt::Debug for BucketPolicies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BucketPolicies").finish_non_exhaustive()
    }
}

impl BucketPolicies {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            cache: Arc::new(Mutex::new(HashMap::new())),
            account: Arc::new(Mutex::new(None)),
        }
    }

    /// The bucket's rules.
    pub async fn of(&self, bucket: &BucketRecord) -> S3Result<Arc<BucketRules>> {
        if let Ok(cache) = self.cache.lock()
            && let Some(c) = cache.get(&bucket.name)
            && c.created_ms == bucket.created_ms
            && c.at.elapsed() < CACHE_TTL
        {
            return Ok(c.rules.clone());
        }
        let meta = self.store.meta();
        let text = meta.bucket_config(&bucket.name, BUCKET_POLICY).await.s3()?;
        let policy = match text {
            None => None,
            Some(t) => match Policy::parse(&t, PolicyKind::Bucket(&bucket.name)) {
                Ok(p) => Some(p),
                // It was checked when it was put: a policy that no longer parses (an older
                // build's) refuses everyone rather than being ignored.
                Err(e) => {
                    tracing::error!(bucket = %bucket.name, error = %e, "stored bucket policy does not parse");
                    return Err(s3s::s3_error!(
                        InternalError,
                        "The bucket policy cannot be read"
                    ));
                }
            },
        };
        let block = meta
            .bucket_config(&bucket.name, BUCKET_PUBLIC_ACCESS_BLOCK)
            .await
            .s3()?
            .map_or(PublicAccessBlock::default(), |t| {
                PublicAccessBlock::from_json(&t)
            });
        let cors = match meta
            .bucket_config(&bucket.name, crate::cors::BUCKET_CORS)
            .await
            .s3()?
        {
            None => None,
            Some(t) => Some(serde_json::from_str(&t).map_err(|e| {
                tracing::error!(bucket = %bucket.name, error = %e, "stored CORS rules do not parse");
                s3s::s3_error!(InternalError, "The CORS configuration cannot be read")
            })?),
        };
        let ownership = meta
            .bucket_config(&bucket.name, crate::ops::acl::BUCKET_OWNERSHIP)
            .await
            .s3()?
            .unwrap_or_else(|| "ObjectWriter".into());
        let acl = meta
            .bucket_config(&bucket.name, crate::ops::acl::BUCKET_ACL)
            .await
            .s3()?
            .map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|e| {
                tracing::error!(bucket = %bucket.name, error = %e, "stored bucket ACL does not parse");
                s3s::s3_error!(InternalError, "The bucket ACL cannot be read")
            })?
            .unwrap_or_default();
        let rules = Arc::new(BucketRules {
            policy_is_public: policy.as_ref().is_some_and(Policy::is_public),
            policy_names_object_tags: policy
                .as_ref()
                .is_some_and(|p| p.mentions_key(EXISTING_OBJECT_TAG)),
            policy,
            block,
            cors,
            ownership,
            acl,
        });
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
            cache.insert(
                bucket.name.clone(),
                Cached {
                    at: Instant::now(),
                    created_ms: bucket.created_ms,
                    rules: rules.clone(),
                },
            );
        }
        Ok(rules)
    }

    /// The account's Block Public Access flags (none if it has no configuration).
    pub async fn account_block(&self) -> S3Result<PublicAccessBlock> {
        if let Ok(a) = self.account.lock()
            && let Some((at, block)) = *a
            && at.elapsed() < CACHE_TTL
        {
            return Ok(block);
        }
        let block = self
            .store
            .meta()
            .setting(ACCOUNT_PUBLIC_ACCESS_BLOCK)
            .await
            .s3()?
            .map_or(PublicAccessBlock::default(), |t| {
                PublicAccessBlock::from_json(&t)
            });
        if let Ok(mut a) = self.account.lock() {
            *a = Some((Instant::now(), block));
        }
        Ok(block)
    }

    /// The flags that apply to the bucket: its own or the account's.
    pub async fn block_for(&self, rules: &BucketRules) -> S3Result<PublicAccessBlock> {
        Ok(rules.block.or(self.account_block().await?))
    }

    /// What the bucket's policy says of a request: its answer, except that while the policy is
    /// public and `RestrictPublicBuckets` applies, its public statements grant nothing to
    /// callers outside the account (anonymous callers, Origin Access Identities); the account's
    /// users and service principals (CloudFront with OAC) keep them.
    pub async fn evaluate(
        &self,
        rules: &BucketRules,
        ctx: &RequestContext,
    ) -> S3Result<Option<Effect>> {
        let Some(policy) = &rules.policy else {
            return Ok(None);
        };
        let outside = matches!(ctx.caller, Caller::Anonymous | Caller::Other { .. });
        if outside && rules.policy_is_public && self.block_for(rules).await?.restrict_public_buckets
        {
            return Ok(policy.evaluate_without_public_grants(ctx));
        }
        Ok(policy.evaluate(ctx))
    }

    /// Drops what is known of a bucket's rules (one was just written).
    pub fn forget(&self, bucket: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(bucket);
        }
    }
}

impl crate::WharfS3 {
    /// Writes (`None`: removes) one of the configurations [`BucketRules`] holds (policy, Block
    /// Public Access, CORS, Object Ownership), and drops the cached rules so the next request
    /// sees it.
    pub(crate) async fn set_access_config(
        &self,
        bucket: &str,
        kind: &str,
        value: Option<String>,
    ) -> S3Result<()> {
        self.store
            .set_bucket_config(bucket, kind, value)
            .await
            .s3()?;
        self.policies.forget(bucket);
        Ok(())
    }
}
