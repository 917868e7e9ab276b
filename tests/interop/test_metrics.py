"""Prometheus metrics on the console listener (`--console-listen`): scraped before and after
known traffic, every counter must move by exactly what that traffic was. The scrapes are
parsed with the Prometheus project's own Python client (its OpenMetrics parser)."""

import concurrent.futures
import http.client
import socket
import time
import urllib.request
import uuid

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from conftest import Wharf
from edge_helpers import CACHING_OPTIMIZED, behavior, custom_origin, deploy, distribution, request
from origin import Route
from test_edge import origin  # noqa: F401  (module-scoped fixture: a test origin)


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    base = tmp_path_factory.mktemp("metrics")
    dists = base / "distributions"
    dists.mkdir()
    conf = base / "wharf.toml"
    conf.write_text(f'[edge]\ndistributions_dir = "{dists}"\nmemory_cache_mb = 64\ndisk_cache_mb = 256\n')
    w = Wharf(base / "data").start("--config", str(conf))
    w.dists = dists
    yield w
    w.stop()


def scrape(node):
    with urllib.request.urlopen(f"http://127.0.0.1:{node.console_port}/metrics", timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("application/openmetrics-text")
        text = r.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted((k, str(v)) for k, v in labels.items()))), 0)


def moved(before, after, name, **labels):
    return value(after, name, **labels) - value(before, name, **labels)


def new_distribution(node, origin, **kw):
    did = "E" + uuid.uuid4().hex[:12].upper()
    host = deploy(node.dists, node.edge_port, did, distribution(
        [custom_origin("o", origin.port, **kw)], behavior("o", CACHING_OPTIMIZED)))
    return did, host


def test_edge_requests_bytes_and_origin_latency(node, origin):
    did, host = new_distribution(node, origin)
    p = f"/{uuid.uuid4().hex}"
    origin.routes[p] = Route(b"x" * 1000, headers={"Cache-Control": "max-age=600"})
    missing = f"/{uuid.uuid4().hex}"
    origin.routes[missing] = Route(b"nope", status=404)
    before = scrape(node)
    assert request(node.edge_port, p, host=host).x_cache == "Miss from cloudfront"
    for _ in range(2):
        assert request(node.edge_port, p, host=host).x_cache == "Hit from cloudfront"
    r = request(node.edge_port, p, host=host, headers={"Range": "bytes=0-9"})
    assert r.status == 206 and len(r.body) == 10
    assert request(node.edge_port, missing, host=host).status == 404
    # A HEAD answers with no body, whatever its Content-Length says.
    assert request(node.edge_port, p, host=host, method="HEAD").x_cache == "Hit from cloudfront"
    after = scrape(node)
    d = dict(distribution=did)
    assert moved(before, after, "wharf_edge_requests_total", status_class="2xx", result="Miss", **d) == 1
    assert moved(before, after, "wharf_edge_requests_total", status_class="2xx", result="Hit", **d) == 4
    assert moved(before, after, "wharf_edge_requests_total", status_class="4xx", result="Miss", **d) == 1
    assert moved(before, after, "wharf_edge_response_bytes_total", result="Miss", **d) == 1000 + 4
    assert moved(before, after, "wharf_edge_response_bytes_total", result="Hit", **d) == 2 * 1000 + 10
    assert moved(before, after, "wharf_edge_origin_request_duration_seconds_count", **d) == 2
    assert moved(before, after, "wharf_edge_origin_request_duration_seconds_bucket", le="+Inf", **d) == 2
    assert moved(before, after, "wharf_edge_origin_errors_total", kind="5xx", **d) == 0
    assert value(after, "wharf_edge_cache_bytes", tier="memory") > 0
    assert value(after, "wharf_edge_cache_bytes", tier="disk") >= 1000


def test_origin_errors_by_kind(node, origin):
    did, host = new_distribution(node, origin)
    p = f"/{uuid.uuid4().hex}"
    origin.routes[p] = Route(b"down", status=503)
    # A port nothing listens on: the connection is refused.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    dead_id = "E" + uuid.uuid4().hex[:12].upper()
    dead_host = deploy(node.dists, node.edge_port, dead_id, distribution(
        [custom_origin("o", closed)], behavior("o", CACHING_OPTIMIZED)))
    before = scrape(node)
    assert request(node.edge_port, p, host=host).status == 503
    assert request(node.edge_port, "/x", host=dead_host).status == 502
    after = scrape(node)
    assert moved(before, after, "wharf_edge_origin_errors_total", distribution=did, kind="5xx") == 1
    assert moved(before, after, "wharf_edge_origin_errors_total", distribution=dead_id, kind="connect") == 1
    assert moved(before, after, "wharf_edge_requests_total", distribution=dead_id,
                 status_class="5xx", result="Error") == 1


def test_collapsed_waiters(node, origin):
    did, host = new_distribution(node, origin)
    p = f"/{uuid.uuid4().hex}"
    origin.routes[p] = Route(b"slow" * 100, headers={"Cache-Control": "max-age=600"}, delay=1.0)
    before = scrape(node)
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        got = list(pool.map(lambda _: request(node.edge_port, p, host=host), range(5)))
    assert all(r.status == 200 for r in got)
    assert origin.count(p) == 1
    after = scrape(node)
    assert moved(before, after, "wharf_edge_collapsed_waiters_total", distribution=did) == 4


def test_invalidations(node, origin):
    did, _ = new_distribution(node, origin)
    before = scrape(node)
    node.aws("cloudfront", "create-invalidation", "--distribution-id", did, "--paths", "/a", "/b*")
    after = scrape(node)
    assert moved(before, after, "wharf_edge_invalidations_total", distribution=did) == 1


def test_s3_requests_bytes_and_latency(node):
    s3 = node.client()
    bucket = f"metrics-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    before = scrape(node)
    s3.put_object(Bucket=bucket, Key="k", Body=b"y" * 1000)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"y" * 1000
    s3.head_object(Bucket=bucket, Key="k")
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=bucket, Key="absent")
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k"}]})
    after = scrape(node)
    assert moved(before, after, "wharf_s3_requests_total", operation="PutObject", status=200) == 1
    assert moved(before, after, "wharf_s3_requests_total", operation="GetObject", status=200) == 1
    assert moved(before, after, "wharf_s3_requests_total", operation="GetObject", status=404) == 1
    assert moved(before, after, "wharf_s3_requests_total", operation="HeadObject", status=200) == 1
    assert moved(before, after, "wharf_s3_requests_total", operation="DeleteObjects", status=200) == 1
    assert moved(before, after, "wharf_s3_received_bytes_total", operation="PutObject") == 1000
    assert moved(before, after, "wharf_s3_sent_bytes_total", operation="GetObject") >= 1000
    assert moved(before, after, "wharf_s3_request_duration_seconds_count", operation="GetObject") == 2
    # A request whose signature is wrong reaches no operation.
    bad = node.client(secret_key="wrong-secret-key-wrong-secret-key-xx")
    with pytest.raises(Exception):
        bad.list_buckets()
    again = scrape(node)
    assert moved(after, again, "wharf_s3_requests_total", operation="Unknown", status=403) == 1


def test_open_connections_by_listener(node):
    before = value(scrape(node), "wharf_open_connections", listener="edge")
    conn = http.client.HTTPConnection("127.0.0.1", node.edge_port, timeout=10)
    conn.request("GET", "/", headers={"Host": "nobody.localhost"})
    conn.getresponse().read()
    assert value(scrape(node), "wharf_open_connections", listener="edge") == before + 1
    conn.close()
    deadline = time.time() + 10
    while value(scrape(node), "wharf_open_connections", listener="edge") != before:
        assert time.time() < deadline, "the closed connection is still counted"
        time.sleep(0.05)


def test_console_answers_only_metrics(node):
    conn = http.client.HTTPConnection("127.0.0.1", node.console_port, timeout=10)
    conn.request("GET", "/")
    r = conn.getresponse()
    r.read()
    assert r.status == 404
    conn.request("POST", "/metrics", body=b"")
    r = conn.getresponse()
    r.read()
    assert r.status == 405 and r.getheader("Allow") == "GET, HEAD"
    conn.close()
