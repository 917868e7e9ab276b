//! Access keys to secrets (for s3s's signature checks) and to users with their identity
//! policies (for [`crate::access`]).
//!
//! Lookups hit the metadata DB through a small cache with a short time-to-live, so a key that
//! `wharf user create` adds from another process works within a second or two, and a deleted
//! key (or a changed `wharf user policy`) takes effect as soon.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use s3s::auth::{S3Auth, SecretKey};
use s3s::{S3Result, s3_error};
use wharf_auth::User;
use wharf_auth::policy::{Policy, PolicyKind};
use wharf_store::Store;

use crate::error::StoreResultExt;

/// How long a looked-up key (or its absence) is trusted.
const CACHE_TTL: Duration = Duration::from_secs(2);
/// Entries kept before the cache is cleared.
const CACHE_MAX: usize = 10_000;

/// What an access key stands for: its secret, its user, and the user's identity policies.
#[derive(Clone)]
struct Identity {
    secret: String,
    user: User,
    policies: Arc<[Policy]>,
}

type Entry = (Instant, Option<Identity>);
/// Every user, when it was read.
type UserList = (Instant, Vec<User>);

#[derive(Clone)]
pub struct Identities {
    store: Store,
    cache: Arc<Mutex<HashMap<String, Entry>>>,
    owners: Arc<Mutex<Option<UserList>>>,
}

impl Identities {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            cache: Arc::new(Mutex::new(HashMap::new())),
            owners: Arc::new(Mutex::new(None)),
        }
    }

    async fn lookup(&self, access_key: &str) -> S3Result<Option<Identity>> {
        if let Ok(cache) = self.cache.lock()
            && let Some((at, v)) = cache.get(access_key)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(v.clone());
        }
        let found = self.store.meta().lookup_access_key(access_key).await.s3()?;
        let v = match found {
            None => None,
            Some((k, user)) => Some(Identity {
                secret: k.secret_access_key,
                policies: self.policies_of(&user.name).await?,
                user,
            }),
        };
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
            cache.insert(access_key.to_owned(), (Instant::now(), v.clone()));
        }
        Ok(v)
    }

    /// What an access key stands for: its secret, its user and the user's identity policies
    /// (for callers of other APIs on the same endpoint, such as CloudFront's).
    pub async fn key(&self, access_key: &str) -> S3Result<Option<(String, User, Arc<[Policy]>)>> {
        Ok(self
            .lookup(access_key)
            .await?
            .map(|i| (i.secret, i.user, i.policies)))
    }

    /// The user whose canonical ID this is (a bucket's owner, for an anonymous request acting
    /// in the bucket); looked up in the user list, which is cached like the keys.
    pub async fn owner_named(&self, canonical_id: &str) -> S3Result<User> {
        if let Ok(owners) = self.owners.lock()
            && let Some((at, users)) = owners.as_ref()
            && at.elapsed() < CACHE_TTL
            && let Some(u) = users.iter().find(|u| u.canonical_id == canonical_id)
        {
            return Ok(u.clone());
        }
        let users: Vec<User> = self
            .store
            .meta()
            .list_users()
            .await
            .s3()?
            .into_iter()
            .map(|(u, _)| u)
            .collect();
        let found = users
            .iter()
            .find(|u| u.canonical_id == canonical_id)
            .cloned();
        if let Ok(mut owners) = self.owners.lock() {
            *owners = Some((Instant::now(), users));
        }
        // A bucket whose owner was deleted: it acts as that canonical ID, nameless.
        Ok(found.unwrap_or_else(|| User {
            name: String::new(),
            canonical_id: canonical_id.to_owned(),
            display_name: String::new(),
        }))
    }

    /// The user an access key belongs to (s3s has verified the signature made with it), with
    /// the user's identity policies.
    pub async fn user_of(&self, access_key: &str) -> S3Result<(User, Arc<[Policy]>)> {
        match self.lookup(access_key).await? {
            Some(i) => Ok((i.user, i.policies)),
            None => Err(s3_error!(InvalidAccessKeyId)),
        }
    }

    /// A user's identity policies, parsed. One that no longer parses (checked when it was put)
    /// refuses the user's requests rather than being ignored.
    async fn policies_of(&self, user: &str) -> S3Result<Arc<[Policy]>> {
        let stored = self.store.meta().user_policies(user).await.s3()?;
        let mut policies = Vec::with_capacity(stored.len());
        for (name, text) in stored {
            match Policy::parse(&text, PolicyKind::Identity) {
                Ok(p) => policies.push(p),
                Err(e) => {
                    tracing::error!(user, policy = %name, error = %e, "stored identity policy does not parse");
                    return Err(s3_error!(
                        InternalError,
                        "An identity policy cannot be read"
                    ));
                }
            }
        }
        Ok(policies.into())
    }
}

#[async_trait::async_trait]
impl S3Auth for Identities {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.lookup(access_key).await? {
            Some(i) => Ok(SecretKey::from(i.secret)),
            None => Err(s3_error!(
                InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records."
            )),
        }
    }
}
