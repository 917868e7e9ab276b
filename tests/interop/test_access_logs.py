"""CloudFront standard access logs: a distribution whose `Logging` names a bucket gets gzip
log files in it, named `PREFIX/ID.YYYY-MM-DD-HH.UNIQUE.gz`, with one line per viewer request
in CloudFront's 33 fields. Lines are checked field by field for a miss, a hit, a range, an
error, a redirect and an HTTPS request; the files are read with GoAccess's CLOUDFRONT format
(the Debian package), and the files open at shutdown are delivered before the node stops."""

import datetime
import gzip
import http.client
import json
import re
import socket
import ssl
import subprocess
import time
import urllib.request
import uuid

import pytest
import trustme

from conftest import Wharf
from edge_helpers import CACHING_OPTIMIZED, behavior, custom_origin, deploy, distribution
from origin import Route
from test_edge import origin  # noqa: F401  (module-scoped fixture: a test origin)

FIELDS = ("date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status "
          "cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id "
          "x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher "
          "x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port "
          "time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len "
          "sc-range-start sc-range-end").split()


def start_node(base, delivery_secs):
    dists = base / "distributions"
    dists.mkdir()
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(base / "ca.pem"))
    ca.issue_cert("*.logs.test", "localhost").private_key_and_cert_chain_pem.write_to_path(
        str(base / "viewer.pem"))
    conf = base / "wharf.toml"
    conf.write_text(f'[edge]\ndistributions_dir = "{dists}"\nmemory_cache_mb = 64\ndisk_cache_mb = 0\n'
                    f'tls_cert_file = "{base / "viewer.pem"}"\ntls_key_file = "{base / "viewer.pem"}"\n')
    w = Wharf(base / "data", extra_env={"WHARF_EDGE_LOG_DELIVERY_SECS": str(delivery_secs)})
    w.start("--config", str(conf), "--edge-tls-listen", "127.0.0.1:0")
    w.dists, w.ca_file, w.conf = dists, base / "ca.pem", conf
    return w


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    w = start_node(tmp_path_factory.mktemp("logs"), delivery_secs=1)
    yield w
    w.stop()


class Viewer:
    """One request, with what the log must say of it: the response and the client's port."""

    def __init__(self, port, path, host, headers=None, method="GET", tls_ca=None, sni=None):
        if tls_ca:
            # The certificate names *.logs.test, asked for by SNI on a connection to 127.0.0.1.
            ctx = ssl.create_default_context(cafile=str(tls_ca))
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30),
                                        server_hostname=sni)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.connect()
        self.client_port = conn.sock.getsockname()[1]
        hdrs = {"Host": host, **(headers or {})}
        conn.request(method, path, headers=hdrs)
        r = conn.getresponse()
        self.body = r.read()
        self.status = r.status
        self.headers = {k.lower(): v for k, v in r.getheaders()}
        self.request_id = self.headers["x-amz-cf-id"]
        conn.close()


def new_site(node, origin, bucket, prefix="edge/", cookies=True, **kw):  # noqa: F811
    did = "E" + uuid.uuid4().hex[:12].upper()
    logging = {"Enabled": True, "IncludeCookies": cookies, "Bucket": f"{bucket}.s3.amazonaws.com",
               "Prefix": prefix}
    host = deploy(node.dists, node.edge_port, did, distribution(
        [custom_origin("o", origin.port)], behavior("o", CACHING_OPTIMIZED, **kw),
        Aliases={"Quantity": 1, "Items": [f"{did.lower()}.logs.test"]}, Logging=logging))
    return did, host


def log_objects(s3, bucket):
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def read_lines(s3, bucket, keys):
    """Every log line of the files `keys`, checking each file's two header lines."""
    lines = []
    for k in keys:
        text = gzip.decompress(s3.get_object(Bucket=bucket, Key=k)["Body"].read()).decode()
        rows = text.split("\n")
        assert rows[0] == "#Version: 1.0"
        assert rows[1] == "#Fields: " + " ".join(FIELDS)
        assert rows[-1] == "", "a file ends with a line end"
        lines += rows[2:-1]
    return lines


def wait_for_lines(s3, bucket, request_ids, timeout=20):
    """Log lines by request id, once every id in `request_ids` has been delivered."""
    deadline = time.time() + timeout
    while True:
        keys = log_objects(s3, bucket)
        by_id = {}
        for line in read_lines(s3, bucket, keys):
            f = line.split("\t")
            assert len(f) == 33, line
            by_id[f[14]] = dict(zip(FIELDS, f))
        if all(i in by_id for i in request_ids):
            return keys, by_id
        if time.time() > deadline:
            raise AssertionError(f"log lines missing; have {sorted(by_id)}")
        time.sleep(0.3)


def check_common(line, v, host, did, method="GET"):
    """The fields every line has, whatever its result."""
    now = datetime.datetime.now(datetime.timezone.utc)
    logged = datetime.datetime.strptime(f"{line['date']} {line['time']}", "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)
    assert abs((now - logged).total_seconds()) < 120
    assert line["x-edge-location"] == v.headers["x-amz-cf-pop"]
    assert line["c-ip"] == "127.0.0.1"
    assert line["c-port"] == str(v.client_port)
    assert line["cs-method"] == method
    assert line["cs(Host)"] == f"{did.lower()}.localhost"
    assert line["x-host-header"] == host
    assert line["x-edge-request-id"] == v.request_id
    assert line["sc-status"] == str(v.status)
    assert line["fle-status"] == "-" and line["fle-encrypted-fields"] == "-"
    assert line["x-forwarded-for"] == "-"
    taken, ttfb = float(line["time-taken"]), float(line["time-to-first-byte"])
    assert re.fullmatch(r"\d+\.\d{3}", line["time-taken"]) and 0 <= ttfb <= taken < 30
    assert int(line["cs-bytes"]) > len(host)
    # The header block and the body: more than the body alone.
    assert int(line["sc-bytes"]) > len(v.body) + 100
    assert line["sc-content-type"] == v.headers.get("content-type", "-")
    assert line["sc-content-len"] == v.headers.get("content-length", "-")


def test_lines_for_a_miss_a_hit_a_range_and_an_error(node, origin):  # noqa: F811
    s3 = node.client()
    bucket = f"cf-logs-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    did, host = new_site(node, origin, bucket)
    p = f"/docs/{uuid.uuid4().hex} a.txt".replace(" ", "%20")
    origin.routes[p.replace("%20", " ")] = origin.routes[p] = Route(
        b"x" * 1000, headers={"Cache-Control": "max-age=600", "Content-Type": "text/plain"})
    viewer_headers = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Probe/1.0",
                      "Referer": "https://ref.example/from here", "Cookie": "session=abc; theme=dark"}
    miss = Viewer(node.edge_port, p + "?v=1&q=a%20b", host, viewer_headers)
    hit = Viewer(node.edge_port, p, host, viewer_headers)
    ranged = Viewer(node.edge_port, p, host, {"Range": "bytes=0-9"})
    missing = f"/{uuid.uuid4().hex}"
    origin.routes[missing] = Route(b"not here", status=404, headers={"Content-Type": "text/plain"})
    error = Viewer(node.edge_port, missing, host)
    head = Viewer(node.edge_port, p, host, method="HEAD")
    assert (miss.status, hit.status, ranged.status, error.status, head.status) == (200, 200, 206, 404, 200)
    assert hit.headers["x-cache"] == "Hit from cloudfront"
    views = [miss, hit, ranged, error, head]
    keys, lines = wait_for_lines(s3, bucket, [v.request_id for v in views])
    for k in keys:
        assert re.fullmatch(rf"edge/{did}\.\d{{4}}-\d\d-\d\d-\d\d\.[A-Z0-9]{{8}}\.gz", k), k

    line = lines[miss.request_id]
    check_common(line, miss, host, did)
    assert line["cs-uri-stem"] == p.replace("%20", "%2520")
    assert line["cs-uri-query"] == "v=1&q=a%2520b"
    assert line["cs(User-Agent)"] == "Mozilla/5.0%20(X11;%20Linux%20x86_64)%20Probe/1.0"
    assert line["cs(Referer)"] == "https://ref.example/from%20here"
    assert line["cs(Cookie)"] == "session=abc;%20theme=dark"
    assert (line["x-edge-result-type"], line["x-edge-response-result-type"],
            line["x-edge-detailed-result-type"]) == ("Miss", "Miss", "Miss")
    assert (line["cs-protocol"], line["cs-protocol-version"]) == ("http", "HTTP/1.1")
    assert (line["ssl-protocol"], line["ssl-cipher"]) == ("-", "-")
    assert line["sc-content-len"] == "1000"
    assert (line["sc-range-start"], line["sc-range-end"]) == ("-", "-")
    assert int(line["sc-bytes"]) < 1000 + 1000

    line = lines[hit.request_id]
    check_common(line, hit, host, did)
    assert line["cs-uri-query"] == "-"
    assert (line["x-edge-result-type"], line["x-edge-response-result-type"],
            line["x-edge-detailed-result-type"]) == ("Hit", "Hit", "Hit")

    line = lines[ranged.request_id]
    check_common(line, ranged, host, did)
    assert (line["cs(User-Agent)"], line["cs(Referer)"], line["cs(Cookie)"]) == ("-", "-", "-")
    assert line["x-edge-result-type"] == "Hit"
    assert (line["sc-range-start"], line["sc-range-end"], line["sc-content-len"]) == ("0", "9", "10")

    line = lines[error.request_id]
    check_common(line, error, host, did)
    assert (line["x-edge-result-type"], line["x-edge-response-result-type"],
            line["x-edge-detailed-result-type"]) == ("Error", "Error", "Error")

    line = lines[head.request_id]
    check_common(line, head, host, did, method="HEAD")
    assert line["sc-content-len"] == "1000" and int(line["sc-bytes"]) < 1000


def test_https_redirects_and_edge_errors(node, origin):  # noqa: F811
    s3 = node.client()
    bucket = f"cf-logs-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    did, host = new_site(node, origin, bucket, prefix="", cookies=False,
                         ViewerProtocolPolicy="redirect-to-https")
    p = f"/{uuid.uuid4().hex}"
    origin.routes[p] = Route(b"secure", headers={"Cache-Control": "max-age=600"})
    alias = f"{did.lower()}.logs.test"
    redirected = Viewer(node.edge_port, p, alias, {"Cookie": "a=1"})
    assert redirected.status == 301
    secure = Viewer(node.edge_tls_port, p, alias, {"Cookie": "a=1"}, tls_ca=node.ca_file, sni=alias)
    assert secure.status == 200
    refused = Viewer(node.edge_tls_port, p, alias, method="DELETE", tls_ca=node.ca_file, sni=alias)
    assert refused.status == 403
    _, lines = wait_for_lines(s3, bucket, [redirected.request_id, secure.request_id, refused.request_id])

    line = lines[redirected.request_id]
    check_common(line, redirected, alias, did)
    assert (line["x-edge-result-type"], line["x-edge-detailed-result-type"]) == ("Redirect", "Redirect")
    assert line["cs(Cookie)"] == "-", "IncludeCookies is false"

    line = lines[secure.request_id]
    check_common(line, secure, alias, did)
    assert (line["cs-protocol"], line["ssl-protocol"]) == ("https", "TLSv1.3")
    assert line["ssl-cipher"] in ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                  "TLS_CHACHA20_POLY1305_SHA256")
    assert line["x-edge-result-type"] == "Miss"

    line = lines[refused.request_id]
    check_common(line, refused, alias, did, method="DELETE")
    assert (line["x-edge-result-type"], line["x-edge-detailed-result-type"]) == ("Error", "InvalidRequestMethod")


def test_viewers_that_leave_early(node, origin):  # noqa: F811
    """A viewer that goes away before the response head is logged with status 000; one that
    goes away mid-body keeps its status, with `Error`/`ClientCommError` as its result and the
    response's own result in x-edge-response-result-type, as CloudFront logs them."""
    s3 = node.client()
    bucket = f"cf-logs-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    did, host = new_site(node, origin, bucket)
    slow, big = f"/slow/{uuid.uuid4().hex}", f"/big/{uuid.uuid4().hex}"
    origin.routes[slow] = Route(b"late", delay=2.0)
    origin.routes[big] = Route(b"b" * (8 << 20), headers={"Cache-Control": "max-age=600"}, chunk_delay=0.05)
    for p in (slow, big):
        sock = socket.create_connection(("127.0.0.1", node.edge_port), timeout=10)
        sock.sendall(f"GET {p} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        if p == big:
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        time.sleep(0.5)
        sock.close()
    deadline = time.time() + 20
    while True:
        lines = {}
        for line in read_lines(s3, bucket, log_objects(s3, bucket)):
            f = dict(zip(FIELDS, line.split("\t")))
            lines[f["cs-uri-stem"]] = f
        if slow in lines and big in lines:
            break
        assert time.time() < deadline, f"log lines missing; have {sorted(lines)}"
        time.sleep(0.3)
    gone = lines[slow]
    assert (gone["sc-status"], gone["sc-bytes"], gone["x-edge-result-type"], gone["x-edge-response-result-type"],
            gone["x-edge-detailed-result-type"]) == ("000", "0", "Error", "Error", "ClientCommError")
    assert (gone["sc-content-type"], gone["sc-content-len"], gone["x-host-header"]) == ("-", "-", host)
    assert 0.3 < float(gone["time-taken"]) < 2.0
    cut = lines[big]
    assert (cut["sc-status"], cut["x-edge-result-type"], cut["x-edge-response-result-type"],
            cut["x-edge-detailed-result-type"]) == ("200", "Error", "Miss", "ClientCommError")
    assert 0 < int(cut["sc-bytes"]) < 8 << 20


def test_goaccess_reads_the_files(node, origin, tmp_path):  # noqa: F811
    s3 = node.client()
    bucket = f"cf-logs-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    did, host = new_site(node, origin, bucket)
    paths = [f"/{uuid.uuid4().hex}.html" for _ in range(3)]
    for p in paths:
        origin.routes[p] = Route(b"<p>page</p>", headers={"Cache-Control": "max-age=600",
                                                          "Content-Type": "text/html"})
    views = [Viewer(node.edge_port, p, host, {"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Firefox/120.0"})
             for p in paths for _ in range(2)]
    keys, _ = wait_for_lines(s3, bucket, [v.request_id for v in views])
    log = tmp_path / "cloudfront.log"
    with open(log, "wb") as f:
        for k in keys:
            f.write(gzip.decompress(s3.get_object(Bucket=bucket, Key=k)["Body"].read()))
    report = tmp_path / "report.json"
    subprocess.run(["goaccess", str(log), "--log-format=CLOUDFRONT", "--no-global-config",
                    "-o", str(report)], check=True, capture_output=True, timeout=60)
    r = json.loads(report.read_text())
    assert r["general"]["failed_requests"] == 0
    # The deploy probe (a 404) is logged too: ours are counted by path (GoAccess shows an
    # absent query, "-", after a "?").
    hits = {}
    for row in r["requests"]["data"] + r["static_requests"]["data"]:
        path = row["data"].split("?")[0]
        hits[path] = hits.get(path, 0) + row["hits"]["count"]
    for p in paths:
        assert hits[p] == 2, hits
    assert r["general"]["valid_requests"] == len(lines_in(log)) >= 6
    assert r["general"]["bandwidth"] == sum(int(line.split("\t")[3]) for line in lines_in(log))
    results = {row["data"]: row["hits"]["count"] for row in r["cache_status"]["data"]}
    assert results["Miss"] >= 3 and results["Hit"] == 3, results
    assert "Firefox" in {row["data"] for row in r["browsers"]["data"]}
    assert "2xx Success" in {row["data"] for row in r["status_codes"]["data"]}


def lines_in(log):
    return [line for line in log.read_text().splitlines() if not line.startswith("#")]


def test_open_files_are_delivered_at_shutdown(tmp_path, origin):  # noqa: F811
    w = start_node(tmp_path, delivery_secs=3600)
    try:
        s3 = w.client()
        bucket = f"cf-logs-{uuid.uuid4().hex[:10]}"
        s3.create_bucket(Bucket=bucket)
        did, host = new_site(w, origin, bucket)
        p = f"/{uuid.uuid4().hex}"
        origin.routes[p] = Route(b"bye")
        v = Viewer(w.edge_port, p, host)
        time.sleep(1.5)
        assert log_objects(s3, bucket) == [], "delivered only hourly here"
        assert w.stop() == 0
        w.start("--config", str(w.conf), "--edge-tls-listen", "127.0.0.1:0")
        _, lines = wait_for_lines(w.client(), bucket, [v.request_id], timeout=5)
        assert lines[v.request_id]["cs-uri-stem"] == p
    finally:
        w.stop()


def test_a_bucket_that_is_not_here_counts_a_failed_delivery(node, origin):  # noqa: F811
    did, host = new_site(node, origin, f"absent-{uuid.uuid4().hex[:10]}")
    Viewer(node.edge_port, "/x", host)
    deadline = time.time() + 15
    while time.time() < deadline:
        with urllib.request.urlopen(
                f"http://127.0.0.1:{node.console_port}/metrics", timeout=10) as r:
            text = r.read().decode()
        if f'wharf_edge_log_delivery_failures_total{{distribution="{did}"}} ' in text:
            break
        time.sleep(0.3)
    else:
        raise AssertionError("no failed delivery counted")
