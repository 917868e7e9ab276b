//! CloudFront's own request headers (`CloudFront-Viewer-*`, `CloudFront-Forwarded-Proto`,
//! `CloudFront-Is-*-Viewer`): made by the edge from the connection, the geo database and the
//! `User-Agent`, and added to a request exactly when the behavior's cache policy or origin
//! request policy names them. A viewer's own copy of any `CloudFront-*` header is always
//! removed first: an origin can trust what it reads there.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use http::Version;
use http::header::{HeaderMap, HeaderName, HeaderValue, USER_AGENT};

use crate::viewer::{GeoDatabase, Place};

/// Whether `name` (lower case) is one of CloudFront's own request headers.
pub fn is_cloudfront(name: &str) -> bool {
    name.starts_with("cloudfront-")
}

/// What the edge knows of the viewer.
pub struct Viewer<'a> {
    pub https: bool,
    /// The TLS session, when `https`.
    pub tls: Option<crate::pipeline::ViewerHttps>,
    pub version: Version,
    /// The connection's peer.
    pub peer: Option<SocketAddr>,
    /// The viewer's address (behind trusted proxies, the one they name).
    pub address: Option<IpAddr>,
    pub geo: Option<&'a GeoDatabase>,
    /// The ASN database.
    pub asn: Option<&'a GeoDatabase>,
}

/// Removes the viewer's `CloudFront-*` headers from `h`, then adds the `wanted` ones (lower
/// case) that can be made for this viewer.
pub fn apply(h: &mut HeaderMap, wanted: &[HeaderName], v: &Viewer<'_>) {
    if h.keys().any(|n| is_cloudfront(n.as_str())) {
        let theirs: Vec<HeaderName> = h
            .keys()
            .filter(|n| is_cloudfront(n.as_str()))
            .cloned()
            .collect();
        for n in theirs {
            h.remove(n);
        }
    }
    if wanted.is_empty() {
        return;
    }
    // Each source is read only if a wanted header needs it.
    let device = wanted
        .iter()
        .any(|n| n.as_str().starts_with("cloudfront-is-"))
        .then(|| {
            Device::of(
                h.get(USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or(""),
            )
        });
    let place = match (v.geo, v.address) {
        (Some(db), Some(ip)) if wanted.iter().any(|n| is_place(n.as_str())) => db.place(ip),
        _ => None,
    };
    let mut made = Vec::with_capacity(wanted.len());
    for name in wanted {
        let is = |f: fn(&Device) -> bool| device.as_ref().map(|d| f(d).to_string());
        let value = match name.as_str() {
            "cloudfront-forwarded-proto" => Some(if v.https { "https" } else { "http" }.into()),
            "cloudfront-viewer-address" => v.peer.map(|p| format!("{}:{}", p.ip(), p.port())),
            "cloudfront-viewer-http-version" => Some(
                match v.version {
                    Version::HTTP_10 => "1.0",
                    Version::HTTP_2 => "2.0",
                    Version::HTTP_3 => "3.0",
                    _ => "1.1",
                }
                .into(),
            ),
            "cloudfront-viewer-tls" => v.tls.map(|t| {
                let handshake = if t.resumed {
                    "sessionResumed"
                } else {
                    "fullHandshake"
                };
                format!("{}:{}:{handshake}", t.protocol, t.cipher)
            }),
            "cloudfront-viewer-ja3-fingerprint" => {
                v.tls.and_then(|t| t.fingerprints).map(|f| f.ja3().into())
            }
            "cloudfront-viewer-ja4-fingerprint" => {
                v.tls.and_then(|t| t.fingerprints).map(|f| f.ja4().into())
            }
            "cloudfront-viewer-asn" => v
                .asn
                .zip(v.address)
                .and_then(|(db, ip)| db.asn(ip))
                .map(|n| n.to_string()),
            "cloudfront-viewer-header-count" => Some(h.keys_len().to_string()),
            "cloudfront-viewer-header-order" => Some(
                h.keys()
                    .map(HeaderName::as_str)
                    .collect::<Vec<_>>()
                    .join(":"),
            ),
            "cloudfront-is-mobile-viewer" => is(|d| d.mobile),
            "cloudfront-is-tablet-viewer" => is(|d| d.tablet),
            "cloudfront-is-smarttv-viewer" => is(|d| d.smart_tv),
            "cloudfront-is-desktop-viewer" => is(Device::desktop),
            "cloudfront-is-android-viewer" => is(|d| d.android),
            "cloudfront-is-ios-viewer" => is(|d| d.ios),
            geo => place.as_ref().and_then(|p| p.field(geo)),
        };
        if let Some(v) = value.and_then(|s| HeaderValue::from_str(&percent_encode(&s)).ok()) {
            made.push((name.clone(), v));
        }
    }
    // Added once all are made, so the header count and order are the viewer's own.
    for (name, v) in made {
        h.insert(name, v);
    }
}

/// Whether a header comes from where the geo database places the viewer.
fn is_place(name: &str) -> bool {
    name.starts_with("cloudfront-viewer-")
        && !matches!(
            name,
            "cloudfront-viewer-address"
                | "cloudfront-viewer-asn"
                | "cloudfront-viewer-tls"
                | "cloudfront-viewer-ja3-fingerprint"
                | "cloudfront-viewer-ja4-fingerprint"
                | "cloudfront-viewer-http-version"
                | "cloudfront-viewer-header-count"
                | "cloudfront-viewer-header-order"
        )
}

impl Place {
    fn field(&self, name: &str) -> Option<String> {
        match name {
            "cloudfront-viewer-country" => self.country.clone(),
            "cloudfront-viewer-country-name" => self.country_name.clone(),
            "cloudfront-viewer-country-region" => self.region.clone(),
            "cloudfront-viewer-country-region-name" => self.region_name.clone(),
            "cloudfront-viewer-city" => self.city.clone(),
            "cloudfront-viewer-postal-code" => self.postal_code.clone(),
            "cloudfront-viewer-time-zone" => self.time_zone.clone(),
            "cloudfront-viewer-latitude" => self.latitude.map(|l| format!("{l:.5}")),
            "cloudfront-viewer-longitude" => self.longitude.map(|l| format!("{l:.5}")),
            "cloudfront-viewer-metro-code" => self.metro_code.map(|m| m.to_string()),
            _ => None,
        }
    }
}

/// Names of places may hold any character; a header value holds visible ASCII.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_graphic() || b == b' ' {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The kind of device a `User-Agent` names, as CloudFront tells them apart.
#[derive(Debug, Default, PartialEq, Eq)]
struct Device {
    mobile: bool,
    tablet: bool,
    smart_tv: bool,
    android: bool,
    ios: bool,
}

impl Device {
    fn of(ua: &str) -> Self {
        let has = |s: &str| ua.contains(s);
        let ios = has("iPhone") || has("iPad") || has("iPod");
        let android = has("Android");
        let smart_tv = [
            "SmartTV", "SMART-TV", "GoogleTV", "AppleTV", "HbbTV", "Web0S", "BRAVIA",
        ]
        .iter()
        .any(|s| has(s));
        let tablet = !smart_tv && (has("iPad") || has("Tablet") || (android && !has("Mobile")));
        let mobile = !smart_tv
            && !tablet
            && (has("Mobile") || has("iPhone") || has("iPod") || has("Windows Phone"));
        Self {
            mobile,
            tablet,
            smart_tv,
            android,
            ios,
        }
    }

    fn desktop(&self) -> bool {
        !(self.mobile || self.tablet || self.smart_tv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(names: &[&'static str]) -> Vec<HeaderName> {
        names.iter().map(|n| HeaderName::from_static(n)).collect()
    }

    #[test]
    fn a_viewers_own_cloudfront_headers_never_pass() {
        let mut h = HeaderMap::new();
        h.insert("cloudfront-viewer-country", HeaderValue::from_static("XX"));
        h.insert(
            "cloudfront-is-desktop-viewer",
            HeaderValue::from_static("x"),
        );
        h.insert("accept", HeaderValue::from_static("*/*"));
        let v = Viewer {
            https: true,
            tls: Some(crate::pipeline::ViewerHttps {
                protocol: "TLSv1.3",
                cipher: "TLS_AES_128_GCM_SHA256",
                resumed: false,
                fingerprints: Some(crate::tls_fingerprint::Fingerprints::of(
                    &crate::tls_fingerprint::ClientHello {
                        version: 0x0303,
                        ciphers: vec![0x1301],
                        ..Default::default()
                    },
                )),
            }),
            version: Version::HTTP_2,
            peer: Some("192.0.2.1:4242".parse().unwrap()),
            address: None,
            geo: None,
            asn: None,
        };
        apply(&mut h, &[], &v);
        assert_eq!(h.len(), 1);
        apply(
            &mut h,
            &wanted(&[
                "cloudfront-viewer-country",
                "cloudfront-forwarded-proto",
                "cloudfront-viewer-address",
                "cloudfront-viewer-http-version",
                "cloudfront-viewer-tls",
                "cloudfront-is-desktop-viewer",
                "cloudfront-viewer-ja3-fingerprint",
                "cloudfront-viewer-ja4-fingerprint",
            ]),
            &v,
        );
        let f = v.tls.unwrap().fingerprints.unwrap();
        assert_eq!(h["cloudfront-viewer-ja3-fingerprint"], f.ja3());
        assert_eq!(h["cloudfront-viewer-ja4-fingerprint"], f.ja4());
        assert!(f.ja4().starts_with("t12i0100"), "{f:?}");
        assert_eq!(
            h["cloudfront-viewer-tls"],
            "TLSv1.3:TLS_AES_128_GCM_SHA256:fullHandshake"
        );
        // No database: no country, rather than the viewer's.
        assert!(h.get("cloudfront-viewer-country").is_none());
        assert_eq!(h["cloudfront-forwarded-proto"], "https");
        assert_eq!(h["cloudfront-viewer-address"], "192.0.2.1:4242");
        assert_eq!(h["cloudfront-viewer-http-version"], "2.0");
        assert_eq!(h["cloudfront-is-desktop-viewer"], "true");
    }

    #[test]
    fn devices() {
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";
        let d = Device::of(iphone);
        assert!(d.mobile && d.ios && !d.tablet && !d.desktop());
        let tab =
            Device::of("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 Safari/537.36");
        assert!(tab.tablet && tab.android && !tab.mobile);
        let phone = Device::of("Mozilla/5.0 (Linux; Android 13; Pixel 7) Mobile Safari/537.36");
        assert!(phone.mobile && phone.android);
        let tv = Device::of("Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) SamsungBrowser/4.0");
        assert!(tv.smart_tv && !tv.desktop());
        assert!(Device::of("curl/8.0").desktop());
    }

    #[test]
    fn place_names_are_percent_encoded() {
        assert_eq!(percent_encode("São Paulo"), "S%C3%A3o Paulo");
        assert_eq!(percent_encode("Linköping"), "Link%C3%B6ping");
    }
}
