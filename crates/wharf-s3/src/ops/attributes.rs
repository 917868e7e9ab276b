//! GetObjectAttributes.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};

use super::object::readable_object;
use crate::access::BucketRole;
use crate::convert::{ChecksumFields, etag, storage_class, timestamp};
use crate::{WharfS3, set_checksums};

pub async fn get_object_attributes(
    s3: &WharfS3,
    req: S3Request<GetObjectAttributesInput>,
) -> S3Result<S3Response<GetObjectAttributesOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let (obj, bucket) = readable_object(
        s3,
        &caller,
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
        BucketRole::Target,
        ("s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"),
    )
    .await?;
    // SDKs send one comma-separated x-amz-object-attributes header; s3s keeps it whole.
    let wants = |name: &str| {
        input
            .object_attributes
            .iter()
            .flat_map(|a| a.as_str().split(','))
            .any(|a| a.trim() == name)
    };
    let mut out = GetObjectAttributesOutput {
        last_modified: Some(timestamp(obj.last_modified_ms)),
        version_id: super::object::version_header(&bucket, &obj),
        ..Default::default()
    };
    if wants(ObjectAttributes::ETAG) {
        out.e_tag = Some(etag(&obj.etag));
    }
    if wants(ObjectAttributes::OBJECT_SIZE) {
        out.object_size = i64::try_from(obj.size).ok();
    }
    if wants(ObjectAttributes::STORAGE_CLASS) {
        out.storage_class = Some(StorageClass::from(storage_class(
            obj.attrs.storage_class.as_deref(),
        )));
    }
    if wants(ObjectAttributes::CHECKSUM) && obj.checksum.is_some() {
        let fields = ChecksumFields::of(obj.checksum.as_ref());
        let mut c = Checksum {
            checksum_type: fields.kind.clone(),
            ..Default::default()
        };
        set_checksums!(c, fields);
        out.checksum = Some(c);
    }
    if wants(ObjectAttributes::OBJECT_PARTS) && !obj.parts.is_empty() {
        let max = input
            .max_parts
            .map_or(1000, |m| usize::try_from(m).unwrap_or(0).min(1000));
        let marker = input
            .part_number_marker
            .map_or(0, |m| u32::try_from(m).unwrap_or(0));
        let after: Vec<_> = obj
            .parts
            .iter()
            .filter(|p| p.part_number > marker)
            .collect();
        let truncated = after.len() > max;
        let page: Vec<ObjectPart> = after
            .iter()
            .take(max)
            .map(|p| {
                let mut part = ObjectPart {
                    part_number: i32::try_from(p.part_number).ok(),
                    size: i64::try_from(p.size).ok(),
                    ..Default::default()
                };
                set_checksums!(part, ChecksumFields::of(p.checksum.as_ref()));
                part
            })
            .collect();
        out.object_parts = Some(GetObjectAttributesParts {
            total_parts_count: i32::try_from(obj.parts.len()).ok(),
            part_number_marker: input.part_number_marker,
            next_part_number_marker: page.last().and_then(|p| p.part_number),
            max_parts: i32::try_from(max).ok(),
            is_truncated: Some(truncated),
            parts: Some(page),
        });
    }
    Ok(S3Response::new(out))
}
