//! CloudFront's standard (legacy) access log format: one tab-separated line of 33 fields per
//! viewer request, under `#Version` and `#Fields` lines, in files named
//! `PREFIX` + `DISTRIBUTION-ID.YYYY-MM-DD-HH.UNIQUE.gz`.
//!
//! A [`LogRecord`] is made by the pipeline's logging phase when the response's last byte is
//! sent (or the viewer goes away), formatted by [`LogRecord::write_line`] on that thread, and
//! queued for [`delivery`], whose thread gzips and delivers the files.
//!
//! Values are written as CloudFront writes them: an absent or empty value is `-`; bytes that
//! are not printable ASCII, the space, `"`, `\` and `%` are percent-encoded (`%20`), so a
//! line never holds a tab or a line break of its own, and a value that was already
//! percent-encoded, as URLs are, shows its `%` as `%25` (CloudFront's `%2520` for a space in
//! a path).

pub mod delivery;

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::HeaderValue;
use http::{Method, Uri, Version};

use crate::distribution::Logging;
use crate::pipeline::ViewerHttps;

/// The first line of every log file.
pub const VERSION_LINE: &str = "#Version: 1.0";

/// The second line: the fields, in the order every line gives them.
pub const FIELDS_LINE: &str = "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end";

/// CloudFront's result types (`x-edge-result-type`, `x-edge-response-result-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultType {
    Hit,
    RefreshHit,
    Miss,
    Error,
    Redirect,
    /// A CloudFront Function answered.
    FunctionGeneratedResponse,
}

impl ResultType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "Hit",
            Self::RefreshHit => "RefreshHit",
            Self::Miss => "Miss",
            Self::Error => "Error",
            Self::Redirect => "Redirect",
            Self::FunctionGeneratedResponse => "FunctionGeneratedResponse",
        }
    }
}

/// What the viewer sent that the log keeps: its header values, cloned (not copied) from the
/// request.
#[derive(Debug, Clone, Default)]
pub struct ViewerFields {
    pub host: Option<HeaderValue>,
    pub referer: Option<HeaderValue>,
    pub user_agent: Option<HeaderValue>,
    pub cookie: Option<HeaderValue>,
    pub x_forwarded_for: Option<HeaderValue>,
}

/// One viewer request, as its log line tells it.
#[derive(Debug, Clone)]
pub struct LogRecord {
    /// The distribution's logging settings (and its id and domain name).
    pub logging: Arc<Logging>,
    /// When the last byte was sent (or the viewer went away): the line's date and time.
    pub finished: SystemTime,
    pub request_id: String,
    pub client: Option<SocketAddr>,
    pub method: Method,
    pub uri: Uri,
    pub version: Version,
    pub tls: Option<ViewerHttps>,
    pub viewer: ViewerFields,
    /// The request's header block as HTTP/1.1 writes it, plus its body's length.
    pub request_bytes: u64,
    /// `000` when no response was sent.
    pub status: u16,
    /// The response's header block as HTTP/1.1 writes it, plus the body bytes sent.
    pub response_bytes: u64,
    pub result: ResultType,
    pub response_result: ResultType,
    /// `x-edge-detailed-result-type`: the result type, or for an error which one.
    pub detailed_result: &'static str,
    pub time_taken: Duration,
    pub time_to_first_byte: Duration,
    pub content_type: Option<HeaderValue>,
    pub content_length: Option<HeaderValue>,
    /// From the response's `Content-Range`.
    pub range: Option<(u64, u64)>,
}

impl LogRecord {
    /// Appends the record's line (and its line end) to `out`, with `edge_location` as its
    /// `x-edge-location`; `stamp` keeps the date and time of the last second written.
    pub fn write_line(&self, edge_location: &str, stamp: &mut Stamp, out: &mut Vec<u8>) {
        let tab = |out: &mut Vec<u8>| out.push(b'\t');
        out.extend_from_slice(stamp.of(self.finished).as_bytes());
        tab(out);
        value(out, edge_location.as_bytes());
        tab(out);
        number(out, self.response_bytes);
        tab(out);
        match self.client.map(|c| c.ip()) {
            Some(IpAddr::V4(ip)) => {
                for (i, octet) in ip.octets().into_iter().enumerate() {
                    if i > 0 {
                        out.push(b'.');
                    }
                    number(out, octet.into());
                }
            }
            Some(ip) => {
                let _ = write!(out, "{ip}");
            }
            None => out.push(b'-'),
        }
        tab(out);
        value(out, self.method.as_str().as_bytes());
        tab(out);
        value(out, self.logging.domain_name.as_bytes());
        tab(out);
        value(out, self.uri.path().as_bytes());
        tab(out);
        // `000` when no response was sent.
        three_digits(out, self.status);
        tab(out);
        header(out, self.viewer.referer.as_ref());
        tab(out);
        header(out, self.viewer.user_agent.as_ref());
        tab(out);
        value(out, self.uri.query().unwrap_or("").as_bytes());
        tab(out);
        header(
            out,
            self.viewer
                .cookie
                .as_ref()
                .filter(|_| self.logging.include_cookies),
        );
        tab(out);
        out.extend_from_slice(self.result.as_str().as_bytes());
        tab(out);
        value(out, self.request_id.as_bytes());
        tab(out);
        header(out, self.viewer.host.as_ref());
        tab(out);
        out.extend_from_slice(if self.tls.is_some() {
            b"https"
        } else {
            b"http"
        });
        tab(out);
        number(out, self.request_bytes);
        tab(out);
        seconds(out, self.time_taken);
        tab(out);
        header(out, self.viewer.x_forwarded_for.as_ref());
        tab(out);
        match &self.tls {
            Some(t) => {
                out.extend_from_slice(t.protocol.as_bytes());
                tab(out);
                out.extend_from_slice(t.cipher.as_bytes());
            }
            None => out.extend_from_slice(b"-\t-"),
        }
        tab(out);
        out.extend_from_slice(self.response_result.as_str().as_bytes());
        tab(out);
        out.extend_from_slice(match self.version {
            Version::HTTP_09 => b"HTTP/0.9",
            Version::HTTP_10 => b"HTTP/1.0",
            Version::HTTP_2 => b"HTTP/2.0",
            Version::HTTP_3 => b"HTTP/3.0",
            _ => b"HTTP/1.1",
        });
        // fle-status, fle-encrypted-fields: field-level encryption is not offered.
        out.extend_from_slice(b"\t-\t-\t");
        match self.client {
            Some(c) => number(out, c.port().into()),
            None => out.push(b'-'),
        }
        tab(out);
        seconds(out, self.time_to_first_byte);
        tab(out);
        out.extend_from_slice(self.detailed_result.as_bytes());
        tab(out);
        header(out, self.content_type.as_ref());
        tab(out);
        header(out, self.content_length.as_ref());
        match self.range {
            Some((start, end)) => {
                tab(out);
                number(out, start);
                tab(out);
                number(out, end);
            }
            None => out.extend_from_slice(b"\t-\t-"),
        }
        out.push(b'\n');
    }
}

/// `n` in decimal.
fn number(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// `d` in seconds with three decimals (rounded to the millisecond), as CloudFront writes
/// `time-taken`.
fn seconds(out: &mut Vec<u8>, d: Duration) {
    let ms = (d.as_nanos() + 500_000) / 1_000_000;
    number(out, u64::try_from(ms / 1000).unwrap_or(u64::MAX));
    out.push(b'.');
    three_digits(out, (ms % 1000) as u16);
}

/// `n` (at most 999) as three digits, zeros in front.
fn three_digits(out: &mut Vec<u8>, n: u16) {
    let n = n.min(999);
    out.extend_from_slice(&[
        b'0' + (n / 100) as u8,
        b'0' + (n / 10 % 10) as u8,
        b'0' + (n % 10) as u8,
    ]);
}

/// The `date` and `time` fields of one second, kept while lines of that second are written.
#[derive(Debug, Default)]
pub struct Stamp {
    second: Option<u64>,
    text: String,
}

impl Stamp {
    /// `YYYY-MM-DD<tab>HH:MM:SS` of `t`, UTC.
    pub fn of(&mut self, t: SystemTime) -> &str {
        let second = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if self.second != Some(second) {
            let (date, time) = utc(t);
            self.text = format!("{date}\t{time}");
            self.second = Some(second);
        }
        &self.text
    }
}

/// The key of a log file: `PREFIX` + `ID.YYYY-MM-DD-HH.UNIQUE.gz`, the hour (UTC) being the
/// one its requests were served in.
pub fn object_key(prefix: &str, distribution_id: &str, hour: SystemTime, unique: &str) -> String {
    let (date, time) = utc(hour);
    format!(
        "{prefix}{distribution_id}.{date}-{}.{unique}.gz",
        &time[..2]
    )
}

/// The hour `t` falls in, as seconds since the epoch.
pub fn hour_of(t: SystemTime) -> u64 {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    secs - secs % 3600
}

fn header(out: &mut Vec<u8>, v: Option<&HeaderValue>) {
    value(out, v.map_or(&[][..], HeaderValue::as_bytes));
}

/// The bytes CloudFront percent-encodes in a field: controls, the space, `"`, `\`, `%` and
/// everything outside ASCII.
const ESCAPED: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = b <= 0x20
            || b >= 0x7f
            || b == b'"' as usize
            || b == b'\\' as usize
            || b == b'%' as usize;
        b += 1;
    }
    t
};

/// Writes `v` percent-encoded as CloudFront does; `-` when empty.
fn value(out: &mut Vec<u8>, v: &[u8]) {
    if v.is_empty() {
        out.push(b'-');
        return;
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    // Runs of bytes that need no escape are copied whole.
    let mut run = 0;
    for (i, &b) in v.iter().enumerate() {
        if ESCAPED[usize::from(b)] {
            out.extend_from_slice(&v[run..i]);
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
            run = i + 1;
        }
    }
    out.extend_from_slice(&v[run..]);
}

/// `YYYY-MM-DD` and `HH:MM:SS` of `t` in UTC (cut from SigV4's `YYYYMMDDTHHMMSSZ`).
fn utc(t: SystemTime) -> (String, String) {
    let s = wharf_auth::sigv4::amz_date(t);
    (
        format!("{}-{}-{}", &s[..4], &s[4..6], &s[6..8]),
        format!("{}:{}:{}", &s[9..11], &s[11..13], &s[13..15]),
    )
}

#[cfg(test)]
mod tests;
