"""HTTP/3: the edge answers QUIC on the UDP port of its HTTPS listener, with the same
certificates by SNI, for distributions whose `HttpVersion` is `http3` or `http2and3`, and
advertises it to their HTTPS viewers with `Alt-Svc`. Driven with aioquic's HTTP/3 client (PyPI)
for hits, ranges, a streamed fill, a request body, compression and signed URLs; headless
Chromium, with QUIC forced to the test edge and the test certificate's key pinned, loads a page
and fetches over HTTP/3; curl checks the advertisement over HTTP/2."""

import base64
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import uuid

import pytest
import trustme
from botocore.signers import CloudFrontSigner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from conftest import Wharf
from edge_helpers import CACHING_OPTIMIZED, ORIGIN_HEADERS, behavior, custom_origin, deploy, distribution
from h3_client import fetch, req
from origin import Route
from test_edge import origin  # noqa: F401  (module-scoped fixture: a test origin)
from test_edge_private_content import add_key_group, add_public_key, in_an_hour

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    base = tmp_path_factory.mktemp("h3")
    dists = base / "distributions"
    for sub in ("", "public-keys", "key-groups"):
        (dists / sub).mkdir(exist_ok=True)
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(base / "ca.pem"))
    leaf = ca.issue_cert("*.h3.test")
    leaf.private_key_and_cert_chain_pem.write_to_path(str(base / "viewer.pem"))
    conf = base / "wharf.toml"
    conf.write_text(f'[edge]\ndistributions_dir = "{dists}"\nmemory_cache_mb = 64\ndisk_cache_mb = 0\n'
                    f'tls_cert_file = "{base / "viewer.pem"}"\ntls_key_file = "{base / "viewer.pem"}"\n')
    w = Wharf(base / "data").start("--config", str(conf), "--edge-tls-listen", "127.0.0.1:0")
    banner = "".join(w.banner)
    assert f"edge HTTP/3 listening on udp://127.0.0.1:{w.edge_tls_port}" in banner, banner
    w.dists, w.ca_file = dists, base / "ca.pem"
    # What Chromium's --ignore-certificate-errors-spki-list pins: base64(SHA-256(SPKI)).
    spki = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    w.spki_pin = base64.b64encode(hashlib.sha256(spki).digest()).decode()
    yield w
    w.stop()


def site(node, origin, http_version="http2and3", default=None, behaviors=()):  # noqa: F811
    did = "E" + uuid.uuid4().hex[:12].upper()
    name = f"{did.lower()}.h3.test"
    deploy(node.dists, node.edge_port, did, distribution(
        [custom_origin("o", origin.port)], default or behavior("o", CACHING_OPTIMIZED), behaviors=behaviors,
        Aliases={"Quantity": 1, "Items": [name]}, HttpVersion=http_version))
    return name


def h3(node, name, *requests):
    return fetch(node.edge_tls_port, name, node.ca_file, list(requests))


def path():
    return f"/{uuid.uuid4().hex}"


def test_hits_ranges_and_a_streamed_fill(node, origin):  # noqa: F811
    name = site(node, origin)
    small, big = path(), path()
    body = os.urandom(3 * MIB + 7)
    origin.routes[small] = Route(b"hello over quic", headers={"Cache-Control": "max-age=600"})
    origin.routes[big] = Route(body, headers={"Cache-Control": "max-age=600"})
    miss, hit, ranged, fill, big_hit, tail = h3(
        node, name, req(small), req(small), req(small, headers=[("Range", "bytes=6-9")]),
        req(big), req(big), req(big, headers=[("Range", f"bytes={len(body) - 5}-")]))
    assert (miss.status, miss.body, miss.x_cache) == (200, b"hello over quic", "Miss from cloudfront")
    assert (hit.status, hit.x_cache) == (200, "Hit from cloudfront")
    assert hit.h("alt-svc") == f'h3=":{node.edge_tls_port}"; ma=86400'
    assert (ranged.status, ranged.body, ranged.h("content-range")) == (206, b"over", "bytes 6-9/15")
    assert fill.status == 200 and fill.body == body and fill.x_cache == "Miss from cloudfront"
    assert big_hit.body == body and big_hit.x_cache == "Hit from cloudfront"
    assert tail.status == 206 and tail.body == body[-5:]
    assert origin.count(small) == 1 and origin.count(big) == 1


def test_request_bodies_and_compression(node, origin):  # noqa: F811
    methods = ("GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE")
    name = site(node, origin, default=behavior("o", ORIGIN_HEADERS, methods=methods, Compress=True))
    p, css = path(), path()
    origin.routes[p] = Route(b"stored")
    text = b"body { color: red; margin: 0 auto; }\n" * 200
    origin.routes[css] = Route(text, headers={"Content-Type": "text/css", "Cache-Control": "max-age=600"})
    posted, zipped = h3(node, name, req(p, "POST", [("Content-Type", "text/plain")], b"x" * 100_000),
                        req(css, headers=[("Accept-Encoding", "gzip")]))
    assert posted.status == 200
    m, _, h, b = origin.last(p)
    assert m == "POST" and b == b"x" * 100_000 and h["content-type"] == "text/plain"
    assert zipped.h("content-encoding") == "gzip" and gzip.decompress(zipped.body) == text


def test_signed_urls(node, origin):  # noqa: F811
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = add_public_key(node, key)
    trusted = {"Enabled": True, "Quantity": 1, "Items": [add_key_group(node, [kid])]}
    private = behavior("o", CACHING_OPTIMIZED, pattern="/private/*", TrustedKeyGroups=trusted)
    name = site(node, origin, behaviors=[private])
    p = f"/private/{uuid.uuid4().hex}"
    origin.routes[p] = Route(b"secret")
    signer = CloudFrontSigner(kid, lambda m: key.sign(m, padding.PKCS1v15(), hashes.SHA1()))
    url = signer.generate_presigned_url(f"https://{name}{p}", date_less_than=in_an_hour())
    signed, unsigned = h3(node, name, req(url.split(name, 1)[1]), req(p))
    assert (signed.status, signed.body) == (200, b"secret")
    assert unsigned.status == 403 and b"MissingKey" in unsigned.body


def test_http_version_decides_who_gets_http3(node, origin):  # noqa: F811
    only3, no3 = site(node, origin, "http3"), site(node, origin, "http2")
    p = path()
    origin.routes[p] = Route(b"v", headers={"Cache-Control": "max-age=600"})
    assert h3(node, only3, req(p))[0].status == 200
    # No certificate over QUIC for a distribution without HTTP/3: the handshake fails.
    with pytest.raises(Exception):
        h3(node, no3, req(p))

    def curl(name, *extra):
        out = subprocess.run(
            ["curl", "-sS", "-o", "/dev/null", "-D", "-", "--cacert", str(node.ca_file), *extra,
             "--resolve", f"{name}:{node.edge_tls_port}:127.0.0.1", f"https://{name}:{node.edge_tls_port}{p}"],
            capture_output=True, text=True, timeout=30, check=True).stdout.lower()
        return out

    # `http3` is HTTP/3 and HTTP/1.1, without HTTP/2 (as CloudFront's); `http2` has no Alt-Svc.
    head = curl(only3, "--http2")
    assert head.startswith("http/1.1 200") and f'alt-svc: h3=":{node.edge_tls_port}"; ma=86400' in head
    head = curl(no3, "--http2")
    assert head.startswith("http/2 200") and "alt-svc" not in head
    # Plain HTTP viewers are not told about HTTP/3.
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-D", "-", "-H", f"Host: {only3}",
                        f"http://127.0.0.1:{node.edge_port}{p}"], capture_output=True, text=True, check=True)
    assert "alt-svc" not in r.stdout.lower()


CHROMIUM_PAGE = """<!doctype html><html><body><pre id="out"></pre><script>
(async () => {
  const out = {page: performance.getEntriesByType("navigation")[0].nextHopProtocol};
  // no-store: the browser's own cache must not answer the second fetch.
  const get = async (url, init) => {
    const r = await fetch(url, {cache: "no-store", ...init});
    return {status: r.status, body: await r.text(), cache: r.headers.get("x-cache"),
            range: r.headers.get("content-range")};
  };
  try {
    out.miss = await get("DATA");
    out.hit = await get("DATA");
    out.range = await get("DATA", {headers: {Range: "bytes=6-9"}});
    out.signed = await get("SIGNED");
    out.unsigned = await get("PRIVATE");
    out.fetches = performance.getEntriesByType("resource").map(e => e.nextHopProtocol);
  } catch (e) {
    out.error = String(e);
  }
  document.getElementById("out").textContent = JSON.stringify(out);
})();
</script></body></html>"""


def test_chromium_over_quic(node, origin, tmp_path):  # noqa: F811
    chromium = shutil.which("chromium")
    assert chromium, "scripts/install-test-deps installs chromium"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = add_public_key(node, key)
    trusted = {"Enabled": True, "Quantity": 1, "Items": [add_key_group(node, [kid])]}
    private = behavior("o", CACHING_OPTIMIZED, pattern="/private/*", TrustedKeyGroups=trusted)
    name = site(node, origin, "http3", behaviors=[private])
    page, data, secret = path(), path(), f"/private/{uuid.uuid4().hex}"
    origin.routes[data] = Route(b"hello over quic", headers={"Cache-Control": "max-age=600"})
    origin.routes[secret] = Route(b"secret")
    signer = CloudFrontSigner(kid, lambda m: key.sign(m, padding.PKCS1v15(), hashes.SHA1()))
    port = node.edge_tls_port
    # A browser's Host names the port, so the signed URL does too.
    signed = signer.generate_presigned_url(f"https://{name}:{port}{secret}", date_less_than=in_an_hour())
    html = CHROMIUM_PAGE.replace("DATA", data).replace("SIGNED", signed.split(f"{name}:{port}", 1)[1]).replace("PRIVATE", secret)
    origin.routes[page] = Route(html.encode(), headers={"Content-Type": "text/html"})
    out = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
         "--enable-quic", f"--origin-to-force-quic-on={name}:{port}",
         f"--host-resolver-rules=MAP {name} 127.0.0.1", f"--ignore-certificate-errors-spki-list={node.spki_pin}",
         "--dump-dom", f"https://{name}:{port}{page}"],
        capture_output=True, text=True, timeout=120)
    m = re.search(r'<pre id="out">(.*?)</pre>', out.stdout)
    assert m and m.group(1), out.stdout[-2000:] + out.stderr[-2000:]
    got = json.loads(m.group(1).replace("&quot;", '"'))
    assert "error" not in got, got
    # The page and every fetch came over HTTP/3 (an `http3` distribution offers no HTTP/2, and
    # QUIC is forced, so nothing else would do).
    assert got["page"] == "h3" and got["fetches"] and set(got["fetches"]) == {"h3"}, got
    assert (got["miss"]["status"], got["miss"]["body"], got["miss"]["cache"]) == (200, "hello over quic", "Miss from cloudfront")
    assert (got["hit"]["status"], got["hit"]["cache"]) == (200, "Hit from cloudfront")
    assert (got["range"]["status"], got["range"]["body"], got["range"]["range"]) == (206, "over", "bytes 6-9/15")
    assert (got["signed"]["status"], got["signed"]["body"]) == (200, "secret")
    assert got["unsigned"]["status"] == 403
