//! KeyValueStores, the control plane: Create, Describe, Update, Delete, List. Their keys are
//! read and written through the data plane ([`crate::kvs_data`]) and by functions associated
//! with them (`cloudfront.kvs()`).

use serde_json::{Value, json};

use super::{Answer, check_if_match, page, required};
use crate::auth::Identity;
use crate::error::{ControlError, ControlResult};
use crate::ids::{iso, new_id, new_uuid, now};
use crate::protocol::Input;
use crate::state::{Kind, Resource, State, Write};
use crate::{API_PREFIX, Control};

pub fn not_found(name: &str) -> ControlError {
    ControlError::new(
        "EntityNotFound",
        format!("The key value store {name} does not exist."),
    )
}

/// The store's ID (a UUID, the last part of its ARN).
pub fn store_id(r: &Resource) -> &str {
    r.extra["id"].as_str().unwrap_or_default()
}

/// The store an ARN names (`arn:aws:cloudfront::ACCOUNT:key-value-store/ID`).
pub fn by_arn<'a>(c: &Control, s: &'a State, arn: &str) -> Option<&'a Resource> {
    let id = arn.strip_prefix(&c.arn(Kind::KeyValueStore, ""))?;
    s.of_kind(Kind::KeyValueStore).find(|r| store_id(r) == id)
}

fn store(c: &Control, r: &Resource) -> Value {
    json!({
        "Name": r.id,
        "Id": store_id(r),
        "Comment": r.config["Comment"].as_str().unwrap_or_default(),
        "ARN": c.arn(Kind::KeyValueStore, store_id(r)),
        "Status": "READY",
        "LastModifiedTime": iso(r.modified),
    })
}

fn valid_name(name: &str) -> bool {
    (3..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Creates a store; `imported` holds its first keys when the request names an `ImportSource`
/// (read beforehand: [`crate::kvs_import`]).
pub fn create(
    c: &Control,
    who: &Identity,
    input: &Input,
    imported: Option<Vec<(String, String)>>,
) -> ControlResult<Answer> {
    let name = required(input, "Name")?;
    c.allow(who, "CreateKeyValueStore", Kind::KeyValueStore, "*")?;
    if !valid_name(name) {
        return Err(ControlError::invalid_argument(
            "A key value store name is 3 to 64 letters, digits, hyphens and underscores.",
        ));
    }
    if input.value("ImportSource").is_some() && imported.is_none() {
        return Err(ControlError::new(
            "UnsupportedOperation",
            "This node has no store to import key value stores from.",
        ));
    }
    let comment = input.str("Comment").unwrap_or_default().to_owned();
    let r = c.db.change(|s, seq| {
        crate::limits::check_count(s, Kind::KeyValueStore)?;
        if s.get(Kind::KeyValueStore, name).is_some() {
            return Err(ControlError::new(
                "EntityAlreadyExists",
                format!("A key value store named {name} already exists."),
            ));
        }
        let t = now();
        let r = Resource {
            kind: Kind::KeyValueStore,
            id: name.to_owned(),
            etag: new_id('E'),
            config: json!({"Comment": comment}),
            created: t,
            modified: t,
            status: String::new(),
            seq,
            tags: Vec::new(),
            extra: json!({"id": new_uuid(), "data_etag": new_id('K')}),
        };
        let mut writes = vec![Write::Put(r.clone())];
        if let Some(items) = &imported {
            writes.push(Write::KeyValues {
                store: r.id.clone(),
                puts: items.clone(),
                deletes: Vec::new(),
            });
        }
        Ok((writes, r))
    })?;
    Ok(Answer::new()
        .with("KeyValueStore", store(c, &r))
        .with("ETag", r.etag.clone())
        .with("Location", format!("{API_PREFIX}key-value-store/{name}")))
}

pub fn describe(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    let name = required(input, "Name")?;
    c.allow(who, "DescribeKeyValueStore", Kind::KeyValueStore, name)?;
    c.db.read(|s| {
        let r = s
            .get(Kind::KeyValueStore, name)
            .ok_or_else(|| not_found(name))?;
        Ok(Answer::new()
            .with("KeyValueStore", store(c, r))
            .with("ETag", r.etag.clone()))
    })
}

pub fn update(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    let name = required(input, "Name")?;
    c.allow(who, "UpdateKeyValueStore", Kind::KeyValueStore, name)?;
    let comment = input.str("Comment").unwrap_or_default().to_owned();
    let r = c.db.change(|s, seq| {
        let current = s
            .get(Kind::KeyValueStore, name)
            .ok_or_else(|| not_found(name))?;
        check_if_match(input, &current.etag)?;
        let r = Resource {
            etag: new_id('E'),
            config: json!({"Comment": comment}),
            modified: now(),
            seq,
            ..current.clone()
        };
        Ok((vec![Write::Put(r.clone())], r))
    })?;
    Ok(Answer::new()
        .with("KeyValueStore", store(c, &r))
        .with("ETag", r.etag.clone()))
}

pub fn delete(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    let name = required(input, "Name")?;
    c.allow(who, "DeleteKeyValueStore", Kind::KeyValueStore, name)?;
    let seq = c.db.change(|s, seq| {
        let current = s
            .get(Kind::KeyValueStore, name)
            .ok_or_else(|| not_found(name))?;
        check_if_match(input, &current.etag)?;
        let arn = c.arn(Kind::KeyValueStore, store_id(current));
        let used = s.of_kind(Kind::Function).any(|f| {
            super::functions::key_value_store_arns(&f.config).any(|a| a == arn)
                || f.extra.get("live").is_some_and(|l| {
                    super::functions::key_value_store_arns(&l["config"]).any(|a| a == arn)
                })
        });
        if used {
            return Err(ControlError::new(
                "CannotDeleteEntityWhileInUse",
                format!("The key value store {name} is associated with a function."),
            ));
        }
        Ok((
            vec![Write::Delete(Kind::KeyValueStore, name.to_owned())],
            seq,
        ))
    })?;
    c.publish(seq);
    Ok(Answer::new())
}

pub fn list(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    c.allow(who, "ListKeyValueStores", Kind::KeyValueStore, "*")?;
    if let Some(status) = input.str("Status").filter(|s| !s.is_empty())
        && status != "READY"
    {
        // Every store here is READY at once.
        return Ok(Answer::new().with("KeyValueStoreList", json!({"MaxItems": 100, "Quantity": 0})));
    }
    c.db.read(|s| {
        let all = s
            .of_kind(Kind::KeyValueStore)
            .map(|r| (r.id.clone(), store(c, r)))
            .collect();
        let (found, mut list) = page(input, all)?;
        if !found.is_empty() {
            list.insert("Items".into(), Value::Array(found));
        }
        Ok(Answer::new().with("KeyValueStoreList", Value::Object(list)))
    })
}
