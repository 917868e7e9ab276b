//! CloudFront Functions' event object: a viewer request built from arbitrary headers, path and
//! query string goes into the event and, returned unchanged by a function, comes back as the
//! same request; any JSON a function may return is read as a request or response or refused,
//! and any JSON given to the origin helpers is taken or refused.
#![no_main]

use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use wharf_functions::event::{
    EventContext, EventType, RequestOutcome, ViewerRequest, request_outcome, response_outcome,
    viewer_request_event,
};

fuzz_target!(|data: &[u8]| {
    // Any JSON as a function's result.
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = request_outcome(&v);
        let _ = response_outcome(&v);
        let mut change = wharf_functions::origin::OriginChange::default();
        for helper in [
            "updateRequestOrigin",
            "selectRequestOriginById",
            "createRequestOriginGroup",
        ] {
            let _ = change.apply(helper, &v);
        }
    }
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let (uri, query, rest) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let mut headers = HeaderMap::new();
    for line in rest.lines() {
        if let Some((n, v)) = line.split_once(':')
            && let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(n.trim().to_ascii_lowercase().as_bytes()),
                HeaderValue::from_str(v.trim()),
            )
        {
            headers.append(n, v);
        }
    }
    let uri = format!("/{uri}");
    let event = viewer_request_event(
        &EventContext {
            distribution_id: "E1",
            distribution_domain: "e1.cloudfront.localhost",
            request_id: "r",
            event_type: EventType::ViewerRequest,
        },
        &ViewerRequest {
            method: "GET",
            uri: &uri,
            query: Some(query).filter(|q| !q.is_empty()),
            headers: &headers,
            viewer_ip: None,
        },
    );
    // A function that returns the request as it came.
    if let Ok(RequestOutcome::Continue(back)) = request_outcome(&event["request"]) {
        assert_eq!(back.uri, uri);
        for (name, _) in headers.iter().filter(|(n, _)| *n != http::header::COOKIE) {
            assert_eq!(
                back.headers.get_all(name).iter().count(),
                headers.get_all(name).iter().count(),
                "{name}"
            );
        }
    }
});
