//! KeyValueStore's data plane, as the `cloudfront-keyvaluestore` SDK clients call it:
//! DescribeKeyValueStore, GetKey, PutKey, DeleteKey, ListKeys and UpdateKeys (REST-JSON,
//! 2022-07-26), signed with SigV4A, on the host `ACCOUNT.ENDPOINT` the SDKs derive from the
//! store's ARN (any host is accepted: the path names the store). Writes name the store's
//! current `ETag` in `If-Match` (`ConflictException` otherwise) and answer the new one; a
//! change reaches the functions that read the store within a second, through the change feed.

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use serde_json::{Value, json};
use wharf_auth::{sigv4, sigv4a};

use crate::Control;
use crate::auth::{DateProblem, Identity, header_pairs, request_date};
use crate::error::ControlError;
use crate::ids::{iso, new_id};
use crate::ops::key_value_stores::by_arn;
use crate::state::{KeyValues, Resource, Write};

pub const SERVICE: &str = "cloudfront-keyvaluestore";
/// Longest key, in bytes (CloudFront's quota).
pub const MAX_KEY_BYTES: usize = 512;
/// Longest value, in bytes.
pub const MAX_VALUE_BYTES: usize = 1024;
/// Largest store: keys and values together.
pub const MAX_STORE_BYTES: usize = 5 * 1024 * 1024;
/// Largest request body (an UpdateKeys of up to 3 MB).
const MAX_BODY: usize = 4 << 20;
/// ListKeys page size by default and at most.
const MAX_RESULTS: usize = 50;

/// A data-plane request: signed with SigV4A for `cloudfront-keyvaluestore`.
pub fn is_kvs<B>(req: &Request<B>) -> bool {
    req.uri().path().starts_with("/key-value-stores/")
        && req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(sigv4a::parse_authorization)
            .is_some_and(|a| a.service == SERVICE)
}

/// A data-plane error: its `__type` (the SDKs' error code) and status.
struct KvsError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl KvsError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
        }
    }
    fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ValidationException", message)
    }
    fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "ResourceNotFoundException", message)
    }
    fn conflict() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "ConflictException",
            "The If-Match ETag is not the key value store's current ETag.",
        )
    }
}

impl From<ControlError> for KvsError {
    fn from(e: ControlError) -> Self {
        let kind = match e.status.as_u16() {
            403 => "AccessDeniedException",
            404 => "ResourceNotFoundException",
            409 => "ConflictException",
            400 => "ValidationException",
            _ => "InternalServerException",
        };
        Self::new(e.status, kind, e.message)
    }
}

type Answer = (Value, Option<String>);

impl Control {
    /// Answers one data-plane request.
    pub async fn handle_kvs<B>(
        self: &std::sync::Arc<Self>,
        req: Request<B>,
    ) -> Response<Full<Bytes>>
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = req.into_parts();
        let result = async {
            let body = Limited::new(body, MAX_BODY)
                .collect()
                .await
                .map_err(|_| {
                    KvsError::validation("The request body is too large or was cut short.")
                })?
                .to_bytes();
            let identity = self.authenticate_sigv4a(&parts, &body).await?;
            let this = self.clone();
            tokio::task::spawn_blocking(move || this.kvs_operation(&identity, &parts, &body))
                .await
                .map_err(|e| {
                    KvsError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "InternalServerException",
                        e.to_string(),
                    )
                })?
        }
        .await;
        let (status, body, etag) = match result {
            Ok((v, etag)) => (StatusCode::OK, v, etag),
            Err(e) => (
                e.status,
                json!({"__type": e.kind, "message": e.message}),
                None,
            ),
        };
        let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
        *r.status_mut() = status;
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(kind) = body.get("__type").and_then(Value::as_str)
            && let Ok(v) = HeaderValue::from_str(kind)
        {
            h.insert("x-amzn-errortype", v);
        }
        if let Some(etag) = etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
            h.insert(header::ETAG, etag);
        }
        if let Ok(v) = HeaderValue::from_str(&new_id('R')) {
            h.insert("x-amzn-requestid", v);
        }
        r
    }

    async fn authenticate_sigv4a(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> Result<Identity, KvsError> {
        let denied = |m: &str| KvsError::new(StatusCode::FORBIDDEN, "AccessDeniedException", m);
        let auth = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(sigv4a::parse_authorization)
            .ok_or_else(|| denied("The request must be signed with SigV4A."))?;
        let amz_date = request_date(&parts.headers).map_err(|p| {
            denied(match p {
                DateProblem::Missing => "X-Amz-Date is required.",
                DateProblem::Malformed => "X-Amz-Date is malformed.",
                DateProblem::Skewed => "Signature expired: the request time is too skewed.",
            })
        })?;
        let identity = self
            .identities
            .identity(&auth.access_key)
            .await
            .map_err(|e| {
                KvsError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalServerException",
                    e,
                )
            })?
            .ok_or_else(|| denied("The security token included in the request is invalid."))?;
        let headers = header_pairs(&parts.headers);
        let payload = sigv4::sha256_hex(body);
        // The SDKs encode the path's segments once and sign it encoded again, as SigV4 does
        // for every service but S3.
        let twice = sigv4::uri_encode(parts.uri.path().as_bytes(), true);
        let verified = [twice.as_str(), parts.uri.path()].into_iter().any(|path| {
            let canonical = sigv4::Canonical {
                method: parts.method.as_str(),
                path,
                query: parts.uri.query().unwrap_or(""),
                headers: &headers,
                payload_sha256: &payload,
            };
            sigv4a::verify(&canonical, &auth, amz_date, &identity.secret_access_key)
        });
        if !verified {
            return Err(denied(
                "The request signature we calculated does not match the signature you provided.",
            ));
        }
        Ok(identity)
    }

    fn kvs_operation(
        &self,
        who: &Identity,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> Result<Answer, KvsError> {
        let segments: Vec<String> = parts
            .uri
            .path()
            .trim_start_matches('/')
            .split('/')
            .map(|s| String::from_utf8_lossy(&sigv4::percent_decode(s)).into_owned())
            .collect();
        let query = crate::protocol::parse_query(parts.uri.query().unwrap_or(""));
        let if_match = parts
            .headers
            .get(header::IF_MATCH)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim_matches('"').to_owned());
        let method = parts.method.as_str();
        let (action, arn, key) = match (method, segments.as_slice()) {
            ("GET", [_, arn]) => ("DescribeKeyValueStore", arn, None),
            ("GET", [_, arn, k]) if k == "keys" => ("ListKeys", arn, None),
            ("POST", [_, arn, k]) if k == "keys" => ("UpdateKeys", arn, None),
            ("GET", [_, arn, k, key]) if k == "keys" => ("GetKey", arn, Some(key)),
            ("PUT", [_, arn, k, key]) if k == "keys" => ("PutKey", arn, Some(key)),
            ("DELETE", [_, arn, k, key]) if k == "keys" => ("DeleteKey", arn, Some(key)),
            _ => {
                return Err(KvsError::not_found(format!(
                    "No operation answers {method} {}",
                    parts.uri.path()
                )));
            }
        };
        crate::auth::authorize(who, &format!("{SERVICE}:{action}"), arn)?;
        let body: Value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(body)
                .map_err(|e| KvsError::validation(format!("The body is not JSON: {e}")))?
        };
        match action {
            "DescribeKeyValueStore" => self.kvs_read(arn, |r, values| {
                Ok((
                    json!({
                        "ItemCount": values.len(),
                        "TotalSizeInBytes": size(values),
                        "KvsARN": arn,
                        "Created": iso(r.created),
                        "LastModified": iso(r.modified),
                        "Status": "READY",
                    }),
                    Some(data_etag(r)),
                ))
            }),
            "GetKey" => {
                let key = key.expect("routed with a key");
                self.kvs_read(arn, |_, values| {
                    let value = values
                        .get(key)
                        .ok_or_else(|| KvsError::not_found(format!("The key {key} does not exist.")))?;
                    Ok((
                        json!({"Key": key, "Value": value, "ItemCount": values.len(), "TotalSizeInBytes": size(values)}),
                        None,
                    ))
                })
            }
            "ListKeys" => {
                let max = match query.iter().find(|(k, _)| k == "MaxResults") {
                    Some((_, v)) => v
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_RESULTS).contains(n))
                        .ok_or_else(|| KvsError::validation("MaxResults must be 1 to 50."))?,
                    None => MAX_RESULTS,
                };
                let after = query
                    .iter()
                    .find(|(k, _)| k == "NextToken")
                    .map(|(_, v)| v.clone());
                self.kvs_read(arn, |_, values| {
                    let mut items = values
                        .iter()
                        .filter(|(k, _)| after.as_ref().is_none_or(|a| *k > a));
                    let page: Vec<Value> = items
                        .by_ref()
                        .take(max)
                        .map(|(k, v)| json!({"Key": k, "Value": v}))
                        .collect();
                    let mut out = json!({"Items": page});
                    if items.next().is_some()
                        && let Some(last) = page.last()
                    {
                        out["NextToken"] = last["Key"].clone();
                    }
                    Ok((out, None))
                })
            }
            "PutKey" => {
                let key = key.expect("routed with a key").clone();
                let value = body["Value"]
                    .as_str()
                    .ok_or_else(|| KvsError::validation("Value is required."))?
                    .to_owned();
                self.kvs_write(arn, if_match, vec![(key, value)], Vec::new())
            }
            "DeleteKey" => {
                let key = key.expect("routed with a key").clone();
                self.kvs_write(arn, if_match, Vec::new(), vec![key])
            }
            _ => {
                let puts = body["Puts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| match (p["Key"].as_str(), p["Value"].as_str()) {
                        (Some(k), Some(v)) => Ok((k.to_owned(), v.to_owned())),
                        _ => Err(KvsError::validation(
                            "Each of Puts needs a Key and a Value.",
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let deletes = body["Deletes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| {
                        d["Key"]
                            .as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| KvsError::validation("Each of Deletes needs a Key."))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                self.kvs_write(arn, if_match, puts, deletes)
            }
        }
    }

    fn kvs_read(
        &self,
        arn: &str,
        f: impl FnOnce(&Resource, &KeyValues) -> Result<Answer, KvsError>,
    ) -> Result<Answer, KvsError> {
        self.db.read(|s| {
            let r = by_arn(self, s, arn).ok_or_else(|| {
                KvsError::not_found(format!("The key value store {arn} does not exist."))
            })?;
            let values = s.key_values.get(&r.id).cloned().unwrap_or_default();
            f(r, &values)
        })
    }

    fn kvs_write(
        &self,
        arn: &str,
        if_match: Option<String>,
        puts: Vec<(String, String)>,
        deletes: Vec<String>,
    ) -> Result<Answer, KvsError> {
        for (k, v) in &puts {
            check_key(k)?;
            if v.len() > MAX_VALUE_BYTES {
                return Err(KvsError::validation(format!(
                    "The value of {k} is {} bytes; the limit is {MAX_VALUE_BYTES}.",
                    v.len()
                )));
            }
        }
        for k in &deletes {
            check_key(k)?;
        }
        let (answer, seq) = self.db.change(|s, seq| {
            let r = by_arn(self, s, arn).ok_or_else(|| {
                ControlError::with_status(
                    StatusCode::NOT_FOUND,
                    "ResourceNotFoundException",
                    format!("The key value store {arn} does not exist."),
                )
            })?;
            if if_match.as_deref() != Some(data_etag(r).as_str()) {
                return Err(ControlError::with_status(
                    StatusCode::CONFLICT,
                    "ConflictException",
                    "The If-Match ETag is not the key value store's current ETag.",
                ));
            }
            let mut after: std::collections::BTreeMap<String, String> =
                s.key_values.get(&r.id).map(|v| (**v).clone()).unwrap_or_default();
            for k in &deletes {
                after.remove(k);
            }
            after.extend(puts.iter().cloned());
            let total = size(&after);
            if total > MAX_STORE_BYTES as u64 {
                return Err(ControlError::with_status(
                    StatusCode::PAYMENT_REQUIRED,
                    "ServiceQuotaExceededException",
                    format!("The key value store would hold {total} bytes; the limit is {MAX_STORE_BYTES}."),
                ));
            }
            let mut stored = r.clone();
            let etag = new_id('K');
            stored.extra["data_etag"] = etag.clone().into();
            stored.seq = seq;
            let answer = (json!({"ItemCount": after.len(), "TotalSizeInBytes": total}), Some(etag));
            Ok((
                vec![
                    Write::Put(stored),
                    Write::KeyValues {
                        store: r.id.clone(),
                        puts: puts.clone(),
                        deletes: deletes.clone(),
                    },
                ],
                (answer, seq),
            ))
        }).map_err(|e| {
            if e.code == "ConflictException" {
                KvsError::conflict()
            } else if e.code == "ServiceQuotaExceededException" {
                KvsError::new(e.status, "ServiceQuotaExceededException", e.message)
            } else {
                KvsError::from(e)
            }
        })?;
        // Functions reading the store get the new keys through the feed.
        self.publish(seq);
        Ok(answer)
    }
}

fn data_etag(r: &Resource) -> String {
    r.extra["data_etag"].as_str().unwrap_or_default().to_owned()
}

fn size(values: &std::collections::BTreeMap<String, String>) -> u64 {
    values.iter().map(|(k, v)| (k.len() + v.len()) as u64).sum()
}

fn check_key(k: &str) -> Result<(), KvsError> {
    if k.is_empty() || k.len() > MAX_KEY_BYTES {
        return Err(KvsError::validation(format!(
            "A key is 1 to {MAX_KEY_BYTES} bytes."
        )));
    }
    Ok(())
}
