//! The CloudFront control API (REST-XML, version 2020-05-31) on the AWS endpoint, and its state.
//!
//! A request is told apart from S3 by its `/2020-05-31/` path and a SigV4 signature for the
//! `cloudfront` service ([`is_control`]); [`Control::handle`] checks the signature and the
//! caller's permission, binds the request to its operation with AWS's service model
//! ([`service_model`], [`protocol`]), runs the operation against the state ([`state`]: in memory
//! and in `control.db`), and answers in the operation's XML shape. Operations not built answer
//! 501 `NotImplemented`.
//!
//! The edge never reads this state: it follows the change feed ([`Control::subscribe`] gives
//! the sequence number of the last change; [`Control::edge_view`] the configurations the edge
//! serves; [`Control::pending_invalidations`] what it has still to purge), and says what it has
//! applied ([`Control::applied`]), which is when a distribution turns `Deployed` and an
//! invalidation `Completed`.
//!
//! Distributions and policies defined by files in `distributions_dir` are shown by the API
//! ([`Control::set_files`]) and cannot be changed through it (`IllegalUpdate`): their file is
//! their source.

pub mod auth;
pub mod error;
mod ids;
pub mod kvs_data;
pub mod kvs_import;
pub mod limits;
mod ops;
pub mod protocol;
pub mod service_model;
pub mod state;
pub mod xml;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use serde_json::Value;
use tokio::sync::watch;
use wharf_model::cloudfront::{
    CachePolicyConfig, DistributionConfig, KeyGroupConfig, OriginAccessControlConfig,
    OriginRequestPolicyConfig, PublicKeyConfig, ResponseHeadersPolicyConfig,
};

pub use auth::{Identities, Identity};
pub use error::{ControlError, ControlResult};
use state::{Db, Kind};

pub const API_PREFIX: &str = "/2020-05-31/";
/// Largest control request body read (an InvalidationBatch of 3,000 paths fits easily).
pub const MAX_BODY: usize = 1 << 20;
/// The domain under which distributions get their `DomainName` (`ID.cloudfront.localhost`),
/// which the edge answers on.
pub const DOMAIN_SUFFIX: &str = ".cloudfront.localhost";

/// A CloudFront control request: under `/2020-05-31/` and signed for the `cloudfront` service
/// (a path-style request to an S3 bucket named `2020-05-31` is signed for `s3`, and an
/// unsigned one can only be for S3).
pub fn is_control<B>(req: &Request<B>) -> bool {
    req.uri().path().starts_with(API_PREFIX)
        && auth::credential_service(req.headers(), req.uri().query()).as_deref()
            == Some("cloudfront")
}

/// What `distributions_dir` defines: shown by the API, changed only in the files.
#[derive(Debug, Default, Clone)]
pub struct Files {
    pub distributions: BTreeMap<String, FileDistribution>,
    /// Policies, key groups, public keys and origin access controls defined by files.
    pub resources: HashSet<(Kind, String)>,
}

/// A distribution defined by a file.
#[derive(Debug, Clone)]
pub struct FileDistribution {
    /// Its `DistributionConfig` (JSON form).
    pub config: Value,
    /// When the file was last changed (Unix seconds).
    pub modified: i64,
}

/// What the edge serves from the API: every resource's configuration, typed.
#[derive(Debug, Default, Clone)]
pub struct EdgeView {
    /// The change this view includes everything up to.
    pub seq: u64,
    /// The last change to anything but distributions (what they refer to).
    pub references_seq: u64,
    pub distributions: Vec<(String, DistributionConfig)>,
    pub cache_policies: Vec<(String, CachePolicyConfig)>,
    pub origin_request_policies: Vec<(String, OriginRequestPolicyConfig)>,
    pub response_headers_policies: Vec<(String, ResponseHeadersPolicyConfig)>,
    pub origin_access_controls: Vec<(String, OriginAccessControlConfig)>,
    pub public_keys: Vec<(String, PublicKeyConfig)>,
    pub key_groups: Vec<(String, KeyGroupConfig)>,
    /// The published (`LIVE`) stage of every function, by ARN.
    pub functions: Vec<(String, Arc<wharf_functions::Function>)>,
}

/// Every stored resource of `kind`, typed (one that no longer parses is logged and left out).
fn typed<T: serde::de::DeserializeOwned>(s: &state::State, kind: Kind) -> Vec<(String, T)> {
    s.of_kind(kind)
        .filter_map(|r| match serde_json::from_value(r.config.clone()) {
            Ok(c) => Some((r.id.clone(), c)),
            Err(e) => {
                tracing::error!(kind = kind.arn_type(), id = %r.id, error = %e, "a stored resource does not parse");
                None
            }
        })
        .collect()
}

/// An invalidation the edge has still to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingInvalidation {
    pub distribution_id: String,
    pub id: String,
    pub paths: Vec<String>,
    pub seq: u64,
}

pub struct Control {
    db: Db,
    account: String,
    identities: Arc<dyn Identities>,
    feed: watch::Sender<u64>,
    files: RwLock<Arc<Files>>,
    /// How long a change waits for the edge ([`ops::SETTLE`] unless set).
    settle_ms: AtomicU64,
    /// Where key value stores are imported from (none: `ImportSource` is refused).
    import_objects: std::sync::OnceLock<Arc<dyn kvs_import::ImportObjects>>,
}

impl Control {
    /// Opens the state in `db_path` for the account `account` (its ARNs name it).
    pub fn open(
        db_path: &Path,
        account: &str,
        identities: Arc<dyn Identities>,
    ) -> ControlResult<Arc<Self>> {
        let db = Db::open(db_path)?;
        let seq = db.read(|s| s.seq);
        Ok(Arc::new(Self {
            db,
            account: account.to_owned(),
            identities,
            feed: watch::channel(seq).0,
            files: RwLock::new(Arc::new(Files::default())),
            settle_ms: AtomicU64::new(ops::SETTLE.as_millis() as u64),
            import_objects: std::sync::OnceLock::new(),
        }))
    }

    /// Lets key value stores be imported from these objects (`ImportSource`).
    pub fn set_import_objects(&self, objects: Arc<dyn kvs_import::ImportObjects>) {
        let _ = self.import_objects.set(objects);
    }

    /// How long a change waits for the edge to apply it before answering (no edge: zero).
    pub fn set_settle(&self, settle: std::time::Duration) {
        self.settle_ms.store(
            settle.as_millis() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// The change feed: its value is the sequence number of the last committed change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.feed.subscribe()
    }

    /// Replaces what the files define (after each reload of `distributions_dir`).
    pub fn set_files(&self, files: Files) {
        *self.files.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(files);
    }

    fn files(&self) -> Arc<Files> {
        self.files.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The configurations the edge serves from the API, as of now.
    pub fn edge_view(&self) -> EdgeView {
        self.db.read(|s| EdgeView {
            seq: s.seq,
            references_seq: s.references_seq,
            distributions: typed(s, Kind::Distribution),
            cache_policies: typed(s, Kind::CachePolicy),
            origin_request_policies: typed(s, Kind::OriginRequestPolicy),
            response_headers_policies: typed(s, Kind::ResponseHeadersPolicy),
            origin_access_controls: typed(s, Kind::OriginAccessControl),
            public_keys: typed(s, Kind::PublicKey),
            key_groups: typed(s, Kind::KeyGroup),
            functions: s
                .of_kind(Kind::Function)
                .filter_map(|r| {
                    let live = r.extra.get("live")?;
                    let runtime =
                        wharf_functions::JsRuntime::parse(live["config"]["Runtime"].as_str()?)?;
                    let f = wharf_functions::Function::new(
                        &r.id,
                        live["etag"].as_str()?,
                        runtime,
                        live["code"].as_str()?,
                    )
                    .with_key_values(ops::functions::store_of(
                        self,
                        s,
                        &live["config"],
                    ));
                    Some((self.arn(Kind::Function, &r.id), Arc::new(f)))
                })
                .collect(),
        })
    }

    /// Invalidations created after the change the edge last said it applied.
    pub fn pending_invalidations(&self) -> Vec<PendingInvalidation> {
        self.db.read(|s| {
            s.invalidations
                .values()
                .filter(|i| i.seq > s.applied)
                .map(|i| PendingInvalidation {
                    distribution_id: i.distribution_id.clone(),
                    id: i.id.clone(),
                    paths: ops::invalidations::paths(&i.batch),
                    seq: i.seq,
                })
                .collect()
        })
    }

    /// The edge serves everything up to change `seq` (and has applied and recorded the
    /// invalidations up to it): distributions changed by then are `Deployed`, invalidations
    /// `Completed`.
    pub fn applied(&self, seq: u64) -> ControlResult<()> {
        self.db.set_applied(seq)
    }

    /// Answers one control request.
    pub async fn handle<B>(self: &Arc<Self>, req: Request<B>) -> Response<Full<Bytes>>
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.answer(req, None).await
    }

    /// Answers a request made in this process on the account root's behalf, unsigned (the
    /// demo sets itself up through the API this way). Never reachable from the network.
    pub async fn handle_as_root(
        self: &Arc<Self>,
        req: Request<Full<Bytes>>,
    ) -> Response<Full<Bytes>> {
        let root = Identity {
            secret_access_key: String::new(),
            caller: wharf_auth::policy::Caller::Root {
                account: self.account.clone(),
                canonical_id: String::new(),
            },
            policies: Vec::new().into(),
        };
        self.answer(req, Some(root)).await
    }

    async fn answer<B>(
        self: &Arc<Self>,
        req: Request<B>,
        trusted: Option<Identity>,
    ) -> Response<Full<Bytes>>
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let request_id = ids::new_id('R');
        let (parts, body) = req.into_parts();
        let result = async {
            let body = match Limited::new(body, MAX_BODY).collect().await {
                Ok(b) => b.to_bytes(),
                Err(_) => {
                    return Err(ControlError::malformed_input(
                        "The request body is too large or was cut short.",
                    ));
                }
            };
            let identity = match trusted {
                Some(i) => i,
                None => auth::authenticate(self.identities.as_ref(), &parts, &body).await?,
            };
            let input = protocol::bind(
                service_model::model(),
                parts.method.as_str(),
                parts.uri.path(),
                parts.uri.query(),
                &parts.headers,
                &body,
            )?;
            let imported = self.import(&identity, &input).await?;
            let this = self.clone();
            let operation = input.operation;
            let output = tokio::task::spawn_blocking(move || this.run(&identity, input, imported))
                .await
                .map_err(ControlError::internal)??;
            Ok(protocol::respond(
                service_model::model(),
                operation,
                &output,
            ))
        }
        .await;
        let (status, headers, body) = match result {
            Ok(out) => (out.status, out.headers, out.body),
            Err(e) => {
                if e.status.is_server_error() {
                    tracing::warn!(error = %e, "control request failed");
                }
                let ct = (
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("text/xml"),
                );
                (e.status, vec![ct], Bytes::from(e.body(&request_id)))
            }
        };
        let mut r = Response::new(Full::new(body));
        *r.status_mut() = status;
        for (n, v) in headers {
            r.headers_mut().append(n, v);
        }
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            r.headers_mut().insert("x-amz-request-id", v);
        }
        r
    }

    /// The keys a CreateKeyValueStore's `ImportSource` holds, read before the operation runs.
    async fn import(
        &self,
        identity: &Identity,
        input: &protocol::Input,
    ) -> ControlResult<Option<Vec<(String, String)>>> {
        if input.operation != "CreateKeyValueStore" {
            return Ok(None);
        }
        let Some((bucket, key)) = kvs_import::source(input)? else {
            return Ok(None);
        };
        self.allow(identity, "CreateKeyValueStore", Kind::KeyValueStore, "*")?;
        let Some(objects) = self.import_objects.get() else {
            return Err(ControlError::new(
                "UnsupportedOperation",
                "This node has no store to import key value stores from.",
            ));
        };
        kvs_import::fetch(objects.as_ref(), identity, &bucket, &key)
            .await
            .map(Some)
    }

    /// Runs one operation (blocking: a change writes to disk); `imported` is what a
    /// CreateKeyValueStore's `ImportSource` holds.
    fn run(
        &self,
        identity: &Identity,
        input: protocol::Input,
        imported: Option<Vec<(String, String)>>,
    ) -> ControlResult<serde_json::Map<String, Value>> {
        if input.operation == "CreateKeyValueStore" {
            return Ok(ops::key_value_stores::create(self, identity, &input, imported)?.members);
        }
        Ok(ops::dispatch(self, identity, &input)?.members)
    }

    /// The ARN of a resource of this account.
    pub fn arn(&self, kind: Kind, id: &str) -> String {
        format!(
            "arn:aws:cloudfront::{}:{}/{id}",
            self.account,
            kind.arn_type()
        )
    }
}

#[cfg(test)]
mod tests;
