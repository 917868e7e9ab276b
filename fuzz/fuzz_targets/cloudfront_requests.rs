//! The CloudFront control API's request readers: any body, to any operation that takes one
//! (chosen by the first byte), is bound to the operation's input or refused with an error;
//! nothing panics. A value that binds is written back as XML and read again to the same value.
//! The key value store import format (`ImportSource` objects) is read from the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_control::protocol;
use wharf_control::service_model::model;

fuzz_target!(|data: &[u8]| {
    let _ = wharf_control::kvs_import::parse(data);
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let m = model();
    let mut with_bodies: Vec<(&String, &wharf_control::service_model::Operation)> = m
        .operations
        .iter()
        .filter(|(_, op)| matches!(op.http.method.as_str(), "POST" | "PUT"))
        .collect();
    with_bodies.sort_by(|a, b| a.0.cmp(b.0));
    let (_, op) = with_bodies[usize::from(pick) % with_bodies.len()];
    let (path, query) = op
        .http
        .request_uri
        .split_once('?')
        .unwrap_or((&op.http.request_uri, ""));
    let path: String = path
        .split('/')
        .map(|s| if s.starts_with('{') { "x" } else { s })
        .collect::<Vec<_>>()
        .join("/");
    let Ok(input) = protocol::bind(
        m,
        &op.http.method,
        &path,
        Some(query),
        &http::HeaderMap::new(),
        body,
    ) else {
        return;
    };
    // Round trip of a bound payload: written back and read again, the same value.
    let shape = m.shape(&op.input.as_ref().expect("has an input").shape);
    if let Some(payload) = &shape.payload {
        let member = shape.members.get(payload).expect("the payload is a member");
        if let Some(v) = input.members.get(payload)
            && m.shape(&member.shape).kind == wharf_control::service_model::Kind::Structure
        {
            let xml = wharf_control::xml::document(m, member.wire_name(payload), &member.shape, v);
            let root = wharf_control::xml::parse(&xml).expect("our own XML parses");
            let again = wharf_control::xml::to_value(m, &member.shape, &root, "x")
                .expect("our own XML reads");
            assert_eq!(&again, v);
        }
    }
});
