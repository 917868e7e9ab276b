//! Invalidations: Create, Get, List. An invalidation is `InProgress` until the edge has purged
//! its paths (and recorded them in its journal), then `Completed`. The same `CallerReference`
//! with the same paths answers the invalidation it made; with other paths,
//! `InvalidationBatchAlreadyExists`.

use serde_json::{Value, json};
use wharf_model::cloudfront::valid_invalidation_path;

use super::{Answer, page, required};
use crate::auth::Identity;
use crate::error::{ControlError, ControlResult};
use crate::ids::{iso, new_id, now};
use crate::protocol::Input;
use crate::state::{Invalidation, Kind, State, Write};
use crate::{API_PREFIX, Control};

/// Paths in one batch (CloudFront's limit on paths in progress at a time).
pub const MAX_PATHS: usize = 3000;

/// The paths of an `InvalidationBatch`.
pub fn paths(batch: &Value) -> Vec<String> {
    batch["Paths"]["Items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().map(str::to_owned))
        .collect()
}

fn check_batch(batch: &Value) -> ControlResult<Vec<String>> {
    let paths = paths(batch);
    if batch["Paths"]["Quantity"].as_u64() != Some(paths.len() as u64) {
        return Err(ControlError::new(
            "InconsistentQuantities",
            "The value of Quantity and the size of Items don't match.",
        ));
    }
    if paths.is_empty() {
        return Err(ControlError::invalid_argument(
            "An invalidation batch needs at least one path.",
        ));
    }
    if paths.len() > MAX_PATHS {
        return Err(ControlError::new(
            "BatchTooLarge",
            format!("An invalidation batch may name at most {MAX_PATHS} paths."),
        ));
    }
    if let Some(bad) = paths.iter().find(|p| !valid_invalidation_path(p)) {
        return Err(ControlError::invalid_argument(format!(
            "Your request contains one or more invalid invalidation paths: {bad}"
        )));
    }
    Ok(paths)
}

fn status(s: &State, i: &Invalidation) -> &'static str {
    if i.seq <= s.applied {
        "Completed"
    } else {
        "InProgress"
    }
}

fn invalidation(s: &State, i: &Invalidation) -> Value {
    json!({
        "Id": i.id,
        "Status": status(s, i),
        "CreateTime": iso(i.created),
        "InvalidationBatch": i.batch,
    })
}

fn distribution_exists(c: &Control, s: &State, id: &str) -> bool {
    s.get(Kind::Distribution, id).is_some() || c.files().distributions.contains_key(id)
}

pub fn create(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    let dist = required(input, "DistributionId")?;
    c.allow(who, "CreateInvalidation", Kind::Distribution, dist)?;
    let batch = input
        .value("InvalidationBatch")
        .ok_or_else(|| ControlError::new("MissingBody", "InvalidationBatch is required"))?
        .clone();
    check_batch(&batch)?;
    let (inv, seq) = c.db.change(|s, seq| {
        if !distribution_exists(c, s, dist) {
            return Err(super::distributions::no_such_distribution());
        }
        let caller_ref = &batch["CallerReference"];
        let earlier = s
            .invalidations
            .range((dist.to_owned(), String::new())..)
            .take_while(|((d, _), _)| d == dist)
            .map(|(_, i)| i)
            .find(|i| i.batch["CallerReference"] == *caller_ref);
        if let Some(earlier) = earlier {
            if earlier.batch == batch {
                return Ok((Vec::new(), (earlier.clone(), None)));
            }
            return Err(ControlError::new(
                "InvalidationBatchAlreadyExists",
                "An invalidation with this CallerReference and other paths exists.",
            ));
        }
        let id = loop {
            let id = new_id('I');
            if !s.invalidations.contains_key(&(dist.to_owned(), id.clone())) {
                break id;
            }
        };
        let inv = Invalidation {
            distribution_id: dist.to_owned(),
            id,
            batch: batch.clone(),
            created: now(),
            status: String::new(),
            seq,
        };
        Ok((vec![Write::PutInvalidation(inv.clone())], (inv, Some(seq))))
    })?;
    if let Some(seq) = seq {
        c.publish(seq);
    }
    Ok(c.db.read(|s| {
        Answer::new()
            .with("Invalidation", invalidation(s, &inv))
            .with(
                "Location",
                format!("{API_PREFIX}distribution/{dist}/invalidation/{}", inv.id),
            )
    }))
}

pub fn get(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    let dist = required(input, "DistributionId")?;
    let id = required(input, "Id")?;
    c.allow(who, "GetInvalidation", Kind::Distribution, dist)?;
    c.db.read(|s| {
        if !distribution_exists(c, s, dist) {
            return Err(super::distributions::no_such_distribution());
        }
        let inv = s
            .invalidations
            .get(&(dist.to_owned(), id.to_owned()))
            .ok_or_else(|| {
                ControlError::new(
                    "NoSuchInvalidation",
                    "The specified invalidation does not exist.",
                )
            })?;
        Ok(Answer::new().with("Invalidation", invalidation(s, inv)))
    })
}

pub fn list(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    let dist = required(input, "DistributionId")?;
    c.allow(who, "ListInvalidations", Kind::Distribution, dist)?;
    c.db.read(|s| {
        if !distribution_exists(c, s, dist) {
            return Err(super::distributions::no_such_distribution());
        }
        // Newest first, as CloudFront lists them; the marker is an invalidation ID.
        let mut all: Vec<&Invalidation> = s
            .invalidations
            .range((dist.to_owned(), String::new())..)
            .take_while(|((d, _), _)| d == dist)
            .map(|(_, i)| i)
            .collect();
        all.sort_by(|a, b| b.seq.cmp(&a.seq).then_with(|| b.id.cmp(&a.id)));
        let ordered: Vec<(String, Value)> = all
            .iter()
            .map(|i| {
                (
                    i.id.clone(),
                    json!({"Id": i.id, "CreateTime": iso(i.created), "Status": status(s, i)}),
                )
            })
            .collect();
        let (found, mut list) = page(input, ordered)?;
        if !found.is_empty() {
            list.insert("Items".into(), Value::Array(found));
        }
        Ok(Answer::new().with("InvalidationList", Value::Object(list)))
    })
}
