//! The distributions an edge serves, found by `Host`, and their loading from a directory.
//!
//! Until the control API exists, distributions are files: `DIR/ID.json`, each a
//! `DistributionConfig` as `aws cloudfront create-distribution --distribution-config` takes it
//! (an `{"DistributionConfig": {...}}` wrapper, as `get-distribution-config` prints, is accepted
//! too). Custom policies live beside them in `DIR/cache-policies/ID.json`,
//! `DIR/origin-request-policies/ID.json` and `DIR/response-headers-policies/ID.json`; the key
//! groups that `TrustedKeyGroups` names in `DIR/key-groups/ID.json` (a `KeyGroupConfig`) and
//! their public keys in `DIR/public-keys/ID.json` (a `PublicKeyConfig`); the origin access
//! controls that origins name in `DIR/origin-access-controls/ID.json` (an
//! `OriginAccessControlConfig`).
//! [`Registry::reload_if_changed`] rereads the directory when a file changed; a file that fails to parse is reported and its previous
//! version (if any) keeps serving. Distributions made through the control API come from its
//! change feed ([`Registry::set_api`]); a file's distribution keeps its ID if the API has the
//! same one. Swapping the snapshot never touches open connections.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use wharf_auth::cloudfront_signature::PublicKey;
use wharf_model::cloudfront::{
    CachePolicyConfig, DistributionConfig, KeyGroupConfig, ModelError, OriginAccessControlConfig,
    OriginRequestPolicyConfig, PublicKeyConfig, ResponseHeadersPolicyConfig,
};

use crate::distribution::{Distribution, PolicyBook};
use crate::origin::OriginFactory;
use crate::viewer_certificate;

/// The suffix on which a distribution answers as `<id>.localhost`.
pub const LOCAL_SUFFIX: &str = ".localhost";
/// The suffix of the `DomainName` the control API gives a distribution (`<id>.cloudfront.localhost`).
pub const DOMAIN_SUFFIX: &str = ".cloudfront.localhost";
/// CloudFront IDs are short upper-case strings; we accept letters, digits, `-` and `_`.
pub const MAX_DISTRIBUTION_ID_LEN: usize = 64;

pub fn valid_distribution_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_DISTRIBUTION_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[derive(Default)]
pub struct Snapshot {
    by_id: HashMap<String, Arc<Distribution>>,
    by_alias: HashMap<String, Arc<Distribution>>,
    /// Some alias is a wildcard (`*.example.com`): only then is a second lookup worth it.
    wildcards: bool,
    default: Option<Arc<Distribution>>,
}

impl Snapshot {
    pub fn new(dists: Vec<Arc<Distribution>>, default_id: Option<&str>) -> Self {
        let mut s = Self::default();
        for d in dists {
            for a in &d.aliases {
                s.wildcards |= a.starts_with("*.");
                s.by_alias.insert(a.clone(), d.clone());
            }
            if default_id.is_some_and(|id| id.eq_ignore_ascii_case(&d.id)) {
                s.default = Some(d.clone());
            }
            s.by_id.insert(d.id.to_ascii_lowercase(), d);
        }
        s
    }

    /// The distribution for a request's `Host` (port ignored, case-insensitive).
    pub fn for_host(&self, host: Option<&str>) -> Option<&Arc<Distribution>> {
        let found = host.and_then(|h| {
            let h = strip_port(h).trim_end_matches('.').to_ascii_lowercase();
            if let Some(id) = h
                .strip_suffix(DOMAIN_SUFFIX)
                .or_else(|| h.strip_suffix(LOCAL_SUFFIX))
                && let Some(d) = self.by_id.get(id)
            {
                return Some(d);
            }
            // An exact alias first; then a wildcard alias for the first label
            // (`*.example.com` answers `a.example.com`, not `a.b.example.com`).
            self.by_alias.get(&h).or_else(|| {
                if !self.wildcards {
                    return None;
                }
                let (_, parent) = h.split_once('.')?;
                self.by_alias.get(&format!("*.{parent}"))
            })
        });
        found.or(self.default.as_ref())
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Distribution>> {
        self.by_id.get(&id.to_ascii_lowercase())
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.by_id.values().map(|d| d.id.as_str())
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map_or(host, |(h, _)| &host[..=h.len()]);
    }
    host.rsplit_once(':')
        .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(h, _)| h)
}

/// The live set of distributions.
pub struct Registry {
    current: RwLock<Arc<Snapshot>>,
    source: Option<Source>,
}

struct Source {
    dir: PathBuf,
    default_id: Option<String>,
    factory: Arc<dyn OriginFactory>,
    /// IDs of distributions given in code (the demo's), which have no file.
    builtin: Vec<String>,
    state: std::sync::Mutex<SourceState>,
}

#[derive(Default)]
struct SourceState {
    /// (path, modified, len) of every file read last time.
    stamp: Option<Vec<(PathBuf, Option<SystemTime>, u64)>>,
    /// The last good version of each distribution, kept when its file turns invalid.
    last_good: HashMap<String, Arc<Distribution>>,
    /// What the files define, as read last time.
    files: Arc<FileResources>,
    /// What the control API has, as its change feed said last.
    api: ApiResources,
    /// The API's distributions as built, with the configuration each was built from.
    api_built: HashMap<String, (DistributionConfig, Arc<Distribution>)>,
    /// Counts the reads of the files that changed something.
    files_generation: u64,
    /// What everything was last built with: the files' generation and the API's policies
    /// version.
    built_with: Option<(u64, u64)>,
}

/// A distribution file's last good configuration and modification time.
type FileDistribution = (DistributionConfig, Option<SystemTime>);

/// What the control API has: distributions and the policies and keys they name.
#[derive(Debug, Default, Clone)]
pub struct ApiResources {
    pub distributions: Vec<(String, DistributionConfig)>,
    pub policies: PolicyBook,
    /// Changes whenever anything in `policies` may have (a policy, key, function or key value
    /// store): distributions are rebuilt then, and only their own changes rebuild them otherwise.
    pub policies_version: u64,
}

/// What `distributions_dir` defines, for the control API to show.
#[derive(Debug, Default, Clone)]
pub struct FileResources {
    /// Each distribution read from a file, with the file's modification time.
    pub distributions: Vec<(String, DistributionConfig, Option<SystemTime>)>,
    /// The policies and keys the files define.
    pub policies: PolicyBook,
}

impl Registry {
    /// A fixed set (tests, and the demo when no directory is configured).
    pub fn fixed(snapshot: Snapshot) -> Self {
        Self {
            current: RwLock::new(Arc::new(snapshot)),
            source: None,
        }
    }

    /// Loads `dir` (plus `extra`, built-in distributions without a file), reporting each file
    /// that could not be loaded.
    pub fn from_dir(
        dir: &Path,
        default_id: Option<String>,
        factory: Arc<dyn OriginFactory>,
        extra: Vec<Arc<Distribution>>,
        api: ApiResources,
    ) -> (Self, Vec<String>) {
        let reg = Self {
            current: RwLock::new(Arc::new(Snapshot::default())),
            source: Some(Source {
                dir: dir.to_owned(),
                default_id,
                factory,
                builtin: extra.iter().map(|d| d.id.clone()).collect(),
                state: std::sync::Mutex::new(SourceState {
                    last_good: extra.into_iter().map(|d| (d.id.clone(), d)).collect(),
                    api,
                    ..Default::default()
                }),
            }),
        };
        let errors = reg.reload_if_changed().unwrap_or_default();
        (reg, errors)
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Rereads the directory if any file in it changed; `Some(errors)` when it reloaded.
    pub fn reload_if_changed(&self) -> Option<Vec<String>> {
        let src = self.source.as_ref()?;
        let mut state = src
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let stamp = stamp_dir(&src.dir);
        if state.stamp.as_ref() == Some(&stamp) {
            return None;
        }
        state.stamp = Some(stamp);
        let mut errors = Vec::new();
        let policies = load_policies(&src.dir, &mut errors);
        let mut seen = Vec::new();
        // A file that no longer parses keeps its last good configuration.
        let mut configs: HashMap<String, FileDistribution> = state
            .files
            .distributions
            .iter()
            .map(|(id, c, t)| (id.clone(), (c.clone(), *t)))
            .collect();
        for (id, path) in json_files(&src.dir) {
            if !valid_distribution_id(&id) {
                errors.push(format!("{}: not a valid distribution ID", path.display()));
                continue;
            }
            seen.push(id.clone());
            let parsed = std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|t| parse_distribution_config(&t));
            match parsed {
                Ok(config) => {
                    let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
                    configs.insert(id, (config, modified));
                }
                Err(e) => errors.push(format!("{}: {e}", path.display())),
            }
        }
        // A deleted file takes its distribution with it; built-in ones have no file and stay.
        configs.retain(|id, _| seen.contains(id));
        let builtin = &src.builtin;
        state
            .last_good
            .retain(|id, _| seen.contains(id) || builtin.contains(id));
        let mut distributions: Vec<_> =
            configs.into_iter().map(|(id, (c, t))| (id, c, t)).collect();
        distributions.sort_by(|a, b| a.0.cmp(&b.0));
        state.files = Arc::new(FileResources {
            distributions,
            policies,
        });
        state.files_generation += 1;
        self.rebuild(src, &mut state, &mut errors);
        Some(errors)
    }

    /// Serves what the control API has (every distribution and policy, as of a change) besides
    /// the files'; answers what could not be built.
    pub fn set_api(&self, api: ApiResources) -> Vec<String> {
        let Some(src) = self.source.as_ref() else {
            return vec!["this edge has no distribution source".to_owned()];
        };
        let mut state = src
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut errors = Vec::new();
        state.api = api;
        self.rebuild(src, &mut state, &mut errors);
        errors
    }

    /// What the files define, as last read.
    pub fn files(&self) -> Arc<FileResources> {
        self.source.as_ref().map_or_else(Arc::default, |src| {
            src.state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .files
                .clone()
        })
    }

    /// Builds every distribution (files' and API's, with the policies of both: each may name
    /// the other's) and swaps in a snapshot of them.
    fn rebuild(&self, src: &Source, state: &mut SourceState, errors: &mut Vec<String>) {
        // Built distributions are reused while their configuration and everything they may
        // name (the policies, keys, functions and key value stores of the files and the API)
        // are unchanged: a change to one distribution rebuilds that one only, and the others
        // keep their origin connections.
        let inputs = (state.files_generation, state.api.policies_version);
        let everything = state.built_with != Some(inputs);
        let book = state.files.policies.merged_with(&state.api.policies);
        if everything {
            let files = state.files.clone();
            for (id, config, _) in &files.distributions {
                match Distribution::build(id, config.clone(), &book, &src.factory) {
                    Ok(d) => {
                        state.last_good.insert(id.clone(), Arc::new(d));
                    }
                    Err(e) => errors.push(format!(
                        "{}: {e}",
                        src.dir.join(format!("{id}.json")).display()
                    )),
                }
            }
            state.api_built.clear();
            state.built_with = Some(inputs);
        }
        let mut all: Vec<Arc<Distribution>> = state.last_good.values().cloned().collect();
        let mut built = HashMap::with_capacity(state.api.distributions.len());
        for (id, config) in &state.api.distributions {
            if state.last_good.contains_key(id) {
                errors.push(format!(
                    "{id}: a file defines this distribution too; the file's is served"
                ));
                continue;
            }
            if let Some((old, d)) = state.api_built.get(id)
                && old == config
            {
                all.push(d.clone());
                built.insert(id.clone(), (old.clone(), d.clone()));
                continue;
            }
            match Distribution::build(id, config.clone(), &book, &src.factory) {
                Ok(d) => {
                    let d = Arc::new(d);
                    all.push(d.clone());
                    built.insert(id.clone(), (config.clone(), d));
                }
                Err(e) => errors.push(format!("{id}: {e}")),
            }
        }
        state.api_built = built;
        let dists = one_owner_per_alias(all, &self.snapshot(), errors);
        let snap = Snapshot::new(dists, src.default_id.as_deref());
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(snap);
    }
}

/// Keeps each alias with one distribution, as CloudFront refuses a second one that claims it
/// (`CNAMEAlreadyExists`): the one that already answered on it keeps it, else the lowest ID;
/// a distribution that loses any alias is left out and reported.
fn one_owner_per_alias(
    mut dists: Vec<Arc<Distribution>>,
    previous: &Snapshot,
    errors: &mut Vec<String>,
) -> Vec<Arc<Distribution>> {
    let owned_before = |d: &Distribution| {
        d.aliases
            .iter()
            .any(|a| previous.by_alias.get(a).is_some_and(|p| p.id == d.id))
    };
    dists.sort_by(|a, b| {
        owned_before(b)
            .cmp(&owned_before(a))
            .then_with(|| a.id.cmp(&b.id))
    });
    let mut claimed: HashMap<&str, &str> = HashMap::new();
    let mut kept = Vec::new();
    for d in &dists {
        if let Some((alias, owner)) = d
            .aliases
            .iter()
            .find_map(|a| claimed.get(a.as_str()).map(|o| (a, *o)))
        {
            errors.push(format!(
                "{}: CNAMEAlreadyExists: the alias {alias} belongs to distribution {owner}",
                d.id
            ));
            continue;
        }
        for a in &d.aliases {
            claimed.insert(a, &d.id);
        }
        kept.push(d.clone());
    }
    kept
}

/// Accepts the bare `DistributionConfig` and the `get-distribution-config` output.
pub fn parse_distribution_config(text: &str) -> Result<DistributionConfig, String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Wrapped {
        distribution_config: DistributionConfig,
    }
    match serde_json::from_str::<Wrapped>(text) {
        Ok(w) => w
            .distribution_config
            .validate()
            .map(|()| w.distribution_config)
            .map_err(|e| e.to_string()),
        Err(_) => DistributionConfig::from_json(text).map_err(|e| e.to_string()),
    }
}

fn json_files(dir: &Path) -> Vec<(String, PathBuf)> {
    files_with_ext(dir, "json")
}

/// `(file stem, path)` of each file in `dir` whose name ends in `.EXT`, sorted.
pub(crate) fn files_with_ext(dir: &Path, ext: &str) -> Vec<(String, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<_> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == ext))
        .filter_map(|p| Some((p.file_stem()?.to_str()?.to_owned(), p)))
        .collect();
    out.sort();
    out
}

fn stamp_dir(dir: &Path) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
    let mut files = json_files(dir);
    files.extend(json_files(&dir.join("cache-policies")));
    files.extend(json_files(&dir.join("origin-request-policies")));
    files.extend(json_files(&dir.join("response-headers-policies")));
    files.extend(json_files(&dir.join("key-groups")));
    files.extend(json_files(&dir.join("public-keys")));
    files.extend(json_files(&dir.join("origin-access-controls")));
    files.extend(viewer_certificate::files(dir));
    files
        .into_iter()
        .map(|(_, p)| {
            let m = std::fs::metadata(&p).ok();
            let stamp = (
                m.as_ref().and_then(|m| m.modified().ok()),
                m.map_or(0, |m| m.len()),
            );
            (p, stamp.0, stamp.1)
        })
        .collect()
}

fn load_policies(dir: &Path, errors: &mut Vec<String>) -> PolicyBook {
    PolicyBook {
        cache: load_kind(dir, "cache-policies", CachePolicyConfig::from_json, errors),
        origin_request: load_kind(
            dir,
            "origin-request-policies",
            OriginRequestPolicyConfig::from_json,
            errors,
        ),
        response_headers: load_kind(
            dir,
            "response-headers-policies",
            ResponseHeadersPolicyConfig::from_json,
            errors,
        ),
        certificates: viewer_certificate::load_dir(dir, errors),
        key_groups: load_kind(dir, "key-groups", KeyGroupConfig::from_json, errors),
        public_keys: load_kind(dir, "public-keys", read_public_key, errors),
        origin_access_controls: load_kind(
            dir,
            "origin-access-controls",
            OriginAccessControlConfig::from_json,
            errors,
        ),
        functions: HashMap::new(),
    }
}

/// A `PublicKeyConfig` whose `EncodedKey` is a key CloudFront takes.
fn read_public_key(text: &str) -> Result<Arc<PublicKey>, ModelError> {
    let config = PublicKeyConfig::from_json(text)?;
    PublicKey::from_pem(&config.encoded_key)
        .map(Arc::new)
        .map_err(ModelError::Invalid)
}

/// The policies of one kind in `DIR/SUB/ID.json`; a file that fails is reported and skipped.
fn load_kind<T>(
    dir: &Path,
    sub: &str,
    parse: fn(&str) -> Result<T, ModelError>,
    errors: &mut Vec<String>,
) -> HashMap<String, T> {
    let mut found = HashMap::new();
    for (id, path) in json_files(&dir.join(sub)) {
        match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| parse(&t).map_err(|e| e.to_string()))
        {
            Ok(p) => {
                found.insert(id, p);
            }
            Err(e) => errors.push(format!("{}: {e}", path.display())),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const BARE: &str = r#"{"Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "b.s3.localhost", "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "o"}}"#;

    #[test]
    fn bare_and_get_distribution_config_forms() {
        assert!(parse_distribution_config(BARE).is_ok());
        let wrapped = format!(r#"{{"ETag": "E1", "DistributionConfig": {BARE}}}"#);
        assert!(parse_distribution_config(&wrapped).is_ok());
        let bad = BARE.replace("\"TargetOriginId\": \"o\"", "\"TargetOriginId\": \"x\"");
        assert!(parse_distribution_config(&format!(r#"{{"DistributionConfig": {bad}}}"#)).is_err());
        assert!(parse_distribution_config("[]").is_err());
    }

    #[test]
    fn hosts_ids_and_ports() {
        assert_eq!(strip_port("a.localhost:8080"), "a.localhost");
        assert_eq!(strip_port("[::1]:8080"), "[::1]");
        assert_eq!(strip_port("example.com"), "example.com");
        assert!(valid_distribution_id("E2QWRUHAPOMQZL") && !valid_distribution_id("../x"));
    }
}
