//! Object Lock: WORM retention for versions. A bucket created with
//! `ObjectLockEnabledForBucket` (or a versioning-enabled bucket given a configuration) is
//! versioned for good; its versions may carry a retention (GOVERNANCE or COMPLIANCE, until a
//! date: from `x-amz-object-lock-*` on PUT, copy and multipart create, from the bucket's
//! default rule, or from PutObjectRetention) and a legal hold. A locked version cannot be
//! removed (the store refuses it in the deleting transaction); COMPLIANCE retention can only be
//! extended; GOVERNANCE retention can be shortened or removed, and a GOVERNANCE version
//! removed, only with `x-amz-bypass-governance-retention: true` (the bucket owner, until
//! policies exist). Simple DELETEs still add delete markers.

use http::HeaderMap;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use serde::{Deserialize, Serialize};
use wharf_store::{BucketRecord, LockMode, ObjectAttrs, Retention, Versioning};

use super::object::{change_attrs, readable_object};
use crate::WharfS3;
use crate::access::{Access, BucketRole, Caller};
use crate::convert::{ms_of, timestamp};
use crate::error::{StoreResultExt, custom_error};

/// The kind under which a bucket's Object Lock configuration is kept; its presence means
/// Object Lock is enabled.
const OBJECT_LOCK: &str = "object_lock";
const DAY_MS: i64 = 86_400_000;

/// A bucket's Object Lock configuration as stored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LockConfig {
    /// The default retention of new versions.
    pub rule: Option<DefaultRule>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DefaultRule {
    pub mode: LockMode,
    pub days: Option<i32>,
    pub years: Option<i32>,
}

impl DefaultRule {
    fn retention(&self, now_ms: i64) -> Retention {
        let days = i64::from(self.days.unwrap_or(0)) + i64::from(self.years.unwrap_or(0)) * 365;
        Retention {
            mode: self.mode,
            until_ms: now_ms.saturating_add(days.saturating_mul(DAY_MS)),
        }
    }
}

fn malformed() -> s3s::S3Error {
    s3_error!(
        MalformedXML,
        "The XML you provided was not well-formed or did not validate against our published schema"
    )
}

fn missing_configuration() -> s3s::S3Error {
    s3_error!(
        InvalidRequest,
        "Bucket is missing Object Lock Configuration"
    )
}

fn no_object_configuration() -> s3s::S3Error {
    custom_error(
        "NoSuchObjectLockConfiguration",
        "The specified object does not have a ObjectLock configuration",
        http::StatusCode::NOT_FOUND,
    )
}

fn protected() -> s3s::S3Error {
    s3_error!(
        AccessDenied,
        "Access Denied because object protected by object lock."
    )
}

/// S3 asks requests that set locks to prove their body: `Content-MD5` or a checksum.
fn require_integrity(headers: &HeaderMap) -> S3Result<()> {
    let present = headers.contains_key("content-md5")
        || headers
            .keys()
            .any(|k| k.as_str().starts_with("x-amz-checksum-"))
        || headers.contains_key("x-amz-sdk-checksum-algorithm");
    if present {
        Ok(())
    } else {
        Err(s3_error!(
            InvalidRequest,
            "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters"
        ))
    }
}

/// The bucket's Object Lock configuration, if Object Lock is enabled.
pub async fn config(s3: &WharfS3, bucket: &str) -> S3Result<Option<LockConfig>> {
    let stored = s3
        .store
        .meta()
        .bucket_config(bucket, OBJECT_LOCK)
        .await
        .s3()?;
    Ok(stored.map(|j| serde_json::from_str(&j).unwrap_or_default()))
}

async fn store_config(s3: &WharfS3, bucket: &str, c: &LockConfig) -> S3Result<()> {
    let json = serde_json::to_string(c)
        .map_err(|e| s3s::S3Error::internal_error(std::io::Error::other(e)))?;
    s3.store
        .set_bucket_config(bucket, OBJECT_LOCK, Some(json))
        .await
        .s3()
}

/// Turns Object Lock on for a bucket CreateBucket just made with it.
pub async fn enable_on_new_bucket(s3: &WharfS3, bucket: &str) -> S3Result<()> {
    store_config(s3, bucket, &LockConfig::default()).await
}

/// The lock a new version gets from `x-amz-object-lock-*` (checked) or, without them, from the
/// bucket's default rule; refused on a bucket without Object Lock. A request that brings the
/// body (PutObject) must prove it with `Content-MD5` or a checksum when it sets a lock.
pub async fn new_version_lock(
    s3: &WharfS3,
    bucket_record: &BucketRecord,
    headers: &HeaderMap,
    attrs: &mut ObjectAttrs,
    with_body: bool,
) -> S3Result<()> {
    let bucket = bucket_record.name.as_str();
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    let (mode, until, hold) = (
        h("x-amz-object-lock-mode"),
        h("x-amz-object-lock-retain-until-date"),
        h("x-amz-object-lock-legal-hold"),
    );
    let named = mode.is_some() || until.is_some() || hold.is_some();
    // Object Lock needs versioning enabled: a write to any other bucket that names no lock has
    // nothing to look up.
    if !named && bucket_record.versioning != Versioning::Enabled {
        return Ok(());
    }
    let cfg = config(s3, bucket).await?;
    let Some(cfg) = cfg else {
        return if named {
            Err(s3_error!(
                InvalidRequest,
                "Bucket is missing ObjectLockConfiguration"
            ))
        } else {
            Ok(())
        };
    };
    if named && with_body {
        require_integrity(headers)?;
    }
    let now = wharf_store::now_ms();
    attrs.retention = match (mode, until) {
        (Some(m), Some(u)) => {
            let mode = LockMode::parse(m)
                .ok_or_else(|| s3_error!(InvalidArgument, "Unknown wormMode directive."))?;
            let until = httpdate_or_iso(u).ok_or_else(|| {
                s3_error!(
                    InvalidArgument,
                    "The retain until date must be provided in ISO 8601 format"
                )
            })?;
            if until <= now {
                return Err(s3_error!(
                    InvalidArgument,
                    "The retain until date must be in the future!"
                ));
            }
            Some(Retention {
                mode,
                until_ms: until,
            })
        }
        (None, None) => cfg.rule.as_ref().map(|r| r.retention(now)),
        _ => {
            return Err(s3_error!(
                InvalidArgument,
                "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"
            ));
        }
    };
    attrs.legal_hold = match hold {
        None => None,
        Some("ON") => Some(true),
        Some("OFF") => Some(false),
        Some(_) => {
            return Err(s3_error!(
                InvalidArgument,
                "Legal Hold must be either of 'ON' or 'OFF'"
            ));
        }
    };
    Ok(())
}

/// A browser form's Object Lock fields, as the headers a PUT would carry.
pub fn form_fields(input: &PutObjectInput) -> HeaderMap {
    let mut h = HeaderMap::new();
    let mut add = |name: &'static str, value: Option<String>| {
        if let Some(v) = value.and_then(|v| http::HeaderValue::from_str(&v).ok()) {
            h.insert(name, v);
        }
    };
    add(
        "x-amz-object-lock-mode",
        input
            .object_lock_mode
            .as_ref()
            .map(|m| m.as_str().to_owned()),
    );
    add(
        "x-amz-object-lock-retain-until-date",
        input.object_lock_retain_until_date.as_ref().and_then(|t| {
            time::OffsetDateTime::from(t.clone())
                .format(&time::format_description::well_known::Rfc3339)
                .ok()
        }),
    );
    add(
        "x-amz-object-lock-legal-hold",
        input
            .object_lock_legal_hold_status
            .as_ref()
            .map(|s| s.as_str().to_owned()),
    );
    h
}

/// Milliseconds of an ISO 8601 timestamp (`2030-01-01T00:00:00Z`, fractions allowed).
fn httpdate_or_iso(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

fn hold_status(on: bool) -> ObjectLockLegalHoldStatus {
    ObjectLockLegalHoldStatus::from(if on { "ON" } else { "OFF" }.to_owned())
}

/// `x-amz-object-lock-*` of a GET or HEAD answer.
pub fn read_headers(
    attrs: &ObjectAttrs,
) -> (
    Option<ObjectLockMode>,
    Option<Timestamp>,
    Option<ObjectLockLegalHoldStatus>,
) {
    (
        attrs
            .retention
            .map(|r| ObjectLockMode::from(r.mode.as_str().to_owned())),
        attrs.retention.map(|r| timestamp(r.until_ms)),
        attrs.legal_hold.map(hold_status),
    )
}

/// A versioned bucket with Object Lock keeps its versioning: refused otherwise.
pub async fn check_versioning_change(s3: &WharfS3, bucket: &str, to: Versioning) -> S3Result<()> {
    if to != Versioning::Enabled && config(s3, bucket).await?.is_some() {
        return Err(custom_error(
            "InvalidBucketState",
            "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.",
            http::StatusCode::CONFLICT,
        ));
    }
    Ok(())
}

pub async fn put_object_lock_configuration(
    s3: &WharfS3,
    req: S3Request<PutObjectLockConfigurationInput>,
) -> S3Result<S3Response<PutObjectLockConfigurationOutput>> {
    let caller = s3.caller(&req).await?;
    require_integrity(&req.headers)?;
    let input = req.input;
    let (_, bucket) = s3
        .authorize(
            &caller,
            &input.bucket,
            BucketRole::Target,
            Access::bucket("s3:PutBucketObjectLockConfiguration"),
        )
        .await?;
    let Some(c) = input.object_lock_configuration else {
        return Err(malformed());
    };
    if c.object_lock_enabled
        .as_ref()
        .map(ObjectLockEnabled::as_str)
        != Some(ObjectLockEnabled::ENABLED)
    {
        return Err(malformed());
    }
    let rule = match c.rule.and_then(|r| r.default_retention) {
        None => None,
        Some(d) => {
            let mode = d
                .mode
                .as_ref()
                .and_then(|m| LockMode::parse(m.as_str()))
                .ok_or_else(malformed)?;
            match (d.days, d.years) {
                (Some(n), None) | (None, Some(n)) if n <= 0 => {
                    return Err(s3_error!(
                        InvalidArgument,
                        "Default retention period must be a positive integer value"
                    ));
                }
                (Some(_), None) | (None, Some(_)) => {}
                _ => return Err(malformed()),
            }
            Some(DefaultRule {
                mode,
                days: d.days,
                years: d.years,
            })
        }
    };
    if config(s3, &input.bucket).await?.is_none() && bucket.versioning != Versioning::Enabled {
        return Err(custom_error(
            "InvalidBucketState",
            "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
            http::StatusCode::CONFLICT,
        ));
    }
    store_config(s3, &input.bucket, &LockConfig { rule }).await?;
    Ok(S3Response::new(PutObjectLockConfigurationOutput::default()))
}

pub async fn get_object_lock_configuration(
    s3: &WharfS3,
    req: S3Request<GetObjectLockConfigurationInput>,
) -> S3Result<S3Response<GetObjectLockConfigurationOutput>> {
    let caller = s3.caller(&req).await?;
    let bucket = req.input.bucket;
    s3.authorize(
        &caller,
        &bucket,
        BucketRole::Target,
        Access::bucket("s3:GetBucketObjectLockConfiguration"),
    )
    .await?;
    let Some(c) = config(s3, &bucket).await? else {
        return Err(custom_error(
            "ObjectLockConfigurationNotFoundError",
            "Object Lock configuration does not exist for this bucket",
            http::StatusCode::NOT_FOUND,
        ));
    };
    Ok(S3Response::new(GetObjectLockConfigurationOutput {
        object_lock_configuration: Some(ObjectLockConfiguration {
            object_lock_enabled: Some(ObjectLockEnabled::from(
                ObjectLockEnabled::ENABLED.to_owned(),
            )),
            rule: c.rule.map(|r| ObjectLockRule {
                default_retention: Some(DefaultRetention {
                    mode: Some(ObjectLockRetentionMode::from(r.mode.as_str().to_owned())),
                    days: r.days,
                    years: r.years,
                }),
            }),
        }),
    }))
}

/// The version a lock request names, in a bucket with Object Lock.
async fn locked_version(
    s3: &WharfS3,
    caller: &Caller,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    action: &'static str,
) -> S3Result<(wharf_store::ObjectRecord, wharf_store::BucketRecord)> {
    let found = readable_object(
        s3,
        caller,
        bucket,
        key,
        version_id,
        BucketRole::Target,
        (action, action),
    )
    .await?;
    if config(s3, bucket).await?.is_none() {
        return Err(missing_configuration());
    }
    Ok(found)
}

pub async fn put_object_retention(
    s3: &WharfS3,
    req: S3Request<PutObjectRetentionInput>,
) -> S3Result<S3Response<PutObjectRetentionOutput>> {
    let caller = s3.caller(&req).await?;
    require_integrity(&req.headers)?;
    let input = req.input;
    let (obj, bucket) = locked_version(
        s3,
        &caller,
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
        "s3:PutObjectRetention",
    )
    .await?;
    let bypass = input.bypass_governance_retention == Some(true)
        && s3
            .may_bypass_governance(&caller, &bucket, &input.key)
            .await?;
    let now = wharf_store::now_ms();
    let wanted = match input.retention {
        Some(ObjectLockRetention {
            mode: Some(m),
            retain_until_date: Some(d),
        }) => {
            let mode = LockMode::parse(m.as_str()).ok_or_else(malformed)?;
            let until = ms_of(&d);
            if until <= now {
                return Err(s3_error!(
                    InvalidArgument,
                    "The retain until date must be in the future!"
                ));
            }
            Some(Retention {
                mode,
                until_ms: until,
            })
        }
        Some(ObjectLockRetention {
            mode: None,
            retain_until_date: None,
        })
        | None => None,
        Some(_) => return Err(malformed()),
    };
    change_attrs(s3, &obj, input.version_id.is_some(), move |a| {
        let now = wharf_store::now_ms();
        if let Some(current) = a.retention.filter(|r| now < r.until_ms) {
            // Extending (or moving GOVERNANCE to COMPLIANCE) is always allowed; anything else
            // weakens the lock: never for COMPLIANCE, with the bypass for GOVERNANCE.
            let stronger = wanted.is_some_and(|w| {
                w.until_ms >= current.until_ms
                    && (w.mode == current.mode || w.mode == LockMode::Compliance)
            });
            if !stronger && (current.mode == LockMode::Compliance || !bypass) {
                return Err(protected());
            }
        }
        a.retention = wanted;
        Ok(())
    })
    .await?;
    Ok(S3Response::new(PutObjectRetentionOutput::default()))
}

pub async fn get_object_retention(
    s3: &WharfS3,
    req: S3Request<GetObjectRetentionInput>,
) -> S3Result<S3Response<GetObjectRetentionOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let (obj, _) = locked_version(
        s3,
        &caller,
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
        "s3:GetObjectRetention",
    )
    .await?;
    let Some(r) = obj.attrs.retention else {
        return Err(no_object_configuration());
    };
    Ok(S3Response::new(GetObjectRetentionOutput {
        retention: Some(ObjectLockRetention {
            mode: Some(ObjectLockRetentionMode::from(r.mode.as_str().to_owned())),
            retain_until_date: Some(timestamp(r.until_ms)),
        }),
    }))
}

pub async fn put_object_legal_hold(
    s3: &WharfS3,
    req: S3Request<PutObjectLegalHoldInput>,
) -> S3Result<S3Response<PutObjectLegalHoldOutput>> {
    let caller = s3.caller(&req).await?;
    require_integrity(&req.headers)?;
    let input = req.input;
    let (obj, _) = locked_version(
        s3,
        &caller,
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
        "s3:PutObjectLegalHold",
    )
    .await?;
    let on = match input
        .legal_hold
        .and_then(|h| h.status)
        .as_ref()
        .map(ObjectLockLegalHoldStatus::as_str)
    {
        Some("ON") => true,
        Some("OFF") => false,
        _ => return Err(malformed()),
    };
    change_attrs(s3, &obj, input.version_id.is_some(), move |a| {
        a.legal_hold = Some(on);
        Ok(())
    })
    .await?;
    Ok(S3Response::new(PutObjectLegalHoldOutput::default()))
}

pub async fn get_object_legal_hold(
    s3: &WharfS3,
    req: S3Request<GetObjectLegalHoldInput>,
) -> S3Result<S3Response<GetObjectLegalHoldOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let (obj, _) = locked_version(
        s3,
        &caller,
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
        "s3:GetObjectLegalHold",
    )
    .await?;
    let Some(on) = obj.attrs.legal_hold else {
        return Err(no_object_configuration());
    };
    Ok(S3Response::new(GetObjectLegalHoldOutput {
        legal_hold: Some(ObjectLockLegalHold {
            status: Some(hold_status(on)),
        }),
    }))
}
