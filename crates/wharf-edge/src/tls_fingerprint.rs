//! The JA3 and JA4 fingerprints of a viewer's TLS ClientHello, which CloudFront adds to origin
//! requests as `CloudFront-Viewer-JA3-Fingerprint` and `CloudFront-Viewer-JA4-Fingerprint`
//! when an origin request policy names them.
//!
//! - JA3 (Salesforce): the MD5 of `version,ciphers,extensions,groups,point formats`, each list
//!   in the order sent, as decimal numbers joined by `-`, GREASE values left out.
//! - JA4 (FoxIO, the TLS client fingerprint, BSD-3-Clause): `t13d1516h2_<12>_<12>`: over TCP,
//!   the highest version offered, SNI or not, the counts of ciphers and extensions, the first
//!   and last characters of the first ALPN protocol; then the truncated SHA-256 of the sorted
//!   ciphers, and of the sorted extensions (less SNI and ALPN) with the signature algorithms in
//!   the order sent.
//!
//! Both are read from the bytes the viewer sent before the handshake went on: TLS records
//! whose handshake message may be spread over several of them.

use md5::{Digest as _, Md5};
use sha2::Sha256;

/// The largest ClientHello read (a handshake message's length is 24 bits; real ones are a
/// few KiB, post-quantum key shares included).
pub const MAX_CLIENT_HELLO: usize = 64 * 1024;

/// What the fingerprints read from a ClientHello.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// `legacy_version` (0x0303 for TLS 1.2 and 1.3).
    pub version: u16,
    pub ciphers: Vec<u16>,
    /// Extension types in the order sent.
    pub extensions: Vec<u16>,
    /// `supported_groups` (formerly elliptic curves).
    pub groups: Vec<u16>,
    pub point_formats: Vec<u8>,
    pub signature_algorithms: Vec<u16>,
    pub supported_versions: Vec<u16>,
    /// The first protocol the ALPN extension names.
    pub first_alpn: Option<Vec<u8>>,
}

/// A viewer's fingerprints, as their header values (ASCII, fixed length, so the TLS session
/// that carries them stays `Copy`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Fingerprints {
    ja3: [u8; 32],
    ja4: [u8; 36],
}

impl Fingerprints {
    /// The lower-case hex MD5 of the JA3 string.
    pub fn ja3(&self) -> &str {
        std::str::from_utf8(&self.ja3).unwrap_or("")
    }

    /// `t13d1516h2_8daaf6152771_e5627efa2ab1`.
    pub fn ja4(&self) -> &str {
        std::str::from_utf8(&self.ja4).unwrap_or("")
    }

    /// The fingerprints of the first ClientHello in `records`, none if they do not hold a
    /// whole, well-formed one.
    pub fn of_records(records: &[u8]) -> Option<Self> {
        client_hello(records).map(|h| Self::of(&h))
    }

    pub fn of(hello: &ClientHello) -> Self {
        let mut ja3 = [0u8; 32];
        ja3.copy_from_slice(hex(&Md5::digest(ja3_string(hello).as_bytes())).as_bytes());
        let mut ja4 = [0u8; 36];
        ja4.copy_from_slice(ja4_string(hello).as_bytes());
        Self { ja3, ja4 }
    }
}

impl std::fmt::Debug for Fingerprints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JA3 {} JA4 {}", self.ja3(), self.ja4())
    }
}

/// GREASE values (RFC 8701): `0x?a?a` with both bytes equal.
fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

fn joined<T: ToString>(items: impl Iterator<Item = T>, sep: &str) -> String {
    items.map(|v| v.to_string()).collect::<Vec<_>>().join(sep)
}

/// `771,4865-4866-…,0-23-65281-…,29-23-24,0`.
pub fn ja3_string(h: &ClientHello) -> String {
    let kept = |l: &[u16]| joined(l.iter().filter(|v| !is_grease(**v)), "-");
    format!(
        "{},{},{},{},{}",
        h.version,
        kept(&h.ciphers),
        kept(&h.extensions),
        kept(&h.groups),
        joined(h.point_formats.iter(), "-")
    )
}

/// The JA4 fingerprint, hashes included.
pub fn ja4_string(h: &ClientHello) -> String {
    let ciphers: Vec<u16> = h
        .ciphers
        .iter()
        .copied()
        .filter(|v| !is_grease(*v))
        .collect();
    let extensions: Vec<u16> = h
        .extensions
        .iter()
        .copied()
        .filter(|v| !is_grease(*v))
        .collect();
    let version = h
        .supported_versions
        .iter()
        .copied()
        .filter(|v| !is_grease(*v))
        .max()
        .unwrap_or(h.version);
    let version = match version {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    };
    let sni = if extensions.contains(&0x0000) {
        'd'
    } else {
        'i'
    };
    let a = format!(
        "t{version}{sni}{:02}{:02}{}",
        ciphers.len().min(99),
        extensions.len().min(99),
        alpn_chars(h.first_alpn.as_deref())
    );
    let four_hex = |l: &[u16]| joined(l.iter().map(|v| format!("{v:04x}")), ",");
    let truncated_sha256 = |s: &str| hex(&Sha256::digest(s.as_bytes()))[..12].to_string();
    let mut sorted = ciphers;
    sorted.sort_unstable();
    let b = if sorted.is_empty() {
        "000000000000".to_string()
    } else {
        truncated_sha256(&four_hex(&sorted))
    };
    let mut sorted: Vec<u16> = extensions
        .into_iter()
        .filter(|e| *e != 0x0000 && *e != 0x0010)
        .collect();
    sorted.sort_unstable();
    let signatures: Vec<u16> = h
        .signature_algorithms
        .iter()
        .copied()
        .filter(|v| !is_grease(*v))
        .collect();
    let c = if sorted.is_empty() {
        "000000000000".to_string()
    } else if signatures.is_empty() {
        truncated_sha256(&four_hex(&sorted))
    } else {
        truncated_sha256(&format!("{}_{}", four_hex(&sorted), four_hex(&signatures)))
    };
    format!("{a}_{b}_{c}")
}

/// The first and last characters of the first ALPN protocol (`h2`, `h1` for `http/1.1`),
/// `00` without one; when either end is not alphanumeric, the first and last hex digits of
/// the protocol's bytes.
fn alpn_chars(alpn: Option<&[u8]>) -> String {
    let Some(p) = alpn.filter(|p| !p.is_empty()) else {
        return "00".into();
    };
    let (first, last) = (p[0], p[p.len() - 1]);
    if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
        [first as char, last as char].iter().collect()
    } else {
        let h = hex(p);
        let b = h.as_bytes();
        [b[0] as char, b[b.len() - 1] as char].iter().collect()
    }
}

/// A cursor over a ClientHello's fields; every read is bounds-checked.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    /// A vector with a one-byte length.
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
    /// A vector with a two-byte length.
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
}

/// A list of two-byte values (an odd length is malformed).
fn u16s(b: &[u8]) -> Option<Vec<u16>> {
    b.len().is_multiple_of(2).then(|| {
        b.chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect()
    })
}

/// Reassembles the first handshake message from `records` (TLS records of type handshake,
/// as many as it spans) and reads it as a ClientHello.
pub fn client_hello(records: &[u8]) -> Option<ClientHello> {
    let mut message = Vec::new();
    let mut r = Reader(records);
    let mut want = None;
    while want.is_none_or(|n| message.len() < n) {
        let content_type = r.u8()?;
        let _legacy_record_version = r.u16()?;
        let fragment = r.vec16()?;
        if content_type != 22 {
            return None;
        }
        message.extend_from_slice(fragment);
        if want.is_none() && message.len() >= 4 {
            if message[0] != 1 {
                return None;
            }
            let n = usize::from(message[1]) << 16 | usize::from(message[2]) << 8;
            let n = 4 + (n | usize::from(message[3]));
            if n > MAX_CLIENT_HELLO {
                return None;
            }
            want = Some(n);
        }
    }
    let n = want?;
    parse_body(&message[4..n])
}

fn parse_body(body: &[u8]) -> Option<ClientHello> {
    let mut r = Reader(body);
    let mut h = ClientHello {
        version: r.u16()?,
        ..ClientHello::default()
    };
    r.take(32)?; // random
    r.vec8()?; // legacy_session_id
    h.ciphers = u16s(r.vec16()?)?;
    r.vec8()?; // legacy_compression_methods
    if r.0.is_empty() {
        return Some(h); // no extensions (SSL 3.0 and early TLS clients)
    }
    let mut exts = Reader(r.vec16()?);
    while !exts.0.is_empty() {
        let kind = exts.u16()?;
        let data = exts.vec16()?;
        h.extensions.push(kind);
        let mut d = Reader(data);
        match kind {
            0x000a => h.groups = u16s(d.vec16()?)?,
            0x000b => h.point_formats = d.vec8()?.to_vec(),
            0x000d => h.signature_algorithms = u16s(d.vec16()?)?,
            0x0010 => h.first_alpn = Some(Reader(d.vec16()?).vec8()?.to_vec()),
            0x002b => h.supported_versions = u16s(d.vec8()?)?,
            _ => {}
        }
    }
    Some(h)
}

#[cfg(test)]
mod tests;
