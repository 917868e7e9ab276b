"""The edge over HTTPS (`--edge-tls-listen`, `[edge] tls_cert_file` / `tls_key_file`), driven
with curl as a viewer would: the viewer protocol policies, one cache for both schemes, and
`match-viewer` origins reached with the viewer's scheme."""

import subprocess
import uuid

import pytest

from conftest import WHARF_BIN
from edge_helpers import CACHING_DISABLED, CACHING_OPTIMIZED, behavior, custom_origin, deploy, distribution, request
from origin import Origin, Route
from test_edge import edge, origin  # noqa: F401  (module-scoped fixtures: the edge, a test origin)


class Curl:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def h(self, name):
        return self.headers.get(name.lower())


def curl(edge, name, path, https=True, extra=()):  # noqa: F811
    port = edge.edge_tls_port if https else edge.edge_port
    scheme = "https" if https else "http"
    out = subprocess.run(
        ["curl", "-sS", "-i", "--http1.1", "--cacert", str(edge.ca_file),
         "--resolve", f"{name}:{port}:127.0.0.1", *extra, f"{scheme}://{name}:{port}{path}"],
        capture_output=True, timeout=30, check=True).stdout
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return Curl(int(lines[0].split()[1]), headers, body)


def site(edge, origin, policy="allow-all", origin_cfg=None, cache_policy=CACHING_OPTIMIZED):  # noqa: F811
    did = "S" + uuid.uuid4().hex[:10].upper()
    alias = f"{did.lower()}.edge.test"
    cfg = distribution([origin_cfg or custom_origin("o", origin.port)],
                       behavior("o", cache_policy, ViewerProtocolPolicy=policy),
                       Aliases={"Quantity": 1, "Items": [alias]})
    deploy(edge.dists, edge.edge_port, did, cfg)
    return alias


def path():
    return f"/{uuid.uuid4().hex}"


def test_https_viewer_shares_the_cache_with_http(edge, origin):  # noqa: F811
    name = site(edge, origin)
    p = path()
    origin.routes[p] = Route(b"secure page", headers={"Content-Type": "text/html"})
    r = curl(edge, name, p, https=False)
    assert r.status == 200 and r.h("x-cache") == "Miss from cloudfront"
    r = curl(edge, name, p)
    assert r.status == 200 and r.body == b"secure page"
    assert r.h("x-cache") == "Hit from cloudfront" and r.h("via").endswith("(CloudFront)")
    assert origin.count(p) == 1


def test_redirect_to_https_names_the_https_listener(edge, origin):  # noqa: F811
    name = site(edge, origin, "redirect-to-https")
    p = path()
    origin.routes[p] = Route(b"moved")
    r = curl(edge, name, p + "?a=1", https=False)
    assert r.status == 301
    assert r.h("location") == f"https://{name}:{edge.edge_tls_port}{p}?a=1"
    r = curl(edge, name, p, extra=["-L"])
    assert r.status == 200 and r.body == b"moved"
    assert origin.count(p) == 1


def test_https_only_refuses_http(edge, origin):  # noqa: F811
    name = site(edge, origin, "https-only")
    p = path()
    origin.routes[p] = Route(b"only tls")
    assert curl(edge, name, p, https=False).status == 403
    r = curl(edge, name, p)
    assert r.status == 200 and r.body == b"only tls"


def test_match_viewer_reaches_the_origin_with_the_viewers_scheme(edge, origin):  # noqa: F811
    secure = Origin(tls=edge.ca)
    try:
        o = custom_origin("o", origin.port)
        o["CustomOriginConfig"].update({"HTTPSPort": secure.port, "OriginProtocolPolicy": "match-viewer"})
        # Uncached: CloudFront caches a match-viewer object once for both schemes.
        name = site(edge, origin, origin_cfg=o, cache_policy=CACHING_DISABLED)
        # Both origins serve the path; which one answered tells the scheme used.
        p = path()
        origin.routes[p] = Route(b"over http")
        secure.routes[p] = Route(b"over https")
        assert curl(edge, name, p).body == b"over https"
        assert curl(edge, name, p, https=False).body == b"over http"
        assert secure.count(p) == 1 and origin.count(p) == 1
    finally:
        secure.stop()


def test_untrusted_viewer_is_refused_by_curl_not_served(edge, origin):  # noqa: F811
    name = site(edge, origin)
    out = subprocess.run(["curl", "-sS", "--resolve", f"{name}:{edge.edge_tls_port}:127.0.0.1",
                          f"https://{name}:{edge.edge_tls_port}/"], capture_output=True, timeout=30)
    assert out.returncode == 60, out  # curl: the peer's certificate cannot be verified
    # The edge still serves plain HTTP and other TLS connections afterwards.
    assert request(edge.edge_port, "/", host=name).status in (200, 404)


def test_mismatched_certificate_and_key_stop_startup(tmp_path):
    import trustme
    ca = trustme.CA()
    a, b = ca.issue_cert("a.test"), ca.issue_cert("b.test")
    a.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    b.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    conf = tmp_path / "wharf.toml"
    conf.write_text(f'[edge]\ntls_cert_file = "{tmp_path / "cert.pem"}"\ntls_key_file = "{tmp_path / "key.pem"}"\n')
    out = subprocess.run([WHARF_BIN, "serve", "--config", str(conf), "--data-dir", str(tmp_path / "d"),
                          "--api-listen", "127.0.0.1:0", "--edge-listen", "127.0.0.1:0",
                          "--edge-tls-listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert "do not go together" in out.stderr


@pytest.mark.parametrize("missing", ["tls_cert_file", "tls_key_file"])
def test_tls_listener_needs_certificate_and_key(tmp_path, missing):
    conf = tmp_path / "wharf.toml"
    other = "tls_key_file" if missing == "tls_cert_file" else "tls_cert_file"
    conf.write_text(f'[edge]\n{other} = "{tmp_path / "x.pem"}"\n')
    out = subprocess.run([WHARF_BIN, "serve", "--config", str(conf), "--data-dir", str(tmp_path / "d"),
                          "--api-listen", "127.0.0.1:0", "--edge-listen", "127.0.0.1:0",
                          "--edge-tls-listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
    assert out.returncode != 0 and missing in out.stderr
