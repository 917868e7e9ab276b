//! The XML request bodies Wharf accepts (CompleteMultipartUpload, DeleteObjects,
//! CreateBucketConfiguration, tag sets, versioning and Object Lock configurations, retention,
//! legal holds, restores) must never panic the parser, whatever the bytes; nor must the tag
//! sets of `x-amz-tagging` headers and browser forms.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3s::dto::{
    CompletedMultipartUpload, CreateBucketConfiguration, Delete, ObjectLockConfiguration,
    ObjectLockLegalHold, ObjectLockRetention, RestoreRequest, Tagging, VersioningConfiguration,
};
use s3s::xml::{Deserialize, Deserializer};

fuzz_target!(|data: &[u8]| {
    let _ = CompletedMultipartUpload::deserialize(&mut Deserializer::new(data));
    let _ = Delete::deserialize(&mut Deserializer::new(data));
    let _ = CreateBucketConfiguration::deserialize(&mut Deserializer::new(data));
    let _ = Tagging::deserialize(&mut Deserializer::new(data));
    let _ = VersioningConfiguration::deserialize(&mut Deserializer::new(data));
    let _ = ObjectLockConfiguration::deserialize(&mut Deserializer::new(data));
    let _ = ObjectLockRetention::deserialize(&mut Deserializer::new(data));
    let _ = ObjectLockLegalHold::deserialize(&mut Deserializer::new(data));
    let _ = RestoreRequest::deserialize(&mut Deserializer::new(data));
    if let Ok(s) = std::str::from_utf8(data) {
        // Whatever they accept obeys S3's limits.
        for tags in [
            wharf_s3::ops::tagging::from_header(Some(s)),
            wharf_s3::ops::tagging::from_form(Some(s)),
        ]
        .into_iter()
        .flatten()
        {
            assert!(tags.len() <= 10);
            assert!(wharf_s3::ops::tagging::validate(&tags, 10).is_ok());
        }
    }
});
