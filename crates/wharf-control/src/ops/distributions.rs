//! Distributions: Create (and CreateWithTags), Get, GetConfig, Update, Delete, List.
//!
//! A change leaves the distribution `InProgress` until the edge serves it, then `Deployed`.
//! Updates and deletes name the version they change (`If-Match`: the `ETag` a Get answered).
//! A distribution is deleted only once disabled and deployed, as CloudFront requires.

use serde_json::{Value, json};
use wharf_model::cloudfront::{
    DistributionConfig, managed_cache_policy, managed_origin_request_policy,
    managed_response_headers_policy,
};

use super::{Answer, check_if_match, items, page, required};
use crate::auth::Identity;
use crate::error::{ControlError, ControlResult};
use crate::ids::{iso, new_id, now};
use crate::protocol::Input;
use crate::state::{Kind, Resource, State, Write};
use crate::{API_PREFIX, Control, DOMAIN_SUFFIX, Files};

/// A distribution's `DomainName`.
pub fn domain_name(id: &str) -> String {
    format!("{}{DOMAIN_SUFFIX}", id.to_ascii_lowercase())
}

/// Checks a configuration as CloudFront does on create and update; answers it typed.
fn typed(config: &Value) -> ControlResult<DistributionConfig> {
    let text = config.to_string();
    let typed = DistributionConfig::from_json(&text).map_err(|e| match e {
        wharf_model::cloudfront::ModelError::Malformed(m) => ControlError::malformed_xml(m),
        wharf_model::cloudfront::ModelError::Invalid(m) => ControlError::invalid_argument(m),
    })?;
    crate::limits::check_distribution(&typed)?;
    Ok(typed)
}

/// One alias per distribution across the API's and the files' (`CNAMEAlreadyExists`).
fn check_aliases(
    s: &State,
    files: &Files,
    this: Option<&str>,
    config: &DistributionConfig,
) -> ControlResult<()> {
    let others = s
        .of_kind(Kind::Distribution)
        .map(|r| (r.id.as_str(), &r.config))
        .chain(
            files
                .distributions
                .iter()
                .map(|(id, f)| (id.as_str(), &f.config)),
        )
        .filter(|(id, _)| Some(*id) != this);
    for (id, other) in others {
        let taken = other["Aliases"]["Items"].as_array().into_iter().flatten();
        for alias in taken.filter_map(Value::as_str) {
            if config
                .aliases
                .items
                .iter()
                .any(|a| a.eq_ignore_ascii_case(alias))
            {
                return Err(ControlError::new(
                    "CNAMEAlreadyExists",
                    format!(
                        "One or more of the CNAMEs you provided are already associated with a different resource: {alias} ({id})."
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Every policy, origin access control and key group the configuration names exists.
fn check_references(s: &State, files: &Files, config: &DistributionConfig) -> ControlResult<()> {
    let exists = |kind: Kind, id: &str| {
        s.get(kind, id).is_some() || files.resources.contains(&(kind, id.to_owned()))
    };
    let named = |id: &Option<String>| id.clone().filter(|i| !i.is_empty());
    let behaviors =
        std::iter::once(&config.default_cache_behavior).chain(config.cache_behaviors.items.iter());
    for b in behaviors {
        if let Some(id) = named(&b.cache_policy_id)
            && managed_cache_policy(&id).is_none()
            && !exists(Kind::CachePolicy, &id)
        {
            return Err(ControlError::new(
                "NoSuchCachePolicy",
                format!("The cache policy {id} does not exist."),
            ));
        }
        if let Some(id) = named(&b.origin_request_policy_id)
            && managed_origin_request_policy(&id).is_none()
            && !exists(Kind::OriginRequestPolicy, &id)
        {
            return Err(ControlError::new(
                "NoSuchOriginRequestPolicy",
                format!("The origin request policy {id} does not exist."),
            ));
        }
        if let Some(id) = named(&b.response_headers_policy_id)
            && managed_response_headers_policy(&id).is_none()
            && !exists(Kind::ResponseHeadersPolicy, &id)
        {
            return Err(ControlError::new(
                "NoSuchResponseHeadersPolicy",
                format!("The response headers policy {id} does not exist."),
            ));
        }
        if let Some(groups) = &b.trusted_key_groups {
            for id in &groups.items {
                if !exists(Kind::KeyGroup, id) {
                    return Err(ControlError::new(
                        "TrustedKeyGroupDoesNotExist",
                        format!("The key group {id} does not exist."),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The `Distribution` shape of a resource.
fn distribution(c: &Control, s: &State, r: &Resource) -> Value {
    let in_progress = s
        .invalidations
        .range((r.id.clone(), String::new())..)
        .take_while(|((d, _), _)| *d == r.id)
        .filter(|(_, i)| i.seq > s.applied)
        .count();
    json!({
        "Id": r.id,
        "ARN": c.arn(Kind::Distribution, &r.id),
        "Status": status(s, r),
        "LastModifiedTime": iso(r.modified),
        "InProgressInvalidationBatches": in_progress,
        "DomainName": domain_name(&r.id),
        "ActiveTrustedSigners": {"Enabled": false, "Quantity": 0},
        "ActiveTrustedKeyGroups": active_key_groups(&r.config),
        "DistributionConfig": r.config,
    })
}

fn status(s: &State, r: &Resource) -> &'static str {
    if r.seq <= s.applied {
        "Deployed"
    } else {
        "InProgress"
    }
}

/// The key groups the behaviors trust (`ActiveTrustedKeyGroups`).
fn active_key_groups(config: &Value) -> Value {
    let mut groups: Vec<String> = Vec::new();
    let behaviors = std::iter::once(&config["DefaultCacheBehavior"]).chain(
        config["CacheBehaviors"]["Items"]
            .as_array()
            .into_iter()
            .flatten(),
    );
    for b in behaviors {
        let list = &b["TrustedKeyGroups"];
        if list["Enabled"] == true {
            for id in list["Items"].as_array().into_iter().flatten() {
                if let Some(id) = id.as_str()
                    && !groups.iter().any(|g| g == id)
                {
                    groups.push(id.to_owned());
                }
            }
        }
    }
    let mut v = items(
        groups
            .iter()
            .map(|g| json!({"KeyGroupId": g, "KeyPairIds": {"Quantity": 0}}))
            .collect(),
    );
    v["Enabled"] = (!groups.is_empty()).into();
    v
}

/// A file-defined distribution, as a resource (its ETag stands for its content).
fn file_resource(id: &str, f: &crate::FileDistribution) -> Resource {
    Resource {
        kind: Kind::Distribution,
        id: id.to_owned(),
        etag: crate::ids::content_etag('F', &f.config),
        config: f.config.clone(),
        created: f.modified,
        modified: f.modified,
        status: String::new(),
        // The edge has loaded it.
        seq: 0,
        tags: Vec::new(),
        extra: Value::Null,
    }
}

/// The resource `id`, from the API's state or the files.
fn find(s: &State, files: &Files, id: &str) -> ControlResult<Resource> {
    s.get(Kind::Distribution, id)
        .cloned()
        .or_else(|| files.distributions.get(id).map(|f| file_resource(id, f)))
        .ok_or_else(no_such_distribution)
}

pub fn no_such_distribution() -> ControlError {
    ControlError::new(
        "NoSuchDistribution",
        "The specified distribution does not exist.",
    )
}

fn illegal_file_update(id: &str) -> ControlError {
    ControlError::new(
        "IllegalUpdate",
        format!(
            "Distribution {id} is defined by a file in distributions_dir; change the file instead."
        ),
    )
}

/// The answer with a distribution, its `ETag` and (on create) `Location`.
fn answer(c: &Control, s: &State, r: &Resource, created: bool) -> Answer {
    let mut a = Answer::new()
        .with("Distribution", distribution(c, s, r))
        .with("ETag", r.etag.clone());
    if created {
        a = a.with("Location", format!("{API_PREFIX}distribution/{}", r.id));
    }
    a
}

pub fn create(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    c.allow(who, "CreateDistribution", Kind::Distribution, "*")?;
    let (config, tags) = if input.operation == "CreateDistributionWithTags" {
        c.allow(who, "TagResource", Kind::Distribution, "*")?;
        let with_tags = input.value("DistributionConfigWithTags").ok_or_else(|| {
            ControlError::new("MissingBody", "DistributionConfigWithTags is required")
        })?;
        (
            with_tags["DistributionConfig"].clone(),
            super::tags::from_value(&with_tags["Tags"])?,
        )
    } else {
        let config = input
            .value("DistributionConfig")
            .ok_or_else(|| ControlError::new("MissingBody", "DistributionConfig is required"))?;
        (config.clone(), Vec::new())
    };
    let typed = typed(&config)?;
    let files = c.files();
    let (r, seq, state_answer) = c.db.change(|s, seq| {
        let caller_ref = &config["CallerReference"];
        if let Some(existing) = s
            .of_kind(Kind::Distribution)
            .find(|r| r.config["CallerReference"] == *caller_ref)
        {
            // The same request again answers the distribution it made.
            if existing.config == config {
                let a = answer(c, s, existing, true);
                return Ok((Vec::new(), (existing.clone(), None, Some(a))));
            }
            return Err(ControlError::new(
                "DistributionAlreadyExists",
                format!(
                    "The caller reference that you are using to create a distribution is associated with another distribution. Already exists: {}",
                    existing.id
                ),
            ));
        }
        crate::limits::check_count(s, Kind::Distribution)?;
        check_aliases(s, &files, None, &typed)?;
        check_references(s, &files, &typed)?;
        super::functions::check_associations(c, s, &config)?;
        let id = loop {
            let id = new_id('E');
            if s.get(Kind::Distribution, &id).is_none() && !files.distributions.contains_key(&id) {
                break id;
            }
        };
        let t = now();
        let r = Resource {
            kind: Kind::Distribution,
            id,
            etag: new_id('E'),
            config: config.clone(),
            created: t,
            modified: t,
            status: String::new(),
            seq,
            tags: tags.clone(),
            extra: Value::Null,
        };
        Ok((vec![Write::Put(r.clone())], (r, Some(seq), None)))
    })?;
    if let Some(a) = state_answer {
        return Ok(a);
    }
    if let Some(seq) = seq {
        c.publish(seq);
    }
    Ok(c.db.read(|s| answer(c, s, &r, true)))
}

pub fn get(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    let id = required(input, "Id")?;
    c.allow(who, "GetDistribution", Kind::Distribution, id)?;
    let files = c.files();
    c.db.read(|s| {
        let r = find(s, &files, id)?;
        Ok(answer(c, s, &r, false))
    })
}

pub fn get_config(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    let id = required(input, "Id")?;
    c.allow(who, "GetDistributionConfig", Kind::Distribution, id)?;
    let files = c.files();
    let r = c.db.read(|s| find(s, &files, id))?;
    Ok(Answer::new()
        .with("DistributionConfig", r.config)
        .with("ETag", r.etag))
}

pub fn update(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    let id = required(input, "Id")?;
    c.allow(who, "UpdateDistribution", Kind::Distribution, id)?;
    let config = input
        .value("DistributionConfig")
        .ok_or_else(|| ControlError::new("MissingBody", "DistributionConfig is required"))?
        .clone();
    let files = c.files();
    if files.distributions.contains_key(id) {
        return Err(illegal_file_update(id));
    }
    let (r, seq) = c.db.change(|s, seq| {
        let current = s
            .get(Kind::Distribution, id)
            .ok_or_else(no_such_distribution)?;
        check_if_match(input, &current.etag)?;
        if config["CallerReference"] != current.config["CallerReference"] {
            return Err(ControlError::new(
                "IllegalUpdate",
                "The CallerReference of a distribution cannot be changed.",
            ));
        }
        let typed = typed(&config)?;
        check_aliases(s, &files, Some(id), &typed)?;
        check_references(s, &files, &typed)?;
        super::functions::check_associations(c, s, &config)?;
        let r = Resource {
            etag: new_id('E'),
            config: config.clone(),
            modified: now(),
            seq,
            ..current.clone()
        };
        Ok((vec![Write::Put(r.clone())], (r, seq)))
    })?;
    c.publish(seq);
    Ok(c.db.read(|s| answer(c, s, &r, false)))
}

pub fn delete(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    let id = required(input, "Id")?;
    c.allow(who, "DeleteDistribution", Kind::Distribution, id)?;
    if c.files().distributions.contains_key(id) {
        return Err(illegal_file_update(id));
    }
    let seq = c.db.change(|s, seq| {
        let current = s
            .get(Kind::Distribution, id)
            .ok_or_else(no_such_distribution)?;
        check_if_match(input, &current.etag)?;
        if current.config["Enabled"] != false || status(s, current) != "Deployed" {
            return Err(ControlError::new(
                "DistributionNotDisabled",
                "The distribution you are trying to delete has not been disabled, or its last change is not yet deployed.",
            ));
        }
        Ok((vec![Write::Delete(Kind::Distribution, id.to_owned())], seq))
    })?;
    c.publish(seq);
    Ok(Answer::new())
}

/// A `DistributionSummary`: the configuration's members it has, with CloudFront's defaults
/// for the ones it requires.
fn summary(c: &Control, s: &State, r: &Resource) -> Value {
    let mut v = json!({
        "Id": r.id,
        "ARN": c.arn(Kind::Distribution, &r.id),
        "ETag": r.etag,
        "Status": status(s, r),
        "LastModifiedTime": iso(r.modified),
        "DomainName": domain_name(&r.id),
        "Aliases": {"Quantity": 0},
        "OriginGroups": {"Quantity": 0},
        "CacheBehaviors": {"Quantity": 0},
        "CustomErrorResponses": {"Quantity": 0},
        "Comment": "",
        "PriceClass": "PriceClass_All",
        "ViewerCertificate": {"CloudFrontDefaultCertificate": true, "SSLSupportMethod": "vip", "MinimumProtocolVersion": "TLSv1", "CertificateSource": "cloudfront"},
        "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
        "WebACLId": "",
        "HttpVersion": "http2",
        "IsIPV6Enabled": false,
        "Staging": false,
    });
    let summary_members = &crate::service_model::model()
        .shape("DistributionSummary")
        .members;
    if let Value::Object(config) = &r.config {
        for (k, val) in config {
            if summary_members.get(k).is_some() {
                v[k] = val.clone();
            }
        }
    }
    v
}

pub fn list(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    c.allow(who, "ListDistributions", Kind::Distribution, "*")?;
    let files = c.files();
    c.db.read(|s| {
        let mut all: Vec<(String, Value)> = s
            .of_kind(Kind::Distribution)
            .map(|r| (r.id.clone(), summary(c, s, r)))
            .collect();
        for (id, f) in &files.distributions {
            if s.get(Kind::Distribution, id).is_none() {
                all.push((id.clone(), summary(c, s, &file_resource(id, f))));
            }
        }
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let (found, mut list) = page(input, all)?;
        if !found.is_empty() {
            list.insert("Items".into(), Value::Array(found));
        }
        Ok(Answer::new().with("DistributionList", Value::Object(list)))
    })
}
