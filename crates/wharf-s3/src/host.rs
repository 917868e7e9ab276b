//! Virtual-hosted-style addressing: `bucket.localhost:9000` names the bucket in the host.
//!
//! A host that ends in `.<domain>` for one of the configured base domains carries the bucket
//! name before it; any other host (an IP address, the bare domain) is path-style.

use s3s::S3Result;
use s3s::host::{S3Host, VirtualHost};

pub struct VirtualHosts {
    domains: Vec<String>,
}

impl VirtualHosts {
    pub fn new(domains: Vec<String>) -> Self {
        Self {
            domains: domains
                .into_iter()
                .map(|d| d.to_ascii_lowercase())
                .collect(),
        }
    }

    /// The bucket a `Host` header names, if it is virtual-hosted style.
    pub fn bucket_of<'h>(&self, host: &'h str) -> Option<&'h str> {
        let name = strip_port(host);
        self.domains.iter().find_map(|d| {
            let cut = name.len().checked_sub(d.len() + 1)?;
            // A cut inside a multi-byte character cannot precede ".domain" (fuzzing found it).
            if cut == 0 || !name.is_char_boundary(cut) {
                return None;
            }
            let (bucket, rest) = name.split_at(cut);
            // rest[0] is checked to be ASCII '.' before rest[1..] is sliced.
            (rest.as_bytes()[0] == b'.' && rest[1..].eq_ignore_ascii_case(d)).then_some(bucket)
        })
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // IPv6 literal: [::1]:9000
        return host.split_once(']').map_or(host, |(h, _)| h);
    }
    host.rsplit_once(':').map_or(host, |(h, p)| {
        if p.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    })
}

impl S3Host for VirtualHosts {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        Ok(match self.bucket_of(host) {
            Some(bucket) => VirtualHost::new(strip_port(host)).with_bucket(bucket),
            None => VirtualHost::new(strip_port(host)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let v = VirtualHosts::new(vec!["localhost".into(), "s3.example.com".into()]);
        assert_eq!(v.bucket_of("demo.localhost:9000"), Some("demo"));
        assert_eq!(v.bucket_of("a.b.localhost"), Some("a.b"));
        assert_eq!(v.bucket_of("localhost:9000"), None);
        assert_eq!(v.bucket_of("127.0.0.1:9000"), None);
        assert_eq!(v.bucket_of("my-bucket.s3.example.com"), Some("my-bucket"));
        assert_eq!(v.bucket_of("notlocalhost"), None);
        assert_eq!(v.bucket_of("[::1]:9000"), None);
        assert_eq!(v.bucket_of("DEMO.LocalHost"), Some("DEMO"));
        // Found by fuzz/request_head: a multi-byte character where the cut would fall.
        assert_eq!(v.bucket_of("\u{685}xlocalhost"), None);
        assert_eq!(v.bucket_of("\u{685}.localhost"), Some("\u{685}"));
    }
}
