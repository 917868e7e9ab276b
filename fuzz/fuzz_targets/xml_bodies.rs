//! The XML request bodies Wharf accepts (CompleteMultipartUpload, DeleteObjects,
//! CreateBucketConfiguration, tag sets, versioning and Object Lock configurations, retention,
//! legal holds, restores, CORS rules, ACLs, ownership controls, public access blocks, website
//! configurations (checked, routed, stored and read back)) must never
//! panic the parser, whatever the bytes; nor must the tag sets of `x-amz-tagging` headers and
//! browser forms; CORS rules that pass S3's checks must answer preflights without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3s::dto::{
    AccessControlPolicy, CORSConfiguration, CompletedMultipartUpload, CreateBucketConfiguration,
    Delete, ObjectLockConfiguration, ObjectLockLegalHold, ObjectLockRetention, OwnershipControls,
    PublicAccessBlockConfiguration, RestoreRequest, Tagging, VersioningConfiguration,
    WebsiteConfiguration,
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
    let _ = AccessControlPolicy::deserialize(&mut Deserializer::new(data));
    let _ = OwnershipControls::deserialize(&mut Deserializer::new(data));
    let _ = PublicAccessBlockConfiguration::deserialize(&mut Deserializer::new(data));
    if let Ok(w) = WebsiteConfiguration::deserialize(&mut Deserializer::new(data))
        && let Ok(config) = wharf_s3::website::WebsiteConfig::from_dto(w)
    {
        for (key, error) in [("docs/a.html", None), ("old/x", Some(404)), ("", Some(403))] {
            let _ = config.route(key, error, "site.s3-website.localhost");
        }
        assert_eq!(
            wharf_s3::website::WebsiteConfig::from_json(&config.to_json()).as_ref(),
            Some(&config)
        );
    }
    if let Ok(config) = CORSConfiguration::deserialize(&mut Deserializer::new(data)) {
        let rules = wharf_s3::cors::rules_from(config);
        if wharf_s3::cors::validate(&rules).is_ok() {
            let mut h = http::HeaderMap::new();
            h.insert(http::header::ORIGIN, http::HeaderValue::from_static("http://a.example.com"));
            h.insert(http::header::ACCESS_CONTROL_REQUEST_METHOD, http::HeaderValue::from_static("PUT"));
            h.insert(http::header::ACCESS_CONTROL_REQUEST_HEADERS, http::HeaderValue::from_static("x-amz-date, content-type"));
            let _ = wharf_s3::cors::preflight(Some(&rules), &h);
            let mut out = http::HeaderMap::new();
            wharf_s3::cors::decorate(&rules, "http://a.example.com", &http::Method::GET, &mut out);
        }
    }
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
