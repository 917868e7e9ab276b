//! The REST-XML protocol of the CloudFront API, driven by the service model: a request becomes
//! its operation's input (URI labels, query parameters, headers and the XML payload, in the JSON
//! form of the input shape), and an operation's output becomes the response (headers such as
//! `ETag` and `Location`, the status the model gives, the payload as XML).

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::{Map, Value};

use crate::error::{ControlError, ControlResult};
use crate::service_model::{Kind, ServiceModel};
use crate::xml;

/// A request, bound to its operation.
#[derive(Debug)]
pub struct Input {
    pub operation: &'static str,
    /// The input shape's members (`Id`, `IfMatch`, `DistributionConfig`, …).
    pub members: Map<String, Value>,
}

impl Input {
    pub fn str(&self, name: &str) -> Option<&str> {
        self.members.get(name).and_then(Value::as_str)
    }

    pub fn value(&self, name: &str) -> Option<&Value> {
        self.members.get(name)
    }
}

/// Binds a request to its operation's input.
pub fn bind(
    model: &'static ServiceModel,
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> ControlResult<Input> {
    let query = parse_query(query.unwrap_or(""));
    let (operation, labels) = model.route(method, path, &query).ok_or_else(|| {
        ControlError::with_status(
            StatusCode::NOT_FOUND,
            "UnknownOperation",
            format!("No CloudFront operation answers {method} {path}"),
        )
    })?;
    let op = &model.operations[operation];
    let mut members = Map::new();
    let Some(input) = &op.input else {
        return Ok(Input { operation, members });
    };
    let shape = model.shape(&input.shape);
    for (name, member) in &shape.members.0 {
        let wire = member.wire_name(name);
        let member_shape = model.shape(&member.shape);
        let text = match member.location.as_deref() {
            Some("uri") => labels
                .iter()
                .find(|(l, _)| l == wire)
                .map(|(_, v)| v.clone()),
            Some("querystring") => query
                .iter()
                .find(|(k, _)| k == wire)
                .map(|(_, v)| v.clone()),
            Some("header") => headers
                .get(wire)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
            _ => continue,
        };
        if let Some(text) = text {
            members.insert(name.clone(), xml::scalar(member_shape, &text, wire)?);
        }
    }
    if let Some(payload) = &shape.payload {
        let member = shape.members.get(payload).expect("the payload is a member");
        let payload_shape = model.shape(&member.shape);
        if payload_shape.kind == Kind::Structure {
            if body.iter().all(u8::is_ascii_whitespace) {
                if shape.required.contains(payload) {
                    return Err(missing_body());
                }
            } else {
                let value = read_body(
                    model,
                    body,
                    member.wire_name(payload),
                    &member.shape,
                    payload,
                )?;
                members.insert(payload.clone(), value);
            }
        } else if !body.is_empty() {
            // A blob payload (function code): kept as the bytes' text form.
            members.insert(
                payload.clone(),
                Value::String(String::from_utf8_lossy(body).into_owned()),
            );
        }
    } else if shape.members.0.iter().any(|(_, m)| m.location.is_none()) {
        // The input's own members are the body's elements (CreateFunction, TestFunction).
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(missing_body());
        }
        let root = input.location_name.as_deref().unwrap_or(&input.shape);
        let value = read_body(model, body, root, &input.shape, &input.shape)?;
        if let Value::Object(body_members) = value {
            members.extend(body_members);
        }
    }
    Ok(Input { operation, members })
}

fn missing_body() -> ControlError {
    ControlError::new(
        "MissingBody",
        "This operation requires a body. Ensure that the body is present and the Content-Type header is set.",
    )
}

/// The body as a value of `shape_name`, its root element named `root_name`.
fn read_body(
    model: &ServiceModel,
    body: &[u8],
    root_name: &str,
    shape_name: &str,
    member: &str,
) -> ControlResult<Value> {
    let root = xml::parse(body)?;
    if root.name != root_name {
        return Err(ControlError::malformed_xml(format!(
            "The root element is {}; expected {root_name}",
            root.name
        )));
    }
    let path = xml::lower_first(member);
    let value = xml::to_value(model, shape_name, &root, &path)?;
    xml::validate(model, shape_name, &value, &path)?;
    Ok(value)
}

/// `a=1&b` → `[("a","1"), ("b","")]`, percent-decoded.
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                String::from_utf8_lossy(&wharf_auth::sigv4::percent_decode(&s.replace('+', " ")))
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

/// An HTTP response: status, headers and body.
pub struct Output {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

/// The response for `operation`'s output (members of its output shape).
pub fn respond(model: &ServiceModel, operation: &str, output: &Map<String, Value>) -> Output {
    let op = &model.operations[operation];
    let status = op
        .http
        .response_code
        .and_then(|c| StatusCode::from_u16(c).ok())
        .unwrap_or(StatusCode::OK);
    let mut out = Output {
        status,
        headers: Vec::new(),
        body: Bytes::new(),
    };
    let Some(output_ref) = &op.output else {
        return out;
    };
    let shape = model.shape(&output_ref.shape);
    for (name, member) in &shape.members.0 {
        if member.location.as_deref() != Some("header") {
            continue;
        }
        let Some(v) = output.get(name) else { continue };
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(member.wire_name(name).as_bytes()),
            HeaderValue::from_str(&text),
        ) {
            out.headers.push((n, v));
        }
    }
    if let Some(payload) = &shape.payload
        && let Some(v) = output.get(payload)
    {
        let member = shape.members.get(payload).expect("the payload is a member");
        let payload_shape = model.shape(&member.shape);
        if payload_shape.kind == Kind::Structure {
            out.body = xml::document(model, member.wire_name(payload), &member.shape, v).into();
            out.headers.push((
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/xml"),
            ));
        } else if let Value::String(s) = v {
            out.body = Bytes::from(s.clone().into_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service_model::model;

    #[test]
    fn a_request_binds_labels_headers_queries_and_payload() {
        let m = model();
        let mut headers = HeaderMap::new();
        headers.insert("if-match", HeaderValue::from_static("E2ETAG"));
        let body = br#"<DistributionConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><CallerReference>r</CallerReference><Origins><Quantity>1</Quantity><Items><Origin><Id>o</Id><DomainName>d</DomainName></Origin></Items></Origins><DefaultCacheBehavior><TargetOriginId>o</TargetOriginId><ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy></DefaultCacheBehavior><Comment></Comment><Enabled>false</Enabled></DistributionConfig>"#;
        let input = bind(
            m,
            "PUT",
            "/2020-05-31/distribution/E1/config",
            None,
            &headers,
            body,
        )
        .unwrap();
        assert_eq!(input.operation, "UpdateDistribution");
        assert_eq!(input.str("Id"), Some("E1"));
        assert_eq!(input.str("IfMatch"), Some("E2ETAG"));
        assert_eq!(input.value("DistributionConfig").unwrap()["Enabled"], false);

        let list = bind(
            m,
            "GET",
            "/2020-05-31/distribution",
            Some("Marker=E9&MaxItems=2"),
            &HeaderMap::new(),
            b"",
        )
        .unwrap();
        assert_eq!(list.operation, "ListDistributions");
        assert_eq!(list.str("Marker"), Some("E9"));
        assert_eq!(list.str("MaxItems"), Some("2"));

        let e = bind(
            m,
            "POST",
            "/2020-05-31/distribution",
            None,
            &HeaderMap::new(),
            b"",
        )
        .unwrap_err();
        assert_eq!(e.code, "MissingBody");
        let e = bind(
            m,
            "POST",
            "/2020-05-31/distribution",
            None,
            &HeaderMap::new(),
            b"<Other/>",
        )
        .unwrap_err();
        assert_eq!(e.code, "MalformedXML");
    }

    #[test]
    fn an_output_becomes_headers_status_and_payload() {
        let m = model();
        let mut output = Map::new();
        output.insert("ETag".into(), "E2".into());
        output.insert(
            "Location".into(),
            "https://x/2020-05-31/distribution/E1".into(),
        );
        output.insert(
            "Distribution".into(),
            serde_json::json!({"Id": "E1", "Status": "InProgress", "InProgressInvalidationBatches": 0}),
        );
        let out = respond(m, "CreateDistribution", &output);
        assert_eq!(out.status, StatusCode::CREATED);
        assert!(out.headers.iter().any(|(n, v)| n == "etag" && v == "E2"));
        let body = String::from_utf8(out.body.to_vec()).unwrap();
        assert!(body.contains("<Distribution xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\"><Id>E1</Id>"), "{body}");
        assert!(body.contains("<InProgressInvalidationBatches>0</InProgressInvalidationBatches>"));
    }
}
