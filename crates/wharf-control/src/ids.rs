//! Identifiers and times as CloudFront writes them.

/// Letters and digits of CloudFront's IDs and ETags (`E2QWRUHAPOMQZL`).
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// `prefix` and 13 random characters: a distribution (`E…`), an ETag (`E…`), an invalidation
/// (`I…`), a public key (`K…`).
pub fn new_id(prefix: char) -> String {
    let mut bytes = [0u8; 13];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    let mut id = String::with_capacity(14);
    id.push(prefix);
    id.extend(bytes.iter().map(|b| ALPHABET[usize::from(b % 32)] as char));
    id
}

/// A random UUID (version 4), the form of cache policy and key group IDs.
pub fn new_uuid() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the OS random source works");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The ETag of something whose content is its version (a managed policy, a file's
/// distribution): `prefix` and 13 characters of the content's SHA-256.
pub fn content_etag(prefix: char, content: &serde_json::Value) -> String {
    let digest = wharf_auth::sigv4::sha256_hex(content.to_string().as_bytes());
    format!("{prefix}{}", digest[..13].to_ascii_uppercase())
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// `2026-12-03T14:07:22.000Z`, as CloudFront's timestamps read.
pub fn iso(unix: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_of_ids() {
        let id = new_id('E');
        assert_eq!(id.len(), 14);
        assert!(
            id.starts_with('E')
                && id
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
        assert_ne!(new_id('E'), new_id('E'));
        let u = new_uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
    }
}
