use super::*;

/// Chrome 143's ClientHello as browserleaks.com read it (its published `ja3_text`, `ja3_hash`
/// and `ja4`), with GREASE values where Chrome puts them.
fn chrome() -> ClientHello {
    ClientHello {
        version: 771,
        ciphers: vec![
            0x3a3a, 4865, 4866, 4867, 49195, 49199, 49196, 49200, 52393, 52392, 49171, 49172, 156,
            157, 47, 53,
        ],
        extensions: vec![
            0xdada, 45, 51, 16, 65037, 23, 17613, 0, 11, 10, 43, 65281, 35, 18, 5, 13, 27, 0x1a1a,
        ],
        groups: vec![0x8a8a, 4588, 29, 23, 24],
        point_formats: vec![0],
        signature_algorithms: vec![
            0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
        ],
        supported_versions: vec![0x2a2a, 0x0304, 0x0303],
        first_alpn: Some(b"h2".to_vec()),
    }
}

#[test]
fn ja3_and_ja4_of_a_published_chrome_hello() {
    let h = chrome();
    assert_eq!(
        ja3_string(&h),
        "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,\
         45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0"
    );
    let f = Fingerprints::of(&h);
    assert_eq!(f.ja3(), "98487aa16281980e7d1120d399efb6a4");
    assert_eq!(f.ja4(), "t13d1516h2_8daaf6152771_d8a2da3f94cd");
}

/// The worked example of FoxIO's JA4 specification (technical_details/JA4.md).
#[test]
fn ja4_of_the_specifications_example() {
    let h = ClientHello {
        version: 0x0303,
        ciphers: vec![
            0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
            0x009c, 0x009d, 0x002f, 0x0035,
        ],
        extensions: vec![
            0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012,
            0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
        ],
        signature_algorithms: vec![
            0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
        ],
        supported_versions: vec![0x0304, 0x0303],
        first_alpn: Some(b"h2".to_vec()),
        ..ClientHello::default()
    };
    assert_eq!(ja4_string(&h), "t13d1516h2_8daaf6152771_e5627efa2ab1");
    // Without signature algorithms the list ends without an underscore.
    let bare = ClientHello {
        signature_algorithms: vec![],
        ..h.clone()
    };
    assert!(
        ja4_string(&bare).ends_with("_6d807ffa2a79"),
        "{}",
        ja4_string(&bare)
    );
    // No SNI, no ALPN, TLS 1.2 alone, nothing to hash.
    let empty = ClientHello {
        version: 0x0303,
        ..ClientHello::default()
    };
    assert_eq!(ja4_string(&empty), "t12i000000_000000000000_000000000000");
}

#[test]
fn alpn_characters() {
    assert_eq!(alpn_chars(Some(b"http/1.1")), "h1");
    assert_eq!(alpn_chars(Some(b"h")), "hh");
    assert_eq!(alpn_chars(Some(b"")), "00");
    assert_eq!(alpn_chars(None), "00");
    // FoxIO's examples for bytes that are not alphanumeric.
    assert_eq!(alpn_chars(Some(&[0xab])), "ab");
    assert_eq!(alpn_chars(Some(&[0xab, 0xcd])), "ad");
    assert_eq!(alpn_chars(Some(&[0x30, 0xab])), "3b");
    assert_eq!(alpn_chars(Some(&[0x30, 0x31, 0xab, 0xcd])), "3d");
    assert_eq!(alpn_chars(Some(&[0x30, 0xab, 0xcd, 0x31])), "01");
}

/// `h` as a client sends it: a handshake message in TLS records of at most `record` bytes.
fn encode(h: &ClientHello, record: usize) -> Vec<u8> {
    let u16s = |l: &[u16]| l.iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<u8>>();
    let vec16 = |b: &[u8]| [&(b.len() as u16).to_be_bytes()[..], b].concat();
    let vec8 = |b: &[u8]| [&[b.len() as u8][..], b].concat();
    let mut exts = Vec::new();
    for &e in &h.extensions {
        let data = match e {
            0x000a => vec16(&u16s(&h.groups)),
            0x000b => vec8(&h.point_formats),
            0x000d => vec16(&u16s(&h.signature_algorithms)),
            0x0010 => vec16(&vec8(h.first_alpn.as_deref().unwrap_or(b""))),
            0x002b => vec8(&u16s(&h.supported_versions)),
            _ => vec![],
        };
        exts.extend(e.to_be_bytes());
        exts.extend(vec16(&data));
    }
    let mut body = h.version.to_be_bytes().to_vec();
    body.extend([7u8; 32]);
    body.extend(vec8(&[9; 32]));
    body.extend(vec16(&u16s(&h.ciphers)));
    body.extend(vec8(&[0]));
    body.extend(vec16(&exts));
    let mut message = vec![1u8];
    message.extend(&(body.len() as u32).to_be_bytes()[1..]);
    message.extend(body);
    let mut out = Vec::new();
    for chunk in message.chunks(record) {
        out.extend([22, 3, 1]);
        out.extend(vec16(chunk));
    }
    out
}

#[test]
fn a_hello_in_one_record_or_spread_over_several() {
    let mut h = chrome();
    // Unused extensions (SNI's data, for one) are kept by type only.
    h.extensions
        .retain(|e| [0, 10, 11, 13, 16, 43, 0xdada].contains(e));
    for record in [16_384, 100, 7] {
        let bytes = encode(&h, record);
        assert_eq!(
            client_hello(&bytes).as_ref(),
            Some(&h),
            "records of {record}"
        );
        // What follows the hello (the client's next flight) is not read.
        let mut more = bytes.clone();
        more.extend([23, 3, 3, 0, 1, 0]);
        assert_eq!(client_hello(&more).as_ref(), Some(&h));
        // A hello cut anywhere is no hello.
        for cut in [1, 5, 9, bytes.len() / 2, bytes.len() - 1] {
            assert_eq!(client_hello(&bytes[..cut]), None, "cut at {cut}");
        }
    }
}

#[test]
fn what_is_not_a_client_hello() {
    let h = chrome();
    let mut bytes = encode(&h, 16_384);
    bytes[5] = 2; // a ServerHello
    assert_eq!(client_hello(&bytes), None);
    let mut bytes = encode(&h, 16_384);
    bytes[0] = 23; // application data
    assert_eq!(client_hello(&bytes), None);
    assert_eq!(client_hello(b"GET / HTTP/1.1\r\n\r\n"), None);
    // A handshake message longer than any real ClientHello is refused before it is read.
    assert_eq!(client_hello(&[22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff]), None);
}
