//! Range headers (GetObject) and copy-source ranges (UploadPartCopy): no panic, and every
//! accepted range lies inside the object.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let size = u64::from_le_bytes(data[..8].try_into().unwrap()) % (1 << 40);
    let header = &data[8..];
    let single = wharf_s3::http_layer::is_single_range(header);
    if let Ok(s) = std::str::from_utf8(header) {
        if let Ok(r) = s3s::dto::Range::parse(s) {
            if let Ok(span) = r.check(size) {
                assert!(span.start < span.end && span.end <= size, "{s:?} on {size}: {span:?}");
            }
        } else {
            assert!(!single, "we keep {s:?} but s3s cannot parse it");
        }
        if let Ok(span) = wharf_s3::ops::multipart::copy_range(Some(s), size) {
            assert!(span.start <= span.end && span.end <= size, "{s:?} on {size}: {span:?}");
        }
    }
});
