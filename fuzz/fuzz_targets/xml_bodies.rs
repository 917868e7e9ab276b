//! The XML request bodies Wharf accepts (CompleteMultipartUpload, DeleteObjects,
//! CreateBucketConfiguration) must never panic the parser, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3s::dto::{CompletedMultipartUpload, CreateBucketConfiguration, Delete};
use s3s::xml::{Deserialize, Deserializer};

fuzz_target!(|data: &[u8]| {
    let _ = CompletedMultipartUpload::deserialize(&mut Deserializer::new(data));
    let _ = Delete::deserialize(&mut Deserializer::new(data));
    let _ = CreateBucketConfiguration::deserialize(&mut Deserializer::new(data));
});
