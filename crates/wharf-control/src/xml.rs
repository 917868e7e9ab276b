//! CloudFront's XML documents read into, and written from, the JSON form of the same shapes (the
//! form `aws cloudfront … --cli-input-json` and distribution files use), guided by the service
//! model: element names, which elements are lists (`<Items><Origin>…</Origin></Items>`), and
//! member types. quick-xml reads and writes the XML; nothing here searches strings.

use quick_xml::Reader;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::{Map, Number, Value};

use crate::error::ControlError;
use crate::service_model::{Kind, ServiceModel, Shape, XMLNS};

/// Deepest element nesting read (a DistributionConfig is about 8 deep).
const MAX_DEPTH: usize = 32;

/// An element: its local name, child elements and text.
#[derive(Debug, Default, PartialEq)]
pub struct Element {
    pub name: String,
    pub children: Vec<Element>,
    pub text: String,
}

/// Parses a whole document into its root element.
pub fn parse(body: &[u8]) -> Result<Element, ControlError> {
    let malformed = |why: &str| ControlError::malformed_input(why);
    let mut reader = Reader::from_reader(body);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| malformed(&format!("Invalid XML document: {e}")))?;
        match event {
            Event::Start(e) => {
                if root.is_some() || stack.len() >= MAX_DEPTH {
                    return Err(malformed("Invalid XML document: too deep or two roots"));
                }
                stack.push(Element {
                    name: local_name(&e)?,
                    ..Element::default()
                });
            }
            Event::Empty(e) => {
                let el = Element {
                    name: local_name(&e)?,
                    ..Element::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None if root.is_none() => root = Some(el),
                    None => return Err(malformed("Invalid XML document: two roots")),
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| malformed("Invalid XML document"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                let text = t
                    .xml10_content()
                    .map_err(|_| malformed("Invalid XML document: not UTF-8"))?;
                push_text(&mut stack, &text, root.is_some())?;
            }
            Event::CData(t) => {
                let text = std::str::from_utf8(&t)
                    .map_err(|_| malformed("Invalid XML document: not UTF-8"))?
                    .to_owned();
                push_text(&mut stack, &text, root.is_some())?;
            }
            Event::GeneralRef(r) => {
                let text = if let Some(c) = r
                    .resolve_char_ref()
                    .map_err(|_| malformed("Invalid XML document: bad character reference"))?
                {
                    c.to_string()
                } else {
                    let name = r
                        .decode()
                        .map_err(|_| malformed("Invalid XML document: not UTF-8"))?;
                    quick_xml::escape::resolve_predefined_entity(&name)
                        .ok_or_else(|| malformed("Invalid XML document: unknown entity"))?
                        .to_owned()
                };
                push_text(&mut stack, &text, root.is_some())?;
            }
            Event::DocType(_) => return Err(malformed("Invalid XML document: DOCTYPE")),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err(malformed("Invalid XML document: unexpected end"));
    }
    root.ok_or_else(|| malformed("Invalid XML document: no root element"))
}

fn local_name(e: &BytesStart<'_>) -> Result<String, ControlError> {
    std::str::from_utf8(e.local_name().as_ref())
        .map(str::to_owned)
        .map_err(|_| ControlError::malformed_input("Invalid XML document: not UTF-8"))
}

fn push_text(stack: &mut [Element], text: &str, after_root: bool) -> Result<(), ControlError> {
    match stack.last_mut() {
        Some(el) => {
            el.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None if after_root => Err(ControlError::malformed_input(
            "Invalid XML document: text after the root",
        )),
        None => Err(ControlError::malformed_input(
            "Invalid XML document: text before the root",
        )),
    }
}

/// Reads `el` as a value of shape `shape_name`. `path` names it in error messages
/// (`distributionConfig.origins`, as CloudFront writes them).
pub fn to_value(
    model: &ServiceModel,
    shape_name: &str,
    el: &Element,
    path: &str,
) -> Result<Value, ControlError> {
    let shape = model.shape(shape_name);
    match shape.kind {
        Kind::Structure => {
            let mut map = Map::new();
            for child in &el.children {
                let Some((name, member)) = shape
                    .members
                    .0
                    .iter()
                    .find(|(n, m)| m.location.is_none() && m.wire_name(n) == child.name)
                else {
                    return Err(ControlError::malformed_xml(format!(
                        "Unexpected element {} in {path}",
                        child.name
                    )));
                };
                let child_path = format!("{path}.{}", lower_first(name));
                let v = to_value(model, &member.shape, child, &child_path)?;
                if map.insert(name.clone(), v).is_some() {
                    return Err(ControlError::malformed_xml(format!(
                        "Element {} appears twice in {path}",
                        child.name
                    )));
                }
            }
            if !el.text.trim().is_empty() {
                return Err(ControlError::malformed_xml(format!(
                    "Unexpected text in {path}"
                )));
            }
            Ok(Value::Object(map))
        }
        Kind::List => {
            let member = shape.member.as_ref().expect("a list shape has a member");
            let item_name = member.wire_name("member");
            let mut items = Vec::with_capacity(el.children.len());
            for (i, child) in el.children.iter().enumerate() {
                if child.name != item_name {
                    return Err(ControlError::malformed_xml(format!(
                        "Unexpected element {} in {path} (expected {item_name})",
                        child.name
                    )));
                }
                items.push(to_value(
                    model,
                    &member.shape,
                    child,
                    &format!("{path}.member.{}", i + 1),
                )?);
            }
            Ok(Value::Array(items))
        }
        _ => {
            if !el.children.is_empty() {
                return Err(ControlError::malformed_xml(format!(
                    "Unexpected element {} in {path}",
                    el.children[0].name
                )));
            }
            scalar(shape, &el.text, path)
        }
    }
}

/// A scalar from its text (in XML, a query string or a header).
pub fn scalar(shape: &Shape, text: &str, path: &str) -> Result<Value, ControlError> {
    let bad = |what: &str| {
        ControlError::malformed_xml(format!(
            "1 validation error detected: Value '{text}' at '{path}' failed to satisfy constraint: Member must be {what}"
        ))
    };
    Ok(match shape.kind {
        Kind::Integer | Kind::Long => Value::Number(
            text.trim()
                .parse::<i64>()
                .map_err(|_| bad("an integer"))?
                .into(),
        ),
        Kind::Boolean => match text.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad("a boolean")),
        },
        Kind::Double | Kind::Float => Value::Number(
            text.trim()
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .ok_or_else(|| bad("a number"))?,
        ),
        _ => Value::String(text.to_owned()),
    })
}

/// `DistributionConfig` → `distributionConfig`, as CloudFront names members in messages.
pub(crate) fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Writes `value` (of shape `shape_name`) as the document `<root xmlns=…>…</root>`.
pub fn document(model: &ServiceModel, root: &str, shape_name: &str, value: &Value) -> Vec<u8> {
    let mut w = Writer::new(Vec::new());
    // Writing into a Vec cannot fail.
    let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    let mut start = BytesStart::new(root);
    start.push_attribute(("xmlns", XMLNS));
    write_value(model, &mut w, start, shape_name, value);
    w.into_inner()
}

fn write_value(
    model: &ServiceModel,
    w: &mut Writer<Vec<u8>>,
    start: BytesStart<'_>,
    shape_name: &str,
    value: &Value,
) {
    let shape = model.shape(shape_name);
    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let _ = w.write_event(Event::Start(start));
    match shape.kind {
        Kind::Structure => {
            if let Value::Object(map) = value {
                for (member_name, member) in &shape.members.0 {
                    if member.location.is_some() {
                        continue;
                    }
                    if let Some(v) = map.get(member_name).filter(|v| !v.is_null()) {
                        let el = BytesStart::new(member.wire_name(member_name).to_owned());
                        write_value(model, w, el, &member.shape, v);
                    }
                }
            }
        }
        Kind::List => {
            let member = shape.member.as_ref().expect("a list shape has a member");
            if let Value::Array(items) = value {
                for item in items {
                    let el = BytesStart::new(member.wire_name("member").to_owned());
                    write_value(model, w, el, &member.shape, item);
                }
            }
        }
        _ => {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            let _ = w.write_event(Event::Text(BytesText::new(&text)));
        }
    }
    let _ = w.write_event(Event::End(BytesEnd::new(name)));
}

/// Checks a value read from a request against its shape: required members present, enum
/// values known. The message is CloudFront's (`Value null at 'distributionConfig.enabled'
/// failed to satisfy constraint: Member must not be null`).
pub fn validate(
    model: &ServiceModel,
    shape_name: &str,
    value: &Value,
    path: &str,
) -> Result<(), ControlError> {
    let shape = model.shape(shape_name);
    let fail =
        |what: String| ControlError::malformed_xml(format!("1 validation error detected: {what}"));
    match (shape.kind, value) {
        (Kind::Structure, Value::Object(map)) => {
            for req in &shape.required {
                let member = shape.members.get(req);
                // Members bound from the URI or headers are checked where they are read.
                if member.is_some_and(|m| m.location.is_some()) {
                    continue;
                }
                if map.get(req).is_none_or(Value::is_null) {
                    return Err(fail(format!(
                        "Value null at '{path}.{}' failed to satisfy constraint: Member must not be null",
                        lower_first(req)
                    )));
                }
            }
            for (name, v) in map {
                if let Some(m) = shape.members.get(name) {
                    validate(model, &m.shape, v, &format!("{path}.{}", lower_first(name)))?;
                }
            }
        }
        (Kind::List, Value::Array(items)) => {
            let member = shape.member.as_ref().expect("a list shape has a member");
            for (i, item) in items.iter().enumerate() {
                validate(
                    model,
                    &member.shape,
                    item,
                    &format!("{path}.member.{}", i + 1),
                )?;
            }
        }
        (Kind::String, Value::String(s)) => {
            if let Some(allowed) = &shape.enumeration
                && !allowed.iter().any(|a| a == s)
            {
                return Err(fail(format!(
                    "Value '{s}' at '{path}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                )));
            }
        }
        (Kind::Structure, _) | (Kind::List, _) => {
            return Err(fail(format!("Value at '{path}' has the wrong type")));
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service_model::model;

    const CONFIG: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DistributionConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">
  <CallerReference>ref &amp; 1</CallerReference>
  <Aliases><Quantity>2</Quantity><Items><CNAME>a.example.com</CNAME><CNAME>b.example.com</CNAME></Items></Aliases>
  <Origins><Quantity>1</Quantity><Items><Origin><Id>o1</Id><DomainName>b.s3.localhost</DomainName>
    <S3OriginConfig><OriginAccessIdentity/></S3OriginConfig>
    <CustomOriginConfig><HTTPPort>8080</HTTPPort><HTTPSPort>443</HTTPSPort><OriginProtocolPolicy>http-only</OriginProtocolPolicy></CustomOriginConfig>
  </Origin></Items></Origins>
  <DefaultCacheBehavior><TargetOriginId>o1</TargetOriginId><ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy><Compress>true</Compress></DefaultCacheBehavior>
  <Comment><![CDATA[<x>]]></Comment>
  <Enabled>true</Enabled>
</DistributionConfig>"#;

    #[test]
    fn a_distribution_config_reads_into_the_cli_json_form_and_back() {
        let m = model();
        let root = parse(CONFIG.as_bytes()).unwrap();
        assert_eq!(root.name, "DistributionConfig");
        let v = to_value(m, "DistributionConfig", &root, "distributionConfig").unwrap();
        assert_eq!(v["CallerReference"], "ref & 1");
        assert_eq!(v["Aliases"]["Quantity"], 2);
        assert_eq!(v["Aliases"]["Items"][1], "b.example.com");
        assert_eq!(
            v["Origins"]["Items"][0]["CustomOriginConfig"]["HTTPPort"],
            8080
        );
        assert_eq!(
            v["Origins"]["Items"][0]["S3OriginConfig"]["OriginAccessIdentity"],
            ""
        );
        assert_eq!(v["DefaultCacheBehavior"]["Compress"], true);
        assert_eq!(v["Comment"], "<x>");
        validate(m, "DistributionConfig", &v, "distributionConfig").unwrap();
        let xml = document(m, "DistributionConfig", "DistributionConfig", &v);
        let again = parse(&xml).unwrap();
        let v2 = to_value(m, "DistributionConfig", &again, "distributionConfig").unwrap();
        assert_eq!(v, v2);
        let text = String::from_utf8(xml).unwrap();
        assert!(
            text.contains(
                "<Items><CNAME>a.example.com</CNAME><CNAME>b.example.com</CNAME></Items>"
            )
        );
        assert!(text.contains("&lt;x&gt;") && text.contains(XMLNS));
        // Members keep the model's order: CallerReference first, Enabled after Comment.
        assert!(text.find("<CallerReference>") < text.find("<Aliases>"));
        assert!(text.find("<Comment>") < text.find("<Enabled>"));
    }

    #[test]
    fn schema_violations_are_malformed_xml() {
        let m = model();
        let check = |xml: &str| {
            let root = parse(xml.as_bytes())?;
            let v = to_value(m, "DistributionConfig", &root, "distributionConfig")?;
            validate(m, "DistributionConfig", &v, "distributionConfig")
        };
        let missing = CONFIG.replace("<Enabled>true</Enabled>", "");
        let e = check(&missing).unwrap_err();
        assert_eq!(e.code, "MalformedXML");
        assert!(
            e.message.contains("'distributionConfig.enabled'"),
            "{}",
            e.message
        );
        let e = check(&CONFIG.replace("<Enabled>true", "<Enabled>yes")).unwrap_err();
        assert_eq!(e.code, "MalformedXML");
        let e = check(&CONFIG.replace("allow-all", "sometimes")).unwrap_err();
        assert!(e.message.contains("enum value set"), "{}", e.message);
        let e = check(&CONFIG.replace("<Comment>", "<Bogus/><Comment>")).unwrap_err();
        assert!(e.message.contains("Bogus"));
        let e =
            check(&CONFIG.replace("<CNAME>a.example.com</CNAME>", "<Name>a</Name>")).unwrap_err();
        assert!(e.message.contains("expected CNAME"));
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "text",
            "<!DOCTYPE a><a/>",
            "<a>&bogus;</a>",
        ] {
            assert_eq!(
                parse(bad.as_bytes()).unwrap_err().code,
                "MalformedInput",
                "{bad}"
            );
        }
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(parse(deep.as_bytes()).is_err());
    }
}
