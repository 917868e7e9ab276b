//! Bucket policies, parsed once and kept: every request to a bucket asks for its policy, so the
//! parsed [`Policy`] is cached per bucket (with the bucket's creation time, so a bucket deleted
//! and made again never inherits the old one's policy). This process forgets an entry when it
//! writes the policy; a change made by another process on the same data directory is seen
//! within [`CACHE_TTL`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use s3s::S3Result;
use wharf_auth::policy::{Policy, PolicyKind};
use wharf_store::{BucketRecord, Store};

use crate::error::StoreResultExt;

/// The `bucket_configs` kind a bucket policy is stored under (its JSON text as given).
pub const BUCKET_POLICY: &str = "policy";

const CACHE_TTL: Duration = Duration::from_secs(2);
const CACHE_MAX: usize = 10_000;

struct Cached {
    at: Instant,
    created_ms: i64,
    policy: Option<Arc<Policy>>,
}

#[derive(Clone)]
pub struct BucketPolicies {
    store: Store,
    cache: Arc<Mutex<HashMap<String, Cached>>>,
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
        }
    }

    /// The bucket's policy, if it has one.
    pub async fn of(&self, bucket: &BucketRecord) -> S3Result<Option<Arc<Policy>>> {
        if let Ok(cache) = self.cache.lock()
            && let Some(c) = cache.get(&bucket.name)
            && c.created_ms == bucket.created_ms
            && c.at.elapsed() < CACHE_TTL
        {
            return Ok(c.policy.clone());
        }
        let text = self
            .store
            .meta()
            .bucket_config(&bucket.name, BUCKET_POLICY)
            .await
            .s3()?;
        let policy = match text {
            None => None,
            Some(t) => match Policy::parse(&t, PolicyKind::Bucket(&bucket.name)) {
                Ok(p) => Some(Arc::new(p)),
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
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
            cache.insert(
                bucket.name.clone(),
                Cached {
                    at: Instant::now(),
                    created_ms: bucket.created_ms,
                    policy: policy.clone(),
                },
            );
        }
        Ok(policy)
    }

    /// Drops what is known of a bucket's policy (it was just written).
    pub fn forget(&self, bucket: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(bucket);
        }
    }
}
