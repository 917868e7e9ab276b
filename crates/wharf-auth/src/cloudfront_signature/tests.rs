//! Fixtures made with OpenSSL (`openssl dgst -sha1|-sha256 -sign KEY`) over [`STATEMENT`], so
//! these tests check our verification against an independent signer.

use super::*;

const STATEMENT: &str = r#"{"Statement":[{"Resource":"http://d1.localhost/a.txt","Condition":{"DateLessThan":{"AWS:EpochTime":2000000000}}}]}"#;

const RSA_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAvAT3vj8Mgw2N8Nir5pXH
3Q9Yr2tBMfj4mHbL2ty4hRsDlGaPZGjP+iQxPhmhq7m08zq1BxY6jPoZpHANxksf
ZoFRoRjaGR3qlAu2kASHgK/t2mjeInfC96C56lQlLm40tYJEPyLvNUvN2i5BN770
k2k43wXJndF/hOc2FTbQ+3s0IXqE6DQkpFc2knqRG4n3vJp2TynZQmcw+BeQJakd
AllkrkGrSYObmXOfO9yQFnVZE3irZ4+NqriNpn4FPXuA+ghI+2ZaHI5Fh8XBjlXr
px8+FcJi1Yfp7FrvXvvt03Dt3G2tRO/YxW62M6aXVla26FPzbnm+90CskR7DNMUg
KQIDAQAB
-----END PUBLIC KEY-----";
const EC_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE45AYtKiG4rSjqxMJ/nmXrVUomtQI
NHRGU6koYfvTat0t/jjaB1ENytIxXJMpM7fNmbla+GSxvyb7mk3IbwBxlQ==
-----END PUBLIC KEY-----";
const RSA_1024_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQChjc+1nFLGzSIwFdygNq66+HQv
Q5G8zC+oBDewT693ORPH6jsyEOq4oudP4D6H/YJQI0wkYx5JumPCTnlVXvKOq30/
iXjn3hMFD0v8ABRWWSv7Q+/D9+G9/GU9B4gELnXghe+R/kddVKFefRBsCCV5Vf8X
q4ciRS5w/iE9C8iw+QIDAQAB
-----END PUBLIC KEY-----";

/// Signatures of `STATEMENT` in CloudFront's URL-safe base64.
const RSA_SHA1: &str = "iaSsg49xpot5Yfl4OHqzGvE9Iy7hZm3ShqzZZnsZEGPNDNN5mdOUm4g9-ZsaUKeTntVn5k6ySjm42~ptn~DUeADfeYXhn2DWYbQDdJsEyY2wXnqlQyc0fpeZ8Zq7EEzaXoUzRZix9RsceNo-qmppYegzCrI-qZ7EK7KPO4ce78xkBrTscbc-eTlMQ7pLZvYUCEtWFHCOnGwOKY10wrnyTvBEfsuJptxuOXwJjy~ITMuMg1C-qq3Bxj12hE0Bj1Y-G6fziiyY2gSli5wVKfnW8FpXVLA6IHku-y7BO1GQOzcYBWM8ut~VD14JR2WVOhTXt7dx1gKj1acTwoRXpQ7X2Q__";
const RSA_SHA256: &str = "tvAzKZFAI5bVHYCxzcrkcI-DxoZS5Cr837RUfB6lBtyTtgTNEpcnKXrN-wIYKzr9O6uCdqUrKyy0yX-xv-c1k6WEE-bp7Le-rZI4jDzcZouetnMcD~vQRFbJaXgE9YS2OJR1oOnDiMxs091U2a0dYVzp2A9bA35SKs1HbkpYFOCjCaJdY799T8hkpx~465zwrggK-Wh5z-nz13m3dzfmFtqojPO0qonSlgfnF4X4rZlgOdC~cxOfxIkdP4BzNuBDKm7JQGGIEQzXgrHo3vX4G7IK6UZ4bcHI31JvTWeCgcN1h1UpgJY5KOV8AUM7SjSbVxyM30pkehceI639ZDyoiw__";
const EC_SHA1: &str = "MEUCIExtAOasRPpukE3wDvTjeGMsd0MPUx2lmGi~qyuYS65JAiEA-sCR0V3bB8vGxIaxKdNtwdFDsU5bup-H2MO7Nstkfp4_";
const EC_SHA256: &str = "MEUCIHfRJbUrGgxlzxf3r2IkznTd-EPTzgnSlxjJWDlrj7~-AiEArYL9KjZx5kW-kyWmhrjvaarh3Gsx8ASwYaD6rmWraMU_";

fn sig(s: &str) -> Vec<u8> {
    decode_url_safe_base64(s).expect("fixture decodes")
}

#[test]
fn canned_statement_is_the_exact_bytes_signers_sign() {
    assert_eq!(
        SignedPolicy::canned_statement("http://d1.localhost/a.txt", 2_000_000_000),
        STATEMENT
    );
}

#[test]
fn rsa_signatures_verify_with_the_named_hash_only() {
    let k = PublicKey::from_pem(RSA_PUBLIC).unwrap();
    let m = STATEMENT.as_bytes();
    assert!(k.verifies(m, &sig(RSA_SHA1), HashAlgorithm::Sha1));
    assert!(k.verifies(m, &sig(RSA_SHA256), HashAlgorithm::Sha256));
    assert!(!k.verifies(m, &sig(RSA_SHA1), HashAlgorithm::Sha256));
    assert!(!k.verifies(m, &sig(RSA_SHA256), HashAlgorithm::Sha1));
    let mut other = m.to_vec();
    other[30] ^= 1;
    assert!(!k.verifies(&other, &sig(RSA_SHA1), HashAlgorithm::Sha1));
    let mut forged = sig(RSA_SHA1);
    forged[100] ^= 0x80;
    assert!(!k.verifies(m, &forged, HashAlgorithm::Sha1));
    assert!(!k.verifies(m, &[], HashAlgorithm::Sha1));
}

#[test]
fn ecdsa_signatures_verify_with_either_hash() {
    let k = PublicKey::from_pem(EC_PUBLIC).unwrap();
    let m = STATEMENT.as_bytes();
    assert!(k.verifies(m, &sig(EC_SHA1), HashAlgorithm::Sha1));
    assert!(k.verifies(m, &sig(EC_SHA256), HashAlgorithm::Sha256));
    assert!(!k.verifies(m, &sig(EC_SHA1), HashAlgorithm::Sha256));
    assert!(!k.verifies(b"another statement", &sig(EC_SHA256), HashAlgorithm::Sha256));
    assert!(!k.verifies(m, &sig(RSA_SHA256), HashAlgorithm::Sha256));
}

#[test]
fn keys_other_than_rsa_2048_and_p256_are_refused() {
    assert!(
        PublicKey::from_pem(RSA_1024_PUBLIC)
            .unwrap_err()
            .contains("1024")
    );
    assert!(
        PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").is_err()
    );
    assert!(PublicKey::from_pem("").is_err());
}

#[test]
fn hash_algorithm_names() {
    assert_eq!(HashAlgorithm::from_name(None), Some(HashAlgorithm::Sha1));
    assert_eq!(
        HashAlgorithm::from_name(Some("SHA1")),
        Some(HashAlgorithm::Sha1)
    );
    assert_eq!(
        HashAlgorithm::from_name(Some("SHA256")),
        Some(HashAlgorithm::Sha256)
    );
    assert_eq!(HashAlgorithm::from_name(Some("sha256")), None);
    assert_eq!(HashAlgorithm::from_name(Some("MD5")), None);
}

#[test]
fn url_safe_base64() {
    assert_eq!(decode_url_safe_base64("-~8A").unwrap(), [0xfb, 0xff, 0x00]);
    assert_eq!(decode_url_safe_base64("-~8_").unwrap(), [0xfb, 0xff]);
    assert_eq!(decode_url_safe_base64("YQ__").unwrap(), b"a");
    assert!(decode_url_safe_base64("Y Q").is_none());
}

#[test]
fn custom_policy_reads_every_condition() {
    let p = SignedPolicy::parse(
        br#"{"Statement":[{"Resource":"http*://d1.localhost/*","Condition":{"DateLessThan":{"AWS:EpochTime":200},"DateGreaterThan":{"AWS:EpochTime":100},"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"}}}]}"#,
    )
    .unwrap();
    let ip = |s: &str| Some(s.parse().unwrap());
    let url = "https://d1.localhost/a/b.txt?x=1";
    assert_eq!(p.permits(url, 150, ip("192.0.2.9")), Ok(()));
    assert_eq!(
        p.permits(url, 200, ip("192.0.2.9")),
        Err(Refusal::AccessDenied)
    );
    assert_eq!(
        p.permits(url, 100, ip("192.0.2.9")),
        Err(Refusal::AccessDenied)
    );
    assert_eq!(
        p.permits(url, 150, ip("192.0.3.9")),
        Err(Refusal::AccessDenied)
    );
    assert_eq!(p.permits(url, 150, None), Err(Refusal::AccessDenied));
    assert_eq!(
        p.permits("https://d2.localhost/a", 150, ip("192.0.2.9")),
        Err(Refusal::AccessDenied)
    );
    let any = SignedPolicy::parse(
        br#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":9}}}]}"#,
    )
    .unwrap();
    assert_eq!(any.resource, None);
    assert_eq!(any.permits("http://anything/at/all", 8, None), Ok(()));
}

#[test]
fn malformed_policies_are_refused() {
    for bad in [
        "",
        "{}",
        "[]",
        r#"{"Statement":{}}"#,
        r#"{"Statement":[]}"#,
        r#"{"Statement":[{"Resource":"x"}]}"#,
        r#"{"Statement":[{"Resource":"x","Condition":{}}]}"#,
        r#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":"9"}}}]}"#,
        r#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":9.5}}}]}"#,
        r#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":9,"X":1}}}]}"#,
        r#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":9},"StringEquals":{"a":"b"}}}]}"#,
        r#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":9},"IpAddress":{"AWS:SourceIp":"300.1.1.1"}}}]}"#,
        r#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":9},"IpAddress":{"AWS:SourceIp":"10.0.0.0/33"}}}]}"#,
        r#"{"Statement":[{"Resource":"x","Condition":{"DateLessThan":{"AWS:EpochTime":9}}},{"Resource":"y","Condition":{"DateLessThan":{"AWS:EpochTime":9}}}]}"#,
        r#"{"Statement":[{"Resource":"x","Effect":"Allow","Condition":{"DateLessThan":{"AWS:EpochTime":9}}}]}"#,
        r#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":9}}}],"Version":"1"}"#,
    ] {
        assert_eq!(
            SignedPolicy::parse(bad.as_bytes()),
            Err(Refusal::MalformedPolicy),
            "{bad}"
        );
    }
}

#[test]
fn source_ip_ranges() {
    let r = |s: &str| SourceIp::parse(s).unwrap();
    let ip = |s: &str| s.parse().unwrap();
    assert!(r("192.0.2.7").contains(ip("192.0.2.7")));
    assert!(!r("192.0.2.7").contains(ip("192.0.2.8")));
    assert!(r("10.0.0.0/8").contains(ip("10.255.1.1")));
    assert!(r("0.0.0.0/0").contains(ip("8.8.8.8")));
    assert!(r("10.0.0.0/8").contains(ip("::ffff:10.1.2.3")));
    assert!(!r("10.0.0.0/8").contains(ip("2001:db8::1")));
    assert!(r("2001:db8::/32").contains(ip("2001:db8:1::1")));
    assert!(!r("2001:db8::/32").contains(ip("2001:db9::1")));
    for bad in [
        "",
        "10.0.0.0/",
        "10.0.0.0/-1",
        "10.0.0.0/+8",
        "::/129",
        "host/8",
    ] {
        assert!(SourceIp::parse(bad).is_none(), "{bad}");
    }
}
