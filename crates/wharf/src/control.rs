//! Wiring of the CloudFront control API (`wharf-control`): its callers are the store's users
//! with their identity policies, its state is `DATA_DIR/control.db`, and the edge follows its
//! change feed: on each change the edge takes the API's distributions, purges the new
//! invalidations (recorded in its journal), then tells the API what it has applied, which turns
//! distributions `Deployed` and invalidations `Completed`. The files of `distributions_dir` are
//! shown by the API as the edge last read them.

use std::sync::Arc;

use anyhow::{Context, Result};
use wharf_auth::cloudfront_signature::PublicKey;
use wharf_auth::policy::Caller;
use wharf_control::kvs_import::ImportObjects;
use wharf_control::{
    Control, EdgeView, FileDistribution, Files, Identities, Identity, state::Kind,
};
use wharf_edge::Edge;
use wharf_edge::distribution::PolicyBook;
use wharf_edge::registry::{ApiResources, FileResources};
use wharf_store::Store;

pub use wharf_control::is_control;

/// The control API's callers: the store's users, looked up (and cached) as the S3 API does.
struct StoreIdentities {
    keys: wharf_s3::Identities,
    account: String,
}

#[async_trait::async_trait]
impl Identities for StoreIdentities {
    async fn identity(&self, access_key: &str) -> Result<Option<Identity>, String> {
        let found = self.keys.key(access_key).await.map_err(|e| e.to_string())?;
        Ok(found.map(|(secret, user, policies)| Identity {
            secret_access_key: secret,
            caller: if user.name == wharf_model::ROOT_USER {
                Caller::Root {
                    account: self.account.clone(),
                    canonical_id: user.canonical_id,
                }
            } else {
                Caller::User {
                    account: self.account.clone(),
                    name: user.name,
                    canonical_id: user.canonical_id,
                }
            },
            policies,
        }))
    }
}

/// The objects key value stores are imported from: this node's buckets.
struct StoreObjects(Store);

#[async_trait::async_trait]
impl ImportObjects for StoreObjects {
    async fn read(&self, bucket: &str, key: &str, limit: usize) -> Result<Vec<u8>, String> {
        use futures::TryStreamExt;
        let object = match self.0.find_object(bucket, key, None).await {
            Ok(Ok(o)) => o,
            Ok(Err(wharf_store::Missing::NoSuchBucket)) => {
                return Err("the bucket does not exist".into());
            }
            Ok(Err(_)) => return Err("the key does not exist".into()),
            Err(e) => return Err(e.to_string()),
        };
        if object.size > limit as u64 {
            return Err(format!("it is {} bytes; the limit is {limit}", object.size));
        }
        let body = self
            .0
            .read_body(&object, 0..object.size)
            .await
            .map_err(|e| e.to_string())?;
        let chunks: Vec<bytes::Bytes> = body.try_collect().await.map_err(|e| e.to_string())?;
        Ok(chunks.concat())
    }
}

/// Opens the control API's state under the data directory.
pub fn open(data_dir: &std::path::Path, store: &Store) -> Result<Arc<Control>> {
    let account = store.account_id().to_owned();
    let control = Control::open(
        &data_dir.join("control.db"),
        &account,
        Arc::new(StoreIdentities {
            keys: wharf_s3::Identities::new(store.clone()),
            account: account.clone(),
        }),
    )
    .map_err(anyhow::Error::msg)
    .context("opening the control API's database")?;
    control.set_import_objects(Arc::new(StoreObjects(store.clone())));
    Ok(control)
}

/// What the files define, in the API's terms.
pub fn files(found: &FileResources) -> Files {
    let mut files = Files::default();
    for (id, config, modified) in &found.distributions {
        let modified = modified
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64);
        if let Ok(config) = serde_json::to_value(config) {
            files
                .distributions
                .insert(id.clone(), FileDistribution { config, modified });
        }
    }
    let p = &found.policies;
    let kinds = [
        (Kind::CachePolicy, p.cache.keys().collect::<Vec<_>>()),
        (Kind::OriginRequestPolicy, p.origin_request.keys().collect()),
        (
            Kind::ResponseHeadersPolicy,
            p.response_headers.keys().collect(),
        ),
        (Kind::KeyGroup, p.key_groups.keys().collect()),
        (Kind::PublicKey, p.public_keys.keys().collect()),
        (
            Kind::OriginAccessControl,
            p.origin_access_controls.keys().collect(),
        ),
    ];
    for (kind, ids) in kinds {
        files
            .resources
            .extend(ids.into_iter().map(|id| (kind, id.clone())));
    }
    files
}

/// Follows the control API's change feed for the edge's lifetime.
pub fn follow(control: Arc<Control>, edge: Arc<Edge>) {
    tokio::spawn(async move {
        let mut feed = control.subscribe();
        loop {
            apply(&control, &edge).await;
            if feed.changed().await.is_err() {
                break;
            }
        }
    });
}

/// What the edge serves from the API's view.
pub fn api_resources(view: EdgeView) -> ApiResources {
    let mut policies = PolicyBook {
        cache: view.cache_policies.into_iter().collect(),
        origin_request: view.origin_request_policies.into_iter().collect(),
        response_headers: view.response_headers_policies.into_iter().collect(),
        key_groups: view.key_groups.into_iter().collect(),
        origin_access_controls: view.origin_access_controls.into_iter().collect(),
        functions: view.functions.into_iter().collect(),
        ..PolicyBook::default()
    };
    for (id, key) in view.public_keys {
        match PublicKey::from_pem(&key.encoded_key) {
            Ok(k) => {
                policies.public_keys.insert(id, Arc::new(k));
            }
            Err(e) => tracing::error!(%id, error = %e, "a stored public key does not parse"),
        }
    }
    ApiResources {
        distributions: view.distributions,
        policies,
        policies_version: view.references_seq,
    }
}

/// Brings the edge up to the API's latest change.
async fn apply(control: &Arc<Control>, edge: &Arc<Edge>) {
    let view = control.edge_view();
    let seq = view.seq;
    let registry = edge.registry.clone();
    match tokio::task::spawn_blocking(move || registry.set_api(api_resources(view))).await {
        Ok(errors) => {
            for e in errors {
                tracing::warn!("distribution not served: {e}");
            }
        }
        Err(e) => tracing::error!(error = %e, "applying the control API's distributions failed"),
    }
    for p in control.pending_invalidations() {
        if let Err(e) = edge
            .cache
            .invalidations
            .create_invalidation(&p.distribution_id, &p.paths)
        {
            tracing::warn!(id = %p.id, error = %e, "invalidation not applied");
        }
        edge.metrics.invalidation(&p.distribution_id);
    }
    // Recorded in the edge's journal before the API calls anything applied.
    let (cache, control) = (edge.cache.clone(), control.clone());
    let done = tokio::task::spawn_blocking(move || {
        cache
            .invalidations
            .flush_journal()
            .map_err(|e| e.to_string())?;
        control.applied(seq).map_err(|e| e.to_string())
    })
    .await;
    match done {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "the edge could not record what it applied"),
        Err(e) => tracing::warn!(error = %e, "the edge could not record what it applied"),
    }
}
