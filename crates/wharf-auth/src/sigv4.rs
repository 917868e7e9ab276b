//! AWS Signature Version 4 for services other than S3 (whose verification s3s does): signing
//! the requests Wharf sends (`wharf invalidate`) and verifying the CloudFront control requests
//! it receives (`aws cloudfront create-invalidation`).
//!
//! The algorithm is AWS's "Create a signed AWS API request": a canonical request, a string to
//! sign with the credential scope, and an HMAC-SHA256 key derived from the secret, date,
//! region and service.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// A request, as SigV4 sees it.
pub struct Canonical<'a> {
    pub method: &'a str,
    /// The path, already URI-encoded as sent.
    pub path: &'a str,
    /// The raw query string (without `?`).
    pub query: &'a str,
    /// (lower-case name, value) of every header, as received.
    pub headers: &'a [(String, String)],
    pub payload_sha256: &'a str,
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    hmac(&k, b"aws4_request")
}

fn canonical_query(q: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = q
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    pairs.sort_unstable();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The canonical request of `req` for `signed` headers (lower-case names, sorted).
pub fn canonical_request_parts(req: &Canonical<'_>, signed: &[&str]) -> String {
    let mut canonical_headers = String::new();
    for name in signed {
        let values: Vec<String> = req
            .headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        if req.path.is_empty() { "/" } else { req.path },
        canonical_query(req.query),
        canonical_headers,
        signed.join(";"),
        req.payload_sha256
    )
}

/// The signature of `req` for `signed` headers (lower-case names, sorted).
pub fn signature(
    req: &Canonical<'_>,
    signed: &[&str],
    amz_date: &str,
    secret: &str,
    region: &str,
    service: &str,
) -> String {
    let creq = canonical_request_parts(req, signed);
    let date = amz_date.get(..8).unwrap_or("");
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let sts = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(creq.as_bytes())
    );
    hex::encode(hmac(
        &signing_key(secret, date, region, service),
        sts.as_bytes(),
    ))
}

/// The `Authorization` header value for a request signed with these credentials.
pub fn authorization(
    req: &Canonical<'_>,
    access_key: &str,
    secret: &str,
    amz_date: &str,
    region: &str,
    service: &str,
) -> String {
    let mut signed: Vec<&str> = req.headers.iter().map(|(n, _)| n.as_str()).collect();
    signed.sort_unstable();
    signed.dedup();
    let sig = signature(req, &signed, amz_date, secret, region, service);
    let date = amz_date.get(..8).unwrap_or("");
    format!(
        "AWS4-HMAC-SHA256 Credential={access_key}/{date}/{region}/{service}/aws4_request, SignedHeaders={}, Signature={sig}",
        signed.join(";")
    )
}

/// `YYYYMMDDTHHMMSSZ`, the `X-Amz-Date` form of a time.
pub fn amz_date(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// URI-encodes `s` as SigV4 wants it: every byte but the unreserved `A-Za-z0-9-._~` (and `/`
/// when `keep_slash`) becomes `%XY` with upper-case hex.
pub fn uri_encode(s: &[u8], keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XY` escapes; a `%` not followed by two hex digits stays as it is.
pub fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| char::from(c).to_digit(16);
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|&c| hex(c)),
                b.get(i + 2).and_then(|&c| hex(c)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// The path and query in SigV4's canonical encoding, to be sent exactly as returned so that
/// what is signed is what the receiver sees: each path byte and each query name and value
/// decoded and encoded again, the query pairs sorted.
pub fn canonical_target(path: &str, query: &str) -> (String, String) {
    let path = uri_encode(&percent_decode(path), true);
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |x: &str| percent_decode(&x.replace('+', " "));
            (uri_encode(&dec(k), false), uri_encode(&dec(v), false))
        })
        .collect();
    pairs.sort_unstable();
    let query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    (path, query)
}

/// The parts of a SigV4 `Authorization` header.
#[derive(Debug, PartialEq, Eq)]
pub struct AuthorizationHeader {
    pub access_key: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

pub fn parse_authorization(v: &str) -> Option<AuthorizationHeader> {
    let rest = v.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let (mut cred, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let (k, val) = part.trim().split_once('=')?;
        match k {
            "Credential" => cred = Some(val),
            "SignedHeaders" => signed = Some(val),
            "Signature" => sig = Some(val),
            _ => {}
        }
    }
    let mut c = cred?.split('/');
    let out = AuthorizationHeader {
        access_key: c.next()?.to_owned(),
        date: c.next()?.to_owned(),
        region: c.next()?.to_owned(),
        service: c.next()?.to_owned(),
        signed_headers: signed?.split(';').map(str::to_owned).collect(),
        signature: sig?.to_owned(),
    };
    (c.next()? == "aws4_request").then_some(out)
}

/// Checks a received request's signature in constant time.
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
    let expected = signature(req, &signed, amz_date, secret, &auth.region, &auth.service);
    subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), auth.signature.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's documented example ("GET https://iam.amazonaws.com/?Action=ListUsers..." from the
    /// SigV4 test suite, get-vanilla): the signature is published.
    #[test]
    fn amz_date_is_utc_civil_time() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_440_938_160);
        assert_eq!(amz_date(t), "20150830T123600Z");
        assert_eq!(amz_date(std::time::UNIX_EPOCH), "19700101T000000Z");
        // A leap day.
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(951_782_400);
        assert_eq!(amz_date(t), "20000229T000000Z");
    }

    #[test]
    fn canonical_target_encodes_once() {
        assert_eq!(
            canonical_target("/a b/%7Ex/caf%C3%A9", "b=2&a=x+y&c"),
            (
                "/a%20b/~x/caf%C3%A9".to_owned(),
                "a=x%20y&b=2&c=".to_owned()
            )
        );
        assert_eq!(
            canonical_target("/100%", ""),
            ("/100%25".to_owned(), String::new())
        );
    }

    #[test]
    fn aws_test_suite_get_vanilla() {
        let headers = vec![
            ("host".to_owned(), "example.amazonaws.com".to_owned()),
            ("x-amz-date".to_owned(), "20150830T123600Z".to_owned()),
        ];
        let req = Canonical {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            payload_sha256: &sha256_hex(b""),
        };
        let auth = authorization(
            &req,
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830T123600Z",
            "us-east-1",
            "service",
        );
        assert!(auth.ends_with(
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        ));
        let parsed = parse_authorization(&auth).unwrap();
        assert!(verify(
            &req,
            &parsed,
            "20150830T123600Z",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        ));
        assert!(!verify(&req, &parsed, "20150830T123600Z", "wrong"));
    }
}
