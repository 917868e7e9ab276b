//! A distribution's origins by ID, and the origin a viewer-request function picks or changes
//! for one request (the 2.0 runtime's `cf.selectRequestOriginById`,
//! `cf.createRequestOriginGroup` and `cf.updateRequestOrigin`).
//!
//! An updated origin is the selected (else the behavior's) origin's configuration with the
//! function's settings applied, built by the distribution's origin factory as a configured
//! origin would be: who its requests act as follows its Origin Access Control as CloudFront's
//! do. Built origins are kept by their settings, so the requests a function sends the same way
//! share connections.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use wharf_functions::origin::{OriginChange, OriginSelection, OriginUpdate};
use wharf_model::cloudfront::{CustomOriginConfig, Origin as OriginConfig, OriginCustomHeader};

use super::configured::ConfiguredOrigin;
use super::failover::OriginGroup;
use super::{Origin, OriginContext, OriginFactory, OriginIdentity};

/// Origins built for functions' updates, per distribution, before the oldest are dropped.
const MAX_UPDATED_ORIGINS: usize = 64;

pub struct OriginBook {
    distribution_id: String,
    /// Every origin and origin group, by ID.
    by_id: HashMap<String, Arc<dyn Origin>>,
    /// Each origin's configuration and who its requests act as.
    configs: HashMap<String, (OriginConfig, OriginIdentity)>,
    /// Each origin group's primary origin's ID (what an update of a group changes).
    group_primaries: HashMap<String, String>,
    factory: Arc<dyn OriginFactory>,
    updated: Mutex<HashMap<String, Arc<dyn Origin>>>,
}

impl OriginBook {
    pub(crate) fn new(distribution_id: &str, factory: Arc<dyn OriginFactory>) -> Self {
        Self {
            distribution_id: distribution_id.to_owned(),
            by_id: HashMap::new(),
            configs: HashMap::new(),
            group_primaries: HashMap::new(),
            factory,
            updated: Mutex::new(HashMap::new()),
        }
    }

    /// Builds and adds a configured origin.
    pub(crate) fn add_origin(
        &mut self,
        config: &OriginConfig,
        identity: OriginIdentity,
    ) -> Result<(), String> {
        let built = self.build(config, &identity, None)?;
        self.by_id.insert(config.id.clone(), built);
        self.configs
            .insert(config.id.clone(), (config.clone(), identity));
        Ok(())
    }

    /// Adds an origin group of two origins already added.
    pub(crate) fn add_group(
        &mut self,
        id: &str,
        primary: &str,
        secondary: &str,
        status_codes: Vec<u16>,
    ) -> Result<(), String> {
        let group = self.group(primary, secondary, status_codes)?;
        self.by_id.insert(id.to_owned(), group);
        self.group_primaries
            .insert(id.to_owned(), primary.to_owned());
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Arc<dyn Origin>> {
        self.by_id.get(id)
    }

    fn build(
        &self,
        config: &OriginConfig,
        identity: &OriginIdentity,
        host: Option<http::HeaderValue>,
    ) -> Result<Arc<dyn Origin>, String> {
        let context = OriginContext {
            distribution_id: &self.distribution_id,
            identity: identity.clone(),
        };
        let inner = self.factory.build(&context, config)?;
        ConfiguredOrigin::configure(config, inner, host)
    }

    fn group(
        &self,
        primary: &str,
        secondary: &str,
        status_codes: Vec<u16>,
    ) -> Result<Arc<dyn Origin>, String> {
        let member = |id: &str| {
            self.configs
                .contains_key(id)
                .then(|| self.by_id[id].clone())
                .ok_or_else(|| format!("the distribution has no origin {id}"))
        };
        Ok(Arc::new(OriginGroup {
            primary: member(primary)?,
            secondary: member(secondary)?,
            status_codes,
        }))
    }

    /// The origin a request goes to when a function asked for `change` on a behavior whose
    /// origin is `behavior_origin`; `Err` says why the change is invalid.
    pub fn resolve(
        &self,
        behavior_origin: &str,
        change: &OriginChange,
    ) -> Result<Arc<dyn Origin>, String> {
        let base = match &change.selected {
            Some(OriginSelection::Group {
                primary,
                secondary,
                status_codes,
            }) => {
                if change.update.is_some() {
                    return Err(
                        "updateRequestOrigin cannot change an origin group made by createRequestOriginGroup"
                            .into(),
                    );
                }
                return self.group(primary, secondary, status_codes.clone());
            }
            Some(OriginSelection::Id(id)) => id.as_str(),
            None => behavior_origin,
        };
        let Some(update) = &change.update else {
            return self
                .by_id
                .get(base)
                .cloned()
                .ok_or_else(|| format!("the distribution has no origin {base}"));
        };
        let base = self.group_primaries.get(base).map_or(base, String::as_str);
        // The origin and the update decide what is built: a request that asks the same as an
        // earlier one reuses its origin without making the configuration again.
        let key = format!("{base}\n{update:?}");
        if let Some(o) = self.updated.lock().expect("origins lock").get(&key) {
            return Ok(o.clone());
        }
        let (config, identity) = self
            .configs
            .get(base)
            .ok_or_else(|| format!("the distribution has no origin {base}"))?;
        let (config, identity) = updated(config, identity, update);
        let host = match &update.host_header {
            Some(h) => Some(http::HeaderValue::from_str(h).map_err(|_| "bad hostHeader")?),
            None => None,
        };
        let built = self.build(&config, &identity, host)?;
        let mut cache = self.updated.lock().expect("origins lock");
        if cache.len() >= MAX_UPDATED_ORIGINS {
            cache.clear();
        }
        cache.insert(key, built.clone());
        Ok(built)
    }
}

/// `config` with a function's settings applied, and who its requests then act as.
fn updated(
    config: &OriginConfig,
    identity: &OriginIdentity,
    u: &OriginUpdate,
) -> (OriginConfig, OriginIdentity) {
    let mut c = config.clone();
    let mut identity = identity.clone();
    if let Some(d) = &u.domain_name {
        c.domain_name.clone_from(d);
    }
    if let Some(p) = &u.origin_path {
        c.origin_path.clone_from(p);
    }
    if let Some(headers) = &u.custom_headers {
        c.custom_headers.items = headers
            .iter()
            .map(|(n, v)| OriginCustomHeader {
                header_name: n.clone(),
                header_value: v.clone(),
            })
            .collect();
        c.custom_headers.quantity = u32::try_from(c.custom_headers.items.len()).unwrap_or(0);
    }
    if let Some(n) = u.connection_attempts {
        c.connection_attempts = Some(n);
    }
    if let Some(t) = u.connection_timeout {
        c.connection_timeout = Some(t);
    }
    if let Some((port, https)) = u.custom_origin {
        // A custom origin now: reached on this port and protocol, never signed for S3.
        let mut custom = c
            .custom_origin_config
            .take()
            .unwrap_or_else(|| CustomOriginConfig {
                http_port: 80,
                https_port: 443,
                ..CustomOriginConfig::default()
            });
        if https {
            custom.https_port = port;
            custom.origin_protocol_policy = "https-only".into();
        } else {
            custom.http_port = port;
            custom.origin_protocol_policy = "http-only".into();
        }
        if let Some(s3) = c.s3_origin_config.take() {
            custom.origin_read_timeout = custom.origin_read_timeout.or(s3.origin_read_timeout);
        }
        c.custom_origin_config = Some(custom);
        identity = OriginIdentity::Anonymous;
    }
    if let Some(t) = u.read_timeout {
        match (&mut c.custom_origin_config, &mut c.s3_origin_config) {
            (Some(custom), _) => custom.origin_read_timeout = Some(t),
            (None, Some(s3)) => s3.origin_read_timeout = Some(t),
            (None, None) => {}
        }
    }
    if let (Some(t), Some(custom)) = (u.keep_alive_timeout, &mut c.custom_origin_config) {
        custom.origin_keepalive_timeout = Some(t);
    }
    match u.sign_requests {
        Some(true) if c.s3_origin_config.is_some() => identity = OriginIdentity::AccessControl,
        Some(false) if identity == OriginIdentity::AccessControl => {
            identity = OriginIdentity::Anonymous;
        }
        _ => {}
    }
    (c, identity)
}
