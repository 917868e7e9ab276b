//! Nothing silently ignored: request headers that name an S3 feature Wharf does not implement
//! yet are refused with `501 NotImplemented` naming the feature, instead of a 200 that applies
//! none of it. ACL headers are the operations' to decide (`ops::acl`: S3's answers for
//! buckets with ACLs disabled, 501 for grants). As each feature lands, its entry goes away.

use http::HeaderMap;
use s3s::{S3Error, S3ErrorCode, S3Result};

fn not_implemented(feature: &str, header: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NotImplemented,
        format!(
            "A header you provided implies functionality that is not implemented: {feature} ({header}). Wharf refuses it rather than ignore it."
        ),
    )
}

/// Refuses the headers of a write (object, part, bucket) that name a feature not built yet.
pub fn refuse_unbuilt(headers: &HeaderMap) -> S3Result<()> {
    for name in headers.keys() {
        let name = name.as_str();
        let feature = match name {
            "x-amz-server-side-encryption"
            | "x-amz-server-side-encryption-aws-kms-key-id"
            | "x-amz-server-side-encryption-context"
            | "x-amz-server-side-encryption-bucket-key-enabled" => {
                Some("server-side encryption (SSE-S3, SSE-KMS)")
            }
            "x-amz-server-side-encryption-customer-algorithm"
            | "x-amz-server-side-encryption-customer-key"
            | "x-amz-server-side-encryption-customer-key-md5"
            | "x-amz-copy-source-server-side-encryption-customer-algorithm"
            | "x-amz-copy-source-server-side-encryption-customer-key"
            | "x-amz-copy-source-server-side-encryption-customer-key-md5" => {
                Some("server-side encryption with customer keys (SSE-C)")
            }
            "x-amz-write-offset-bytes" => Some("appending to objects"),
            _ => None,
        };
        if let Some(feature) = feature {
            return Err(not_implemented(feature, name));
        }
    }
    Ok(())
}

/// The fields of a PutObject that name features, as the headers that carry them (a POST form
/// upload brings them as form fields, which s3s puts in the input).
pub fn put_object_fields(input: &s3s::dto::PutObjectInput) -> HeaderMap {
    let mut h = HeaderMap::new();
    let mut add = |name: &'static str, value: Option<&str>| {
        if let Some(v) = value.and_then(|v| http::HeaderValue::from_str(v).ok()) {
            h.append(name, v);
        }
    };
    add(
        "x-amz-server-side-encryption",
        input.server_side_encryption.as_ref().map(|v| v.as_str()),
    );
    add(
        "x-amz-server-side-encryption-aws-kms-key-id",
        input.ssekms_key_id.as_deref(),
    );
    add(
        "x-amz-server-side-encryption-customer-algorithm",
        input.sse_customer_algorithm.as_deref(),
    );
    add("x-amz-acl", input.acl.as_ref().map(|v| v.as_str()));
    add("x-amz-grant-read", input.grant_read.as_deref());
    add(
        "x-amz-grant-full-control",
        input.grant_full_control.as_deref(),
    );
    add("x-amz-grant-read-acp", input.grant_read_acp.as_deref());
    add("x-amz-grant-write-acp", input.grant_write_acp.as_deref());
    if input.write_offset_bytes.is_some() {
        add("x-amz-write-offset-bytes", Some("0"));
    }
    h
}

/// SSE-C headers on a read: S3 answers 400 for an object that is not encrypted with a
/// customer key, which no object in Wharf is.
pub fn refuse_customer_key_on_read(headers: &HeaderMap) -> S3Result<()> {
    if headers.keys().any(|n| {
        n.as_str()
            .starts_with("x-amz-server-side-encryption-customer-")
    }) {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "The encryption parameters are not applicable to this object.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(headers: &[(&str, &str)]) -> Option<String> {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        refuse_unbuilt(&h)
            .err()
            .map(|e| format!("{} {}", e.code().as_str(), e.message().unwrap_or("")))
    }

    #[test]
    fn unbuilt_features_are_refused_one_by_one() {
        for (h, v) in [
            ("x-amz-server-side-encryption", "AES256"),
            ("x-amz-server-side-encryption", "aws:kms"),
            ("x-amz-server-side-encryption-aws-kms-key-id", "k"),
            ("x-amz-server-side-encryption-customer-algorithm", "AES256"),
            ("x-amz-write-offset-bytes", "0"),
        ] {
            let got = refused(&[(h, v)]);
            assert!(
                got.as_deref()
                    .is_some_and(|m| m.starts_with("NotImplemented") && m.contains(h)),
                "{h}: {v} -> {got:?}"
            );
        }
    }

    #[test]
    fn what_s3_accepts_and_what_is_built_passes() {
        for (h, v) in [
            ("x-amz-acl", "private"),
            ("x-amz-acl", "bucket-owner-full-control"),
            ("x-amz-storage-class", "STANDARD"),
            ("x-amz-storage-class", "GLACIER"),
            ("x-amz-storage-class", "STANDARD_IA"),
            ("x-amz-tagging-directive", "COPY"),
            ("x-amz-tagging-directive", "REPLACE"),
            ("content-type", "text/plain"),
            ("x-amz-meta-color", "blue"),
        ] {
            assert_eq!(refused(&[(h, v)]), None, "{h}: {v}");
        }
        assert_eq!(
            refused(&[("x-amz-object-ownership", "BucketOwnerEnforced")]),
            None
        );
        // Object Lock is built: its headers pass to the operations.
        for (h, v) in [
            ("x-amz-bucket-object-lock-enabled", "true"),
            ("x-amz-object-lock-mode", "GOVERNANCE"),
            ("x-amz-object-lock-legal-hold", "ON"),
        ] {
            assert_eq!(refused(&[(h, v)]), None, "{h}: {v}");
        }
        // ACLs and Object Ownership are decided by the operations (ops::acl).
        assert_eq!(refused(&[("x-amz-object-ownership", "ObjectWriter")]), None);
        assert_eq!(refused(&[("x-amz-acl", "public-read")]), None);
        // Tagging is built: its headers pass to the operations.
        assert_eq!(
            refused(&[
                ("x-amz-tagging-directive", "REPLACE"),
                ("x-amz-tagging", "a=b")
            ]),
            None
        );
    }
}
