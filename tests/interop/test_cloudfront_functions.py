"""CloudFront Functions through the unmodified AWS CLI and boto3: the function lifecycle
(create → describe → test → update with a stale and the right ETag → publish → list →
delete), AWS's documented example functions run unchanged through TestFunction and through the
edge, limits answered with CloudFront's 503, and a syntax error refused on create."""

import base64
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from edge_helpers import CACHING_DISABLED, behavior, custom_origin, distribution, request

# The managed origin request policy AllViewerExceptHostHeader.
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
from origin import Route
from test_cloudfront_api import cloudfront, code, node, origin, served  # noqa: F401  (module fixtures)

URL_REWRITE = """
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
}
"""

SECURITY_HEADERS = """
function handler(event) {
    var response = event.response;
    var headers = response.headers;
    // Set HTTP security headers
    // Since JavaScript doesn't allow for hyphens in variable names, we use the dict["key"] notation
    headers['strict-transport-security'] = { value: 'max-age=63072000; includeSubdomains; preload'};
    headers['content-security-policy'] = { value: "default-src 'none'; img-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'"};
    headers['x-content-type-options'] = { value: 'nosniff'};
    headers['x-frame-options'] = {value: 'DENY'};
    headers['x-xss-protection'] = {value: '1; mode=block'};
    headers['referrer-policy'] = {value: 'same-origin'};
    // Return the response to viewers
    return response;
}
"""

REDIRECT_BY_COUNTRY = """
function handler(event) {
    var request = event.request;
    var headers = request.headers;
    var host = request.headers.host.value;
    var country = 'DE'; // Choose a country code
    var newurl = `https://${host}/de/index.html`; // Change the redirect URL to your choice
    if (headers['cloudfront-viewer-country']) {
        var countryCode = headers['cloudfront-viewer-country'].value;
        if (countryCode === country) {
            var response = {
                statusCode: 302,
                statusDescription: 'Found',
                headers:
                    { "location": { "value": newurl } }
                }
            return response;
        }
    }
    return request;
}
"""

AB_TESTING = """
const NAME = 'experiment';
function handler(event) {
    var request = event.request;
    var cookies = request.cookies;
    var group = cookies[NAME] ? cookies[NAME].value : (Math.random() < 0.5 ? 'A' : 'B');
    request.cookies[NAME] = { value: group };
    if (group === 'B') {
        request.uri = '/experiment-b' + request.uri;
    }
    return request;
}
"""

NORMALIZE_QUERY = """
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
}
"""

VERIFY_JWT = """
var crypto = require('crypto');
function jwt_verify(token, key) {
    var segments = token.split('.');
    if (segments.length !== 3) {
        throw new Error('Not enough or too many segments');
    }
    var signingInput = [segments[0], segments[1]].join('.');
    if (crypto.createHmac('sha256', key).update(signingInput).digest('base64url') !== segments[2]) {
        throw new Error('Signature verification failed');
    }
}
function handler(event) {
    var request = event.request;
    var key = 'LzdWGpAToQ1DqYuzHxE6YOqi7G3X2yvNBot9mCXfx5k';
    if (!request.querystring.jwt) {
        console.log("Error: No JWT in the querystring");
        return { statusCode: 401, statusDescription: 'Unauthorized' };
    }
    try {
        jwt_verify(request.querystring.jwt.value, key);
    } catch (e) {
        console.log(e);
        return { statusCode: 401, statusDescription: 'Unauthorized' };
    }
    delete request.querystring.jwt;
    return request;
}
"""


def event(uri="/", headers=None, querystring=None, cookies=None, response=None):
    e = {"version": "1.0", "context": {"eventType": "viewer-response" if response else "viewer-request"},
         "viewer": {"ip": "198.51.100.11"},
         "request": {"method": "GET", "uri": uri, "querystring": querystring or {},
                     "headers": headers or {}, "cookies": cookies or {}}}
    if response:
        e["response"] = response
    return json.dumps(e).encode()


@pytest.fixture()
def cf(node):  # noqa: F811
    return cloudfront(node)


def make(cf, source, runtime="cloudfront-js-2.0", publish=True):
    name = f"f-{uuid.uuid4().hex[:10]}"
    made = cf.create_function(Name=name, FunctionConfig={"Comment": "test", "Runtime": runtime},
                              FunctionCode=source.encode())
    etag = made["ETag"]
    if publish:
        cf.publish_function(Name=name, IfMatch=etag)
    return name, etag, made["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]


def run_test(cf, name, etag, ev, stage="DEVELOPMENT"):
    return cf.test_function(Name=name, IfMatch=etag, Stage=stage, EventObject=ev)["TestResult"]


def test_function_lifecycle_with_the_cli(node, tmp_path):  # noqa: F811
    src = tmp_path / "rewrite.js"
    src.write_text(URL_REWRITE)
    name = f"cli-{uuid.uuid4().hex[:8]}"
    made = json.loads(node.aws("cloudfront", "create-function", "--name", name,
                               "--function-config", "Comment=rewrite,Runtime=cloudfront-js-1.0",
                               "--function-code", f"fileb://{src}").stdout)
    assert made["FunctionSummary"]["FunctionMetadata"]["Stage"] == "DEVELOPMENT"
    assert made["FunctionSummary"]["Status"] == "UNPUBLISHED"
    etag = made["ETag"]
    ev = tmp_path / "event.json"
    ev.write_bytes(event("/blog/"))
    result = json.loads(node.aws("cloudfront", "test-function", "--name", name, "--if-match", etag,
                                 "--event-object", f"fileb://{ev}").stdout)["TestResult"]
    assert json.loads(result["FunctionOutput"])["request"]["uri"] == "/blog/index.html"
    assert 0 <= int(result["ComputeUtilization"]) <= 100 and result["FunctionErrorMessage"] == ""
    # Not published yet: no LIVE stage.
    live = node.aws("cloudfront", "describe-function", "--name", name, "--stage", "LIVE", check=False)
    assert "NoSuchFunctionExists" in live.stderr
    stale = node.aws("cloudfront", "update-function", "--name", name, "--if-match", "E0STALE0000000",
                     "--function-config", "Comment=v2,Runtime=cloudfront-js-1.0",
                     "--function-code", f"fileb://{src}", check=False)
    assert "PreconditionFailed" in stale.stderr
    updated = json.loads(node.aws("cloudfront", "update-function", "--name", name, "--if-match", etag,
                                  "--function-config", "Comment=v2,Runtime=cloudfront-js-1.0",
                                  "--function-code", f"fileb://{src}").stdout)
    etag = updated["ETag"]
    published = json.loads(node.aws("cloudfront", "publish-function", "--name", name, "--if-match", etag).stdout)
    assert published["FunctionSummary"]["FunctionMetadata"]["Stage"] == "LIVE"
    out = tmp_path / "code.js"
    node.aws("cloudfront", "get-function", "--name", name, "--stage", "LIVE", str(out))
    assert out.read_text() == URL_REWRITE
    names = [f["Name"] for f in json.loads(node.aws("cloudfront", "list-functions", "--stage", "LIVE").stdout)["FunctionList"]["Items"]]
    assert name in names
    node.aws("cloudfront", "delete-function", "--name", name, "--if-match", etag)
    gone = node.aws("cloudfront", "describe-function", "--name", name, check=False)
    assert "NoSuchFunctionExists" in gone.stderr


def test_errors_on_create(cf):
    with pytest.raises(ClientError) as e:
        cf.create_function(Name=f"bad-{uuid.uuid4().hex[:6]}", FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-1.0"},
                           FunctionCode=b"function handler(event) { return event.request ")
    assert code(e)[0] == "InvalidArgument" and "not valid" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        cf.create_function(Name=f"big-{uuid.uuid4().hex[:6]}", FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-1.0"},
                           FunctionCode=b"function handler(e) { return e.request; } //" + b"x" * 11000)
    assert code(e) == ("FunctionSizeLimitExceeded", 413)
    # cloudfront-js-1.0 has no const or let (2.0 has).
    with pytest.raises(ClientError) as e:
        cf.create_function(Name=f"v1-{uuid.uuid4().hex[:6]}", FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-1.0"},
                           FunctionCode=b"function handler(event) { const r = event.request; return r; }")
    assert code(e)[0] == "InvalidArgument" and "cloudfront-js-1.0" in e.value.response["Error"]["Message"]
    make(cf, "function handler(event) { const r = event.request; return r; }", publish=False)
    name, _, _ = make(cf, URL_REWRITE, publish=False)
    with pytest.raises(ClientError) as e:
        cf.create_function(Name=name, FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-1.0"}, FunctionCode=URL_REWRITE.encode())
    assert code(e) == ("FunctionAlreadyExists", 409)
    with pytest.raises(ClientError) as e:
        cf.describe_function(Name="no-such-function")
    assert code(e) == ("NoSuchFunctionExists", 404)


def test_documented_examples_through_test_function(cf):
    name, etag, _ = make(cf, SECURITY_HEADERS, publish=False)
    r = run_test(cf, name, etag, event(response={"statusCode": 200, "statusDescription": "OK", "headers": {
        "content-type": {"value": "text/html"}}, "cookies": {}}))
    out = json.loads(r["FunctionOutput"])["response"]
    assert out["headers"]["x-frame-options"] == {"value": "DENY"}
    assert out["headers"]["content-type"] == {"value": "text/html"}

    name, etag, _ = make(cf, REDIRECT_BY_COUNTRY, publish=False)
    r = run_test(cf, name, etag, event(headers={"host": {"value": "example.com"}, "cloudfront-viewer-country": {"value": "DE"}}))
    out = json.loads(r["FunctionOutput"])["response"]
    assert out["statusCode"] == 302 and out["headers"]["location"]["value"] == "https://example.com/de/index.html"

    name, etag, _ = make(cf, AB_TESTING, publish=False)
    r = run_test(cf, name, etag, event("/index.html", cookies={"experiment": {"value": "B"}}))
    assert json.loads(r["FunctionOutput"])["request"]["uri"] == "/experiment-b/index.html"

    name, etag, _ = make(cf, VERIFY_JWT, runtime="cloudfront-js-1.0", publish=False)
    r = run_test(cf, name, etag, event(querystring={"jwt": {"value": "a.b.c"}}))
    assert json.loads(r["FunctionOutput"])["response"]["statusCode"] == 401
    assert any("Signature verification failed" in line for line in r["FunctionExecutionLogs"])

    name, etag, _ = make(cf, "function handler(event) { throw new Error('boom'); }", publish=False)
    r = run_test(cf, name, etag, event())
    assert "boom" in r["FunctionErrorMessage"] and r["FunctionOutput"] == ""


def attach(cf, origin, arns, policy=CACHING_DISABLED, **extra):  # noqa: F811
    assoc = {"Quantity": len(arns), "Items": [{"FunctionARN": a, "EventType": t} for t, a in arns]}
    cfg = distribution([custom_origin("o", origin.port)], behavior("o", policy, FunctionAssociations=assoc, **extra))
    cfg["CallerReference"] = uuid.uuid4().hex
    return cf.create_distribution(DistributionConfig=cfg)["Distribution"]


def test_functions_run_at_the_edge(node, cf, origin):  # noqa: F811
    _, _, rewrite = make(cf, URL_REWRITE)
    _, _, security = make(cf, SECURITY_HEADERS, runtime="cloudfront-js-1.0")
    dist = attach(cf, origin, [("viewer-request", rewrite), ("viewer-response", security)])
    host = dist["DomainName"]
    base = f"/{uuid.uuid4().hex}"
    origin.routes[f"{base}/index.html"] = Route(b"the index", headers={"Content-Type": "text/html"})
    r = served(node, host, f"{base}/")
    assert r.status == 200 and r.body == b"the index"
    assert r.h("strict-transport-security").startswith("max-age=63072000")
    assert r.h("x-frame-options") == "DENY"
    assert origin.count(f"{base}/index.html") == 1
    # The rewritten URI is the cache key: the second request is a hit.
    assert request(node.edge_port, f"{base}/", host=host).x_cache in ("Miss from cloudfront", "Hit from cloudfront")


def test_a_function_made_response_and_the_jwt_check(node, cf, origin):  # noqa: F811
    _, _, jwt = make(cf, VERIFY_JWT, runtime="cloudfront-js-1.0")
    dist = attach(cf, origin, [("viewer-request", jwt)])
    host = dist["DomainName"]
    p = f"/{uuid.uuid4().hex}"
    origin.routes[p] = Route(b"secret")
    r = served(node, host, p)
    assert r.status == 401 and r.x_cache == "FunctionGeneratedResponse from cloudfront"
    assert origin.count(p) == 0
    import hashlib
    import hmac
    key = b"LzdWGpAToQ1DqYuzHxE6YOqi7G3X2yvNBot9mCXfx5k"
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    head, body = b64(b'{"alg":"HS256","typ":"JWT"}'), b64(b'{"sub":"1"}')
    sig = b64(hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest())
    r = request(node.edge_port, f"{p}?jwt={head}.{body}.{sig}", host=host)
    assert r.status == 200 and r.body == b"secret"


def test_limits_answer_503_and_unpublished_functions_cannot_be_associated(node, cf, origin):  # noqa: F811
    _, _, spin = make(cf, "function handler(event) { while (true) {} }")
    dist = attach(cf, origin, [("viewer-request", spin)])
    r = served(node, dist["DomainName"], "/x")
    assert r.status == 503 and r.x_cache == "Error from cloudfront"
    assert b"could not run" in r.body
    _, _, draft = make(cf, URL_REWRITE, publish=False)
    with pytest.raises(ClientError) as e:
        attach(cf, origin, [("viewer-request", draft)])
    assert code(e)[0] == "InvalidFunctionAssociation"
    with pytest.raises(ClientError) as e:
        attach(cf, origin, [("origin-request", spin)])
    assert code(e)[0] in ("InvalidArgument", "MalformedXML")
    # A function in use cannot be deleted.
    name = spin.rsplit("/", 1)[1]
    etag = cf.describe_function(Name=name)["ETag"]
    with pytest.raises(ClientError) as e:
        cf.delete_function(Name=name, IfMatch=etag)
    assert code(e) == ("FunctionInUse", 409)


ORIGIN_ROUTER = """import cf from 'cloudfront';
function handler(event) {
    const request = event.request;
    const uri = request.uri;
    if (uri.startsWith('/select/')) {
        cf.selectRequestOriginById('api');
    } else if (uri.startsWith('/update/')) {
        cf.updateRequestOrigin({
            originPath: '/updated',
            customHeaders: {'x-origin-secret': 'from-the-function'},
            hostHeader: 'backend.example',
            timeouts: {readTimeout: 10, connectionTimeout: 2},
            connectionAttempts: 1
        });
    } else if (uri.startsWith('/group/')) {
        cf.createRequestOriginGroup({originIds: ['down', 'main'], failoverCriteria: {statusCodes: [500, 502]}});
    } else if (uri.startsWith('/rescue/')) {
        cf.selectRequestOriginById('down');
        cf.updateRequestOrigin({domainName: '127.0.0.1', customOriginConfig: {port: PORT, protocol: 'http'}});
    } else if (uri.startsWith('/invalid/')) {
        cf.updateRequestOrigin({timeouts: {readTimeout: 999}});
    } else if (uri.startsWith('/unknown/')) {
        cf.selectRequestOriginById('no-such-origin');
    }
    return request;
}
"""


def test_origin_helpers_route_requests_at_the_edge(node, cf, origin):  # noqa: F811
    """cloudfront-js-2.0's origin helpers: another origin of the distribution, an origin
    changed for the request (path, custom headers, Host, timeouts), a failover group made by
    the function, a custom origin replacing an unreachable one; invalid parameters answer
    CloudFront's 502 (FunctionValidationError). TestFunction runs the code without routing."""
    name, etag, router = make(cf, ORIGIN_ROUTER.replace("PORT", str(origin.port)))
    r = run_test(cf, name, etag, event("/select/x"))
    assert r["FunctionErrorMessage"] == "" and json.loads(r["FunctionOutput"])["request"]["uri"] == "/select/x"
    # A closed port: nothing listens there.
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    closed = s.getsockname()[1]
    s.close()
    assoc = {"Quantity": 1, "Items": [{"FunctionARN": router, "EventType": "viewer-request"}]}
    cfg = distribution([custom_origin("main", origin.port), custom_origin("api", origin.port, path="/api-origin"),
                        custom_origin("down", closed, connect_timeout=1)],
                       behavior("main", CACHING_DISABLED, FunctionAssociations=assoc))
    cfg["CallerReference"] = uuid.uuid4().hex
    host = cf.create_distribution(DistributionConfig=cfg)["Distribution"]["DomainName"]
    tag = uuid.uuid4().hex
    for path in (f"/api-origin/select/{tag}", f"/updated/update/{tag}", f"/group/{tag}", f"/rescue/{tag}", f"/plain/{tag}"):
        origin.routes[path] = Route(path.encode())

    r = served(node, host, f"/select/{tag}")
    assert r.status == 200 and r.body == f"/api-origin/select/{tag}".encode()

    r = request(node.edge_port, f"/update/{tag}", host=host)
    assert r.status == 200 and r.body == f"/updated/update/{tag}".encode()
    _, _, headers, _ = origin.last(f"/updated/update/{tag}")
    assert headers["x-origin-secret"] == "from-the-function" and headers["host"] == "backend.example"

    r = request(node.edge_port, f"/group/{tag}", host=host)
    assert r.status == 200 and r.body == f"/group/{tag}".encode()
    r = request(node.edge_port, f"/rescue/{tag}", host=host)
    assert r.status == 200 and r.body == f"/rescue/{tag}".encode()
    # Without a helper call the behavior's origin serves.
    r = request(node.edge_port, f"/plain/{tag}", host=host)
    assert r.status == 200 and r.body == f"/plain/{tag}".encode()

    for bad in (f"/invalid/{tag}", f"/unknown/{tag}"):
        r = request(node.edge_port, bad, host=host)
        assert r.status == 502 and r.x_cache == "Error from cloudfront", (bad, r.status)
        assert b"could not run" in r.body
    # The helpers are runtime 2.0's: in 1.0 there is no `cloudfront` module.
    with pytest.raises(ClientError) as e:
        cf.create_function(Name=f"v1-{uuid.uuid4().hex[:6]}", FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-1.0"},
                           FunctionCode=b"var cf = require('cloudfront'); function handler(e) { return e.request; }")
    assert code(e)[0] == "InvalidArgument"


def test_ab_testing_and_query_normalisation_at_the_edge(node, cf, origin):  # noqa: F811
    """AWS's A/B testing and query-string normalisation examples, unchanged: the cookie picks
    the variant's path; the query string reaches the origin sorted (the example returns it as
    text, which CloudFront takes)."""
    name, etag, normalize = make(cf, NORMALIZE_QUERY, runtime="cloudfront-js-1.0")
    r = run_test(cf, name, etag, event(querystring={"b": {"value": "2"}, "a": {"value": "1", "multiValue": [{"value": "1"}, {"value": "0"}]}}))
    assert json.loads(r["FunctionOutput"])["request"]["querystring"] == "a=0&a=1&b=2"
    _, _, ab = make(cf, AB_TESTING)
    tag = uuid.uuid4().hex
    # The origin request policy forwards the query string (the cache policy keys on none).
    host = attach(cf, origin, [("viewer-request", normalize)], OriginRequestPolicyId=ALL_VIEWER_EXCEPT_HOST)["DomainName"]
    origin.routes[f"/{tag}/q"] = Route(b"normalised")
    r = served(node, host, f"/{tag}/q?z=9&b=2&a=1&b=1")
    assert r.status == 200 and r.body == b"normalised"
    assert origin.last(f"/{tag}/q")[1] == f"/{tag}/q?a=1&b=1&b=2&z=9"
    host = attach(cf, origin, [("viewer-request", ab)])["DomainName"]
    origin.routes[f"/experiment-b/{tag}/page"] = Route(b"variant B")
    origin.routes[f"/{tag}/page"] = Route(b"variant A")
    r = served(node, host, f"/{tag}/page")
    assert r.status == 200 and r.body in (b"variant A", b"variant B")
    for group, body in (("B", b"variant B"), ("A", b"variant A")):
        r = request(node.edge_port, f"/{tag}/page", host=host, headers={"Cookie": f"experiment={group}"})
        assert r.status == 200 and r.body == body, (group, r.body)
