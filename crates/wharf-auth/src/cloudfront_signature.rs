//! CloudFront's signed URLs and signed cookies: the public keys that verify them, the policy
//! statement they carry (canned or custom), and CloudFront's URL-safe base64.
//!
//! The signer signs a policy statement (JSON) with a private key; CloudFront verifies the
//! signature with the public key named by `Key-Pair-Id`, then checks the statement's
//! conditions against the request. This module does the cryptography and the statement; which
//! keys a cache behavior trusts and where the values come from (query or cookies) is the
//! edge's business.

use std::net::IpAddr;

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use serde_json::Value;
use sha1::Digest;
use wharf_model::cloudfront::wildcard_matches;

/// The hash signed with the key: `SHA1` unless the URL's `Hash-Algorithm` (or the
/// `CloudFront-Hash-Algorithm` cookie) says `SHA256`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    Sha1,
    Sha256,
}

impl HashAlgorithm {
    /// `None` (absent) is SHA-1, as before CloudFront offered a choice; an unknown name is
    /// refused.
    pub fn from_name(name: Option<&str>) -> Option<Self> {
        match name {
            None | Some("SHA1") => Some(Self::Sha1),
            Some("SHA256") => Some(Self::Sha256),
            Some(_) => None,
        }
    }

    fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => sha1::Sha1::digest(message).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(message).to_vec(),
        }
    }

    /// The DER `DigestInfo` prefix of an RSA PKCS #1 v1.5 signature (RFC 8017 §9.2, note 1).
    fn pkcs1_prefix(self) -> &'static [u8] {
        match self {
            Self::Sha1 => &[
                0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
                0x14,
            ],
            Self::Sha256 => &[
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20,
            ],
        }
    }
}

/// A public key that verifies signed URLs and cookies: RSA 2048 or ECDSA P-256, as CloudFront
/// accepts them.
#[derive(Debug, Clone)]
pub enum PublicKey {
    Rsa(rsa::RsaPublicKey),
    EcdsaP256(p256::ecdsa::VerifyingKey),
}

/// The size CloudFront requires of an RSA public key.
const RSA_BITS: usize = 2048;

impl PublicKey {
    /// Reads a PEM `PUBLIC KEY` (SubjectPublicKeyInfo), as `EncodedKey` holds it.
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        let pem = pem.trim();
        if let Ok(k) = rsa::RsaPublicKey::from_public_key_pem(pem) {
            if k.size() * 8 != RSA_BITS {
                return Err(format!(
                    "the RSA key has {} bits; CloudFront takes RSA 2048 keys",
                    k.size() * 8
                ));
            }
            return Ok(Self::Rsa(k));
        }
        <p256::ecdsa::VerifyingKey as p256::pkcs8::DecodePublicKey>::from_public_key_pem(pem)
            .map(Self::EcdsaP256)
            .map_err(|_| "EncodedKey is not a PEM public key of RSA 2048 or ECDSA P-256".to_owned())
    }

    /// Whether `signature` is this key's signature of `message` hashed with `hash`. An ECDSA
    /// signature is DER, as OpenSSL and the SDKs write it, or the 64 bytes of r and s.
    pub fn verifies(&self, message: &[u8], signature: &[u8], hash: HashAlgorithm) -> bool {
        let digest = hash.digest(message);
        match self {
            Self::Rsa(k) => {
                let scheme = rsa::Pkcs1v15Sign {
                    hash_len: Some(digest.len()),
                    prefix: hash.pkcs1_prefix().into(),
                };
                k.verify(scheme, &digest, signature).is_ok()
            }
            Self::EcdsaP256(k) => {
                let sig = p256::ecdsa::Signature::from_der(signature)
                    .or_else(|_| p256::ecdsa::Signature::from_slice(signature));
                sig.is_ok_and(|s| k.verify_prehash(&digest, &s).is_ok())
            }
        }
    }
}

/// Decodes CloudFront's URL-safe base64 (`-` for `+`, `_` for `=`, `~` for `/`), as signatures
/// and custom policies travel.
pub fn decode_url_safe_base64(text: &str) -> Option<Vec<u8>> {
    let standard: String = text
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '=',
            '~' => '/',
            c => c,
        })
        .collect();
    base64_simd::STANDARD
        .decode_to_vec(standard.as_bytes())
        .ok()
}

/// An address range of a policy's `AWS:SourceIp`: one address, or a CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceIp {
    network: IpAddr,
    prefix: u8,
}

impl SourceIp {
    pub fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let network: IpAddr = addr.parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok()?,
            Some(_) => return None,
            None => max,
        };
        (prefix <= max).then_some(Self { network, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) if self.network.is_ipv4() => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => return false,
            },
            ip => ip,
        };
        let (net, ip, bits) = match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => (
                u128::from(u32::from(n)) << 96,
                u128::from(u32::from(i)) << 96,
                self.prefix,
            ),
            (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), self.prefix),
            _ => return false,
        };
        let mask = if bits == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(bits))
        };
        net & mask == ip & mask
    }
}

/// A policy statement's single statement: what a signed URL or cookie grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPolicy {
    /// The URLs it covers, with `*` and `?` wildcards; `None` (a custom policy without
    /// `Resource`): every URL.
    pub resource: Option<String>,
    /// `DateLessThan`: the request must come before this time (Unix seconds).
    pub date_less_than: i64,
    /// `DateGreaterThan`: the request must come after this time.
    pub date_greater_than: Option<i64>,
    /// `IpAddress`: the viewer's address must be in this range.
    pub source_ip: Option<SourceIp>,
}

/// Why a request's signature does not grant it access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The policy is not one CloudFront reads (its `MalformedPolicy`).
    MalformedPolicy,
    /// Expired, not yet valid, another address, or another URL (its `AccessDenied`).
    AccessDenied,
}

impl SignedPolicy {
    /// The statement a canned policy stands for: exactly these bytes are signed.
    pub fn canned_statement(resource: &str, expires: i64) -> String {
        let resource = serde_json::to_string(resource).unwrap_or_default();
        format!(
            r#"{{"Statement":[{{"Resource":{resource},"Condition":{{"DateLessThan":{{"AWS:EpochTime":{expires}}}}}}}]}}"#
        )
    }

    /// Reads a custom policy: one statement, a `DateLessThan` (required), and optionally
    /// `Resource`, `DateGreaterThan` and `IpAddress`. Anything else is refused, so a condition
    /// this reader does not know never goes unchecked.
    pub fn parse(json: &[u8]) -> Result<Self, Refusal> {
        let bad = |_| Refusal::MalformedPolicy;
        let doc: Value = serde_json::from_slice(json).map_err(bad)?;
        let Some(Value::Array(statements)) = doc.as_object().and_then(|o| {
            (o.len() == 1).then_some(())?;
            o.get("Statement")
        }) else {
            return Err(Refusal::MalformedPolicy);
        };
        let [Value::Object(st)] = statements.as_slice() else {
            return Err(Refusal::MalformedPolicy);
        };
        let mut resource = None;
        let mut condition = None;
        for (k, v) in st {
            match (k.as_str(), v) {
                ("Resource", Value::String(r)) => resource = Some(r.clone()),
                ("Condition", Value::Object(c)) => condition = Some(c),
                _ => return Err(Refusal::MalformedPolicy),
            }
        }
        let condition = condition.ok_or(Refusal::MalformedPolicy)?;
        let operand = |v: &Value, key: &str| -> Option<Value> {
            let o = v.as_object()?;
            (o.len() == 1).then(|| o.get(key).cloned())?
        };
        let epoch = |v: &Value| operand(v, "AWS:EpochTime").and_then(|t| t.as_i64());
        let mut policy = Self {
            resource,
            date_less_than: 0,
            date_greater_than: None,
            source_ip: None,
        };
        let mut less_than = None;
        for (k, v) in condition {
            match k.as_str() {
                "DateLessThan" => less_than = Some(epoch(v).ok_or(Refusal::MalformedPolicy)?),
                "DateGreaterThan" => {
                    policy.date_greater_than = Some(epoch(v).ok_or(Refusal::MalformedPolicy)?);
                }
                "IpAddress" => {
                    let range = operand(v, "AWS:SourceIp")
                        .and_then(|s| s.as_str().and_then(SourceIp::parse))
                        .ok_or(Refusal::MalformedPolicy)?;
                    policy.source_ip = Some(range);
                }
                _ => return Err(Refusal::MalformedPolicy),
            }
        }
        policy.date_less_than = less_than.ok_or(Refusal::MalformedPolicy)?;
        Ok(policy)
    }

    /// Whether the statement grants a request for `url` at `now` (Unix seconds) from `viewer`.
    pub fn permits(&self, url: &str, now: i64, viewer: Option<IpAddr>) -> Result<(), Refusal> {
        let in_time = now < self.date_less_than && self.date_greater_than.is_none_or(|t| now > t);
        let from_range = self
            .source_ip
            .is_none_or(|r| viewer.is_some_and(|ip| r.contains(ip)));
        let for_url = self
            .resource
            .as_deref()
            .is_none_or(|r| wildcard_matches(r, url));
        if in_time && from_range && for_url {
            Ok(())
        } else {
            Err(Refusal::AccessDenied)
        }
    }
}

#[cfg(test)]
mod tests;
