//! SigV4A (`AWS4-ECDSA-P256-SHA256`), verified: the asymmetric SigV4 that the SDKs use for
//! CloudFront KeyValueStore's data plane. The signer's ECDSA P-256 key is derived from its
//! secret access key (NIST SP 800-108 counter-mode KDF with HMAC-SHA256, as AWS's signers do),
//! the string to sign names no region (the request carries `X-Amz-Region-Set` instead), and
//! the signature is a DER ECDSA signature over the SHA-256 of the string to sign.

use hmac::{Hmac, KeyInit, Mac};
use p256::ecdsa::signature::Verifier;
use sha2::Sha256;

use crate::sigv4::{Canonical, canonical_request_parts, sha256_hex};

pub const ALGORITHM: &str = "AWS4-ECDSA-P256-SHA256";

/// The order of P-256 less two, big-endian: a derived candidate must not exceed it.
const N_MINUS_TWO: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x4f,
];

/// A parsed `Authorization: AWS4-ECDSA-P256-SHA256 Credential=AK/DATE/SERVICE/aws4_request,
/// SignedHeaders=…, Signature=…` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationHeader {
    pub access_key: String,
    pub date: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: Vec<u8>,
}

pub fn parse_authorization(v: &str) -> Option<AuthorizationHeader> {
    let rest = v.strip_prefix(ALGORITHM)?.trim();
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(c) = part.strip_prefix("Credential=") {
            credential = Some(c);
        } else if let Some(s) = part.strip_prefix("SignedHeaders=") {
            signed = Some(s);
        } else if let Some(s) = part.strip_prefix("Signature=") {
            signature = Some(s);
        }
    }
    let mut scope = credential?.split('/');
    let access_key = scope.next()?.to_owned();
    let date = scope.next()?.to_owned();
    let service = scope.next()?.to_owned();
    if scope.next()? != "aws4_request" || scope.next().is_some() {
        return None;
    }
    Some(AuthorizationHeader {
        access_key,
        date,
        service,
        signed_headers: signed?.split(';').map(str::to_owned).collect(),
        signature: hex::decode(signature?).ok()?,
    })
}

/// The ECDSA P-256 public key AWS's signers derive from an access key and its secret.
pub fn derive_verifying_key(access_key: &str, secret: &str) -> Option<p256::ecdsa::VerifyingKey> {
    derive_secret_key(access_key, secret).map(|k| p256::ecdsa::VerifyingKey::from(k.public_key()))
}

/// The private key: the first KDF output (counter 1, 2, …) not above n - 2, plus one.
fn derive_secret_key(access_key: &str, secret: &str) -> Option<p256::SecretKey> {
    let key = format!("AWS4A{secret}");
    for counter in 1u8..=254 {
        let mut data = Vec::with_capacity(64);
        data.extend_from_slice(&1u32.to_be_bytes());
        data.extend_from_slice(ALGORITHM.as_bytes());
        data.push(0);
        data.extend_from_slice(access_key.as_bytes());
        data.push(counter);
        data.extend_from_slice(&256u32.to_be_bytes());
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes()).ok()?;
        mac.update(&data);
        let k0: [u8; 32] = mac.finalize().into_bytes().into();
        if k0 > N_MINUS_TWO {
            continue;
        }
        // d = k0 + 1 (no overflow: k0 <= n - 2).
        let mut d = k0;
        for byte in d.iter_mut().rev() {
            let (v, carry) = byte.overflowing_add(1);
            *byte = v;
            if !carry {
                break;
            }
        }
        return p256::SecretKey::from_slice(&d).ok();
    }
    None
}

/// The string to sign of a SigV4A request.
pub fn string_to_sign(
    canonical_request: &str,
    amz_date: &str,
    date: &str,
    service: &str,
) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{date}/{service}/aws4_request\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// Checks a request's SigV4A signature with the signer's secret.
pub fn verify(
    req: &Canonical<'_>,
    auth: &AuthorizationHeader,
    amz_date: &str,
    secret: &str,
) -> bool {
    let signed: Vec<&str> = auth.signed_headers.iter().map(String::as_str).collect();
    if !signed.contains(&"host") || amz_date.get(..8) != Some(auth.date.as_str()) {
        return false;
    }
    let Some(key) = derive_verifying_key(&auth.access_key, secret) else {
        return false;
    };
    let Ok(sig) = p256::ecdsa::Signature::from_der(&auth.signature) else {
        return false;
    };
    let creq = canonical_request_parts(req, &signed);
    let sts = string_to_sign(&creq, amz_date, &auth.date, &auth.service);
    key.verify(sts.as_bytes(), &sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer;

    #[test]
    fn authorization_headers_parse() {
        let a = parse_authorization("AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20231128/cloudfront-keyvaluestore/aws4_request, SignedHeaders=host;x-amz-date;x-amz-region-set, Signature=3045022100ab").unwrap();
        assert_eq!(a.access_key, "AKIDEXAMPLE");
        assert_eq!(a.service, "cloudfront-keyvaluestore");
        assert_eq!(
            a.signed_headers,
            vec!["host", "x-amz-date", "x-amz-region-set"]
        );
        assert!(parse_authorization("AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request").is_none());
    }

    #[test]
    fn a_signature_made_with_the_derived_key_verifies() {
        // Sign with the private key the same derivation gives, then verify through `verify`.
        let (ak, secret) = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        let public = derive_verifying_key(ak, secret).unwrap();
        // The derivation is deterministic.
        assert_eq!(public, derive_verifying_key(ak, secret).unwrap());
        assert_ne!(public, derive_verifying_key(ak, "other").unwrap());
        let headers = vec![
            ("host".to_owned(), "123456789012.localhost:9000".to_owned()),
            ("x-amz-date".to_owned(), "20231128T000000Z".to_owned()),
            ("x-amz-region-set".to_owned(), "*".to_owned()),
        ];
        let payload = sha256_hex(b"");
        let req = Canonical {
            method: "GET",
            path: "/key-value-stores/x",
            query: "",
            headers: &headers,
            payload_sha256: &payload,
        };
        let signed = ["host", "x-amz-date", "x-amz-region-set"];
        let sts = string_to_sign(
            &canonical_request_parts(&req, &signed),
            "20231128T000000Z",
            "20231128",
            "cloudfront-keyvaluestore",
        );
        let signing = private_key_for_tests(ak, secret);
        let sig: p256::ecdsa::Signature = signing.sign(sts.as_bytes());
        let auth = AuthorizationHeader {
            access_key: ak.into(),
            date: "20231128".into(),
            service: "cloudfront-keyvaluestore".into(),
            signed_headers: signed.iter().map(|s| (*s).to_owned()).collect(),
            signature: sig.to_der().as_bytes().to_vec(),
        };
        assert!(verify(&req, &auth, "20231128T000000Z", secret));
        assert!(!verify(&req, &auth, "20231128T000000Z", "wrong"));
        let other = Canonical {
            path: "/key-value-stores/y",
            ..req
        };
        assert!(!verify(&other, &auth, "20231128T000000Z", secret));
    }

    fn private_key_for_tests(ak: &str, secret: &str) -> p256::ecdsa::SigningKey {
        p256::ecdsa::SigningKey::from(derive_secret_key(ak, secret).unwrap())
    }
}
