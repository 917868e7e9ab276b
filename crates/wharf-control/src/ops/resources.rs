//! The resources distributions refer to, which all follow one pattern: cache policies, origin
//! request policies, response headers policies, origin access controls, public keys and key
//! groups. Create (201, `Location`, `ETag`), Get, GetConfig, Update and Delete (`If-Match`),
//! List (`Marker`/`MaxItems`; policies also by `Type`, `managed` or `custom`). Names are unique
//! per kind (`…AlreadyExists`); a resource a distribution uses cannot be deleted (`…InUse`); the
//! AWS managed policies are listed, readable and immutable.

use serde_json::{Value, json};
use wharf_model::cloudfront::{
    CachePolicyConfig, KeyGroupConfig, MANAGED_CACHE_POLICIES, MANAGED_ORIGIN_REQUEST_POLICIES,
    MANAGED_RESPONSE_HEADERS_POLICIES, ModelError, OriginAccessControlConfig,
    OriginRequestPolicyConfig, PublicKeyConfig, ResponseHeadersPolicyConfig, managed_cache_policy,
    managed_origin_request_policy, managed_response_headers_policy,
};

use super::{Answer, check_if_match, page, required};
use crate::auth::Identity;
use crate::error::{ControlError, ControlResult};
use crate::ids::{iso, new_id, new_uuid, now};
use crate::protocol::Input;
use crate::state::{Kind, Resource, State, Write};
use crate::{API_PREFIX, Control, Files};

/// What is unique about a resource besides its ID.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unique {
    /// `Name` in the config.
    Name,
    /// `CallerReference` in the config: the same request again answers the same resource.
    CallerReference,
}

/// How one kind of resource is spoken of.
pub struct Spec {
    pub kind: Kind,
    /// `CachePolicy`: the output member, and the stem of the operation names.
    pub name: &'static str,
    /// The URI path under `/2020-05-31/`.
    path: &'static str,
    /// `NoSuchCachePolicy`.
    no_such: &'static str,
    already_exists: &'static str,
    in_use: &'static str,
    unique: Unique,
    new_id: fn() -> String,
    /// Checks a configuration as CloudFront does.
    check: fn(&str) -> Result<(), ModelError>,
    /// The resource's time member (`LastModifiedTime`, `CreatedTime`), if it has one.
    time: Option<&'static str>,
    /// The AWS managed resources of this kind.
    managed: &'static [&'static str],
    managed_config: fn(&str) -> Option<Value>,
    /// A list item (`…Summary`) for a resource; `managed` says its `Type`.
    summary: fn(&Spec, &Resource, bool) -> Value,
    /// Whether a distribution's configuration uses the resource.
    used_by: fn(&Value, &str) -> bool,
}

fn no_managed(_: &str) -> Option<Value> {
    None
}

/// `{Type, CachePolicy: {…}}`: the policies' summaries.
fn typed_summary(spec: &Spec, r: &Resource, managed: bool) -> Value {
    json!({"Type": if managed { "managed" } else { "custom" }, spec.name: resource_value(spec, r)})
}

/// The resource itself as its list item (key groups: `{KeyGroup: {…}}`).
fn wrapped_summary(spec: &Spec, r: &Resource, _: bool) -> Value {
    json!({spec.name: resource_value(spec, r)})
}

fn oac_summary(_: &Spec, r: &Resource, _: bool) -> Value {
    let c = &r.config;
    json!({
        "Id": r.id,
        "Description": c.get("Description").cloned().unwrap_or_else(|| "".into()),
        "Name": c["Name"],
        "SigningProtocol": c["SigningProtocol"],
        "SigningBehavior": c["SigningBehavior"],
        "OriginAccessControlOriginType": c["OriginAccessControlOriginType"],
    })
}

fn public_key_summary(_: &Spec, r: &Resource, _: bool) -> Value {
    let c = &r.config;
    json!({
        "Id": r.id,
        "Name": c["Name"],
        "CreatedTime": iso(r.created),
        "EncodedKey": c["EncodedKey"],
        "Comment": c.get("Comment").cloned().unwrap_or_else(|| "".into()),
    })
}

/// Every cache behavior of a distribution's configuration.
fn behaviors(config: &Value) -> impl Iterator<Item = &Value> {
    std::iter::once(&config["DefaultCacheBehavior"]).chain(
        config["CacheBehaviors"]["Items"]
            .as_array()
            .into_iter()
            .flatten(),
    )
}

fn names_in_behaviors(member: &'static str) -> impl Fn(&Value, &str) -> bool {
    move |config, id| behaviors(config).any(|b| b[member] == id)
}

fn uses_key_group(config: &Value, id: &str) -> bool {
    behaviors(config).any(|b| {
        b["TrustedKeyGroups"]["Items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|i| i == id))
    })
}

fn uses_oac(config: &Value, id: &str) -> bool {
    config["Origins"]["Items"]
        .as_array()
        .is_some_and(|origins| origins.iter().any(|o| o["OriginAccessControlId"] == id))
}

fn never_used(_: &Value, _: &str) -> bool {
    false
}

pub static CACHE_POLICY: Spec = Spec {
    kind: Kind::CachePolicy,
    name: "CachePolicy",
    path: "cache-policy",
    no_such: "NoSuchCachePolicy",
    already_exists: "CachePolicyAlreadyExists",
    in_use: "CachePolicyInUse",
    unique: Unique::Name,
    new_id: new_uuid,
    check: |t| CachePolicyConfig::from_json(t).map(|_| ()),
    time: Some("LastModifiedTime"),
    managed: &MANAGED_CACHE_POLICIES,
    managed_config: |id| managed_cache_policy(id).and_then(|c| serde_json::to_value(c).ok()),
    summary: typed_summary,
    used_by: |c, id| names_in_behaviors("CachePolicyId")(c, id),
};

pub static ORIGIN_REQUEST_POLICY: Spec = Spec {
    kind: Kind::OriginRequestPolicy,
    name: "OriginRequestPolicy",
    path: "origin-request-policy",
    no_such: "NoSuchOriginRequestPolicy",
    already_exists: "OriginRequestPolicyAlreadyExists",
    in_use: "OriginRequestPolicyInUse",
    unique: Unique::Name,
    new_id: new_uuid,
    check: |t| OriginRequestPolicyConfig::from_json(t).map(|_| ()),
    time: Some("LastModifiedTime"),
    managed: &MANAGED_ORIGIN_REQUEST_POLICIES,
    managed_config: |id| {
        managed_origin_request_policy(id).and_then(|c| serde_json::to_value(c).ok())
    },
    summary: typed_summary,
    used_by: |c, id| names_in_behaviors("OriginRequestPolicyId")(c, id),
};

pub static RESPONSE_HEADERS_POLICY: Spec = Spec {
    kind: Kind::ResponseHeadersPolicy,
    name: "ResponseHeadersPolicy",
    path: "response-headers-policy",
    no_such: "NoSuchResponseHeadersPolicy",
    already_exists: "ResponseHeadersPolicyAlreadyExists",
    in_use: "ResponseHeadersPolicyInUse",
    unique: Unique::Name,
    new_id: new_uuid,
    check: |t| ResponseHeadersPolicyConfig::from_json(t).map(|_| ()),
    time: Some("LastModifiedTime"),
    managed: &MANAGED_RESPONSE_HEADERS_POLICIES,
    managed_config: |id| {
        managed_response_headers_policy(id).and_then(|c| serde_json::to_value(c).ok())
    },
    summary: typed_summary,
    used_by: |c, id| names_in_behaviors("ResponseHeadersPolicyId")(c, id),
};

pub static ORIGIN_ACCESS_CONTROL: Spec = Spec {
    kind: Kind::OriginAccessControl,
    name: "OriginAccessControl",
    path: "origin-access-control",
    no_such: "NoSuchOriginAccessControl",
    already_exists: "OriginAccessControlAlreadyExists",
    in_use: "OriginAccessControlInUse",
    unique: Unique::Name,
    new_id: || new_id('E'),
    check: |t| OriginAccessControlConfig::from_json(t).map(|_| ()),
    time: None,
    managed: &[],
    managed_config: no_managed,
    summary: oac_summary,
    used_by: uses_oac,
};

pub static PUBLIC_KEY: Spec = Spec {
    kind: Kind::PublicKey,
    name: "PublicKey",
    path: "public-key",
    no_such: "NoSuchPublicKey",
    already_exists: "PublicKeyAlreadyExists",
    in_use: "PublicKeyInUse",
    unique: Unique::CallerReference,
    new_id: || new_id('K'),
    check: |t| {
        let k = PublicKeyConfig::from_json(t)?;
        wharf_auth::cloudfront_signature::PublicKey::from_pem(&k.encoded_key)
            .map(|_| ())
            .map_err(ModelError::Invalid)
    },
    time: Some("CreatedTime"),
    managed: &[],
    managed_config: no_managed,
    summary: public_key_summary,
    used_by: never_used,
};

pub static KEY_GROUP: Spec = Spec {
    kind: Kind::KeyGroup,
    name: "KeyGroup",
    path: "key-group",
    no_such: "NoSuchResource",
    already_exists: "KeyGroupAlreadyExists",
    in_use: "ResourceInUse",
    unique: Unique::Name,
    new_id: new_uuid,
    check: |t| KeyGroupConfig::from_json(t).map(|_| ()),
    time: Some("LastModifiedTime"),
    managed: &[],
    managed_config: no_managed,
    summary: wrapped_summary,
    used_by: uses_key_group,
};

/// The spec and verb of an operation on one of these kinds (`GetCachePolicyConfig`).
pub fn operation(name: &str) -> Option<(&'static Spec, Verb)> {
    let specs = [
        &CACHE_POLICY,
        &ORIGIN_REQUEST_POLICY,
        &RESPONSE_HEADERS_POLICY,
        &ORIGIN_ACCESS_CONTROL,
        &PUBLIC_KEY,
        &KEY_GROUP,
    ];
    for spec in specs {
        let plural = match spec.name.strip_suffix('y') {
            Some(stem) if spec.name.ends_with("Policy") => format!("{stem}ies"),
            _ => format!("{}s", spec.name),
        };
        let verb = if name == format!("Create{}", spec.name) {
            Verb::Create
        } else if name == format!("Get{}", spec.name) {
            Verb::Get
        } else if name == format!("Get{}Config", spec.name) {
            Verb::GetConfig
        } else if name == format!("Update{}", spec.name) {
            Verb::Update
        } else if name == format!("Delete{}", spec.name) {
            Verb::Delete
        } else if name == format!("List{plural}") {
            Verb::List
        } else {
            continue;
        };
        return Some((spec, verb));
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Create,
    Get,
    GetConfig,
    Update,
    Delete,
    List,
}

pub fn run(
    c: &Control,
    who: &Identity,
    input: &Input,
    spec: &'static Spec,
    verb: Verb,
) -> ControlResult<Answer> {
    match verb {
        Verb::Create => create(c, who, input, spec),
        Verb::Get | Verb::GetConfig => get(c, who, input, spec, verb),
        Verb::Update => update(c, who, input, spec),
        Verb::Delete => delete(c, who, input, spec),
        Verb::List => list(c, who, input, spec),
    }
}

fn config_member(spec: &Spec) -> String {
    format!("{}Config", spec.name)
}

/// The resource's shape: `{Id, LastModifiedTime, CachePolicyConfig}`.
fn resource_value(spec: &Spec, r: &Resource) -> Value {
    let mut v = json!({"Id": r.id});
    if let Some(time) = spec.time {
        let t = if time == "CreatedTime" {
            r.created
        } else {
            r.modified
        };
        v[time] = iso(t).into();
    }
    v[config_member(spec)] = r.config.clone();
    v
}

fn no_such(spec: &Spec, id: &str) -> ControlError {
    ControlError::new(
        spec.no_such,
        format!("The {} {id} does not exist.", spec.name),
    )
}

fn managed(spec: &Spec, id: &str) -> Option<Resource> {
    let config = (spec.managed_config)(id)?;
    Some(Resource {
        kind: spec.kind,
        id: id.to_owned(),
        etag: crate::ids::content_etag('M', &config),
        config,
        created: 0,
        modified: 0,
        status: String::new(),
        seq: 0,
        tags: Vec::new(),
        extra: Value::Null,
    })
}

fn checked_config(spec: &Spec, input: &Input) -> ControlResult<Value> {
    let config = input
        .value(&config_member(spec))
        .ok_or_else(|| {
            ControlError::new(
                "MissingBody",
                format!("{} is required", config_member(spec)),
            )
        })?
        .clone();
    (spec.check)(&config.to_string()).map_err(|e| match e {
        ModelError::Malformed(m) => ControlError::malformed_xml(m),
        ModelError::Invalid(m) => ControlError::invalid_argument(m),
    })?;
    Ok(config)
}

fn unique_value(spec: &Spec, config: &Value) -> Value {
    match spec.unique {
        Unique::Name => config["Name"].clone(),
        Unique::CallerReference => config["CallerReference"].clone(),
    }
}

/// Another resource of the kind already has this name; `Ok(Some(r))`: this very request was
/// made before (same `CallerReference` and config).
fn check_unique<'a>(
    spec: &Spec,
    s: &'a State,
    this: Option<&str>,
    config: &Value,
) -> ControlResult<Option<&'a Resource>> {
    let key = unique_value(spec, config);
    let clash = s
        .of_kind(spec.kind)
        .find(|r| Some(r.id.as_str()) != this && unique_value(spec, &r.config) == key);
    let managed_clash = spec.unique == Unique::Name
        && spec
            .managed
            .iter()
            .any(|id| (spec.managed_config)(id).is_some_and(|m| m["Name"] == key));
    match clash {
        Some(r) if spec.unique == Unique::CallerReference && r.config == *config => Ok(Some(r)),
        Some(r) => Err(ControlError::new(
            spec.already_exists,
            format!(
                "A {} with this {} already exists: {}",
                spec.name,
                unique_name(spec),
                r.id
            ),
        )),
        None if managed_clash => Err(ControlError::new(
            spec.already_exists,
            format!("A managed {} has this name.", spec.name),
        )),
        None => Ok(None),
    }
}

fn unique_name(spec: &Spec) -> &'static str {
    match spec.unique {
        Unique::Name => "name",
        Unique::CallerReference => "CallerReference",
    }
}

/// Public keys a key group names exist.
fn check_key_group_keys(s: &State, files: &Files, config: &Value) -> ControlResult<()> {
    for key in config["Items"].as_array().into_iter().flatten() {
        let key = key.as_str().unwrap_or_default();
        if s.get(Kind::PublicKey, key).is_none()
            && !files.resources.contains(&(Kind::PublicKey, key.to_owned()))
        {
            return Err(ControlError::new(
                "NoSuchPublicKey",
                format!("The public key {key} does not exist."),
            ));
        }
    }
    Ok(())
}

fn answer(spec: &Spec, r: &Resource, created: bool) -> Answer {
    let mut a = Answer::new()
        .with(spec.name, resource_value(spec, r))
        .with("ETag", r.etag.clone());
    if created {
        a = a.with("Location", format!("{API_PREFIX}{}/{}", spec.path, r.id));
    }
    a
}

fn create(c: &Control, who: &Identity, input: &Input, spec: &Spec) -> ControlResult<Answer> {
    c.allow(who, &format!("Create{}", spec.name), spec.kind, "*")?;
    let config = checked_config(spec, input)?;
    let files = c.files();
    let (r, fresh) = c.db.change(|s, seq| {
        if let Some(earlier) = check_unique(spec, s, None, &config)? {
            return Ok((Vec::new(), (earlier.clone(), false)));
        }
        crate::limits::check_count(s, spec.kind)?;
        if spec.kind == Kind::KeyGroup {
            check_key_group_keys(s, &files, &config)?;
        }
        let id = loop {
            let id = (spec.new_id)();
            if s.get(spec.kind, &id).is_none() {
                break id;
            }
        };
        let t = now();
        let r = Resource {
            kind: spec.kind,
            id,
            etag: new_id('E'),
            config: config.clone(),
            created: t,
            modified: t,
            status: String::new(),
            seq,
            tags: Vec::new(),
            extra: Value::Null,
        };
        Ok((vec![Write::Put(r.clone())], (r, true)))
    })?;
    if fresh {
        c.publish(r.seq);
    }
    Ok(answer(spec, &r, true))
}

fn find(c: &Control, spec: &Spec, id: &str) -> ControlResult<Resource> {
    c.db.read(|s| s.get(spec.kind, id).cloned())
        .or_else(|| managed(spec, id))
        .ok_or_else(|| no_such(spec, id))
}

fn get(
    c: &Control,
    who: &Identity,
    input: &Input,
    spec: &Spec,
    verb: Verb,
) -> ControlResult<Answer> {
    let id = required(input, "Id")?;
    let op = if verb == Verb::GetConfig {
        format!("Get{}Config", spec.name)
    } else {
        format!("Get{}", spec.name)
    };
    c.allow(who, &op, spec.kind, id)?;
    let r = find(c, spec, id)?;
    if verb == Verb::GetConfig {
        return Ok(Answer::new()
            .with(&config_member(spec), r.config)
            .with("ETag", r.etag));
    }
    Ok(answer(spec, &r, false))
}

fn refuse_managed(spec: &Spec, id: &str, code: &str) -> ControlResult<()> {
    if spec.managed.contains(&id) {
        return Err(ControlError::new(
            code,
            format!("The managed {} {id} cannot be changed.", spec.name),
        ));
    }
    Ok(())
}

fn update(c: &Control, who: &Identity, input: &Input, spec: &Spec) -> ControlResult<Answer> {
    let id = required(input, "Id")?;
    c.allow(who, &format!("Update{}", spec.name), spec.kind, id)?;
    refuse_managed(spec, id, "IllegalUpdate")?;
    let config = checked_config(spec, input)?;
    let files = c.files();
    let r = c.db.change(|s, seq| {
        let current = s.get(spec.kind, id).ok_or_else(|| no_such(spec, id))?;
        check_if_match(input, &current.etag)?;
        if spec.kind == Kind::PublicKey
            && (config["EncodedKey"] != current.config["EncodedKey"]
                || config["CallerReference"] != current.config["CallerReference"])
        {
            return Err(ControlError::new(
                "CannotChangeImmutablePublicKeyFields",
                "A public key's EncodedKey and CallerReference cannot be changed.",
            ));
        }
        check_unique(spec, s, Some(id), &config)?;
        if spec.kind == Kind::KeyGroup {
            check_key_group_keys(s, &files, &config)?;
        }
        let r = Resource {
            etag: new_id('E'),
            config: config.clone(),
            modified: now(),
            seq,
            ..current.clone()
        };
        Ok((vec![Write::Put(r.clone())], r))
    })?;
    c.publish(r.seq);
    Ok(answer(spec, &r, false))
}

fn delete(c: &Control, who: &Identity, input: &Input, spec: &Spec) -> ControlResult<Answer> {
    let id = required(input, "Id")?;
    c.allow(who, &format!("Delete{}", spec.name), spec.kind, id)?;
    refuse_managed(spec, id, "IllegalDelete")?;
    let files = c.files();
    let seq = c.db.change(|s, seq| {
        let current = s.get(spec.kind, id).ok_or_else(|| no_such(spec, id))?;
        check_if_match(input, &current.etag)?;
        let used = s
            .of_kind(Kind::Distribution)
            .map(|d| &d.config)
            .chain(files.distributions.values().map(|f| &f.config))
            .any(|config| (spec.used_by)(config, id));
        let key_in_group = spec.kind == Kind::PublicKey
            && s.of_kind(Kind::KeyGroup).any(|g| {
                g.config["Items"]
                    .as_array()
                    .is_some_and(|items| items.iter().any(|i| i == id))
            });
        if used || key_in_group {
            return Err(ControlError::new(
                spec.in_use,
                format!("The {} {id} is in use.", spec.name),
            ));
        }
        Ok((vec![Write::Delete(spec.kind, id.to_owned())], seq))
    })?;
    c.publish(seq);
    Ok(Answer::new())
}

fn list(c: &Control, who: &Identity, input: &Input, spec: &Spec) -> ControlResult<Answer> {
    c.allow(who, input.operation, spec.kind, "*")?;
    let wanted = input.str("Type");
    if let Some(t) = wanted
        && t != "managed"
        && t != "custom"
    {
        return Err(ControlError::invalid_argument(format!(
            "Type must be managed or custom, not {t}"
        )));
    }
    let mut all: Vec<(String, Value)> = Vec::new();
    if wanted != Some("custom") {
        for id in spec.managed {
            if let Some(r) = managed(spec, id) {
                all.push((id.to_string(), (spec.summary)(spec, &r, true)));
            }
        }
    }
    if wanted != Some("managed") {
        c.db.read(|s| {
            for r in s.of_kind(spec.kind) {
                all.push((r.id.clone(), (spec.summary)(spec, r, false)));
            }
        });
    }
    // Managed first (in their list's order), then the account's by ID.
    let (found, mut meta) = page(input, all)?;
    if !found.is_empty() {
        meta.insert("Items".into(), Value::Array(found));
    }
    Ok(Answer::new().with(&format!("{}List", spec.name), Value::Object(meta)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_six_operations_in_the_model() {
        let m = crate::service_model::model();
        for spec in [
            &CACHE_POLICY,
            &ORIGIN_REQUEST_POLICY,
            &RESPONSE_HEADERS_POLICY,
            &ORIGIN_ACCESS_CONTROL,
            &PUBLIC_KEY,
            &KEY_GROUP,
        ] {
            let ops: Vec<&String> = m
                .operations
                .keys()
                .filter(|op| operation(op).is_some_and(|(s, _)| std::ptr::eq(s, spec)))
                .collect();
            assert_eq!(ops.len(), 6, "{}: {ops:?}", spec.name);
            assert!(m.shapes.contains_key(spec.no_such), "{}", spec.no_such);
            assert!(
                m.shapes.contains_key(spec.already_exists),
                "{}",
                spec.already_exists
            );
            assert!(m.shapes.contains_key(spec.in_use), "{}", spec.in_use);
        }
    }
}
