//! Object and bucket tagging: PutObjectTagging, GetObjectTagging, DeleteObjectTagging (per
//! version), PutBucketTagging, GetBucketTagging, DeleteBucketTagging, and the `x-amz-tagging`
//! header of PutObject, CreateMultipartUpload and CopyObject. S3's limits: 10 tags per object,
//! 50 per bucket, keys of 1 to 128 and values of up to 256 Unicode characters, letters, digits,
//! white space and `+ - = . _ : / @`, no duplicate keys, no `aws:` prefix.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::object::{change_attrs, readable_object, version_header};
use crate::WharfS3;
use crate::access::{Access, BucketRole};
use crate::endpoint::StatusOverride;
use crate::error::{StoreResultExt, custom_error};

/// A tag set: (key, value) pairs in the order given.
pub type Tags = Vec<(String, String)>;

pub const MAX_OBJECT_TAGS: usize = 10;
pub const MAX_BUCKET_TAGS: usize = 50;
const MAX_KEY_CHARS: usize = 128;
const MAX_VALUE_CHARS: usize = 256;
/// The kind under which a bucket's tag set is kept (`MetaStore::bucket_config`).
const BUCKET_TAGS: &str = "tagging";

fn invalid_tag(message: &str) -> s3s::S3Error {
    custom_error("InvalidTag", message, http::StatusCode::BAD_REQUEST)
}

fn allowed(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace() || "+-=._:/@".contains(c))
}

/// Checks a tag set against S3's rules (`max`: 10 for objects, 50 for buckets).
pub fn validate(tags: &Tags, max: usize) -> S3Result<()> {
    if tags.len() > max {
        return Err(if max == MAX_OBJECT_TAGS {
            invalid_tag("Object tags cannot be greater than 10")
        } else {
            invalid_tag("Bucket tag count cannot be greater than 50")
        });
    }
    for (i, (k, v)) in tags.iter().enumerate() {
        if k.chars().count() > MAX_KEY_CHARS {
            return Err(invalid_tag(
                "The TagKey you have provided is too long, max 128",
            ));
        }
        if v.chars().count() > MAX_VALUE_CHARS {
            return Err(invalid_tag(
                "The TagValue you have provided is too long, max 256",
            ));
        }
        if k.is_empty() || !allowed(k) {
            return Err(invalid_tag("The TagKey you have provided is invalid"));
        }
        if !allowed(v) {
            return Err(invalid_tag("The TagValue you have provided is invalid"));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(invalid_tag("Your TagKey cannot be prefixed with aws:"));
        }
        if tags[..i].iter().any(|(other, _)| other == k) {
            return Err(invalid_tag(
                "Cannot provide multiple Tags with the same key",
            ));
        }
    }
    Ok(())
}

fn bad_header() -> s3s::S3Error {
    s3_error!(
        InvalidArgument,
        "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates."
    )
}

/// Decodes one component of a URL query (`+` is a space).
fn query_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The tag set of an `x-amz-tagging` header (`k1=v1&k2=v2`, URL-encoded), checked.
pub fn from_header(value: Option<&str>) -> S3Result<Tags> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(Vec::new());
    };
    let mut tags = Tags::new();
    for pair in value.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (
            query_decode(k).ok_or_else(bad_header)?,
            query_decode(v).ok_or_else(bad_header)?,
        );
        if tags.iter().any(|(other, _)| *other == k) {
            return Err(bad_header());
        }
        tags.push((k, v));
    }
    if tags.len() > MAX_OBJECT_TAGS {
        return Err(custom_error(
            "BadRequest",
            "Object tags cannot be greater than 10",
            http::StatusCode::BAD_REQUEST,
        ));
    }
    validate(&tags, MAX_OBJECT_TAGS)?;
    Ok(tags)
}

/// The tag set of a browser form's `tagging` field (a `<Tagging>` document), checked.
pub fn from_form(value: Option<&str>) -> S3Result<Tags> {
    let Some(xml) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    let mut d = s3s::xml::Deserializer::new(xml.as_bytes());
    let tagging = <Tagging as s3s::xml::Deserialize>::deserialize(&mut d).map_err(|_| {
        s3_error!(
            MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema"
        )
    })?;
    from_body(tagging, MAX_OBJECT_TAGS)
}

/// The tag set of a `<Tagging>` body, checked.
fn from_body(tagging: Tagging, max: usize) -> S3Result<Tags> {
    let mut tags = Tags::new();
    for t in tagging.tag_set {
        let (Some(k), Some(v)) = (t.key, t.value) else {
            return Err(s3_error!(
                MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema"
            ));
        };
        tags.push((k, v));
    }
    validate(&tags, max)?;
    Ok(tags)
}

fn tag_set(tags: &Tags) -> TagSet {
    tags.iter()
        .map(|(k, v)| Tag {
            key: Some(k.clone()),
            value: Some(v.clone()),
        })
        .collect()
}

/// Sets the tags of the version the request names (its current one by default).
async fn set_object_tags(
    s3: &WharfS3,
    caller: &crate::access::Caller,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    tags: Tags,
    actions: (&'static str, &'static str),
) -> S3Result<Option<String>> {
    let (obj, b) = readable_object(
        s3,
        caller,
        bucket,
        key,
        version_id,
        BucketRole::Target,
        actions,
    )
    .await?;
    change_attrs(s3, &obj, version_id.is_some(), move |a| {
        a.tags = tags;
        Ok(())
    })
    .await?;
    Ok(version_header(&b, &obj))
}

pub async fn put_object_tagging(
    s3: &WharfS3,
    req: S3Request<PutObjectTaggingInput>,
) -> S3Result<S3Response<PutObjectTaggingOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let tags = from_body(input.tagging, MAX_OBJECT_TAGS)?;
    let version_id = set_object_tags(
        s3,
        &caller,
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
        tags,
        ("s3:PutObjectTagging", "s3:PutObjectVersionTagging"),
    )
    .await?;
    Ok(S3Response::new(PutObjectTaggingOutput { version_id }))
}

pub async fn get_object_tagging(
    s3: &WharfS3,
    req: S3Request<GetObjectTaggingInput>,
) -> S3Result<S3Response<GetObjectTaggingOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let (obj, b) = readable_object(
        s3,
        &caller,
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
        BucketRole::Target,
        ("s3:GetObjectTagging", "s3:GetObjectVersionTagging"),
    )
    .await?;
    Ok(S3Response::new(GetObjectTaggingOutput {
        tag_set: tag_set(&obj.attrs.tags),
        version_id: version_header(&b, &obj),
    }))
}

pub async fn delete_object_tagging(
    s3: &WharfS3,
    req: S3Request<DeleteObjectTaggingInput>,
) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let version_id = set_object_tags(
        s3,
        &caller,
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
        Vec::new(),
        ("s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"),
    )
    .await?;
    Ok(StatusOverride::answer(
        DeleteObjectTaggingOutput { version_id },
        http::StatusCode::NO_CONTENT,
    ))
}

pub async fn put_bucket_tagging(
    s3: &WharfS3,
    req: S3Request<PutBucketTaggingInput>,
) -> S3Result<S3Response<PutBucketTaggingOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    s3.authorize(
        &caller,
        &input.bucket,
        BucketRole::Target,
        Access::bucket("s3:PutBucketTagging"),
    )
    .await?;
    let tags = from_body(input.tagging, MAX_BUCKET_TAGS)?;
    let json = serde_json::to_string(&tags)
        .map_err(|e| s3s::S3Error::internal_error(std::io::Error::other(e)))?;
    s3.store
        .set_bucket_config(&input.bucket, BUCKET_TAGS, Some(json))
        .await
        .s3()?;
    Ok(StatusOverride::answer(
        PutBucketTaggingOutput::default(),
        http::StatusCode::NO_CONTENT,
    ))
}

pub async fn get_bucket_tagging(
    s3: &WharfS3,
    req: S3Request<GetBucketTaggingInput>,
) -> S3Result<S3Response<GetBucketTaggingOutput>> {
    let caller = s3.caller(&req).await?;
    let bucket = req.input.bucket;
    s3.authorize(
        &caller,
        &bucket,
        BucketRole::Target,
        Access::bucket("s3:GetBucketTagging"),
    )
    .await?;
    let stored = s3
        .store
        .meta()
        .bucket_config(&bucket, BUCKET_TAGS)
        .await
        .s3()?;
    let tags: Tags = stored
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default();
    if tags.is_empty() {
        return Err(custom_error(
            "NoSuchTagSet",
            "The TagSet does not exist",
            http::StatusCode::NOT_FOUND,
        ));
    }
    Ok(S3Response::new(GetBucketTaggingOutput {
        tag_set: tag_set(&tags),
    }))
}

pub async fn delete_bucket_tagging(
    s3: &WharfS3,
    req: S3Request<DeleteBucketTaggingInput>,
) -> S3Result<S3Response<DeleteBucketTaggingOutput>> {
    let caller = s3.caller(&req).await?;
    let bucket = req.input.bucket;
    s3.authorize(
        &caller,
        &bucket,
        BucketRole::Target,
        Access::bucket("s3:PutBucketTagging"),
    )
    .await?;
    s3.store
        .set_bucket_config(&bucket, BUCKET_TAGS, None)
        .await
        .s3()?;
    Ok(StatusOverride::answer(
        DeleteBucketTaggingOutput::default(),
        http::StatusCode::NO_CONTENT,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn header_form() {
        assert_eq!(
            from_header(Some("a=1&b%20c=d+e&empty=")).unwrap(),
            tags(&[("a", "1"), ("b c", "d e"), ("empty", "")])
        );
        assert!(from_header(None).unwrap().is_empty());
        assert!(from_header(Some("a=1&a=2")).is_err());
        assert!(from_header(Some("a=%zz")).is_err());
        let eleven = (0..11)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join("&");
        assert_eq!(
            from_header(Some(&eleven)).unwrap_err().code().as_str(),
            "BadRequest"
        );
    }

    #[test]
    fn limits_and_characters() {
        let code = |t: Tags, max| validate(&t, max).map_err(|e| e.code().as_str().to_owned());
        assert!(code(tags(&[("Project", "Blue Sky: 1+1=2 @home/_.-")]), 10).is_ok());
        assert!(code(tags(&[("ключ", "значение")]), 10).is_ok());
        let k128 = "k".repeat(128);
        let v256 = "v".repeat(256);
        assert!(code(vec![(k128.clone(), v256.clone())], 10).is_ok());
        for bad in [
            vec![(format!("{k128}k"), String::new())],
            vec![("k".into(), format!("{v256}v"))],
            tags(&[("", "v")]),
            tags(&[("a*b", "v")]),
            tags(&[("k", "v#")]),
            tags(&[("aws:name", "v")]),
            tags(&[("k", "1"), ("k", "2")]),
        ] {
            assert_eq!(code(bad, 10), Err("InvalidTag".into()));
        }
        let many: Tags = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(code(many[..50].to_vec(), 50).is_ok());
        assert_eq!(code(many, 50), Err("InvalidTag".into()));
    }
}
