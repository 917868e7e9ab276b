//! Functions from AWS's documented examples, run on events built as the edge builds them.

use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::json;

use crate::event::{
    EventContext, EventType, RequestOutcome, ViewerRequest, request_outcome, response_outcome,
    viewer_request_event, viewer_response_event,
};
use crate::{Function, FunctionError, JsRuntime, engine};

fn ctx(event_type: EventType) -> EventContext<'static> {
    EventContext {
        distribution_id: "E1",
        distribution_domain: "e1.cloudfront.localhost",
        request_id: "r1",
        event_type,
    }
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (n, v) in pairs {
        h.append(
            http::header::HeaderName::from_bytes(n.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

fn run_request(
    code: &str,
    runtime: JsRuntime,
    uri: &str,
    query: Option<&str>,
    h: &HeaderMap,
) -> RequestOutcome {
    let f = Function::new("f", "E1", runtime, code);
    let event = viewer_request_event(
        &ctx(EventType::ViewerRequest),
        &ViewerRequest {
            method: "GET",
            uri,
            query,
            headers: h,
            viewer_ip: Some("198.51.100.11"),
        },
    );
    let out = f.run(&event);
    request_outcome(&out.output.expect("the function runs")).unwrap()
}

const URL_REWRITE: &str = r#"
function handler(event) {
    var request = event.request;
    var uri = request.uri;
    // Check whether the URI is missing a file name.
    if (uri.endsWith('/')) {
        request.uri += 'index.html';
    }
    // Check whether the URI is missing a file extension.
    else if (!uri.includes('.')) {
        request.uri += '/index.html';
    }
    return request;
}"#;

#[test]
fn url_rewrite_for_single_page_apps() {
    for (uri, want) in [
        ("/", "/index.html"),
        ("/blog/", "/blog/index.html"),
        ("/about", "/about/index.html"),
        ("/a.css", "/a.css"),
    ] {
        match run_request(
            URL_REWRITE,
            JsRuntime::V1,
            uri,
            Some("a=1"),
            &headers(&[("host", "x")]),
        ) {
            RequestOutcome::Continue(c) => {
                assert_eq!(c.uri, want);
                assert_eq!(c.query.as_deref(), Some("a=1"));
                assert_eq!(c.headers.get("host").unwrap(), "x");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn add_security_headers_on_the_viewer_response() {
    let code = r#"
function handler(event) {
    var response = event.response;
    var headers = response.headers;
    headers['strict-transport-security'] = { value: 'max-age=63072000; includeSubdomains; preload'};
    headers['content-security-policy'] = { value: "default-src 'none'; img-src 'self'"};
    headers['x-content-type-options'] = { value: 'nosniff'};
    headers['x-frame-options'] = {value: 'DENY'};
    return response;
}"#;
    let f = Function::new("sec", "E1", JsRuntime::V1, code);
    let resp_headers = headers(&[
        ("content-type", "text/html"),
        ("set-cookie", "id=1; Path=/"),
    ]);
    let event = viewer_response_event(
        &ctx(EventType::ViewerResponse),
        &ViewerRequest {
            method: "GET",
            uri: "/",
            query: None,
            headers: &HeaderMap::new(),
            viewer_ip: None,
        },
        StatusCode::OK,
        &resp_headers,
    );
    assert_eq!(
        event["response"]["cookies"]["id"],
        json!({"value": "1", "attributes": "Path=/"})
    );
    assert!(event["response"]["headers"].get("set-cookie").is_none());
    let (status, h) = response_outcome(&f.run(&event).output.unwrap()).unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h.get("x-frame-options").unwrap(), "DENY");
    assert_eq!(h.get("content-type").unwrap(), "text/html");
    assert_eq!(h.get("set-cookie").unwrap(), "id=1; Path=/");
}

#[test]
fn redirect_by_country() {
    let code = r#"
function handler(event) {
    var request = event.request;
    var headers = request.headers;
    var host = request.headers.host.value;
    var country = 'DE';
    var newurl = `https://${host}/de/index.html`;
    if (headers['cloudfront-viewer-country']) {
        var countryCode = headers['cloudfront-viewer-country'].value;
        if (countryCode === country) {
            var response = {
                statusCode: 302,
                statusDescription: 'Found',
                headers: { "location": { "value": newurl } }
            }
            return response;
        }
    }
    return request;
}"#;
    let de = headers(&[("host", "example.com"), ("cloudfront-viewer-country", "DE")]);
    match run_request(code, JsRuntime::V1, "/", None, &de) {
        RequestOutcome::Respond(r) => {
            assert_eq!(r.status, StatusCode::FOUND);
            assert_eq!(
                r.headers.get("location").unwrap(),
                "https://example.com/de/index.html"
            );
        }
        other => panic!("{other:?}"),
    }
    let us = headers(&[("host", "example.com"), ("cloudfront-viewer-country", "US")]);
    assert!(matches!(
        run_request(code, JsRuntime::V1, "/", None, &us),
        RequestOutcome::Continue(_)
    ));
}

#[test]
fn ab_testing_with_cookies() {
    let code = r#"
function handler(event) {
    var request = event.request;
    var cookies = request.cookies;
    if (cookies.experiment && cookies.experiment.value === 'B') {
        request.uri = '/experiment-b' + request.uri;
    } else if (!cookies.experiment) {
        request.cookies['experiment'] = { value: 'A' };
    }
    return request;
}"#;
    let b = headers(&[("cookie", "session=1; experiment=B")]);
    match run_request(code, JsRuntime::V2, "/page.html", None, &b) {
        RequestOutcome::Continue(c) => {
            assert_eq!(c.uri, "/experiment-b/page.html");
            assert_eq!(c.headers.get("cookie").unwrap(), "experiment=B; session=1");
        }
        other => panic!("{other:?}"),
    }
    match run_request(code, JsRuntime::V2, "/page.html", None, &HeaderMap::new()) {
        RequestOutcome::Continue(c) => assert_eq!(c.headers.get("cookie").unwrap(), "experiment=A"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn normalize_query_strings() {
    // AWS's example, unchanged: it returns the query string as text.
    let code = r#"
function handler(event) {
    var qs=[];
    for (var key in event.request.querystring) {
        if (event.request.querystring[key].multiValue) {
            event.request.querystring[key].multiValue.forEach((mv) => {qs.push(key + "=" + mv.value)});
        } else {
            qs.push(key + "=" + event.request.querystring[key].value);
        }
    };

    event.request.querystring = qs.sort().join('&');

    return event.request;
}"#;
    match run_request(
        code,
        JsRuntime::V1,
        "/",
        Some("b=2&a=1&c=3&a=0"),
        &HeaderMap::new(),
    ) {
        RequestOutcome::Continue(c) => assert_eq!(c.query.as_deref(), Some("a=0&a=1&b=2&c=3")),
        other => panic!("{other:?}"),
    }
    // The edge's direct path reads it the same way.
    let h = HeaderMap::new();
    let f = Function::new("normalize", "E1", JsRuntime::V1, code);
    let direct = f.run_viewer_request(
        &ctx(EventType::ViewerRequest),
        &ViewerRequest {
            method: "GET",
            uri: "/",
            query: Some("b=2&a=1&c=3&a=0"),
            headers: &h,
            viewer_ip: None,
        },
    );
    match direct.output.unwrap() {
        RequestOutcome::Continue(c) => assert_eq!(c.query.as_deref(), Some("a=0&a=1&b=2&c=3")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn verify_a_jwt_with_crypto() {
    // AWS's example verifies an HS256 token from the query string and answers 401 otherwise.
    let code = r#"
var crypto = require('crypto');
function jwt_decode(token, key) {
    var segments = token.split('.');
    if (segments.length !== 3) { throw new Error('Not enough or too many segments'); }
    var signingInput = [segments[0], segments[1]].join('.');
    var signature = crypto.createHmac('sha256', key).update(signingInput).digest('base64url');
    if (signature !== segments[2]) { throw new Error('Signature verification failed'); }
    var payload = JSON.parse(String.bytesFrom(segments[1].replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
    return payload;
}
function handler(event) {
    var request = event.request;
    var key = 'LzdWGpAToQ1DqYuzHxE6YOqi7G3X2yvNBot9mCXfx5k';
    if (!request.querystring.jwt) {
        return { statusCode: 401, statusDescription: 'Unauthorized' };
    }
    try { jwt_decode(request.querystring.jwt.value, key); }
    catch (e) { console.log(e); return { statusCode: 401, statusDescription: 'Unauthorized' }; }
    delete request.querystring.jwt;
    return request;
}"#;
    // String.bytesFrom is cloudfront-js-1.0's; the test's token is checked without it.
    let code = code.replace(
        "var payload = JSON.parse(String.bytesFrom(segments[1].replace(/-/g, '+').replace(/_/g, '/'), 'base64'));\n    return payload;",
        "return true;",
    );
    let header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
    let payload = "eyJzdWIiOiIxMjM0NTY3ODkwIn0";
    let key = b"LzdWGpAToQ1DqYuzHxE6YOqi7G3X2yvNBot9mCXfx5k";
    let mac = {
        let sig =
            crate::native::hmac("sha256", key, format!("{header}.{payload}").as_bytes()).unwrap();
        base64_simd::URL_SAFE_NO_PAD.encode_to_string(sig)
    };
    let good = format!("jwt={header}.{payload}.{mac}&x=1");
    match run_request(&code, JsRuntime::V1, "/", Some(&good), &HeaderMap::new()) {
        RequestOutcome::Continue(c) => assert_eq!(c.query.as_deref(), Some("x=1")),
        other => panic!("{other:?}"),
    }
    let bad = format!("jwt={header}.{payload}.AAAA");
    match run_request(&code, JsRuntime::V1, "/", Some(&bad), &HeaderMap::new()) {
        RequestOutcome::Respond(r) => assert_eq!(r.status, StatusCode::UNAUTHORIZED),
        other => panic!("{other:?}"),
    }
}

#[test]
fn runtime_2_has_async_buffer_and_bodies() {
    let code = r#"
async function handler(event) {
    const b = Buffer.from('hello', 'utf8');
    const h = require('crypto').createHash('sha256').update(b).digest('hex');
    return { statusCode: 200, headers: { 'x-sum': { value: h } },
             body: { data: Buffer.from(b.toString('base64'), 'base64').toString('base64'), encoding: 'base64' } };
}"#;
    match run_request(code, JsRuntime::V2, "/", None, &HeaderMap::new()) {
        RequestOutcome::Respond(r) => {
            assert_eq!(r.body, "hello");
            assert_eq!(
                r.headers.get("x-sum").unwrap(),
                "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
            );
        }
        other => panic!("{other:?}"),
    }
    // 1.0 has no Buffer module.
    let f = Function::new(
        "v1",
        "E1",
        JsRuntime::V1,
        "function handler(e) { return require('buffer'); }",
    );
    assert!(
        matches!(f.run(&json!({})).output, Err(FunctionError::Exception(m)) if m.contains("Cannot find module"))
    );
}

#[test]
fn limits_and_errors() {
    let spin = Function::new(
        "spin",
        "E1",
        JsRuntime::V1,
        "function handler(e) { while (true) {} }",
    );
    let out = spin.run(&json!({}));
    assert_eq!(
        out.output,
        Err(FunctionError::Limit(
            "the function exceeded its compute budget"
        ))
    );
    assert_eq!(out.compute_utilization, 100);
    // The engine is usable again after being stopped.
    let out = spin.run(&json!({}));
    assert!(matches!(out.output, Err(FunctionError::Limit(_))));

    let hog = Function::new(
        "hog",
        "E1",
        JsRuntime::V1,
        "function handler(e) { var a = []; for (;;) a.push('x'.repeat(1000)); }",
    );
    assert!(matches!(
        hog.run(&json!({})).output,
        Err(FunctionError::Limit(_))
    ));

    let throws = Function::new(
        "t",
        "E1",
        JsRuntime::V1,
        "function handler(e) { console.log('about to fail', {a: 1}); throw new Error('boom'); }",
    );
    let out = throws.run(&json!({}));
    assert!(matches!(&out.output, Err(FunctionError::Exception(m)) if m.contains("boom")));
    assert_eq!(out.logs, vec!["about to fail {\"a\":1}"]);

    assert!(matches!(
        engine::check(JsRuntime::V1, "function handler(e) { return e; "),
        Err(FunctionError::Compile(_))
    ));
    assert!(
        matches!(engine::check(JsRuntime::V1, "var x = 1;"), Err(FunctionError::Compile(m)) if m.contains("handler"))
    );
    let big = format!(
        "function handler(e) {{ return e; }} // {}",
        "x".repeat(engine::MAX_CODE_BYTES)
    );
    assert!(
        matches!(engine::check(JsRuntime::V1, &big), Err(FunctionError::Compile(m)) if m.contains("limit"))
    );
    engine::check(JsRuntime::V2, URL_REWRITE).unwrap();

    let fast = Function::new("fast", "E1", JsRuntime::V1, URL_REWRITE);
    let out = fast.run(&json!({"request": {"uri": "/", "headers": {}}}));
    assert!(out.output.is_ok());
    assert!(out.compute_utilization < 100);
}

#[test]
fn key_value_store_reads_and_imports() {
    let code = r#"import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
    const r = event.request;
    const conf = await kvs.get('conf', { format: 'json' });
    r.headers['x-exists'] = { value: String(await kvs.exists('nope')) };
    r.headers['x-count'] = { value: String((await kvs.meta()).keyCount) };
    r.uri = conf.prefix + r.uri;
    return r;
}"#;
    let values: crate::KeyValues = std::sync::Arc::new(
        [("conf".to_owned(), r#"{"prefix": "/v2"}"#.to_owned())]
            .into_iter()
            .collect(),
    );
    let f = Function::new("kv", "E1", JsRuntime::V2, code)
        .with_key_values(Some(("store-1".into(), values)));
    let out = f
        .run(&json!({"request": {"uri": "/a", "headers": {}}}))
        .output
        .unwrap();
    assert_eq!(out["uri"], "/v2/a");
    assert_eq!(out["headers"]["x-exists"]["value"], "false");
    assert_eq!(out["headers"]["x-count"]["value"], "1");
    // Without an associated store the read fails (the viewer would get the 503).
    let alone = Function::new("kv", "E2", JsRuntime::V2, code);
    assert!(
        matches!(alone.run(&json!({"request": {"uri": "/a", "headers": {}}})).output, Err(FunctionError::Exception(m)) if m.contains("not associated"))
    );
}

#[test]
fn the_edges_direct_path_reads_what_the_json_path_reads() {
    // With a multi-valued header (its group always read back) and without (each group left
    // alone is taken from the viewer's request rather than read back).
    let multi = headers(&[
        ("host", "x"),
        ("cookie", "a=1; experiment=B"),
        ("x-multi", "1"),
        ("x-multi", "2"),
    ]);
    let single = headers(&[
        ("host", "x"),
        ("cookie", "a=1; experiment=B"),
        ("accept", "*/*"),
    ]);
    let funcs = [
        URL_REWRITE,
        "function handler(e) { e.request.cookies.extra = {value: 'z'}; e.request.querystring.n = {value: 7}; if (e.request.headers['x-multi']) e.request.headers['x-multi'].multiValue.push({value: '3'}); delete e.request.headers.host; return e.request; }",
        "function handler(e) { return {statusCode: 301, headers: {location: {value: 'https://x/'}}}; }",
        "function handler(e) { e.request.headers['x-new'] = {value: '1'}; return e.request; }",
        "function handler(e) { e.request.headers.host.value = 'y'; return e.request; }",
        "function handler(e) { e.request.headers.host = {value: 'x'}; e.request.headers.accept = {value: 'text/html'}; return e.request; }",
        "function handler(e) { e.request.headers = Object.assign({}, e.request.headers, {extra: {value: 'e'}}); return e.request; }",
        "function handler(e) { delete e.request.headers.host; e.request.headers.other = {value: 'x'}; return e.request; }",
        "function handler(e) { e.request.headers.host.multiValue = [{value: 'a'}, {value: 'b'}]; return e.request; }",
        "function handler(e) { delete e.request.cookies.a; return e.request; }",
        "function handler(e) { e.request.cookies.a.value = '2'; return e.request; }",
        "function handler(e) { e.request.querystring = {}; return e.request; }",
        "function handler(e) { e.request.querystring = 'x=1&y=2'; return e.request; }",
        "function handler(e) { e.request.querystring = ''; return e.request; }",
        "function handler(e) { e.request.querystring.q.value = 'changed'; return e.request; }",
        "function handler(e) { var r = e.request; return {method: r.method, uri: r.uri, querystring: r.querystring, headers: r.headers, cookies: r.cookies}; }",
        "function handler(e) { var r = e.request; return {method: r.method, uri: r.uri}; }",
    ];
    for (h, query) in [(&multi, "q=1&q=2"), (&single, "q=1&r=2")] {
        for (i, code) in funcs.iter().enumerate() {
            let f = Function::new("same", &format!("E{i}"), JsRuntime::V2, code);
            let c = ctx(EventType::ViewerRequest);
            let req = ViewerRequest {
                method: "GET",
                uri: "/a/",
                query: Some(query),
                headers: h,
                viewer_ip: Some("1.2.3.4"),
            };
            // The JSON path orders names (serde_json's maps); the direct one keeps the
            // function's order, as JavaScript objects do. The same pairs either way.
            let sorted = |o: RequestOutcome| match o {
                RequestOutcome::Continue(mut c) => {
                    let mut q: Vec<&str> = c.query.as_deref().unwrap_or("").split('&').collect();
                    q.sort_unstable();
                    c.query = Some(q.join("&"));
                    RequestOutcome::Continue(c)
                }
                other => other,
            };
            let direct = sorted(f.run_viewer_request(&c, &req).output.unwrap());
            let via_json = sorted(
                request_outcome(&f.run(&viewer_request_event(&c, &req)).output.unwrap()).unwrap(),
            );
            assert_eq!(direct, via_json, "{code} on {h:?}");
        }
    }
}

#[test]
fn origin_helpers_record_what_a_viewer_request_asked() {
    use crate::origin::{OriginChange, OriginSelection, OriginUpdate};
    let code = r#"import cf from 'cloudfront';
function handler(event) {
    const r = event.request;
    if (r.uri.startsWith('/api/')) {
        cf.selectRequestOriginById('api');
        cf.updateRequestOrigin({
            originPath: '/v2',
            customHeaders: {'X-Origin-Key': 'k1'},
            timeouts: {readTimeout: 5, connectionTimeout: 2},
            connectionAttempts: 1,
            originAccessControlConfig: {enabled: false},
            customOriginConfig: {port: 8080, protocol: 'http', sslProtocols: ['TLSv1.2']},
        });
    } else if (r.uri.startsWith('/ha/')) {
        cf.createRequestOriginGroup({originIds: ['a', 'b'], failoverCriteria: {statusCodes: [500, 503]}});
    } else if (r.uri === '/bad') {
        cf.updateRequestOrigin({timeouts: {readTimeout: 500}});
    } else if (r.uri === '/unknown') {
        cf.updateRequestOrigin({domainName: 'x.example', colour: 'blue'});
    }
    return r;
}"#;
    let f = Function::new("origins", "E1", JsRuntime::V2, code);
    let h = headers(&[("host", "x")]);
    let run = |uri: &str| {
        f.run_viewer_request(
            &ctx(EventType::ViewerRequest),
            &ViewerRequest {
                method: "GET",
                uri,
                query: None,
                headers: &h,
                viewer_ip: None,
            },
        )
    };
    let api = run("/api/users");
    assert!(api.output.is_ok());
    assert_eq!(
        api.origin,
        Some(OriginChange {
            selected: Some(OriginSelection::Id("api".into())),
            update: Some(OriginUpdate {
                origin_path: Some("/v2".into()),
                custom_headers: Some(vec![("x-origin-key".into(), "k1".into())]),
                read_timeout: Some(5),
                connection_timeout: Some(2),
                connection_attempts: Some(1),
                sign_requests: Some(false),
                custom_origin: Some((8080, false)),
                ..OriginUpdate::default()
            }),
        })
    );
    let ha = run("/ha/x");
    assert_eq!(
        ha.origin.unwrap().selected,
        Some(OriginSelection::Group {
            primary: "a".into(),
            secondary: "b".into(),
            status_codes: vec![500, 503]
        })
    );
    // The previous call's change does not leak into the next.
    assert_eq!(run("/plain").origin, None);
    // Invalid parameters make the output invalid (CloudFront's FunctionValidationError).
    for bad in ["/bad", "/unknown"] {
        let out = run(bad);
        assert!(
            matches!(&out.output, Err(FunctionError::BadOutput(m)) if m.contains("cf.updateRequestOrigin")),
            "{bad}: {:?}",
            out.output
        );
    }
    // TestFunction's JSON path runs them without error; a viewer-response may not use them.
    let test = f.run(&json!({"context": {"eventType": "viewer-request"}, "request": {"uri": "/api/x", "headers": {}}}));
    assert!(test.output.is_ok() && test.origin.is_some());
    let response = f.run(&json!({"context": {"eventType": "viewer-response"}, "request": {"uri": "/api/x", "headers": {}}}));
    assert!(
        matches!(&response.output, Err(FunctionError::Exception(m)) if m.contains("viewer-request")),
        "{:?}",
        response.output
    );
    // The `cloudfront` module is runtime 2.0's.
    let v1 = Function::new(
        "v1",
        "E1",
        JsRuntime::V1,
        "var cf = require('cloudfront'); function handler(e) { return e.request; }",
    );
    assert!(matches!(
        v1.run(&json!({"request": {"uri": "/", "headers": {}}})).output,
        Err(FunctionError::Compile(m)) if m.contains("Cannot find module")
    ));
}

#[test]
fn the_documented_language_of_each_runtime() {
    // 1.0: no const, let or async (refused when the code is checked, as on Create).
    for code in [
        "const a = 1; function handler(e) { return e.request; }",
        "function handler(e) { let r = e.request; return r; }",
        "async function handler(e) { return e.request; }",
    ] {
        assert!(
            matches!(engine::check(JsRuntime::V1, code), Err(FunctionError::Compile(m)) if m.contains("cloudfront-js-1.0")),
            "{code}"
        );
        assert_eq!(engine::check(JsRuntime::V2, code), Ok(()), "{code}");
    }
    // 1.0's byte-string methods.
    let code = r#"function handler(e) {
        var r = e.request;
        var h = function (name, v) { r.headers[name] = {value: String(v)}; };
        h('x-bytes-from', String.bytesFrom('68656c6c6f', 'hex'));
        h('x-array', String.bytesFrom([104, 105]));
        h('x-to-utf8', 'é'.toUTF8().length);
        h('x-from-utf8', '\xc3\xa9'.fromUTF8() === 'é');
        h('x-bad-utf8', '\xff'.fromUTF8());
        h('x-to-bytes', 'é'.toBytes() + '|' + '\u20ac'.toBytes());
        h('x-from-bytes', 'abc'.fromBytes(1));
        return r;
    }"#;
    let out = Function::new("v1", "E1", JsRuntime::V1, code)
        .run(&json!({"request": {"uri": "/", "headers": {}}}))
        .output
        .unwrap();
    let header = |n: &str| out["headers"][n]["value"].as_str().unwrap().to_owned();
    assert_eq!(header("x-bytes-from"), "hello");
    assert_eq!(header("x-array"), "hi");
    assert_eq!(header("x-to-utf8"), "2");
    assert_eq!(header("x-from-utf8"), "true");
    assert_eq!(header("x-bad-utf8"), "null");
    assert_eq!(header("x-to-bytes"), "é|null");
    assert_eq!(header("x-from-bytes"), "bc");
    // 2.0 has Buffer instead.
    let v2 = Function::new(
        "v2",
        "E1",
        JsRuntime::V2,
        "function handler(e) { e.request.uri = '/' + typeof String.bytesFrom + typeof ''.toUTF8; return e.request; }",
    );
    let out = v2
        .run(&json!({"request": {"uri": "/", "headers": {}}}))
        .output
        .unwrap();
    assert_eq!(out["uri"], "/undefinedundefined");
    // Restricted in both: dynamic code, and a clock that moves during an invocation.
    for runtime in [JsRuntime::V1, JsRuntime::V2] {
        for code in [
            "function handler(e) { return eval('e.request'); }",
            "function handler(e) { return new Function('return 1')(); }",
            "function handler(e) { return (function () {}).constructor('return 1')(); }",
        ] {
            let f = Function::new("dyn", &format!("{runtime:?}{code}"), runtime, code);
            assert!(
                matches!(f.run(&json!({"request": {"uri": "/", "headers": {}}})).output, Err(FunctionError::Exception(m)) if m.contains("Dynamic code")),
                "{code}"
            );
        }
        let clock = r#"function handler(e) {
            var a = Date.now(), d = new Date();
            for (var i = 0; i < 20000; i++) {}
            e.request.uri = '/' + (Date.now() === a) + '/' + (new Date().getTime() === d.getTime())
                + '/' + new Date(0).toISOString() + '/' + (typeof Date()) + '/' + (d instanceof Date);
            return e.request;
        }"#;
        let out = Function::new("clock", &format!("{runtime:?}"), runtime, clock)
            .run(&json!({"request": {"uri": "/", "headers": {}}}))
            .output
            .unwrap();
        assert_eq!(
            out["uri"],
            "/true/true/1970-01-01T00:00:00.000Z/string/true"
        );
    }
}
