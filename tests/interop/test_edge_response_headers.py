"""Response headers policies: AWS's managed ones by their real IDs and custom ones from
`response-headers-policies/ID.json` (the document `aws cloudfront
create-response-headers-policy` takes), checked over HTTP and, for CORS, by a real browser:
headless Chromium loads a page from one distribution that fetches from another."""

import json
import re
import shutil
import subprocess
import uuid

import pytest

from edge_helpers import CACHING_OPTIMIZED, behavior, custom_origin, deploy, distribution, request
from origin import Route
from test_edge import edge, origin  # noqa: F401  (module-scoped fixtures: the edge, a test origin)

SIMPLE_CORS = "60669652-455b-4ae9-85a4-c4c02393f86c"
CORS_WITH_PREFLIGHT = "5cc3b908-e619-4b99-88e5-2cf7f45965bd"
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"


def new_id():
    return "R" + uuid.uuid4().hex[:12].upper()


def path():
    return f"/{uuid.uuid4().hex}"


def serve(edge, origin, policy_id=None, methods=("GET", "HEAD")):  # noqa: F811
    extra = {"ResponseHeadersPolicyId": policy_id} if policy_id else {}
    cfg = distribution([custom_origin("o", origin.port)],
                       behavior("o", CACHING_OPTIMIZED, methods=methods, **extra))
    return deploy(edge.dists, edge.edge_port, new_id(), cfg)


def custom_policy(edge, config):  # noqa: F811
    pid = str(uuid.uuid4())
    d = edge.dists / "response-headers-policies"
    d.mkdir(exist_ok=True)
    (d / f"{pid}.json").write_text(json.dumps(config))
    return pid


def items(*v):
    return {"Quantity": len(v), "Items": list(v)}


def test_simple_cors_answers_cors_requests_only(edge, origin):  # noqa: F811
    host = serve(edge, origin, SIMPLE_CORS)
    p = path()
    origin.routes[p] = Route(b"data", headers={"Cache-Control": "max-age=60"})
    r = request(edge.edge_port, p, host=host)
    assert r.status == 200 and r.h("access-control-allow-origin") is None
    # The same stored object, now asked for cross-origin: the header is added at the edge.
    r = request(edge.edge_port, p, host=host, headers={"Origin": "https://app.example"})
    assert r.x_cache == "Hit from cloudfront"
    assert r.h("access-control-allow-origin") == "*"


def test_origin_cors_header_is_kept_unless_overridden(edge, origin):  # noqa: F811
    host = serve(edge, origin, SIMPLE_CORS)
    p = path()
    origin.routes[p] = Route(b"x", headers={"Access-Control-Allow-Origin": "https://only.example"})
    r = request(edge.edge_port, p, host=host, headers={"Origin": "https://app.example"})
    assert r.h("access-control-allow-origin") == "https://only.example"


def test_security_headers_policy(edge, origin):  # noqa: F811
    host = serve(edge, origin, SECURITY_HEADERS)
    p = path()
    origin.routes[p] = Route(b"<p>hi</p>", headers={"Content-Type": "text/html", "X-Frame-Options": "DENY",
                                                    "X-Content-Type-Options": "whatever"})
    r = request(edge.edge_port, p, host=host)
    assert r.h("x-content-type-options") == "nosniff"  # always the policy's
    assert r.h("x-frame-options") == "DENY"  # the origin's is kept
    assert r.h("strict-transport-security") == "max-age=31536000"
    assert r.h("referrer-policy") == "strict-origin-when-cross-origin"
    assert r.h("x-xss-protection") == "1; mode=block"


def test_custom_policy_adds_removes_and_times(edge, origin):  # noqa: F811
    pid = custom_policy(edge, {
        "Name": "site", "Comment": "",
        "SecurityHeadersConfig": {
            "ContentSecurityPolicy": {"Override": True, "ContentSecurityPolicy": "default-src 'self'"},
            "StrictTransportSecurity": {"Override": True, "IncludeSubdomains": True, "Preload": True,
                                        "AccessControlMaxAgeSec": 63072000}},
        "CustomHeadersConfig": items({"Header": "X-Served-By", "Value": "wharf", "Override": True},
                                     {"Header": "X-Team", "Value": "edge", "Override": False}),
        "RemoveHeadersConfig": items({"Header": "X-Powered-By"}),
        "ServerTimingHeadersConfig": {"Enabled": True, "SamplingRate": 100},
    })
    host = serve(edge, origin, pid)
    p = path()
    origin.routes[p] = Route(b"x", headers={"X-Powered-By": "php", "X-Served-By": "origin", "X-Team": "web",
                                            "Cache-Control": "max-age=60"})
    r = request(edge.edge_port, p, host=host)
    assert r.h("x-powered-by") is None
    assert r.h("x-served-by") == "wharf" and r.h("x-team") == "web"
    assert r.h("content-security-policy") == "default-src 'self'"
    assert r.h("strict-transport-security") == "max-age=63072000; includeSubDomains; preload"
    assert r.h("server-timing").startswith("cdn-cache-miss,cdn-pop;desc=")
    r = request(edge.edge_port, p, host=host)
    assert r.h("server-timing").startswith("cdn-cache-hit,")
    assert f'cdn-rid;desc="{r.h("x-amz-cf-id")}"' in r.h("server-timing")


def test_invalid_policy_file_is_refused(edge, origin):  # noqa: F811
    pid = custom_policy(edge, {"Name": "bad", "CustomHeadersConfig": items(
        {"Header": "X-Cache", "Value": "mine", "Override": True})})
    did = new_id()
    cfg = distribution([custom_origin("o", origin.port)],
                       behavior("o", CACHING_OPTIMIZED, ResponseHeadersPolicyId=pid))
    with pytest.raises(AssertionError, match="never loaded"):
        deploy(edge.dists, edge.edge_port, did, cfg)
    (edge.dists / f"{did}.json").unlink()


def test_preflight_gets_methods_headers_and_max_age(edge, origin):  # noqa: F811
    pid = custom_policy(edge, {"Name": "api", "CorsConfig": {
        "AccessControlAllowOrigins": items("https://app.example"),
        "AccessControlAllowHeaders": items("X-Token"),
        "AccessControlAllowMethods": items("GET", "PUT"),
        "AccessControlAllowCredentials": True,
        "AccessControlExposeHeaders": items("X-Tag"),
        "AccessControlMaxAgeSec": 600,
        "OriginOverride": True}})
    host = serve(edge, origin, pid, methods=("GET", "HEAD", "OPTIONS"))
    p = path()
    origin.routes[p] = Route(b"", headers={"Access-Control-Allow-Origin": "*"})
    r = request(edge.edge_port, p, host=host, method="OPTIONS",
                headers={"Origin": "https://app.example", "Access-Control-Request-Method": "PUT",
                         "Access-Control-Request-Headers": "x-token"})
    assert r.h("access-control-allow-origin") == "https://app.example"
    assert "Origin" in r.h("vary")
    assert r.h("access-control-allow-credentials") == "true"
    assert r.h("access-control-allow-methods") == "GET, PUT"
    assert r.h("access-control-allow-headers") == "X-Token"
    assert r.h("access-control-max-age") == "600"
    # Another origin gets no CORS headers from the policy (the origin's own were replaced
    # only where the policy applies).
    r = request(edge.edge_port, p, host=host, headers={"Origin": "https://evil.example"})
    assert r.h("access-control-allow-origin") == "*" and r.h("access-control-allow-credentials") is None


# --- A real browser ---

PAGE = """<!doctype html><html><body><pre id="out">pending</pre><script>
const out = document.getElementById("out");
const results = [];
function done() { if (results.length === 3) out.textContent = results.join("|"); }
function probe(label, url, init) {
  fetch(url, init)
    .then(r => r.text().then(t => results.push(label + ":ok:" + t + ":" + r.headers.get("x-tag"))))
    .catch(e => results.push(label + ":blocked"))
    .finally(done);
}
probe("simple", "http://SIMPLE/data", {});
probe("preflight", "http://PREFLIGHT/data", {method: "PUT", headers: {"X-Token": "t"}});
probe("none", "http://NONE/data", {});
</script></body></html>"""


def test_chromium_cors_through_response_headers_policies(edge, origin, tmp_path):  # noqa: F811
    chromium = shutil.which("chromium")
    assert chromium, "scripts/install-test-deps installs chromium"
    port = edge.edge_port
    page_host = serve(edge, origin)
    simple_host = serve(edge, origin, SIMPLE_CORS)
    preflight_pid = custom_policy(edge, {"Name": "app", "CorsConfig": {
        "AccessControlAllowOrigins": items(f"http://{page_host}:{port}"),
        "AccessControlAllowHeaders": items("X-Token"),
        "AccessControlAllowMethods": items("ALL"),
        "AccessControlAllowCredentials": False,
        "AccessControlExposeHeaders": items("X-Tag"),
        "OriginOverride": True}})
    all_methods = ("GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE")
    preflight_host = serve(edge, origin, preflight_pid, methods=all_methods)
    none_host = serve(edge, origin)
    origin.routes["/data"] = Route(b"hello", headers={"X-Tag": "7", "Cache-Control": "no-store"})
    page = PAGE
    for name, h in (("SIMPLE", simple_host), ("PREFLIGHT", preflight_host), ("NONE", none_host)):
        page = page.replace(name, f"{h}:{port}")
    origin.routes["/page.html"] = Route(page.encode(), headers={"Content-Type": "text/html"})
    out = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
         "--dump-dom", f"http://{page_host}:{port}/page.html"],
        capture_output=True, text=True, timeout=120).stdout
    m = re.search(r'<pre id="out">(.*?)</pre>', out)
    assert m, out[-2000:]
    results = dict(r.split(":", 1) for r in m.group(1).split("|"))
    # A simple request: readable; X-Tag is not exposed by SimpleCORS.
    assert results["simple"] == "ok:hello:null"
    # A PUT with a custom header needs a preflight; the policy allows it and exposes X-Tag.
    assert results["preflight"] == "ok:hello:7"
    # No policy, no CORS: the browser blocks the read.
    assert results["none"] == "blocked"
    methods = [m for (m, q, _, _) in origin.requests if q == "/data"]
    assert "OPTIONS" in methods and "PUT" in methods
