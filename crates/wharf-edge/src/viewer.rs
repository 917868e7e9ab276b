//! Who the viewer is: its address, seen through the proxies the operator trusts, and the
//! country that address is in, for geo restriction and for signed policies' `IpAddress`.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use http::HeaderMap;
use wharf_auth::cloudfront_signature::SourceIp;

use crate::headers;

/// A MaxMind GeoIP2 or GeoLite2 Country (or City) database, read into memory once.
pub struct GeoDatabase {
    reader: maxminddb::Reader<Vec<u8>>,
}

impl std::fmt::Debug for GeoDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoDatabase")
            .field("type", &self.reader.metadata().database_type)
            .finish()
    }
}

impl GeoDatabase {
    pub fn open(path: &Path) -> Result<Self, String> {
        let reader = maxminddb::Reader::open_readfile(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Self { reader })
    }

    /// The ISO 3166-1 alpha-2 code of the country `ip` is in (where MaxMind places it, else
    /// where its network is registered); `None` when the database does not know the address.
    pub fn country(&self, ip: IpAddr) -> Option<String> {
        let found = self.reader.lookup(ip).ok()?;
        let record: maxminddb::geoip2::Country<'_> = found.decode().ok()??;
        record
            .country
            .iso_code
            .or(record.registered_country.iso_code)
            .map(str::to_owned)
    }

    /// The number of the autonomous system `ip` is announced from (a GeoLite2-ASN or
    /// GeoIP2-ISP database); `None` when the database does not know the address.
    pub fn asn(&self, ip: IpAddr) -> Option<u32> {
        let found = self.reader.lookup(ip).ok()?;
        let record: maxminddb::geoip2::Asn<'_> = found.decode().ok()??;
        record.autonomous_system_number
    }
}

/// Where the geo database places an address (for the `CloudFront-Viewer-*` headers).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Place {
    pub country: Option<String>,
    pub country_name: Option<String>,
    /// The first subdivision's ISO 3166-2 code, without the country (`WA`, `ENG`).
    pub region: Option<String>,
    pub region_name: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub time_zone: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub metro_code: Option<u16>,
}

impl GeoDatabase {
    /// What the database knows of where `ip` is (a Country database knows the country only).
    pub fn place(&self, ip: IpAddr) -> Option<Place> {
        let found = self.reader.lookup(ip).ok()?;
        let r: maxminddb::geoip2::City<'_> = found.decode().ok()??;
        let country = if r.country.iso_code.is_some() {
            &r.country
        } else {
            &r.registered_country
        };
        let owned = |s: Option<&str>| s.map(str::to_owned);
        let region = r.subdivisions.first();
        Some(Place {
            country: owned(country.iso_code),
            country_name: owned(country.names.english),
            region: owned(region.and_then(|s| s.iso_code)),
            region_name: owned(region.and_then(|s| s.names.english)),
            city: owned(r.city.names.english),
            postal_code: owned(r.postal.code),
            time_zone: owned(r.location.time_zone),
            latitude: r.location.latitude,
            longitude: r.location.longitude,
            metro_code: r.location.metro_code,
        })
    }
}

/// How the edge tells who a viewer is.
#[derive(Debug, Default)]
pub struct ViewerLocator {
    /// Peers whose `X-Forwarded-For` is believed (load balancers in front of the edge).
    pub trusted_proxies: Vec<SourceIp>,
    pub geo: Option<GeoDatabase>,
    /// A MaxMind ASN database, for `CloudFront-Viewer-ASN`.
    pub asn: Option<GeoDatabase>,
}

impl ViewerLocator {
    fn trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|r| r.contains(ip))
    }

    /// The viewer's address: the connection's peer, unless the peer is a trusted proxy; then
    /// the last address in `X-Forwarded-For` that is not a trusted proxy (the first one when
    /// all are), as nginx's `real_ip_recursive` does. Entries that are not addresses end the
    /// walk, so a viewer cannot hide behind garbage.
    pub fn address(&self, peer: Option<SocketAddr>, h: &HeaderMap) -> Option<IpAddr> {
        let mut ip = peer?.ip();
        if !self.trusted(ip) {
            return Some(ip);
        }
        let chain: Vec<&str> = h
            .get_all(&headers::X_FORWARDED_FOR)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for hop in chain.iter().rev() {
            let Ok(hop_ip) = hop.parse::<IpAddr>() else {
                break;
            };
            ip = hop_ip;
            if !self.trusted(ip) {
                break;
            }
        }
        Some(ip)
    }

    /// The viewer's country; `None` when unknown (no database, or an address it lacks).
    pub fn country(&self, ip: Option<IpAddr>) -> Option<String> {
        self.geo.as_ref()?.country(ip?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locator(trusted: &[&str]) -> ViewerLocator {
        ViewerLocator {
            trusted_proxies: trusted
                .iter()
                .map(|t| SourceIp::parse(t).unwrap())
                .collect(),
            geo: None,
            asn: None,
        }
    }

    fn xff(v: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for x in v {
            h.append(&headers::X_FORWARDED_FOR, x.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let peer = Some("10.0.0.5:4000".parse().unwrap());
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(
            locator(&[]).address(peer, &xff(&["1.2.3.4"])),
            ip("10.0.0.5")
        );
        let l = locator(&["10.0.0.0/8"]);
        assert_eq!(l.address(peer, &xff(&["1.2.3.4"])), ip("1.2.3.4"));
        assert_eq!(l.address(peer, &HeaderMap::new()), ip("10.0.0.5"));
        // A viewer may send its own X-Forwarded-For; only the hop our proxy added counts.
        assert_eq!(
            l.address(peer, &xff(&["6.6.6.6, 1.2.3.4, 10.0.0.9"])),
            ip("1.2.3.4")
        );
        assert_eq!(
            l.address(peer, &xff(&["6.6.6.6", "1.2.3.4"])),
            ip("1.2.3.4")
        );
        assert_eq!(
            l.address(peer, &xff(&["10.1.1.1, 10.2.2.2"])),
            ip("10.1.1.1")
        );
        assert_eq!(l.address(peer, &xff(&["1.2.3.4, junk"])), ip("10.0.0.5"));
        assert_eq!(l.address(None, &xff(&["1.2.3.4"])), None);
    }

    /// One of MaxMind's test databases in `tests/data/geo`.
    fn test_database(name: &str) -> GeoDatabase {
        GeoDatabase::open(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/data/geo")
                .join(name),
        )
        .unwrap()
    }

    #[test]
    fn countries_from_maxmind_test_database() {
        let db = test_database("GeoIP2-Country-Test.mmdb");
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(db.country(ip("81.2.69.142")).as_deref(), Some("GB"));
        assert_eq!(db.country(ip("216.160.83.56")).as_deref(), Some("US"));
        assert_eq!(db.country(ip("89.160.20.112")).as_deref(), Some("SE"));
        assert_eq!(db.country(ip("2001:218::1")).as_deref(), Some("JP"));
        assert_eq!(db.country(ip("127.0.0.1")), None);
        // A Country database places an address in its country only.
        let p = db.place(ip("81.2.69.142")).unwrap();
        assert_eq!(p.country.as_deref(), Some("GB"));
        assert_eq!((p.city, p.time_zone), (None, None));
    }

    #[test]
    fn places_from_maxmind_city_test_database() {
        let db = test_database("GeoIP2-City-Test.mmdb");
        let p = db.place("216.160.83.56".parse().unwrap()).unwrap();
        assert_eq!(p.country.as_deref(), Some("US"));
        assert_eq!(p.country_name.as_deref(), Some("United States"));
        assert_eq!(p.region.as_deref(), Some("WA"));
        assert_eq!(p.city.as_deref(), Some("Milton"));
        assert_eq!(p.time_zone.as_deref(), Some("America/Los_Angeles"));
        assert_eq!(p.metro_code, Some(819));
        assert!(db.place("127.0.0.1".parse().unwrap()).is_none());
    }

    #[test]
    fn autonomous_systems_from_maxmind_asn_test_database() {
        let db = test_database("GeoLite2-ASN-Test.mmdb");
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(db.asn(ip("1.0.0.1")), Some(15169));
        assert_eq!(db.asn(ip("12.81.92.7")), Some(7018));
        assert_eq!(db.asn(ip("18.1.2.3")), Some(3));
        assert_eq!(db.asn(ip("127.0.0.1")), None);
        // A Country database has no autonomous systems.
        let country = test_database("GeoIP2-Country-Test.mmdb");
        assert_eq!(country.asn(ip("81.2.69.142")), None);
    }
}
