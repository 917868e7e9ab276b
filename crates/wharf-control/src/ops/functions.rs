//! CloudFront Functions: Create, Describe, Get, Update, Publish, Test, List, Delete.
//!
//! A function has two stages: `DEVELOPMENT`, which Create and Update change and TestFunction
//! runs by default, and `LIVE`, which PublishFunction copies from it and which distributions'
//! `FunctionAssociations` run. The development stage's `ETag` is the one Update, Publish,
//! Test and Delete name in `If-Match`.

use serde_json::{Value, json};
use wharf_functions::{Function, FunctionError, JsRuntime, engine};

use super::{Answer, check_if_match, page, required};
use crate::auth::Identity;
use crate::error::{ControlError, ControlResult};
use crate::ids::{iso, new_id, now};
use crate::protocol::Input;
use crate::state::{KeyValues, Kind, Resource, State, Write};
use crate::{API_PREFIX, Control};

const DEVELOPMENT: &str = "DEVELOPMENT";
const LIVE: &str = "LIVE";
/// The largest TestFunction event object.
const MAX_EVENT_BYTES: usize = 40 * 1024;

fn no_such(name: &str) -> ControlError {
    ControlError::new(
        "NoSuchFunctionExists",
        format!("The function {name} does not exist."),
    )
}

/// The function's code from a request's base64 `FunctionCode`.
fn code_of(input: &Input) -> ControlResult<String> {
    let encoded = input.str("FunctionCode").unwrap_or_default();
    let bytes = base64_simd::STANDARD
        .decode_to_vec(encoded.trim().as_bytes())
        .map_err(|_| ControlError::invalid_argument("FunctionCode is not base64."))?;
    if bytes.len() > engine::MAX_CODE_BYTES {
        return Err(ControlError::new(
            "FunctionSizeLimitExceeded",
            format!(
                "The function code is {} bytes; the limit is {} bytes.",
                bytes.len(),
                engine::MAX_CODE_BYTES
            ),
        ));
    }
    String::from_utf8(bytes)
        .map_err(|_| ControlError::invalid_argument("FunctionCode is not UTF-8."))
}

fn runtime_of(config: &Value) -> ControlResult<JsRuntime> {
    let name = config["Runtime"].as_str().unwrap_or_default();
    JsRuntime::parse(name).ok_or_else(|| {
        ControlError::invalid_argument(format!(
            "Runtime {name} is not cloudfront-js-1.0 or cloudfront-js-2.0."
        ))
    })
}

/// The code compiles and defines `handler` (CloudFront checks this on Create and Update).
fn check_code(config: &Value, code: &str) -> ControlResult<()> {
    if key_value_store_arns(config).count() > 1 {
        return Err(ControlError::invalid_argument(
            "A function can be associated with one key value store.",
        ));
    }
    engine::check(runtime_of(config)?, code).map_err(|e| match e {
        FunctionError::Compile(m) => {
            ControlError::invalid_argument(format!("The function code is not valid: {m}"))
        }
        other => ControlError::invalid_argument(other.to_string()),
    })
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// One stage of a function: its config, code, ETag and times.
struct Stage<'a> {
    config: &'a Value,
    code: &'a str,
    etag: &'a str,
    modified: i64,
}

fn stage<'a>(r: &'a Resource, which: &str) -> Option<Stage<'a>> {
    if which == LIVE {
        let live = r.extra.get("live")?;
        return Some(Stage {
            config: &live["config"],
            code: live["code"].as_str().unwrap_or_default(),
            etag: live["etag"].as_str().unwrap_or_default(),
            modified: live["modified"].as_i64().unwrap_or(r.modified),
        });
    }
    Some(Stage {
        config: &r.config,
        code: r.extra["code"].as_str().unwrap_or_default(),
        etag: &r.etag,
        modified: r.modified,
    })
}

fn summary(c: &Control, r: &Resource, which: &str) -> Value {
    let s = stage(r, which).expect("the stage exists");
    json!({
        "Name": r.id,
        "Status": if which == LIVE { "DEPLOYED" } else { "UNPUBLISHED" },
        "FunctionConfig": s.config,
        "FunctionMetadata": {
            "FunctionARN": c.arn(Kind::Function, &r.id),
            "Stage": which,
            "CreatedTime": iso(r.created),
            "LastModifiedTime": iso(s.modified),
        },
    })
}

fn stage_param(input: &Input) -> ControlResult<&str> {
    match input.str("Stage") {
        None | Some("") => Ok(DEVELOPMENT),
        Some(s @ (DEVELOPMENT | LIVE)) => Ok(s),
        Some(other) => Err(ControlError::invalid_argument(format!(
            "Stage {other} is not DEVELOPMENT or LIVE."
        ))),
    }
}

fn find<'a>(s: &'a State, name: &str) -> ControlResult<&'a Resource> {
    s.get(Kind::Function, name).ok_or_else(|| no_such(name))
}

/// The function and its stage `which` (a function never published has no LIVE stage).
fn find_stage<'a>(
    s: &'a State,
    name: &str,
    which: &str,
) -> ControlResult<(&'a Resource, Stage<'a>)> {
    let r = find(s, name)?;
    Ok((r, stage(r, which).ok_or_else(|| no_such(name))?))
}

pub fn create(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    let name = required(input, "Name")?;
    c.allow(who, "CreateFunction", Kind::Function, name)?;
    if !valid_name(name) {
        return Err(ControlError::invalid_argument(
            "A function name is 1 to 64 letters, digits, hyphens and underscores.",
        ));
    }
    let config = input
        .value("FunctionConfig")
        .cloned()
        .unwrap_or(Value::Null);
    let code = code_of(input)?;
    check_code(&config, &code)?;
    let tags = super::tags::from_value(input.value("Tags").unwrap_or(&Value::Null))?;
    let r = c.db.change(|s, seq| {
        check_stores(c, s, &config)?;
        crate::limits::check_count(s, Kind::Function)?;
        if s.get(Kind::Function, name).is_some() {
            return Err(ControlError::new(
                "FunctionAlreadyExists",
                format!("A function named {name} already exists."),
            ));
        }
        let t = now();
        let r = Resource {
            kind: Kind::Function,
            id: name.to_owned(),
            etag: new_id('E'),
            config: config.clone(),
            created: t,
            modified: t,
            status: String::new(),
            seq,
            tags: tags.clone(),
            extra: json!({"code": code}),
        };
        Ok((vec![Write::Put(r.clone())], r))
    })?;
    Ok(Answer::new()
        .with("FunctionSummary", summary(c, &r, DEVELOPMENT))
        .with("ETag", r.etag.clone())
        .with(
            "Location",
            format!("{API_PREFIX}function/{}", c.arn(Kind::Function, name)),
        ))
}

pub fn describe(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    let name = required(input, "Name")?;
    c.allow(who, "DescribeFunction", Kind::Function, name)?;
    let which = stage_param(input)?;
    c.db.read(|s| {
        let (r, st) = find_stage(s, name, which)?;
        Ok(Answer::new()
            .with("FunctionSummary", summary(c, r, which))
            .with("ETag", st.etag.to_owned()))
    })
}

pub fn get(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    let name = required(input, "Name")?;
    c.allow(who, "GetFunction", Kind::Function, name)?;
    let which = stage_param(input)?;
    c.db.read(|s| {
        let (_, st) = find_stage(s, name, which)?;
        Ok(Answer::new()
            .with("FunctionCode", st.code.to_owned())
            .with("ETag", st.etag.to_owned())
            .with("ContentType", "application/octet-stream"))
    })
}

pub fn update(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    let name = required(input, "Name")?;
    c.allow(who, "UpdateFunction", Kind::Function, name)?;
    let config = input
        .value("FunctionConfig")
        .cloned()
        .unwrap_or(Value::Null);
    let code = code_of(input)?;
    check_code(&config, &code)?;
    let r = c.db.change(|s, seq| {
        let current = find(s, name)?;
        check_if_match(input, &current.etag)?;
        check_stores(c, s, &config)?;
        let mut extra = current.extra.clone();
        extra["code"] = code.clone().into();
        let r = Resource {
            etag: new_id('E'),
            config: config.clone(),
            modified: now(),
            seq,
            extra,
            ..current.clone()
        };
        Ok((vec![Write::Put(r.clone())], r))
    })?;
    Ok(Answer::new()
        .with("FunctionSummary", summary(c, &r, DEVELOPMENT))
        .with("ETag", r.etag.clone()))
}

pub fn publish(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    let name = required(input, "Name")?;
    c.allow(who, "PublishFunction", Kind::Function, name)?;
    let r = c.db.change(|s, seq| {
        let current = find(s, name)?;
        check_if_match(input, &current.etag)?;
        let mut r = current.clone();
        r.extra["live"] = json!({
            "config": current.config,
            "code": current.extra["code"],
            "etag": new_id('E'),
            "modified": now(),
        });
        r.seq = seq;
        Ok((vec![Write::Put(r.clone())], r))
    })?;
    // Distributions that run it pick up the new code.
    c.publish(r.seq);
    Ok(Answer::new().with("FunctionSummary", summary(c, &r, LIVE)))
}

pub fn test(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    let name = required(input, "Name")?;
    c.allow(who, "TestFunction", Kind::Function, name)?;
    let which = stage_param(input)?;
    let (function, summary_value) = c.db.read(|s| {
        let (r, st) = find_stage(s, name, which)?;
        check_if_match(input, st.etag)?;
        Ok::<_, ControlError>((
            Function::new(name, st.etag, runtime_of(st.config)?, st.code)
                .with_key_values(store_of(c, s, st.config)),
            summary(c, r, which),
        ))
    })?;
    let encoded = input.str("EventObject").unwrap_or_default();
    let event_bytes = base64_simd::STANDARD
        .decode_to_vec(encoded.trim().as_bytes())
        .map_err(|_| ControlError::invalid_argument("EventObject is not base64."))?;
    if event_bytes.len() > MAX_EVENT_BYTES {
        return Err(ControlError::invalid_argument(
            "The EventObject is larger than 40 KB.",
        ));
    }
    let event: Value = serde_json::from_slice(&event_bytes)
        .map_err(|e| ControlError::invalid_argument(format!("The EventObject is not JSON: {e}")))?;
    let run = function.run(&event);
    let (output, error) = match run.output {
        Ok(v) => {
            let key = if v.get("statusCode").is_some() {
                "response"
            } else {
                "request"
            };
            (json!({ key: v }).to_string(), String::new())
        }
        Err(e) => (String::new(), e.to_string()),
    };
    Ok(Answer::new().with(
        "TestResult",
        json!({
            "FunctionSummary": summary_value,
            "ComputeUtilization": run.compute_utilization.to_string(),
            "FunctionExecutionLogs": run.logs,
            "FunctionErrorMessage": error,
            "FunctionOutput": output,
        }),
    ))
}

pub fn list(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    c.allow(who, "ListFunctions", Kind::Function, "*")?;
    let wanted = input.str("Stage").filter(|s| !s.is_empty());
    if let Some(w) = wanted
        && w != DEVELOPMENT
        && w != LIVE
    {
        return Err(ControlError::invalid_argument(format!(
            "Stage {w} is not DEVELOPMENT or LIVE."
        )));
    }
    c.db.read(|s| {
        let mut all = Vec::new();
        for r in s.of_kind(Kind::Function) {
            let which = match wanted {
                Some(LIVE) if stage(r, LIVE).is_none() => continue,
                Some(LIVE) => LIVE,
                _ => DEVELOPMENT,
            };
            all.push((r.id.clone(), summary(c, r, which)));
        }
        let (found, mut list) = page(input, all)?;
        if !found.is_empty() {
            list.insert("Items".into(), Value::Array(found));
        }
        Ok(Answer::new().with("FunctionList", Value::Object(list)))
    })
}

pub fn delete(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    let name = required(input, "Name")?;
    c.allow(who, "DeleteFunction", Kind::Function, name)?;
    let arn = c.arn(Kind::Function, name);
    let files = c.files();
    let seq = c.db.change(|s, seq| {
        let current = find(s, name)?;
        check_if_match(input, &current.etag)?;
        let used = s
            .of_kind(Kind::Distribution)
            .map(|d| &d.config)
            .chain(files.distributions.values().map(|f| &f.config))
            .any(|config| uses_function(config, &arn));
        if used {
            return Err(ControlError::new(
                "FunctionInUse",
                format!("The function {name} is associated with a distribution."),
            ));
        }
        Ok((vec![Write::Delete(Kind::Function, name.to_owned())], seq))
    })?;
    c.publish(seq);
    Ok(Answer::new())
}

/// The key value stores a `FunctionConfig` associates.
pub fn key_value_store_arns(config: &Value) -> impl Iterator<Item = &str> {
    config["KeyValueStoreAssociations"]["Items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["KeyValueStoreARN"].as_str())
}

/// The ID and keys of the store a `FunctionConfig` associates, if any.
pub fn store_of(c: &Control, s: &State, config: &Value) -> Option<(String, KeyValues)> {
    let arn = key_value_store_arns(config).next()?;
    let r = super::key_value_stores::by_arn(c, s, arn)?;
    let values = s.key_values.get(&r.id).cloned().unwrap_or_default();
    Some((super::key_value_stores::store_id(r).to_owned(), values))
}

/// Every key value store a `FunctionConfig` associates exists.
fn check_stores(c: &Control, s: &State, config: &Value) -> ControlResult<()> {
    for arn in key_value_store_arns(config) {
        if super::key_value_stores::by_arn(c, s, arn).is_none() {
            return Err(ControlError::new(
                "EntityNotFound",
                format!("The key value store {arn} does not exist."),
            ));
        }
    }
    Ok(())
}

/// Whether a distribution's configuration runs the function `arn`.
pub fn uses_function(config: &Value, arn: &str) -> bool {
    function_arns(config).any(|a| a == arn)
}

/// Every `FunctionARN` a distribution's behaviors name.
pub fn function_arns(config: &Value) -> impl Iterator<Item = &str> {
    std::iter::once(&config["DefaultCacheBehavior"])
        .chain(
            config["CacheBehaviors"]["Items"]
                .as_array()
                .into_iter()
                .flatten(),
        )
        .flat_map(|b| {
            b["FunctionAssociations"]["Items"]
                .as_array()
                .into_iter()
                .flatten()
        })
        .filter_map(|a| a["FunctionARN"].as_str())
}

/// The functions a distribution names exist and are published (`LIVE`).
pub fn check_associations(c: &Control, s: &State, config: &Value) -> ControlResult<()> {
    let prefix = format!("{}/", c.arn(Kind::Function, "").trim_end_matches('/'));
    for arn in function_arns(config) {
        let name = arn.strip_prefix(&prefix).ok_or_else(|| {
            ControlError::new(
                "InvalidFunctionAssociation",
                format!("{arn} is not the ARN of a function of this account."),
            )
        })?;
        let r = s.get(Kind::Function, name).ok_or_else(|| no_such(name))?;
        if stage(r, LIVE).is_none() {
            return Err(ControlError::new(
                "InvalidFunctionAssociation",
                format!(
                    "The function {name} is not published: only a LIVE function can be associated."
                ),
            ));
        }
    }
    Ok(())
}
