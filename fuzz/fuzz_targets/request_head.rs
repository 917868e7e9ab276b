//! The checks that run on every request before s3s (SigV2 refusal, presign expiry, header
//! limits, Range normalisation) and virtual-host parsing never panic on hostile input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(4, |b| *b == b'\n');
    let (uri, auth, range, host) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let Ok(uri) = http::Uri::try_from(uri) else { return };
    let mut b = http::Request::builder().uri(uri);
    if let Ok(v) = http::HeaderValue::from_bytes(auth) {
        b = b.header(http::header::AUTHORIZATION, v);
    }
    if let Ok(v) = http::HeaderValue::from_bytes(range) {
        b = b.header(http::header::RANGE, v);
    }
    if let Ok(mut req) = b.body(()) {
        let _ = wharf_s3::http_layer::precheck(&mut req);
    }
    if let Ok(h) = std::str::from_utf8(host) {
        let v = wharf_s3::host::VirtualHosts::new(vec!["localhost".into(), "s3.example.com".into()]);
        if let Some(bucket) = v.bucket_of(h) {
            assert!(!bucket.is_empty() && h.contains(bucket));
        }
    }
});
