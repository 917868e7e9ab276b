//! MFA delete: once a bucket's versioning configuration has `MfaDelete` enabled, changing its
//! versioning and removing a version for good need `x-amz-mfa: SERIAL CODE` from a virtual
//! MFA device of the bucket's owner (`wharf mfa create USER`), each code used once.

use s3s::{S3Result, s3_error};
use wharf_auth::totp;
use wharf_store::BucketRecord;

use crate::WharfS3;
use crate::error::StoreResultExt;

/// The kind under which a bucket's MFA delete state (`Enabled`, `Disabled`) is kept.
pub const MFA_DELETE: &str = "mfa_delete";

fn denied() -> s3s::S3Error {
    s3_error!(
        AccessDenied,
        "Mfa Authentication must be used for this request"
    )
}

/// The bucket's MFA delete state, if it was ever configured.
pub async fn state(s3: &WharfS3, bucket: &str) -> S3Result<Option<String>> {
    s3.store.meta().bucket_config(bucket, MFA_DELETE).await.s3()
}

pub async fn enabled(s3: &WharfS3, bucket: &str) -> S3Result<bool> {
    Ok(state(s3, bucket).await?.as_deref() == Some("Enabled"))
}

/// Checks `x-amz-mfa` against the bucket owner's devices and uses its code up.
pub async fn check(s3: &WharfS3, bucket: &BucketRecord, header: Option<&str>) -> S3Result<()> {
    let Some(header) = header else {
        return Err(denied());
    };
    let Some((serial, code)) = header.trim().rsplit_once(' ') else {
        return Err(s3_error!(
            InvalidArgument,
            "Mfa header is invalid -- the header should be formatted as {{serialNumber}}(space){{tokenCode}}"
        ));
    };
    let meta = s3.store.meta();
    let Some(device) = meta.mfa_device(serial.trim()).await.s3()? else {
        return Err(denied());
    };
    let owner = meta.get_user(&device.user).await.s3()?;
    if owner.is_none_or(|u| u.canonical_id != bucket.owner) {
        return Err(denied());
    }
    let secret = totp::from_base32(&device.secret).ok_or_else(denied)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let Some(step) = totp::matching_step(&secret, code.trim(), now, device.last_step) else {
        return Err(denied());
    };
    // A concurrent request that used the same code (or a later one) wins; this one fails.
    if !meta.use_mfa_step(&device.serial, step).await.s3()? {
        return Err(denied());
    }
    Ok(())
}
