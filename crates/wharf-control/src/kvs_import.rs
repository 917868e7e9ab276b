//! A key value store's `ImportSource`: its first keys and values read from an S3 object of
//! this node (`arn:aws:s3:::BUCKET/KEY`) in CloudFront's import format,
//!
//! ```json
//! {"data": [{"key": "key1", "value": "value1"}, {"key": "key2", "value": "value2"}]}
//! ```
//!
//! read as the caller: it needs `s3:GetObject` on the object (its identity policies decide;
//! the account's root may). CloudFront imports in the background (`PROVISIONING`, then
//! `READY` or `PROVISIONING_FAILED`); Wharf imports before it answers, so a source that
//! cannot be read or does not parse refuses the Create (`InvalidArgument`, or `AccessDenied`)
//! and the store never exists half-filled.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::auth::{Identity, authorize};
use crate::error::{ControlError, ControlResult};
use crate::kvs_data::{MAX_KEY_BYTES, MAX_STORE_BYTES, MAX_VALUE_BYTES};
use crate::protocol::Input;

/// Reads the objects stores are imported from (the binary implements this over its store).
#[async_trait::async_trait]
pub trait ImportObjects: Send + Sync {
    /// The object's bytes, or why they cannot be had (it is missing, or larger than `limit`).
    async fn read(&self, bucket: &str, key: &str, limit: usize) -> Result<Vec<u8>, String>;
}

/// The bucket and key `ImportSource` names, if the request has one.
pub fn source(input: &Input) -> ControlResult<Option<(String, String)>> {
    let Some(source) = input.value("ImportSource") else {
        return Ok(None);
    };
    if source["SourceType"].as_str() != Some("S3") {
        return Err(ControlError::invalid_argument(
            "ImportSource.SourceType must be S3.",
        ));
    }
    let arn = source["SourceARN"].as_str().unwrap_or_default();
    arn.strip_prefix("arn:aws:s3:::")
        .and_then(|rest| rest.split_once('/'))
        .filter(|(bucket, key)| !bucket.is_empty() && !key.is_empty())
        .map(|(bucket, key)| Some((bucket.to_owned(), key.to_owned())))
        .ok_or_else(|| {
            ControlError::invalid_argument(format!(
                "ImportSource.SourceARN {arn:?} must name an S3 object: arn:aws:s3:::BUCKET/KEY."
            ))
        })
}

/// The keys and values of the object `ImportSource` names, read as `who`.
pub async fn fetch(
    objects: &dyn ImportObjects,
    who: &Identity,
    bucket: &str,
    key: &str,
) -> ControlResult<Vec<(String, String)>> {
    authorize(who, "s3:GetObject", &format!("arn:aws:s3:::{bucket}/{key}"))?;
    // The format's overhead on top of the store's limit.
    let limit = MAX_STORE_BYTES * 2;
    let bytes = objects.read(bucket, key, limit).await.map_err(|e| {
        ControlError::invalid_argument(format!(
            "The import source arn:aws:s3:::{bucket}/{key} cannot be read: {e}"
        ))
    })?;
    parse(&bytes)
}

/// The import format's keys and values, checked as the data plane checks a write.
pub fn parse(bytes: &[u8]) -> ControlResult<Vec<(String, String)>> {
    let bad = |m: String| ControlError::invalid_argument(format!("The import source {m}"));
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| bad(format!("is not JSON: {e}")))?;
    let items = doc["data"]
        .as_array()
        .ok_or_else(|| bad("has no \"data\" list.".into()))?;
    let mut values = BTreeMap::new();
    for item in items {
        let (Some(k), Some(v)) = (item["key"].as_str(), item["value"].as_str()) else {
            return Err(bad(
                "has an item that is not {\"key\": string, \"value\": string}.".into(),
            ));
        };
        if k.is_empty() || k.len() > MAX_KEY_BYTES {
            return Err(bad(format!(
                "has a key of {} bytes; a key is 1 to {MAX_KEY_BYTES} bytes.",
                k.len()
            )));
        }
        if v.len() > MAX_VALUE_BYTES {
            return Err(bad(format!(
                "has a value of {} bytes for {k}; the limit is {MAX_VALUE_BYTES}.",
                v.len()
            )));
        }
        values.insert(k.to_owned(), v.to_owned());
    }
    let total: usize = values.iter().map(|(k, v)| k.len() + v.len()).sum();
    if total > MAX_STORE_BYTES {
        return Err(bad(format!(
            "holds {total} bytes; a key value store holds at most {MAX_STORE_BYTES}."
        )));
    }
    Ok(values.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn the_import_format() {
        let items = parse(br#"{"data": [{"key": "b", "value": "2"}, {"key": "a", "value": "1"}, {"key": "a", "value": "3"}]}"#).unwrap();
        assert_eq!(items, [("a".into(), "3".into()), ("b".into(), "2".into())]);
        for bad in [
            &b"not json"[..],
            br#"{"items": []}"#,
            br#"{"data": [{"key": "a"}]}"#,
            br#"{"data": [{"key": "", "value": "x"}]}"#,
        ] {
            assert_eq!(parse(bad).unwrap_err().code, "InvalidArgument");
        }
        let long = format!(
            r#"{{"data": [{{"key": "k", "value": "{}"}}]}}"#,
            "x".repeat(1025)
        );
        assert!(parse(long.as_bytes()).is_err());
    }
}
