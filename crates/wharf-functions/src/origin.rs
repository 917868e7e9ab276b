//! What a viewer-request function asked of the request's origin through the 2.0 runtime's
//! helpers (`cf.selectRequestOriginById`, `cf.createRequestOriginGroup`,
//! `cf.updateRequestOrigin`), checked as CloudFront checks them. The edge applies the result;
//! a helper given something invalid makes the call's output invalid (CloudFront's
//! `FunctionValidationError`), as CloudFront validates the change once the function returns.

use serde_json::{Map, Value};

/// The origin a request goes to instead of its cache behavior's, with settings changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OriginChange {
    /// Another origin or origin group of the distribution, or a group made for the request.
    pub selected: Option<OriginSelection>,
    /// Settings of the origin changed for this request (`updateRequestOrigin`; a later call
    /// overrides an earlier one member by member).
    pub update: Option<OriginUpdate>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OriginSelection {
    /// `selectRequestOriginById(id)`: an origin or origin group of the distribution.
    Id(String),
    /// `createRequestOriginGroup({originIds, failoverCriteria})`: the first origin, and the
    /// second when the first fails or answers one of `status_codes`.
    Group {
        primary: String,
        secondary: String,
        status_codes: Vec<u16>,
    },
}

/// `updateRequestOrigin`'s parameters: each one given replaces the origin's setting.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OriginUpdate {
    pub domain_name: Option<String>,
    pub origin_path: Option<String>,
    /// Replaces the origin's custom headers (an empty object clears them).
    pub custom_headers: Option<Vec<(String, String)>>,
    /// The `Host` the origin is sent.
    pub host_header: Option<String>,
    pub connection_attempts: Option<u32>,
    pub connection_timeout: Option<u32>,
    pub read_timeout: Option<u32>,
    pub keep_alive_timeout: Option<u32>,
    /// Origin Access Control: whether requests to an S3 origin are signed.
    pub sign_requests: Option<bool>,
    /// A custom origin's port and protocol (`true`: HTTPS).
    pub custom_origin: Option<(u16, bool)>,
}

/// The status codes an origin group may fail over on (CloudFront's list).
pub const FAILOVER_STATUS_CODES: [u16; 8] = [400, 403, 404, 416, 500, 502, 503, 504];

/// `updateRequestOrigin`'s members that Wharf takes.
const UPDATE_MEMBERS: [&str; 9] = [
    "domainName",
    "originPath",
    "customHeaders",
    "hostHeader",
    "connectionAttempts",
    "timeouts",
    "originAccessControlConfig",
    "customOriginConfig",
    "originShield",
];

type Checked<T> = Result<T, String>;

fn members<'a>(v: &'a Value, what: &str, allowed: &[&str]) -> Checked<&'a Map<String, Value>> {
    let o = v
        .as_object()
        .ok_or_else(|| format!("{what} must be an object"))?;
    if let Some(k) = o.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!(
            "{what} has an unknown or unsupported member {k:?} (it takes {})",
            allowed.join(", ")
        ));
    }
    Ok(o)
}

fn text(v: &Value, what: &str) -> Checked<String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{what} must be a string"))
}

fn number_in(v: &Value, what: &str, lo: u32, hi: u32) -> Checked<u32> {
    v.as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| (lo..=hi).contains(n))
        .ok_or_else(|| format!("{what} must be a whole number from {lo} to {hi}"))
}

fn boolean(v: &Value, what: &str) -> Checked<bool> {
    v.as_bool()
        .ok_or_else(|| format!("{what} must be true or false"))
}

fn one_of(v: &Value, what: &str, allowed: &[&str]) -> Checked<String> {
    let s = text(v, what)?;
    if allowed.contains(&s.as_str()) {
        Ok(s)
    } else {
        Err(format!("{what} must be one of {}", allowed.join(", ")))
    }
}

/// A domain name as CloudFront takes one for an origin: a host, no scheme, port or path.
fn domain(v: &Value) -> Checked<String> {
    let d = text(v, "domainName")?;
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if ok {
        Ok(d)
    } else {
        Err(format!("domainName {d:?} is not a domain name"))
    }
}

/// `OriginPath`: empty, or `/`-led with no trailing `/`.
fn origin_path(v: &Value) -> Checked<String> {
    let p = text(v, "originPath")?;
    let ok = p.is_empty()
        || (p.starts_with('/')
            && !p.ends_with('/')
            && p.len() <= 255
            && !p.contains(['?', '#', ' ', '\r', '\n']));
    if ok {
        Ok(p)
    } else {
        Err(format!(
            "originPath {p:?} must start with / and not end with /"
        ))
    }
}

fn custom_headers(v: &Value) -> Checked<Vec<(String, String)>> {
    let o = v
        .as_object()
        .ok_or("customHeaders must be an object of header names and values")?;
    let mut out = Vec::new();
    for (name, value) in o {
        let value = text(value, &format!("customHeaders.{name}"))?;
        let name_ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !name_ok || http::HeaderValue::from_str(&value).is_err() {
            return Err(format!("customHeaders has an invalid header {name:?}"));
        }
        // The headers CloudFront sets itself may not be custom headers.
        let lower = name.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "host" | "content-length" | "connection" | "transfer-encoding" | "upgrade" | "via"
        ) || lower.starts_with("x-amz-cf-")
            || lower.starts_with("x-edge-")
        {
            return Err(format!("customHeaders may not set {name:?}"));
        }
        out.push((lower, value));
    }
    Ok(out)
}

fn update(params: &Value, into: &mut OriginUpdate) -> Checked<()> {
    let o = members(params, "updateRequestOrigin's parameter", &UPDATE_MEMBERS)?;
    if let Some(v) = o.get("domainName") {
        into.domain_name = Some(domain(v)?);
    }
    if let Some(v) = o.get("originPath") {
        into.origin_path = Some(origin_path(v)?);
    }
    if let Some(v) = o.get("customHeaders") {
        into.custom_headers = Some(custom_headers(v)?);
    }
    if let Some(v) = o.get("hostHeader") {
        let h = text(v, "hostHeader")?;
        if h.is_empty() || http::HeaderValue::from_str(&h).is_err() {
            return Err(format!("hostHeader {h:?} is not a host"));
        }
        into.host_header = Some(h);
    }
    if let Some(v) = o.get("connectionAttempts") {
        into.connection_attempts = Some(number_in(v, "connectionAttempts", 1, 3)?);
    }
    if let Some(v) = o.get("timeouts") {
        let t = members(
            v,
            "timeouts",
            &["readTimeout", "keepAliveTimeout", "connectionTimeout"],
        )?;
        if let Some(v) = t.get("readTimeout") {
            into.read_timeout = Some(number_in(v, "timeouts.readTimeout", 1, 120)?);
        }
        if let Some(v) = t.get("keepAliveTimeout") {
            into.keep_alive_timeout = Some(number_in(v, "timeouts.keepAliveTimeout", 1, 120)?);
        }
        if let Some(v) = t.get("connectionTimeout") {
            into.connection_timeout = Some(number_in(v, "timeouts.connectionTimeout", 1, 10)?);
        }
    }
    if let Some(v) = o.get("originAccessControlConfig") {
        let c = members(
            v,
            "originAccessControlConfig",
            &[
                "enabled",
                "signingBehavior",
                "signingProtocol",
                "originType",
            ],
        )?;
        let enabled = boolean(
            c.get("enabled").unwrap_or(&Value::Null),
            "originAccessControlConfig.enabled",
        )?;
        let behavior = match c.get("signingBehavior") {
            Some(b) => one_of(
                b,
                "originAccessControlConfig.signingBehavior",
                &["always", "never", "no-override"],
            )?,
            None if enabled => {
                return Err("originAccessControlConfig.signingBehavior is required".into());
            }
            None => String::new(),
        };
        if let Some(p) = c.get("signingProtocol") {
            one_of(p, "originAccessControlConfig.signingProtocol", &["sigv4"])?;
        }
        if let Some(t) = c.get("originType") {
            one_of(
                t,
                "originAccessControlConfig.originType",
                &["s3", "mediapackagev2", "mediastore", "lambda"],
            )?;
        }
        into.sign_requests = Some(enabled && behavior != "never");
    }
    if let Some(v) = o.get("customOriginConfig") {
        let c = members(
            v,
            "customOriginConfig",
            &["port", "protocol", "sslProtocols", "ipAddressType"],
        )?;
        let port = number_in(
            c.get("port").unwrap_or(&Value::Null),
            "customOriginConfig.port",
            1,
            65_535,
        )?;
        let https = one_of(
            c.get("protocol").unwrap_or(&Value::Null),
            "customOriginConfig.protocol",
            &["http", "https"],
        )? == "https";
        if let Some(p) = c.get("sslProtocols") {
            let list = p
                .as_array()
                .filter(|l| !l.is_empty())
                .ok_or("customOriginConfig.sslProtocols must be a list of protocols")?;
            for item in list {
                one_of(
                    item,
                    "customOriginConfig.sslProtocols",
                    &["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2"],
                )?;
            }
        }
        if let Some(t) = c.get("ipAddressType") {
            one_of(
                t,
                "customOriginConfig.ipAddressType",
                &["ipv4", "ipv6", "dualstack"],
            )?;
        }
        into.custom_origin = Some((u16::try_from(port).unwrap_or(443), https));
    }
    if let Some(v) = o.get("originShield") {
        // Wharf is one tier: a shield layer has nothing to add, but its settings are checked.
        let s = members(v, "originShield", &["enabled", "region"])?;
        let enabled = boolean(
            s.get("enabled").unwrap_or(&Value::Null),
            "originShield.enabled",
        )?;
        match s.get("region") {
            Some(r) => {
                text(r, "originShield.region")?;
            }
            None if enabled => return Err("originShield.region is required".into()),
            None => {}
        }
    }
    Ok(())
}

fn group(params: &Value) -> Checked<OriginSelection> {
    let o = members(
        params,
        "createRequestOriginGroup's parameter",
        &["originIds", "failoverCriteria", "selectionCriteria"],
    )?;
    let ids = o
        .get("originIds")
        .and_then(Value::as_array)
        .filter(|ids| ids.len() == 2)
        .ok_or("originIds must be a list of two origin IDs")?;
    let primary = text(&ids[0], "originIds")?;
    let secondary = text(&ids[1], "originIds")?;
    let criteria = members(
        o.get("failoverCriteria").unwrap_or(&Value::Null),
        "failoverCriteria",
        &["statusCodes"],
    )?;
    let codes = criteria
        .get("statusCodes")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
        .ok_or("failoverCriteria.statusCodes must be a list of status codes")?;
    let mut status_codes = Vec::new();
    for c in codes {
        let code = c
            .as_u64()
            .and_then(|c| u16::try_from(c).ok())
            .filter(|c| FAILOVER_STATUS_CODES.contains(c))
            .ok_or_else(|| {
                format!(
                    "failoverCriteria.statusCodes may hold {}",
                    FAILOVER_STATUS_CODES.map(|c| c.to_string()).join(", ")
                )
            })?;
        status_codes.push(code);
    }
    if let Some(s) = o.get("selectionCriteria") {
        one_of(s, "selectionCriteria", &["default", "media-quality-score"])?;
    }
    Ok(OriginSelection::Group {
        primary,
        secondary,
        status_codes,
    })
}

impl OriginChange {
    /// Adds what one helper call asked (`helper` is its name, `params` its argument as JSON).
    pub fn apply(&mut self, helper: &str, params: &Value) -> Result<(), String> {
        match helper {
            "updateRequestOrigin" => update(params, self.update.get_or_insert_default()),
            "selectRequestOriginById" => {
                let id = params
                    .as_str()
                    .filter(|id| !id.is_empty())
                    .ok_or("selectRequestOriginById takes an origin ID")?;
                self.selected = Some(OriginSelection::Id(id.to_owned()));
                Ok(())
            }
            "createRequestOriginGroup" => {
                self.selected = Some(group(params)?);
                Ok(())
            }
            other => Err(format!("unknown origin helper {other}")),
        }
    }
}
