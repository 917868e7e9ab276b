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
    // What the normalizing route makes of a Range header, s3s parses.
    if let Some(n) = wharf_s3::normalize::normalized_range(header) {
        let n = std::str::from_utf8(&n).expect("normalized ranges are ASCII");
        assert!(s3s::dto::Range::parse(n).is_ok(), "we pass on {n:?} but s3s cannot parse it");
    }
    if let Ok(s) = std::str::from_utf8(header) {
        if let Ok(r) = s3s::dto::Range::parse(s)
            && let Ok(span) = r.check(size)
        {
            assert!(span.start < span.end && span.end <= size, "{s:?} on {size}: {span:?}");
        }
        if let Ok(span) = wharf_s3::ops::multipart::copy_range(Some(s), size) {
            assert!(span.start <= span.end && span.end <= size, "{s:?} on {size}: {span:?}");
        }
    }
});
