//! A viewer's first bytes on the HTTPS listener, read as TLS records holding a ClientHello for
//! its JA3 and JA4 fingerprints, must never panic, and the fingerprints always have their
//! fixed shapes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_edge::tls_fingerprint::Fingerprints;

fuzz_target!(|data: &[u8]| {
    if let Some(f) = Fingerprints::of_records(data) {
        assert!(f.ja3().len() == 32 && f.ja3().bytes().all(|b| b.is_ascii_hexdigit()));
        let ja4 = f.ja4();
        assert!(ja4.len() == 36 && ja4.is_ascii() && ja4.as_bytes()[10] == b'_', "{ja4}");
    }
});
