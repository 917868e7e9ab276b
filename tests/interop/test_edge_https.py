"""The edge over HTTPS (`--edge-tls-listen`, `[edge] tls_cert_file` / `tls_key_file`), driven
with curl as a viewer would: the viewer protocol policies, one cache for both schemes, and
`match-viewer` origins reached with the viewer's scheme."""

import re
import signal
import socket
import subprocess
import threading
import time
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


def curl(edge, name, path, https=True, extra=(), version="--http1.1", ca=None):  # noqa: F811
    port = edge.edge_tls_port if https else edge.edge_port
    scheme = "https" if https else "http"
    out = subprocess.run(
        ["curl", "-sS", "-i", version, "--cacert", str(ca or edge.ca_file),
         "--resolve", f"{name}:{port}:127.0.0.1", *extra, f"{scheme}://{name}:{port}{path}"],
        capture_output=True, timeout=30, check=True).stdout
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    r = Curl(int(lines[0].split()[1]), headers, body)
    r.version = lines[0].split()[0]
    return r


def site(edge, origin, policy="allow-all", origin_cfg=None, cache_policy=CACHING_OPTIMIZED,  # noqa: F811
         alias=None, **extra):
    did = "S" + uuid.uuid4().hex[:10].upper()
    alias = alias or f"{did.lower()}.edge.test"
    cfg = distribution([origin_cfg or custom_origin("o", origin.port)],
                       behavior("o", cache_policy, ViewerProtocolPolicy=policy),
                       Aliases={"Quantity": 1, "Items": [alias]}, **extra)
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
    # CloudFront's result type for a redirect to HTTPS is Redirect.
    assert r.h("x-cache") == "Redirect from cloudfront"
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


def test_https_viewers_get_http2_unless_the_distribution_says_http1_1(edge, origin):  # noqa: F811
    p = path()
    origin.routes[p] = Route(b"over h2", headers={"Content-Type": "text/plain"})
    name = site(edge, origin)  # no HttpVersion: CloudFront's default, http2
    r = curl(edge, name, p, version="--http2")
    assert r.version == "HTTP/2" and r.status == 200 and r.body == b"over h2"
    assert r.h("x-cache") == "Miss from cloudfront" and r.h("x-amz-cf-id")
    r = curl(edge, name, p, version="--http2")
    assert r.version == "HTTP/2" and r.h("x-cache") == "Hit from cloudfront"
    assert origin.count(p) == 1
    # Several requests on one HTTP/2 connection, each answered in full.
    out = subprocess.run(
        ["curl", "-sS", "--http2", "--cacert", str(edge.ca_file),
         "--resolve", f"{name}:{edge.edge_tls_port}:127.0.0.1", "-w", "%{http_version} %{num_connects}\n",
         *[f"https://{name}:{edge.edge_tls_port}{p}"] * 3],
        capture_output=True, timeout=30, check=True).stdout.decode()
    assert out.count("over h2") == 3
    assert [line.split() for line in out.split("over h2") if line.strip()] == [["2", "1"], ["2", "0"], ["2", "0"]]

    old = site(edge, origin, HttpVersion="http1.1")
    r = curl(edge, old, p, version="--http2")
    assert r.version == "HTTP/1.1" and r.status == 200 and r.body == b"over h2"


def test_a_distribution_serves_its_own_certificate_by_sni(edge, origin):  # noqa: F811
    import trustme
    own_ca = trustme.CA()
    cert_id = str(uuid.uuid4())
    certs = edge.dists / "certificates"
    certs.mkdir(exist_ok=True)
    name = f"shop-{uuid.uuid4().hex[:8]}.example.test"
    own_ca.issue_cert(name).private_key_and_cert_chain_pem.write_to_path(str(certs / f"{cert_id}.pem"))
    p = path()
    origin.routes[p] = Route(b"own certificate")
    site(edge, origin, alias=name, ViewerCertificate={
        "ACMCertificateArn": f"arn:aws:acm:us-east-1:123456789012:certificate/{cert_id}",
        "SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"})
    r = curl(edge, name, p, ca=own_ca_file(own_ca, edge.dists.parent))
    assert r.status == 200 and r.body == b"own certificate"
    # The listener's default certificate is not the one presented for that name...
    out = subprocess.run(["curl", "-sS", "--cacert", str(edge.ca_file), "--resolve",
                          f"{name}:{edge.edge_tls_port}:127.0.0.1", f"https://{name}:{edge.edge_tls_port}{p}"],
                         capture_output=True, timeout=30)
    assert out.returncode == 60, out
    # ...and other names still get it.
    other = site(edge, origin)
    assert curl(edge, other, p).body == b"own certificate"


def own_ca_file(ca, base):
    f = base / f"ca-{uuid.uuid4().hex[:8]}.pem"
    ca.cert_pem.write_to_path(str(f))
    return f


def test_certificate_problems_keep_a_distribution_from_loading(edge, origin):  # noqa: F811
    import trustme
    certs = edge.dists / "certificates"
    certs.mkdir(exist_ok=True)
    cert_id = str(uuid.uuid4())
    trustme.CA().issue_cert("elsewhere.example.test").private_key_and_cert_chain_pem.write_to_path(
        str(certs / f"{cert_id}.pem"))
    p = path()
    origin.routes[p] = Route(b"should not be served")
    bad = {
        # The certificate does not cover the alias (CloudFront: InvalidViewerCertificate).
        "uncovered": {"ACMCertificateArn": f"arn:aws:acm:us-east-1:123456789012:certificate/{cert_id}",
                      "SSLSupportMethod": "sni-only"},
        # No such certificate.
        "missing": {"IAMCertificateId": "ASCANOSUCHCERT", "SSLSupportMethod": "sni-only"},
        # Not in us-east-1.
        "region": {"ACMCertificateArn": f"arn:aws:acm:eu-west-1:123456789012:certificate/{cert_id}",
                   "SSLSupportMethod": "sni-only"},
    }
    ids = {}
    for why, vc in bad.items():
        did = "B" + uuid.uuid4().hex[:10].upper()
        cfg = distribution([custom_origin("o", origin.port)], behavior("o", CACHING_OPTIMIZED),
                           Aliases={"Quantity": 1, "Items": [f"{why}.example.test"]}, ViewerCertificate=vc)
        (edge.dists / f"{did}.json").write_text(__import__("json").dumps(cfg))
        ids[why] = did
    # A good distribution written after them loads, so the directory was read again.
    site(edge, origin)
    for why, did in ids.items():
        r = request(edge.edge_port, p, host=f"{did.lower()}.localhost")
        assert r.status == 403 and b"We can't connect" in r.body, why
        (edge.dists / f"{did}.json").unlink()


def test_a_request_line_claiming_https_over_plain_http_is_plain(edge, origin):  # noqa: F811
    name = site(edge, origin, "https-only")
    p = path()
    origin.routes[p] = Route(b"only tls")
    r = curl(edge, name, p, https=False, extra=["--request-target", f"https://{name}{p}"])
    assert r.status == 403
    assert origin.count(p) == 0


def test_minimum_protocol_version_tls1_3_refuses_tls1_2(edge, origin):  # noqa: F811
    p = path()
    origin.routes[p] = Route(b"modern")
    strict = site(edge, origin, ViewerCertificate={"CloudFrontDefaultCertificate": True,
                                                   "MinimumProtocolVersion": "TLSv1.3_2025"})
    relaxed = site(edge, origin, ViewerCertificate={"CloudFrontDefaultCertificate": True,
                                                    "MinimumProtocolVersion": "TLSv1.2_2021"})
    assert curl(edge, strict, p).body == b"modern"
    assert curl(edge, relaxed, p, extra=["--tls-max", "1.2"]).body == b"modern"
    out = subprocess.run(["curl", "-sS", "--tls-max", "1.2", "--cacert", str(edge.ca_file), "--resolve",
                          f"{strict}:{edge.edge_tls_port}:127.0.0.1", f"https://{strict}:{edge.edge_tls_port}{p}"],
                         capture_output=True, timeout=30)
    assert out.returncode == 35, out  # curl: the TLS handshake failed


def test_wildcard_alias_answers_one_label_and_an_exact_alias_wins(edge, origin):  # noqa: F811
    zone = f"wild{uuid.uuid4().hex[:8]}.edge.test"
    p = path()
    origin.routes[p] = Route(b"from the wildcard")
    other = Origin()
    try:
        other.routes[p] = Route(b"from the exact alias")
        site(edge, origin, alias=f"*.{zone}")
        site(edge, other, alias=f"www.{zone}")
        assert request(edge.edge_port, p, host=f"a.{zone}").body == b"from the wildcard"
        assert curl(edge, f"b.{zone}", p, https=False).body == b"from the wildcard"
        assert request(edge.edge_port, p, host=f"www.{zone}").body == b"from the exact alias"
        r = request(edge.edge_port, p, host=f"a.b.{zone}")
        assert r.status == 403 and b"We can't connect" in r.body
    finally:
        other.stop()


def test_graceful_shutdown_finishes_https_and_http2_requests_in_flight(tmp_path, origin):  # noqa: F811
    """SIGTERM closes the listeners at once; a slow HTTPS response already under way (HTTP/1.1
    and HTTP/2) still completes, and the process then exits 0."""

    import trustme
    from conftest import Wharf
    ca = trustme.CA()
    ca.issue_cert("*.edge.test").private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "v.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    dists = tmp_path / "dists"
    dists.mkdir()
    conf = tmp_path / "wharf.toml"
    conf.write_text(f'[edge]\ndistributions_dir = "{dists}"\n'
                    f'tls_cert_file = "{tmp_path / "v.pem"}"\ntls_key_file = "{tmp_path / "v.pem"}"\n')
    w = Wharf(tmp_path / "data").start("--config", str(conf), "--edge-tls-listen", "127.0.0.1:0")
    try:
        w.ca_file, w.dists = tmp_path / "ca.pem", dists
        name = site(w, origin)
        p = path()
        origin.routes[p] = Route(b"slow but whole", delay=2.0)
        results = {}

        def fetch(version):
            results[version] = subprocess.run(
                ["curl", "-sS", version, "--cacert", str(w.ca_file), "-w", " %{http_version}",
                 "--resolve", f"{name}:{w.edge_tls_port}:127.0.0.1", f"https://{name}:{w.edge_tls_port}{p}?{version}"],
                capture_output=True, timeout=30)

        threads = [threading.Thread(target=fetch, args=(v,)) for v in ("--http1.1", "--http2")]
        for t in threads:
            t.start()
        time.sleep(0.8)
        w.proc.send_signal(signal.SIGTERM)
        for t in threads:
            t.join()
        assert w.proc.wait(timeout=30) == 0
        assert results["--http1.1"].stdout == b"slow but whole 1.1", results["--http1.1"]
        assert results["--http2"].stdout == b"slow but whole 2", results["--http2"]
    finally:
        if w.proc.poll() is None:
            w.stop()


def test_signed_url_over_https_and_http2(edge, origin):  # noqa: F811
    """A URL signed for https://NAME:PORT/… works over HTTP/2, where the host arrives as
    `:authority`, and only over HTTPS: the scheme is part of what was signed."""
    import datetime
    import json

    from botocore.signers import CloudFrontSigner
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = "K" + uuid.uuid4().hex[:12].upper()
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    for sub, name, doc in (("public-keys", kid, {"CallerReference": kid, "Name": kid, "EncodedKey": pem}),
                           ("key-groups", f"g-{kid}", {"Name": "g", "Items": [kid]})):
        (edge.dists / sub).mkdir(exist_ok=True)
        (edge.dists / sub / f"{name}.json").write_text(json.dumps(doc))
    trusted = {"Enabled": True, "Quantity": 1, "Items": [f"g-{kid}"]}
    did = "S" + uuid.uuid4().hex[:10].upper()
    name = f"{did.lower()}.edge.test"
    deploy(edge.dists, edge.edge_port, did, distribution(
        [custom_origin("o", origin.port)], behavior("o", CACHING_OPTIMIZED, TrustedKeyGroups=trusted),
        Aliases={"Quantity": 1, "Items": [name]}), probe="/")
    p = path()
    origin.routes[p] = Route(b"signed over h2")
    signer = CloudFrontSigner(kid, lambda m: key.sign(m, padding.PKCS1v15(), hashes.SHA1()))
    url = signer.generate_presigned_url(
        f"https://{name}:{edge.edge_tls_port}{p}",
        date_less_than=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1))
    target = url.split(str(edge.edge_tls_port), 1)[1]
    r = curl(edge, name, target, version="--http2")
    assert r.version == "HTTP/2" and r.status == 200 and r.body == b"signed over h2", r.body
    r = curl(edge, name, target, https=False)
    assert r.status == 403 and b"<Code>AccessDenied</Code>" in r.body


class HelloTap:
    """A TCP relay in front of the edge's HTTPS listener that keeps what the client sends
    first (its ClientHello), so the test can fingerprint it with independent implementations."""

    def __init__(self, target_port):
        self.target = target_port
        self.sent = b""
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.sent = b""
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, src, dst, keep):
        try:
            while data := src.recv(65536):
                if keep and len(self.sent) < 65536:
                    self.sent += data
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def close(self):
        self.server.close()


def ja3_by_salesforce(sent):
    """JA3 as Salesforce's reference (pyja3) reads it from a capture: the ClientHello's record
    as one TCP segment of a one-packet pcap."""
    import io

    import dpkt
    from ja3.ja3 import process_pcap

    record = sent[:5 + int.from_bytes(sent[3:5], "big")]
    tcp = dpkt.tcp.TCP(sport=40000, dport=443, flags=dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH, data=record)
    ip = dpkt.ip.IP(src=socket.inet_aton("127.0.0.1"), dst=socket.inet_aton("127.0.0.1"),
                    p=dpkt.ip.IP_PROTO_TCP, data=tcp)
    eth = dpkt.ethernet.Ethernet(type=dpkt.ethernet.ETH_TYPE_IP, data=ip)
    pcap = io.BytesIO()
    dpkt.pcap.Writer(pcap).writepkt(bytes(eth), ts=0)
    pcap.seek(0)
    [found] = process_pcap(dpkt.pcap.Reader(pcap), any_port=True)
    return found["ja3_digest"]


def ja4_by_ja4plus(sent):
    from ja4plus import generate_ja4
    from ja4plus.utils.tls_utils import parse_tls_handshake

    return generate_ja4(parse_tls_handshake(sent))


def test_viewer_tls_and_ja3_ja4_fingerprints_reach_the_origin(edge, origin):  # noqa: F811
    """`CloudFront-Viewer-TLS`, `-JA3-Fingerprint` and `-JA4-Fingerprint`, when an origin
    request policy names them: made from the viewer's own ClientHello (curl's over HTTP/1.1 and
    HTTP/2, Python's ssl module's), as the JA3 reference and a JA4 library read the same bytes;
    none over plain HTTP, and a viewer's forged ones never pass."""
    import json
    import ssl

    names = ["CloudFront-Viewer-TLS", "CloudFront-Viewer-JA3-Fingerprint", "CloudFront-Viewer-JA4-Fingerprint"]
    pid = uuid.uuid4().hex
    (edge.dists / "origin-request-policies").mkdir(exist_ok=True)
    (edge.dists / "origin-request-policies" / f"{pid}.json").write_text(json.dumps({
        "Name": "tls", "HeadersConfig": {"HeaderBehavior": "whitelist",
                                         "Headers": {"Quantity": len(names), "Items": names}},
        "CookiesConfig": {"CookieBehavior": "none"}, "QueryStringsConfig": {"QueryStringBehavior": "none"}}))
    did = "S" + uuid.uuid4().hex[:10].upper()
    name = f"{did.lower()}.edge.test"
    deploy(edge.dists, edge.edge_port, did, distribution(
        [custom_origin("o", origin.port)], behavior("o", CACHING_DISABLED, OriginRequestPolicyId=pid),
        Aliases={"Quantity": 1, "Items": [name]}))
    forged = ["-H", "CloudFront-Viewer-JA3-Fingerprint: forged", "-H", "CloudFront-Viewer-TLS: forged"]
    tap = HelloTap(edge.edge_tls_port)
    try:
        seen = {}
        for client in ("--http1.1", "--http2", "python"):
            p = path()
            origin.routes[p] = Route(b"fingerprinted")
            if client == "python":
                ctx = ssl.create_default_context(cafile=str(edge.ca_file))
                with socket.create_connection(("127.0.0.1", tap.port)) as raw, \
                        ctx.wrap_socket(raw, server_hostname=name) as s:
                    s.sendall(f"GET {p} HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
                    assert s.recv(65536).startswith(b"HTTP/1.1 200")
            else:
                r = subprocess.run(
                    ["curl", "-sS", client, "--cacert", str(edge.ca_file), *forged,
                     "--resolve", f"{name}:{tap.port}:127.0.0.1", f"https://{name}:{tap.port}{p}"],
                    capture_output=True, timeout=30, check=True)
                assert r.stdout == b"fingerprinted"
            h = origin.last(p)[2]
            assert re.fullmatch(r"TLSv1\.3:TLS_[A-Z0-9_]+:fullHandshake", h["cloudfront-viewer-tls"]), h
            ja3, ja4 = h["cloudfront-viewer-ja3-fingerprint"], h["cloudfront-viewer-ja4-fingerprint"]
            assert ja3 == ja3_by_salesforce(tap.sent), client
            assert ja4 == ja4_by_ja4plus(tap.sent), client
            assert re.fullmatch(r"[0-9a-f]{32}", ja3) and re.fullmatch(r"t13d\d{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}", ja4)
            seen[client] = (ja3, ja4)
        # The ALPN the client offered is in JA4's first part: h2 for curl's HTTP/2, http/1.1 otherwise.
        assert seen["--http2"][1][8:10] == "h2" and seen["--http1.1"][1][8:10] == "h1"
        assert seen["python"][1][8:10] == "00"
    finally:
        tap.close()
    # Plain HTTP has no ClientHello and no TLS: none of the three, the forged ones removed.
    p = path()
    origin.routes[p] = Route(b"plain")
    r = curl(edge, name, p, https=False, extra=forged)
    assert r.status == 200
    h = origin.last(p)[2]
    assert not [k for k in h if k.startswith("cloudfront-")], h
