//! The event object CloudFront Functions receive, and what their results mean.
//!
//! ```json
//! {"version": "1.0",
//!  "context": {"distributionDomainName": "…", "distributionId": "…", "eventType": "viewer-request", "requestId": "…"},
//!  "viewer": {"ip": "198.51.100.11"},
//!  "request": {"method": "GET", "uri": "/index.html",
//!              "querystring": {"a": {"value": "1"}, "m": {"value": "x", "multiValue": [{"value": "x"}, {"value": "y"}]}},
//!              "headers": {"host": {"value": "example.com"}},
//!              "cookies": {"id": {"value": "42"}}},
//!  "response": {"statusCode": 200, "statusDescription": "OK", "headers": {…},
//!               "cookies": {"id": {"value": "42", "attributes": "Path=/; Secure"}}}}
//! ```
//!
//! Header names are lower case; `cookie` and `set-cookie` are not among the headers but in
//! `cookies`; a name with several values has them all in `multiValue`. A viewer-request
//! function returns the request (to go on with) or a response (`statusCode`, optional
//! `headers`, `cookies`, `body`) to answer with; a viewer-response function returns the
//! response.

use bytes::Bytes;
use http::header::{COOKIE, HeaderName, HeaderValue, SET_COOKIE};
use http::{HeaderMap, StatusCode};
use serde_json::{Map, Value};

use crate::FunctionError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    ViewerRequest,
    ViewerResponse,
}

impl EventType {
    pub fn name(self) -> &'static str {
        match self {
            EventType::ViewerRequest => "viewer-request",
            EventType::ViewerResponse => "viewer-response",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "viewer-request" => Some(Self::ViewerRequest),
            "viewer-response" => Some(Self::ViewerResponse),
            _ => None,
        }
    }
}

/// The `context` of an event.
#[derive(Debug, Clone, Copy)]
pub struct EventContext<'a> {
    pub distribution_id: &'a str,
    pub distribution_domain: &'a str,
    pub request_id: &'a str,
    pub event_type: EventType,
}

/// The viewer's request as a function sees it.
#[derive(Debug, Clone, Copy)]
pub struct ViewerRequest<'a> {
    pub method: &'a str,
    /// The path, as requested.
    pub uri: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub viewer_ip: Option<&'a str>,
}

fn value_of(v: &HeaderValue) -> String {
    String::from_utf8_lossy(v.as_bytes()).into_owned()
}

/// `{"value": first, "multiValue": [...]}` (multiValue only when there are several).
fn entry(values: Vec<String>) -> Value {
    let mut m = Map::new();
    m.insert("value".into(), values[0].clone().into());
    if values.len() > 1 {
        m.insert(
            "multiValue".into(),
            Value::Array(
                values
                    .into_iter()
                    .map(|v| object([("value", v.into())]))
                    .collect(),
            ),
        );
    }
    Value::Object(m)
}

/// Names and their values, in order: a request's headers, query string or cookies as the
/// event's objects hold them (built into JSON here, or straight into JavaScript by the engine).
pub(crate) type Groups = Vec<(String, Vec<String>)>;

fn push(grouped: &mut Groups, k: &str, v: &str) {
    match grouped.iter_mut().find(|(n, _)| n == k) {
        Some((_, vs)) => vs.push(v.to_owned()),
        None => grouped.push((k.to_owned(), vec![v.to_owned()])),
    }
}

pub(crate) fn header_groups(headers: &HeaderMap, skip: &HeaderName) -> Groups {
    headers
        .keys()
        .filter(|name| *name != skip)
        .map(|name| {
            let values = headers.get_all(name).iter().map(value_of).collect();
            (name.as_str().to_owned(), values)
        })
        .collect()
}

pub(crate) fn query_groups(query: Option<&str>) -> Groups {
    let mut grouped = Groups::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        push(&mut grouped, k, v);
    }
    grouped
}

pub(crate) fn cookie_groups(headers: &HeaderMap) -> Groups {
    let mut grouped = Groups::new();
    for header in headers.get_all(COOKIE) {
        for pair in value_of(header).split(';') {
            let pair = pair.trim();
            if pair.is_empty() {
                continue;
            }
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            push(&mut grouped, k, v);
        }
    }
    grouped
}

fn groups_object(groups: Groups) -> Value {
    Value::Object(groups.into_iter().map(|(k, vs)| (k, entry(vs))).collect())
}

fn headers_object(headers: &HeaderMap, skip: &HeaderName) -> Value {
    groups_object(header_groups(headers, skip))
}

fn query_object(query: Option<&str>) -> Value {
    groups_object(query_groups(query))
}

fn request_cookies(headers: &HeaderMap) -> Value {
    groups_object(cookie_groups(headers))
}

fn response_cookies(headers: &HeaderMap) -> Value {
    let mut out = Map::new();
    for header in headers.get_all(SET_COOKIE) {
        let text = value_of(header);
        let (pair, attributes) = match text.split_once(';') {
            Some((p, a)) => (p.trim().to_owned(), a.trim().to_owned()),
            None => (text.trim().to_owned(), String::new()),
        };
        let (name, value) = pair.split_once('=').unwrap_or((&pair, ""));
        let mut c = object([("value", value.into())]);
        if !attributes.is_empty() {
            c["attributes"] = attributes.into();
        }
        out.insert(name.to_owned(), c);
    }
    Value::Object(out)
}

/// An object of these members (built directly: `json!` would serialise each value again).
fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

fn request_value(req: &ViewerRequest<'_>) -> Value {
    object([
        ("method", req.method.into()),
        ("uri", req.uri.into()),
        ("querystring", query_object(req.query)),
        ("headers", headers_object(req.headers, &COOKIE)),
        ("cookies", request_cookies(req.headers)),
    ])
}

fn base(ctx: &EventContext<'_>, req: &ViewerRequest<'_>) -> Value {
    object([
        ("version", "1.0".into()),
        (
            "context",
            object([
                ("distributionDomainName", ctx.distribution_domain.into()),
                ("distributionId", ctx.distribution_id.into()),
                ("eventType", ctx.event_type.name().into()),
                ("requestId", ctx.request_id.into()),
            ]),
        ),
        (
            "viewer",
            object([("ip", req.viewer_ip.unwrap_or("").into())]),
        ),
        ("request", request_value(req)),
    ])
}

/// The event of a viewer-request function.
pub fn viewer_request_event(ctx: &EventContext<'_>, req: &ViewerRequest<'_>) -> Value {
    base(ctx, req)
}

/// The event of a viewer-response function: the request and the response about to be sent.
pub fn viewer_response_event(
    ctx: &EventContext<'_>,
    req: &ViewerRequest<'_>,
    status: StatusCode,
    headers: &HeaderMap,
) -> Value {
    let mut event = base(ctx, req);
    event["response"] = object([
        ("statusCode", status.as_u16().into()),
        (
            "statusDescription",
            status.canonical_reason().unwrap_or("").into(),
        ),
        ("headers", headers_object(headers, &SET_COOKIE)),
        ("cookies", response_cookies(headers)),
    ]);
    event
}

/// The request a viewer-request function returned.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestChange {
    pub uri: String,
    pub query: Option<String>,
    /// Every header, the `cookie` header rebuilt from `cookies`.
    pub headers: HeaderMap,
}

/// A response a function made.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RequestOutcome {
    Continue(RequestChange),
    Respond(GeneratedResponse),
}

pub(crate) fn bad(what: impl Into<String>) -> FunctionError {
    FunctionError::BadOutput(what.into())
}

/// Every value of an entry: `multiValue`'s, else `value`.
fn values_of(entry: &Value) -> Vec<String> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    if let Some(multi) = entry.get("multiValue").and_then(Value::as_array)
        && !multi.is_empty()
    {
        return multi.iter().map(|m| text(&m["value"])).collect();
    }
    vec![text(&entry["value"])]
}

fn headers_from(object: &Value) -> Result<HeaderMap, FunctionError> {
    let Some(map) = object.as_object() else {
        return Ok(HeaderMap::new());
    };
    header_map(
        map.iter()
            .map(|(k, entry)| (k.clone(), values_of(entry)))
            .collect(),
    )
}

/// Headers from a result's `headers` entries.
pub(crate) fn header_map(groups: Groups) -> Result<HeaderMap, FunctionError> {
    let mut out = HeaderMap::new();
    for (name, values) in groups {
        let name = HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
            .map_err(|_| bad(format!("invalid header name {name:?}")))?;
        for v in values {
            let v = HeaderValue::from_str(&v)
                .map_err(|_| bad(format!("invalid value for header {name}")))?;
            out.append(name.clone(), v);
        }
    }
    Ok(out)
}

/// `name=value` pairs joined by `sep` (`&` for a query string, `; ` for a `Cookie` header);
/// `None` when there are none.
pub(crate) fn join_groups(groups: &Groups, sep: &str) -> Option<String> {
    let parts: Vec<String> = groups
        .iter()
        .flat_map(|(k, vs)| vs.iter().map(move |v| format!("{k}={v}")))
        .collect();
    (!parts.is_empty()).then(|| parts.join(sep))
}

/// The request a function returned, from its parts: the `cookie` header rebuilt from
/// `cookies`.
pub(crate) fn request_change(
    uri: Option<String>,
    query: QueryString,
    headers: Groups,
    cookies: Groups,
) -> Result<RequestChange, FunctionError> {
    let nothing = HeaderMap::new();
    let unknown = ViewerRequest {
        method: "",
        uri: "",
        query: None,
        headers: &nothing,
        viewer_ip: None,
    };
    request_change_from(uri, Some(query), Some(headers), Some(cookies), &unknown)
}

/// A returned request's query string: its entries, or (as AWS's own examples return it, e.g.
/// `request.querystring = qs.sort().join('&')`) the text itself.
pub(crate) enum QueryString {
    Entries(Groups),
    Text(String),
}

impl QueryString {
    /// A query string returned as text (a leading `?` is not part of it).
    pub(crate) fn from_text(text: &str) -> Self {
        QueryString::Text(text.trim_start_matches('?').to_owned())
    }

    fn text(self) -> Option<String> {
        match self {
            QueryString::Entries(groups) => join_groups(&groups, "&"),
            QueryString::Text(t) => Some(t).filter(|t| !t.is_empty()),
        }
    }
}

/// A returned `querystring` member (JSON): text, or entries.
fn query_of(v: &Value) -> QueryString {
    match v.as_str() {
        Some(text) => QueryString::from_text(text),
        None => QueryString::Entries(groups_of(v)),
    }
}

/// The request a function returned, from the parts it changed (`None`: left as the viewer's
/// request `original` has it).
pub(crate) fn request_change_from(
    uri: Option<String>,
    query: Option<QueryString>,
    headers: Option<Groups>,
    cookies: Option<Groups>,
    original: &ViewerRequest<'_>,
) -> Result<RequestChange, FunctionError> {
    let uri = uri
        .filter(|u| u.starts_with('/'))
        .ok_or_else(|| bad("request.uri must be a path starting with /"))?;
    let mut out = match headers {
        Some(h) => {
            let mut out = header_map(h)?;
            out.remove(COOKIE);
            for c in original.headers.get_all(COOKIE) {
                out.append(COOKIE, c.clone());
            }
            out
        }
        None => original.headers.clone(),
    };
    if let Some(cookies) = cookies {
        out.remove(COOKIE);
        if let Some(cookie) = join_groups(&cookies, "; ") {
            out.insert(
                COOKIE,
                HeaderValue::from_str(&cookie).map_err(|_| bad("invalid cookies"))?,
            );
        }
    }
    Ok(RequestChange {
        uri,
        query: match query {
            Some(q) => q.text(),
            None => original.query.map(str::to_owned),
        },
        headers: out,
    })
}

fn groups_of(object: &Value) -> Groups {
    object
        .as_object()
        .map(|m| m.iter().map(|(k, e)| (k.clone(), values_of(e))).collect())
        .unwrap_or_default()
}

fn set_cookies(object: &Value, headers: &mut HeaderMap) -> Result<(), FunctionError> {
    let Some(map) = object.as_object() else {
        return Ok(());
    };
    for (name, c) in map {
        let values = values_of(c);
        let entries: Vec<(String, String)> = match c.get("multiValue").and_then(Value::as_array) {
            Some(multi) if !multi.is_empty() => multi
                .iter()
                .map(|m| {
                    (
                        m["value"].as_str().unwrap_or_default().to_owned(),
                        m["attributes"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
            _ => vec![(
                values[0].clone(),
                c["attributes"].as_str().unwrap_or_default().to_owned(),
            )],
        };
        for (value, attributes) in entries {
            let line = if attributes.is_empty() {
                format!("{name}={value}")
            } else {
                format!("{name}={value}; {attributes}")
            };
            headers.append(
                SET_COOKIE,
                HeaderValue::from_str(&line).map_err(|_| bad(format!("invalid cookie {name}")))?,
            );
        }
    }
    Ok(())
}

fn status_from(v: &Value) -> Result<StatusCode, FunctionError> {
    v["statusCode"]
        .as_u64()
        .and_then(|c| u16::try_from(c).ok())
        .and_then(|c| StatusCode::from_u16(c).ok())
        .filter(|s| s.as_u16() >= 100)
        .ok_or_else(|| bad("statusCode must be an HTTP status"))
}

/// What a viewer-request function's result means.
pub fn request_outcome(output: &Value) -> Result<RequestOutcome, FunctionError> {
    if !output.is_object() {
        return Err(bad("the handler must return the request or a response"));
    }
    if output.get("statusCode").is_some() {
        let mut headers = headers_from(&output["headers"])?;
        set_cookies(&output["cookies"], &mut headers)?;
        let body = match &output["body"] {
            Value::Null => Bytes::new(),
            Value::String(s) => Bytes::from(s.clone().into_bytes()),
            Value::Object(b) => {
                let data = b.get("data").and_then(Value::as_str).unwrap_or_default();
                match b.get("encoding").and_then(Value::as_str).unwrap_or("text") {
                    "text" => Bytes::from(data.to_owned().into_bytes()),
                    "base64" => Bytes::from(
                        base64_simd::STANDARD
                            .decode_to_vec(data.as_bytes())
                            .map_err(|_| bad("body.data is not base64"))?,
                    ),
                    other => return Err(bad(format!("unknown body encoding {other}"))),
                }
            }
            _ => return Err(bad("body must be a string or {data, encoding}")),
        };
        return Ok(RequestOutcome::Respond(GeneratedResponse {
            status: status_from(output)?,
            headers,
            body,
        }));
    }
    Ok(RequestOutcome::Continue(request_change(
        output["uri"].as_str().map(str::to_owned),
        query_of(&output["querystring"]),
        groups_of(&output["headers"]),
        groups_of(&output["cookies"]),
    )?))
}

/// What a viewer-response function's result means: the status and headers to send (the body
/// is the one the edge has).
pub fn response_outcome(output: &Value) -> Result<(StatusCode, HeaderMap), FunctionError> {
    if !output.is_object() {
        return Err(bad("the handler must return the response"));
    }
    let mut headers = headers_from(&output["headers"])?;
    headers.remove(SET_COOKIE);
    set_cookies(&output["cookies"], &mut headers)?;
    Ok((status_from(output)?, headers))
}
