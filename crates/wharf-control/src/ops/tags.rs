//! Tags on any resource the API made: TagResource, UntagResource, ListTagsForResource, named by
//! ARN (`arn:aws:cloudfront::ACCOUNT:distribution/ID`).

use serde_json::{Value, json};

use super::Answer;
use crate::Control;
use crate::auth::Identity;
use crate::error::{ControlError, ControlResult};
use crate::protocol::Input;
use crate::state::{Kind, Write};

/// Tags on one resource.
pub const MAX_TAGS: usize = 50;

const KINDS: [Kind; 9] = [
    Kind::Distribution,
    Kind::CachePolicy,
    Kind::OriginRequestPolicy,
    Kind::ResponseHeadersPolicy,
    Kind::OriginAccessControl,
    Kind::PublicKey,
    Kind::KeyGroup,
    Kind::Function,
    Kind::KeyValueStore,
];

fn invalid_tagging(message: impl Into<String>) -> ControlError {
    ControlError::new("InvalidTagging", message)
}

fn allowed_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

/// `Tags` (`{"Items": [{"Key": …, "Value": …}]}`) as pairs, checked as CloudFront checks them.
pub fn from_value(tags: &Value) -> ControlResult<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for t in tags["Items"].as_array().into_iter().flatten() {
        let key = t["Key"].as_str().unwrap_or_default().to_owned();
        let value = t["Value"].as_str().unwrap_or_default().to_owned();
        check_key(&key)?;
        if value.chars().count() > 256 || !value.chars().all(allowed_char) {
            return Err(invalid_tagging(format!(
                "The tag value for {key} is not valid."
            )));
        }
        out.retain(|(k, _)| *k != key);
        out.push((key, value));
    }
    Ok(out)
}

fn check_key(key: &str) -> ControlResult<()> {
    let n = key.chars().count();
    if n == 0 || n > 128 || !key.chars().all(allowed_char) || key.starts_with("aws:") {
        return Err(invalid_tagging(format!(
            "The tag key {key:?} is not valid."
        )));
    }
    Ok(())
}

/// The resource an ARN names, if this account has it (API-made; files cannot be tagged).
fn resource(c: &Control, input: &Input) -> ControlResult<(Kind, String)> {
    let arn = input.str("Resource").unwrap_or_default();
    let prefix = format!("arn:aws:cloudfront::{}:", c.account);
    let no_such = || {
        ControlError::new(
            "NoSuchResource",
            format!("The specified resource {arn} does not exist."),
        )
    };
    let Some((kind_name, id)) = arn.strip_prefix(&prefix).and_then(|r| r.split_once('/')) else {
        return Err(if arn.starts_with("arn:aws:cloudfront::") {
            no_such()
        } else {
            ControlError::invalid_argument(format!("{arn} is not a CloudFront resource ARN."))
        });
    };
    let kind = KINDS
        .into_iter()
        .find(|k| k.arn_type() == kind_name)
        .ok_or_else(no_such)?;
    if c.db.read(|s| s.get(kind, id).is_none()) {
        if kind == Kind::Distribution && c.files().distributions.contains_key(id) {
            return Err(ControlError::new(
                "IllegalUpdate",
                format!(
                    "Distribution {id} is defined by a file in distributions_dir; it has no tags."
                ),
            ));
        }
        return Err(no_such());
    }
    Ok((kind, id.to_owned()))
}

fn retag(
    c: &Control,
    kind: Kind,
    id: &str,
    f: impl FnOnce(&mut Vec<(String, String)>) -> ControlResult<()>,
) -> ControlResult<Answer> {
    c.db.change(|s, _| {
        let mut r = s.get(kind, id).cloned().ok_or_else(|| {
            ControlError::new("NoSuchResource", "The specified resource does not exist.")
        })?;
        f(&mut r.tags)?;
        if r.tags.len() > MAX_TAGS {
            return Err(invalid_tagging(format!(
                "A resource may have at most {MAX_TAGS} tags."
            )));
        }
        Ok((vec![Write::Put(r)], ()))
    })?;
    // Tags change nothing the edge serves: no need to wait for it.
    Ok(Answer::new())
}

pub fn tag(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    let (kind, id) = resource(c, input)?;
    c.allow(who, "TagResource", kind, &id)?;
    let new = from_value(input.value("Tags").unwrap_or(&Value::Null))?;
    retag(c, kind, &id, |tags| {
        for (k, v) in new {
            tags.retain(|(tk, _)| *tk != k);
            tags.push((k, v));
        }
        Ok(())
    })
}

pub fn untag(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    let (kind, id) = resource(c, input)?;
    c.allow(who, "UntagResource", kind, &id)?;
    let keys: Vec<String> = input
        .value("TagKeys")
        .and_then(|k| k["Items"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect();
    for k in &keys {
        check_key(k)?;
    }
    retag(c, kind, &id, |tags| {
        tags.retain(|(k, _)| !keys.contains(k));
        Ok(())
    })
}

pub fn list(c: &Control, who: &Identity, input: &Input) -> ControlResult<Answer> {
    let (kind, id) = resource(c, input)?;
    c.allow(who, "ListTagsForResource", kind, &id)?;
    let tags =
        c.db.read(|s| s.get(kind, &id).map(|r| r.tags.clone()).unwrap_or_default());
    let items: Vec<Value> = tags
        .into_iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    Ok(Answer::new().with("Tags", json!({"Items": items})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_checked_as_cloudfront_checks_them() {
        let ok = from_value(
            &json!({"Items": [{"Key": "env", "Value": "prod"}, {"Key": "env", "Value": "dev"}]}),
        )
        .unwrap();
        assert_eq!(ok, vec![("env".to_owned(), "dev".to_owned())]);
        for bad in [
            json!({"Items": [{"Key": "", "Value": "x"}]}),
            json!({"Items": [{"Key": "a".repeat(129), "Value": "x"}]}),
            json!({"Items": [{"Key": "k", "Value": "v".repeat(257)}]}),
            json!({"Items": [{"Key": "k<", "Value": "x"}]}),
            json!({"Items": [{"Key": "aws:k", "Value": "x"}]}),
        ] {
            assert_eq!(from_value(&bad).unwrap_err().code, "InvalidTagging");
        }
    }
}
