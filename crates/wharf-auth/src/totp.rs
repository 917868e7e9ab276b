//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), the codes a
//! virtual MFA device shows, and the base32 (RFC 4648) its secret is written in.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// Seconds a code lasts.
pub const STEP_SECS: u64 = 30;

/// The code of `step` (RFC 4226's HOTP with the step as counter), 6 digits.
pub fn code(secret: &[u8], step: u64) -> u32 {
    let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(secret) else {
        return u32::MAX;
    };
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = usize::from(h[h.len() - 1] & 0x0f);
    let bin = u32::from_be_bytes([
        h[offset] & 0x7f,
        h[offset + 1],
        h[offset + 2],
        h[offset + 3],
    ]);
    bin % 1_000_000
}

/// The step whose code `given` is, within one step of `now_secs`, and later than `after`
/// (codes already used are refused); `None` if there is none.
pub fn matching_step(secret: &[u8], given: &str, now_secs: u64, after: u64) -> Option<u64> {
    if given.len() != 6 || !given.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let given: u32 = given.parse().ok()?;
    let now = now_secs / STEP_SECS;
    [now.saturating_sub(1), now, now + 1]
        .into_iter()
        .filter(|s| *s > after)
        .find(|s| code(secret, *s) == given)
}

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Base32 without padding, as authenticator apps take secrets.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let v = buf.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b));
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..chars {
            out.push(ALPHABET[((v >> (35 - 5 * i)) & 31) as usize] as char);
        }
    }
    out
}

/// Reads base32 (case-insensitive, padding and spaces ignored).
pub fn from_base32(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u64, 0u32);
    for c in s.bytes().filter(|c| *c != b'=' && *c != b' ') {
        let v = ALPHABET.iter().position(|a| *a == c.to_ascii_uppercase())?;
        acc = acc << 5 | v as u64;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B (SHA-1), the last six of its eight digits.
    #[test]
    fn rfc_6238_vectors() {
        let secret = b"12345678901234567890";
        for (t, want) in [
            (59u64, 287_082u32),
            (1_111_111_109, 81_804),
            (1_111_111_111, 50_471),
            (1_234_567_890, 5_924),
            (2_000_000_000, 279_037),
        ] {
            assert_eq!(code(secret, t / STEP_SECS), want, "T={t}");
        }
    }

    #[test]
    fn a_code_is_accepted_once_within_one_step() {
        let secret = b"12345678901234567890";
        let now = 1_111_111_111;
        let step = now / STEP_SECS;
        let c = |s| format!("{:06}", code(secret, s));
        assert_eq!(matching_step(secret, &c(step), now, 0), Some(step));
        assert_eq!(matching_step(secret, &c(step - 1), now, 0), Some(step - 1));
        assert_eq!(matching_step(secret, &c(step + 1), now, 0), Some(step + 1));
        assert_eq!(matching_step(secret, &c(step - 2), now, 0), None);
        // Used already (or older than one used): refused.
        assert_eq!(matching_step(secret, &c(step), now, step), None);
        assert_eq!(matching_step(secret, &c(step - 1), now, step), None);
        assert_eq!(matching_step(secret, "12345", now, 0), None);
        assert_eq!(matching_step(secret, "abcdef", now, 0), None);
    }

    #[test]
    fn base32_round_trips() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(from_base32("MZXW6YTBOI======").unwrap(), b"foobar");
        assert_eq!(from_base32("mzxw6ytboi").unwrap(), b"foobar");
        let secret: Vec<u8> = (0..20).collect();
        assert_eq!(from_base32(&base32(&secret)).unwrap(), secret);
        assert_eq!(from_base32("not base32!"), None);
    }
}
