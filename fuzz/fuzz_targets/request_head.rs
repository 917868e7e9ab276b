//! The checks that run on every S3 request before s3s (SigV2 and presign parameters, header
//! limits, the `Date` fallback), and the parsers around it (virtual hosts, normalised ranges,
//! entity-tag lists, unbuilt-feature headers, the POST form's file name) never panic on hostile
//! input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_s3::http_layer::Precheck;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(6, |b| *b == b'\n');
    let mut next = || parts.next().unwrap_or_default();
    let (uri, auth, range, host, etags, extra) = (next(), next(), next(), next(), next(), next());
    if let Ok(uri) = http::Uri::try_from(uri) {
        let mut b = http::Request::builder().uri(uri);
        if let Ok(v) = http::HeaderValue::from_bytes(auth) {
            b = b.header(http::header::AUTHORIZATION, v);
        }
        if let Ok(v) = http::HeaderValue::from_bytes(range) {
            b = b.header(http::header::RANGE, v.clone()).header(http::header::DATE, v);
        }
        if let Ok(mut req) = b.body(()) {
            for allow_sigv2 in [true, false] {
                let _ = Precheck { allow_sigv2 }.check(&mut req);
            }
        }
    }
    if let Some(r) = wharf_s3::normalize::normalized_range(range) {
        // What comes out is a single range s3s parses.
        let s = std::str::from_utf8(&r).unwrap();
        assert!(s3s::dto::Range::parse(s).is_ok(), "{s}");
    }
    if let Ok(h) = std::str::from_utf8(host) {
        let v = wharf_s3::host::VirtualHosts::new(vec!["localhost".into(), "s3.example.com".into()]);
        if let Some(bucket) = v.bucket_of(h) {
            assert!(!bucket.is_empty() && h.contains(bucket));
        }
    }
    if let Ok(e) = std::str::from_utf8(etags) {
        let c = wharf_store::EtagCondition::parse(e);
        let _ = c.matches_strongly(Some("abc"));
        let _ = c.matches_weakly(None);
    }
    let mut headers = http::HeaderMap::new();
    for line in extra.split(|b| *b == b';') {
        if let Some(i) = line.iter().position(|b| *b == b'=')
            && let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(&line[..i]),
                http::HeaderValue::from_bytes(&line[i + 1..]),
            )
        {
            headers.append(n, v);
        }
    }
    let _ = wharf_s3::features::refuse_unbuilt(&headers);
    let _ = wharf_s3::features::refuse_customer_key_on_read(&headers);
    if let Ok(ct) = std::str::from_utf8(auth)
        && let Some(boundary) = wharf_s3::ops::post::FileNameSniffer::<()>::boundary(ct)
    {
        let (mut s, _name) = wharf_s3::ops::post::FileNameSniffer::wrap((), &boundary);
        for chunk in extra.chunks(7) {
            s.scan_for_test(chunk);
        }
    }
});
