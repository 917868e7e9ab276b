//! AWS's description of the CloudFront API (2020-05-31): its operations (method, URI, input and
//! output shapes, errors) and its shapes (structures, lists, scalars, enums, required members,
//! XML names, where each request member travels). `model/cloudfront-2020-05-31.json` is
//! botocore's service description without its documentation (`model/generate.py` writes it), so
//! the wire shapes are AWS's own rather than transcribed by hand.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};

const MODEL_JSON: &str = include_str!("../model/cloudfront-2020-05-31.json");

/// The XML namespace of every CloudFront document.
pub const XMLNS: &str = "http://cloudfront.amazonaws.com/doc/2020-05-31/";

#[derive(Debug, Deserialize)]
pub struct ServiceModel {
    pub operations: HashMap<String, Operation>,
    pub shapes: HashMap<String, Shape>,
}

#[derive(Debug, Deserialize)]
pub struct Operation {
    pub http: Http,
    pub input: Option<ShapeRef>,
    pub output: Option<ShapeRef>,
}

#[derive(Debug, Deserialize)]
pub struct Http {
    pub method: String,
    #[serde(rename = "requestUri")]
    pub request_uri: String,
    #[serde(rename = "responseCode")]
    pub response_code: Option<u16>,
}

#[derive(Debug, Deserialize)]
pub struct ShapeRef {
    pub shape: String,
    /// The body's root element, for an input whose members are the body's elements.
    #[serde(rename = "locationName")]
    pub location_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Structure,
    List,
    String,
    Integer,
    Long,
    Boolean,
    Timestamp,
    Blob,
    Double,
    Float,
}

#[derive(Debug, Deserialize)]
pub struct Shape {
    #[serde(rename = "type")]
    pub kind: Kind,
    /// A structure's members, in the model's (and the wire's) order.
    #[serde(default)]
    pub members: Members,
    /// A list's member.
    pub member: Option<Member>,
    #[serde(default)]
    pub required: Vec<String>,
    /// The member that is the whole HTTP body.
    pub payload: Option<String>,
    #[serde(rename = "enum")]
    pub enumeration: Option<Vec<String>>,
    /// An error shape's HTTP status.
    pub error: Option<ErrorTrait>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorTrait {
    #[serde(rename = "httpStatusCode")]
    pub http_status_code: u16,
}

#[derive(Debug, Deserialize)]
pub struct Member {
    pub shape: String,
    /// `uri`, `querystring` or `header` for a request member bound outside the body.
    pub location: Option<String>,
    #[serde(rename = "locationName")]
    pub location_name: Option<String>,
}

impl Member {
    /// The element (or header, query parameter, URI label) name of a member called `name`.
    pub fn wire_name<'a>(&'a self, name: &'a str) -> &'a str {
        self.location_name.as_deref().unwrap_or(name)
    }
}

/// Structure members in document order (serde_json's maps would sort them).
#[derive(Debug, Default)]
pub struct Members(pub Vec<(String, Member)>);

impl Members {
    pub fn get(&self, name: &str) -> Option<&Member> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, m)| m)
    }
}

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of members")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Member>()? {
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// URI labels of a request: (`Id`, value).
pub type Labels = Vec<(String, String)>;

/// The model, parsed once.
pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        serde_json::from_str(MODEL_JSON).expect("the bundled CloudFront model parses")
    })
}

impl ServiceModel {
    pub fn shape(&self, name: &str) -> &Shape {
        // Every name comes from the model itself, which the tests check is closed.
        &self.shapes[name]
    }

    /// The operation a request is for, and its URI labels (`{Id}` → value, percent-decoded).
    pub fn route(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
    ) -> Option<(&str, Labels)> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        // The most specific match: a query constraint, then the most literal segments.
        let mut best: Option<(&str, Labels, (bool, usize))> = None;
        for (name, op) in &self.operations {
            if op.http.method != method {
                continue;
            }
            let (uri_path, uri_query) = op
                .http
                .request_uri
                .split_once('?')
                .unwrap_or((&op.http.request_uri, ""));
            let Some(labels) = match_path(uri_path, &segments) else {
                continue;
            };
            let constrained = !uri_query.is_empty();
            if constrained {
                let (k, v) = uri_query.split_once('=').unwrap_or((uri_query, ""));
                let present = query
                    .iter()
                    .any(|(qk, qv)| qk == k && (v.is_empty() || qv == v));
                if !present {
                    continue;
                }
            }
            // An operation whose URI names a query parameter wins over the plain one
            // (`POST /distribution?WithTags` is CreateDistributionWithTags).
            let score = (constrained, segments.len() - labels.len());
            if best.as_ref().is_none_or(|(_, _, s)| score > *s) {
                best = Some((name.as_str(), labels, score));
            }
        }
        best.map(|(n, l, _)| (n, l))
    }
}

fn match_path(pattern: &str, segments: &[&str]) -> Option<Vec<(String, String)>> {
    let parts: Vec<&str> = pattern.trim_start_matches('/').split('/').collect();
    let mut labels = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if let Some(label) = p.strip_prefix('{').and_then(|l| l.strip_suffix('}')) {
            if let Some(greedy) = label.strip_suffix('+') {
                if i >= segments.len() {
                    return None;
                }
                let rest = segments[i..].join("/");
                labels.push((greedy.to_owned(), decode(&rest)?));
                return Some(labels);
            }
            let seg = segments.get(i)?;
            if seg.is_empty() {
                return None;
            }
            labels.push((label.to_owned(), decode(seg)?));
        } else if segments.get(i) != Some(p) {
            return None;
        }
    }
    (parts.len() == segments.len()).then_some(labels)
}

fn decode(s: &str) -> Option<String> {
    String::from_utf8(wharf_auth::sigv4::percent_decode(s)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_is_closed_and_every_operation_routes_to_itself() {
        let m = model();
        assert_eq!(m.operations.len(), 167);
        for shape in m.shapes.values() {
            for (_, member) in &shape.members.0 {
                assert!(m.shapes.contains_key(&member.shape), "{}", member.shape);
            }
            if let Some(member) = &shape.member {
                assert!(m.shapes.contains_key(&member.shape));
            }
        }
        for (name, op) in &m.operations {
            let (path, q) = op
                .http
                .request_uri
                .split_once('?')
                .unwrap_or((&op.http.request_uri, ""));
            let path = path.replace("{Id}", "E1").replace("{Name}", "n");
            let path: String = path
                .split('/')
                .map(|s| if s.starts_with('{') { "x" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let query: Vec<(String, String)> = if q.is_empty() {
                Vec::new()
            } else {
                let (k, v) = q.split_once('=').unwrap_or((q, ""));
                vec![(k.to_owned(), v.to_owned())]
            };
            let routed = m.route(&op.http.method, &path, &query).map(|(n, _)| n);
            assert_eq!(routed, Some(name.as_str()), "{} {}", op.http.method, path);
        }
    }

    #[test]
    fn routes_bind_labels() {
        let m = model();
        let (op, labels) = m
            .route("GET", "/2020-05-31/distribution/E123/config", &[])
            .unwrap();
        assert_eq!(op, "GetDistributionConfig");
        assert_eq!(labels, vec![("Id".to_owned(), "E123".to_owned())]);
        let tagged = [("WithTags".to_owned(), String::new())];
        assert_eq!(
            m.route("POST", "/2020-05-31/distribution", &tagged)
                .unwrap()
                .0,
            "CreateDistributionWithTags"
        );
        assert_eq!(
            m.route("POST", "/2020-05-31/distribution", &[]).unwrap().0,
            "CreateDistribution"
        );
        assert!(m.route("GET", "/2020-05-31/nothing", &[]).is_none());
        let members = &m.shape("DistributionConfig").members.0;
        assert_eq!(members[0].0, "CallerReference");
    }
}
