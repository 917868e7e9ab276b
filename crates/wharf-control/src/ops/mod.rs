//! The operations, one module per resource; each checks the caller's permission, reads or
//! changes the state, and answers its output shape's members.

pub mod distributions;
pub mod functions;
pub mod invalidations;
pub mod key_value_stores;
pub mod resources;
pub mod tags;

use serde_json::{Map, Value};

use crate::Control;
use crate::auth::{self, Identity};
use crate::error::{ControlError, ControlResult};
use crate::protocol::Input;
use crate::state::Kind;

/// An operation's output.
#[derive(Debug, Default)]
pub struct Answer {
    pub members: Map<String, Value>,
}

impl Answer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.members.insert(name.to_owned(), value.into());
        self
    }
}

pub fn dispatch(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    match input.operation {
        "CreateDistribution" | "CreateDistributionWithTags" => distributions::create(c, who, input),
        "GetDistribution" => distributions::get(c, who, input),
        "GetDistributionConfig" => distributions::get_config(c, who, input),
        "UpdateDistribution" => distributions::update(c, who, input),
        "DeleteDistribution" => distributions::delete(c, who, input),
        "ListDistributions" => distributions::list(c, who, input),
        "CreateInvalidation" => invalidations::create(c, who, input),
        "GetInvalidation" => invalidations::get(c, who, input),
        "ListInvalidations" => invalidations::list(c, who, input),
        "CreateFunction" => functions::create(c, who, input),
        "DescribeFunction" => functions::describe(c, who, input),
        "GetFunction" => functions::get(c, who, input),
        "UpdateFunction" => functions::update(c, who, input),
        "PublishFunction" => functions::publish(c, who, input),
        "TestFunction" => functions::test(c, who, input),
        "ListFunctions" => functions::list(c, who, input),
        "DeleteFunction" => functions::delete(c, who, input),
        "CreateKeyValueStore" => key_value_stores::create(c, who, input, None),
        "DescribeKeyValueStore" => key_value_stores::describe(c, who, input),
        "UpdateKeyValueStore" => key_value_stores::update(c, who, input),
        "DeleteKeyValueStore" => key_value_stores::delete(c, who, input),
        "ListKeyValueStores" => key_value_stores::list(c, who, input),
        "TagResource" => tags::tag(c, who, input),
        "UntagResource" => tags::untag(c, who, input),
        "ListTagsForResource" => tags::list(c, who, input),
        other => match resources::operation(other) {
            Some((spec, verb)) => resources::run(c, who, input, spec, verb),
            None => Err(ControlError::not_implemented(other)),
        },
    }
}

/// How long a change waits for the edge before answering: an edge in this process applies it
/// in milliseconds, and the answer then says `Deployed` (`Completed`), which is what a user who
/// invalidates and then reloads expects. Past this, the answer says `InProgress`, as
/// CloudFront's always does.
pub const SETTLE: std::time::Duration = std::time::Duration::from_secs(1);

impl Control {
    /// Tells the edge about change `seq` and gives it [`SETTLE`] to apply it.
    pub(crate) fn publish(&self, seq: u64) {
        self.feed.send_replace(seq);
        let settle = std::time::Duration::from_millis(
            self.settle_ms.load(std::sync::atomic::Ordering::Relaxed),
        );
        self.db.wait_applied(seq, settle);
    }

    /// The caller may perform `operation` on the resource `kind`/`id` (`*`: any).
    pub(crate) fn allow(
        &self,
        who: &Identity,
        operation: &str,
        kind: Kind,
        id: &str,
    ) -> ControlResult<()> {
        auth::authorize(who, &format!("cloudfront:{operation}"), &self.arn(kind, id))
    }
}

/// A required string member (bound from the URI, so present when routed).
pub fn required<'a>(input: &'a Input, name: &str) -> ControlResult<&'a str> {
    input
        .str(name)
        .ok_or_else(|| ControlError::invalid_argument(format!("{name} is required")))
}

/// `If-Match` names the resource's current version: missing → `InvalidIfMatchVersion`,
/// another → `PreconditionFailed`.
pub fn check_if_match(input: &Input, etag: &str) -> ControlResult<()> {
    match input.str("IfMatch") {
        None | Some("") => Err(ControlError::new(
            "InvalidIfMatchVersion",
            "The If-Match version is missing or not valid for the resource.",
        )),
        Some(v) if v.trim_matches('"') == etag => Ok(()),
        Some(_) => Err(ControlError::new(
            "PreconditionFailed",
            "The precondition given in one or more of the request-header fields evaluated to false.",
        )),
    }
}

/// A page of a listing (items in listing order, each with the key its marker names):
/// `MaxItems` (a string in the input, 100 by default, at most 1,000) items after `Marker`;
/// answers the items and the `…List` members besides `Items`. A marker no longer listed
/// starts after the last key not above it (listings sorted by key keep their place).
pub fn page<T>(
    input: &Input,
    listed: Vec<(String, T)>,
) -> ControlResult<(Vec<T>, Map<String, Value>)> {
    let max: usize = match input.str("MaxItems") {
        None | Some("") => 100,
        Some(s) => s
            .parse()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                ControlError::invalid_argument(format!(
                    "MaxItems must be a number from 1 to 1000, not {s}"
                ))
            })?,
    };
    let marker = input.str("Marker").unwrap_or("");
    let start = if marker.is_empty() {
        0
    } else {
        listed.iter().position(|(k, _)| k == marker).map_or_else(
            || listed.partition_point(|(k, _)| k.as_str() <= marker),
            |i| i + 1,
        )
    };
    let rest = listed.len().saturating_sub(start);
    let truncated = rest > max;
    let mut meta = Map::new();
    meta.insert("Marker".into(), marker.into());
    let mut items = Vec::new();
    let mut last = None;
    for (k, v) in listed.into_iter().skip(start).take(max) {
        last = Some(k);
        items.push(v);
    }
    if truncated && let Some(last) = last {
        meta.insert("NextMarker".into(), last.into());
    }
    meta.insert("MaxItems".into(), (max as u64).into());
    meta.insert("IsTruncated".into(), truncated.into());
    meta.insert("Quantity".into(), (items.len() as u64).into());
    Ok((items, meta))
}

/// `{"Quantity": n, "Items": [...]}` (no `Items` when empty, as CloudFront writes it).
pub fn items(list: Vec<Value>) -> Value {
    let mut m = Map::new();
    m.insert("Quantity".into(), (list.len() as u64).into());
    if !list.is_empty() {
        m.insert("Items".into(), Value::Array(list));
    }
    Value::Object(m)
}
