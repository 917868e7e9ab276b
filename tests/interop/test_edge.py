"""The edge, driven over HTTP as browsers and curl drive CloudFront: distributions from
CLI-format JSON files, behaviors, managed policies, TTLs, collapsing, ranges, invalidation,
failover, custom error pages, the disk tier across a restart, CloudFront's headers."""

import concurrent.futures
import json
import os
import signal
import subprocess
import time
import uuid

import pytest
import trustme

from conftest import ACCESS_KEY, SECRET_KEY, WHARF_BIN, Wharf
from edge_helpers import (
    CACHING_DISABLED,
    CACHING_OPTIMIZED,
    ORIGIN_HEADERS,
    ORIGIN_HEADERS_QS,
    behavior,
    custom_origin,
    deploy,
    distribution,
    request,
)
from origin import Origin, Route

MIB = 1 << 20


@pytest.fixture(scope="module")
def origin():
    o = Origin()
    yield o
    o.stop()


@pytest.fixture(scope="module")
def backup():
    o = Origin()
    yield o
    o.stop()


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    base = tmp_path_factory.mktemp("edge")
    dists = base / "distributions"
    dists.mkdir()
    conf = base / "wharf.toml"
    # HTTPS origins present certificates from this CA, which the edge is told to trust.
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(base / "origin-ca.pem"))
    # The edge signs requests to S3 origins with Origin Access Control with the root key, so
    # that this node's own S3 API can stand in for a remote S3 endpoint.
    # Viewers reach the edge over HTTPS too, on aliases under edge.test, with a certificate
    # from the same CA.
    viewer_cert = ca.issue_cert("*.edge.test", "localhost")
    viewer_cert.private_key_and_cert_chain_pem.write_to_path(str(base / "viewer.pem"))
    conf.write_text(f'[edge]\ndistributions_dir = "{dists}"\nmemory_cache_mb = 64\ndisk_cache_mb = 512\n'
                    f'origin_ca_file = "{base / "origin-ca.pem"}"\n'
                    f'tls_cert_file = "{base / "viewer.pem"}"\ntls_key_file = "{base / "viewer.pem"}"\n'
                    f'[edge.origin_access]\naccess_key = "{ACCESS_KEY}"\nsecret_key = "{SECRET_KEY}"\n')
    w = Wharf(base / "data").start("--config", str(conf), "--edge-tls-listen", "127.0.0.1:0")
    w.ca_file = base / "origin-ca.pem"
    w.dists = dists
    w.conf = conf
    w.ca = ca
    yield w
    w.stop()


def new_id():
    return "E" + uuid.uuid4().hex[:12].upper()


def simple(edge, origin, policy=CACHING_OPTIMIZED, **kw):
    did = new_id()
    host = deploy(edge.dists, edge.edge_port, did, distribution(
        [custom_origin("o", origin.port)], behavior("o", policy), **kw))
    return did, host


def path():
    return f"/{uuid.uuid4().hex}"


def get(edge, host, p, **kw):
    return request(edge.edge_port, p, host=host, **kw)


def test_cloudfront_headers_miss_then_hit(edge, origin):
    _, host = simple(edge, origin)
    p = path()
    origin.routes[p] = Route(b"hello", headers={"Content-Type": "text/plain"})
    r1 = get(edge, host, p)
    assert r1.status == 200 and r1.body == b"hello"
    assert r1.x_cache == "Miss from cloudfront"
    assert r1.h("via").endswith(".cloudfront.net (CloudFront)")
    assert len(r1.h("x-amz-cf-id")) == 56
    assert r1.h("x-amz-cf-pop")
    r2 = get(edge, host, p)
    assert r2.x_cache == "Hit from cloudfront" and r2.body == b"hello"
    assert r2.h("age") is not None and int(r2.h("age")) >= 0
    assert r2.h("x-amz-cf-id") != r1.h("x-amz-cf-id")
    assert origin.count(p) == 1
    # The origin saw CloudFront's request headers.
    _, _, h, _ = origin.last(p)
    assert h["user-agent"] == "Amazon CloudFront"
    assert "x-amz-cf-id" in h and "via" in h and h["x-forwarded-for"] == "127.0.0.1"


def test_unknown_host_gets_cloudfront_error(edge):
    r = request(edge.edge_port, "/", host="nothing.example")
    assert r.status == 403 and r.x_cache == "Error from cloudfront"
    assert b"The request could not be satisfied" in r.body


def test_behavior_precedence(edge, origin, backup):
    did = new_id()
    cfg = distribution(
        [custom_origin("main", origin.port), custom_origin("api", backup.port)],
        behavior("main"),
        behaviors=[behavior("api", CACHING_DISABLED, pattern="/api/*"),
                   behavior("main", CACHING_DISABLED, pattern="/api/cached/*"),
                   behavior("api", pattern="*.jpg")],
    )
    host = deploy(edge.dists, edge.edge_port, did, cfg)
    tag = uuid.uuid4().hex
    for o in (origin, backup):
        for p in (f"/api/cached/{tag}", f"/api/{tag}", f"/img/{tag}.jpg", f"/{tag}.html"):
            o.routes[p] = Route(b"x")
    # First match wins: /api/cached/* is shadowed by /api/*.
    get(edge, host, f"/api/cached/{tag}")
    assert backup.count(f"/api/cached/{tag}") == 1 and origin.count(f"/api/cached/{tag}") == 0
    get(edge, host, f"/img/{tag}.jpg")
    assert backup.count(f"/img/{tag}.jpg") == 1
    get(edge, host, f"/{tag}.html")
    assert origin.count(f"/{tag}.html") == 1
    # /api/* uses CachingDisabled: every request reaches the origin.
    for _ in range(3):
        assert get(edge, host, f"/api/{tag}").x_cache == "Miss from cloudfront"
    assert backup.count(f"/api/{tag}") == 3


def test_caching_optimized_ignores_query_and_cookies(edge, origin):
    _, host = simple(edge, origin, CACHING_OPTIMIZED)
    p = path()
    origin.routes[p] = Route(b"v")
    get(edge, host, p + "?a=1", headers={"Cookie": "s=1"})
    r = get(edge, host, p + "?a=2", headers={"Cookie": "s=2"})
    assert r.x_cache == "Hit from cloudfront"
    assert origin.count(p) == 1
    _, forwarded, h, _ = origin.last(p)
    assert forwarded == p and "cookie" not in h


def test_query_strings_policy_keys_on_query(edge, origin):
    _, host = simple(edge, origin, ORIGIN_HEADERS_QS)
    p = path()
    origin.routes[p] = Route(b"v", headers={"Cache-Control": "max-age=60"})
    get(edge, host, p + "?a=1")
    assert get(edge, host, p + "?a=1").x_cache == "Hit from cloudfront"
    assert get(edge, host, p + "?a=2").x_cache == "Miss from cloudfront"
    assert origin.count(p) == 2
    assert origin.last(p)[1] == p + "?a=2"


def test_caching_disabled_never_stores(edge, origin):
    _, host = simple(edge, origin, CACHING_DISABLED)
    p = path()
    origin.routes[p] = Route(b"v", headers={"Cache-Control": "max-age=600"})
    for _ in range(3):
        assert get(edge, host, p).x_cache == "Miss from cloudfront"
    assert origin.count(p) == 3


def test_origin_cache_control_policy(edge, origin):
    _, host = simple(edge, origin, ORIGIN_HEADERS)
    stored, nostore, private = path(), path(), path()
    origin.routes[stored] = Route(b"a", headers={"Cache-Control": "max-age=60"})
    origin.routes[nostore] = Route(b"b", headers={"Cache-Control": "no-store"})
    origin.routes[private] = Route(b"c", headers={"Cache-Control": "private, max-age=60"})
    for p in (stored, nostore, private):
        get(edge, host, p)
        get(edge, host, p)
    assert origin.count(stored) == 1
    assert origin.count(nostore) == 2
    assert origin.count(private) == 2


def test_min_ttl_caches_no_cache_responses(edge, origin):
    # CachingOptimized has MinTTL 1: CloudFront caches even "no-cache" for that second.
    _, host = simple(edge, origin, CACHING_OPTIMIZED)
    p = path()
    origin.routes[p] = Route(b"v", headers={"Cache-Control": "no-cache"})
    # The origin's Date has one-second precision, and a response's age counts from it (RFC
    # 9111's apparent age): start just after a second begins, so the one second of MinTTL is
    # not used up by the Date's rounding before the second request.
    time.sleep(1.02 - time.time() % 1)
    get(edge, host, p)
    assert get(edge, host, p).x_cache == "Hit from cloudfront"
    assert origin.count(p) == 1


def test_ttl_clamping_with_custom_policy(edge, origin):
    pol_dir = edge.dists / "cache-policies"
    pol_dir.mkdir(exist_ok=True)
    pid = uuid.uuid4().hex
    (pol_dir / f"{pid}.json").write_text(
        '{"Name": "clamp", "MinTTL": 2, "DefaultTTL": 2, "MaxTTL": 3,'
        ' "ParametersInCacheKeyAndForwardedToOrigin": {"EnableAcceptEncodingGzip": false,'
        ' "HeadersConfig": {"HeaderBehavior": "none"}, "CookiesConfig": {"CookieBehavior": "none"},'
        ' "QueryStringsConfig": {"QueryStringBehavior": "none"}}}'
    )
    _, host = simple(edge, origin, pid)
    low, high = path(), path()
    origin.routes[low] = Route(b"l", headers={"Cache-Control": "max-age=0"}, validators=False)
    origin.routes[high] = Route(b"h", headers={"Cache-Control": "max-age=100000"}, validators=False)
    get(edge, host, low)
    get(edge, host, high)
    # max-age=0 is raised to MinTTL 2: still a hit right away.
    assert get(edge, host, low).x_cache == "Hit from cloudfront"
    time.sleep(3.6)
    # max-age=100000 is cut to MaxTTL 3: expired now (no validator, so a full miss).
    assert get(edge, host, high).x_cache == "Miss from cloudfront"
    assert origin.count(high) == 2


def test_collapsing_200_concurrent_cold_requests(edge, origin):
    _, host = simple(edge, origin)
    p = path()
    body = os.urandom(300_000)
    origin.routes[p] = Route(body, delay=0.5, chunk_delay=0.01)
    with concurrent.futures.ThreadPoolExecutor(max_workers=200) as ex:
        results = list(ex.map(lambda _: get(edge, host, p, timeout=60), range(200)))
    assert all(r.status == 200 and r.body == body for r in results)
    assert origin.count(p) == 1


def test_range_on_cold_large_object_fetches_only_its_chunks(edge, origin):
    _, host = simple(edge, origin)
    p = path()
    body = os.urandom(8 * MIB)
    origin.routes[p] = Route(body, headers={"Content-Type": "application/octet-stream"})
    start = 5 * MIB + 100
    r = get(edge, host, p, headers={"Range": f"bytes={start}-{start + 999}"})
    assert r.status == 206 and r.body == body[start:start + 1000]
    assert r.h("content-range") == f"bytes {start}-{start + 999}/{8 * MIB}"
    assert origin.bytes_sent[p] <= MIB
    # Warm range: no more origin bytes.
    r = get(edge, host, p, headers={"Range": f"bytes={start + 10}-{start + 20}"})
    assert r.status == 206 and r.body == body[start + 10:start + 21]
    assert r.x_cache == "Hit from cloudfront"
    assert origin.bytes_sent[p] <= MIB
    # A whole GET fills in the missing chunks only.
    r = get(edge, host, p)
    assert r.status == 200 and r.body == body
    assert origin.bytes_sent[p] == 8 * MIB
    r = get(edge, host, p, headers={"Range": "bytes=-10"})
    assert r.status == 206 and r.body == body[-10:]
    assert origin.bytes_sent[p] == 8 * MIB
    r = get(edge, host, p, headers={"Range": f"bytes={8 * MIB}-"})
    assert r.status == 416 and r.h("content-range") == f"bytes */{8 * MIB}"


def test_viewer_conditional_gets_304_from_cache(edge, origin):
    _, host = simple(edge, origin)
    p = path()
    origin.routes[p] = Route(b"body")
    etag = get(edge, host, p).h("etag")
    r = get(edge, host, p, headers={"If-None-Match": etag})
    assert r.status == 304 and r.body == b"" and r.h("etag") == etag
    assert r.x_cache == "Hit from cloudfront"
    assert origin.count(p) == 1


def test_invalidation_exact_and_wildcard(edge, origin):
    did, host = simple(edge, origin, ORIGIN_HEADERS_QS)
    base = f"/{uuid.uuid4().hex}"
    paths = [f"{base}/a.html", f"{base}/img/1.png", f"{base}/img/2.png", f"{base}/other.css"]
    for p in paths:
        origin.routes[p] = Route(b"v", headers={"Cache-Control": "max-age=600"})
        get(edge, host, p)
        get(edge, host, p + "?v=2")
    env = dict(os.environ, WHARF_ROOT_ACCESS_KEY=edge.access_key, WHARF_ROOT_SECRET_KEY=edge.secret_key)
    subprocess.run([WHARF_BIN, "invalidate", "--endpoint", edge.endpoint, "--distribution-id", did,
                    f"{base}/a.html", f"{base}/img/*"], env=env, check=True, capture_output=True)
    # Every key variant of an invalidated path is gone; the others stay.
    assert get(edge, host, f"{base}/a.html?v=2").x_cache == "Miss from cloudfront"
    assert get(edge, host, f"{base}/img/2.png").x_cache == "Miss from cloudfront"
    assert get(edge, host, f"{base}/other.css").x_cache == "Hit from cloudfront"
    # And through the AWS CLI.
    res = edge.aws("cloudfront", "create-invalidation", "--distribution-id", did, "--paths", "/*")
    assert '"Status": "Completed"' in res.stdout
    assert get(edge, host, f"{base}/other.css").x_cache == "Miss from cloudfront"
    bad = edge.aws("cloudfront", "create-invalidation", "--distribution-id", "ENOPE", "--paths", "/a", check=False)
    assert bad.returncode != 0 and "NoSuchDistribution" in bad.stderr


def group_dist(edge, primary_origin, backup_origin, codes=(500, 502, 503, 504), read_timeout=30):
    did = new_id()
    cfg = distribution(
        [primary_origin, custom_origin("backup", backup_origin.port)],
        behavior("group", CACHING_DISABLED),
        groups=[{"Id": "group", "FailoverCriteria": {"StatusCodes": {"Quantity": len(codes), "Items": list(codes)}},
                 "Members": {"Quantity": 2, "Items": [{"OriginId": "primary"}, {"OriginId": "backup"}]}}],
    )
    return deploy(edge.dists, edge.edge_port, did, cfg)


def test_failover_on_status_code(edge, origin, backup):
    host = group_dist(edge, custom_origin("primary", origin.port), backup, codes=(503,))
    p, q = path(), path()
    origin.routes[p] = Route(b"down", status=503)
    backup.routes[p] = Route(b"from backup")
    r = get(edge, host, p)
    assert r.status == 200 and r.body == b"from backup"
    # A status not in the criteria is returned as is.
    origin.routes[q] = Route(b"nope", status=404)
    backup.routes[q] = Route(b"from backup")
    assert get(edge, host, q).status == 404
    assert backup.count(q) == 0


def test_failover_on_connection_failure(edge, backup):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead_port = s.getsockname()[1]
    s.close()
    host = group_dist(edge, custom_origin("primary", dead_port), backup)
    p = path()
    backup.routes[p] = Route(b"alive")
    r = get(edge, host, p)
    assert r.status == 200 and r.body == b"alive"


def test_failover_on_timeout(edge, origin, backup):
    host = group_dist(edge, custom_origin("primary", origin.port, read_timeout=1), backup)
    p = path()
    origin.routes[p] = Route(b"slow", delay=3)
    backup.routes[p] = Route(b"fast")
    t = time.time()
    r = get(edge, host, p)
    assert r.status == 200 and r.body == b"fast"
    assert time.time() - t < 2.9


def test_custom_error_page(edge, origin):
    did = new_id()
    cfg = distribution(
        [custom_origin("o", origin.port)], behavior("o"),
        errors=[{"ErrorCode": 404, "ResponsePagePath": "/errors/404.html", "ResponseCode": "200", "ErrorCachingMinTTL": 30}],
    )
    origin.routes["/errors/404.html"] = Route(b"<h1>not here</h1>", headers={"Content-Type": "text/html"})
    host = deploy(edge.dists, edge.edge_port, did, cfg)
    p = path()
    origin.routes[p] = Route(b"missing", status=404)
    r = get(edge, host, p)
    assert r.status == 200 and r.body == b"<h1>not here</h1>"
    # The 404 is cached for ErrorCachingMinTTL.
    get(edge, host, p)
    assert origin.count(p) == 1


def test_error_caching(edge, origin):
    """Errors are cached as CloudFront documents ("How CloudFront processes HTTP 4xx and 5xx
    status codes", "Control how long CloudFront caches errors"): 404, 405, 414 and 500-504
    always, 400/403/412/415 only with max-age or s-maxage, 416 never; for the error caching
    minimum TTL (the CustomErrorResponse's, else 10 s) or the origin's lifetime if longer; the
    cache policy's MinTTL and DefaultTTL do not apply (CachingOptimized: MinTTL 1, DefaultTTL
    one day); no-store/no-cache/private count only for 404, 410, 414 and 501."""
    did = new_id()
    cfg = distribution(
        [custom_origin("o", origin.port)], behavior("o", CACHING_OPTIMIZED),
        errors=[{"ErrorCode": 503, "ErrorCachingMinTTL": 2}, {"ErrorCode": 502, "ErrorCachingMinTTL": 0}],
    )
    host = deploy(edge.dists, edge.edge_port, did, cfg)

    def origin_requests(status, headers=None, fetches=2):
        p = path()
        origin.routes[p] = Route(b"err", status=status, headers=headers or {}, validators=False)
        for _ in range(fetches):
            r = get(edge, host, p)
            assert r.status == status
        return p, origin.count(p)

    for status in (404, 405, 414, 500, 501, 504):
        assert origin_requests(status)[1] == 1, status
    for status in (400, 403, 412, 415):
        assert origin_requests(status)[1] == 2, status
        assert origin_requests(status, {"Cache-Control": "max-age=60"})[1] == 1, status
    # 416 is never cached; nor is an error CloudFront does not cache as one, unless its
    # origin gives it a lifetime (the policy's MinTTL is not forced on it).
    assert origin_requests(416, {"Cache-Control": "max-age=60"})[1] == 2
    assert origin_requests(429)[1] == 2
    assert origin_requests(429, {"Cache-Control": "max-age=60"})[1] == 1
    # no-store is honoured for 404 and 501 only.
    assert origin_requests(404, {"Cache-Control": "no-store"})[1] == 2
    assert origin_requests(501, {"Cache-Control": "private"})[1] == 2
    assert origin_requests(500, {"Cache-Control": "no-store"})[1] == 1
    # A CustomErrorResponse's ErrorCachingMinTTL: 0 leaves a bare 502 uncached, but the
    # origin's own lifetime still counts.
    assert origin_requests(502)[1] == 2
    assert origin_requests(502, {"Cache-Control": "max-age=60"})[1] == 1
    # 503 is cached for its ErrorCachingMinTTL of 2 s, then fetched again.
    p, n = origin_requests(503)
    assert n == 1
    time.sleep(2.5)
    assert get(edge, host, p).status == 503 and origin.count(p) == 2


def test_unsafe_method_invalidates(edge, origin):
    did = new_id()
    methods = ("GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE")
    cfg = distribution([custom_origin("o", origin.port)], behavior("o", ORIGIN_HEADERS, methods=methods))
    host = deploy(edge.dists, edge.edge_port, did, cfg)
    p = path()
    origin.routes[p] = Route(b"v1", headers={"Cache-Control": "max-age=600"})
    get(edge, host, p)
    assert get(edge, host, p).x_cache == "Hit from cloudfront"
    r = get(edge, host, p, method="PUT", body=b"new", headers={"Content-Type": "text/plain"})
    assert r.status == 200
    m, _, h, b = origin.last(p)
    assert m == "PUT" and b == b"new" and h["content-type"] == "text/plain"
    assert get(edge, host, p).x_cache == "Miss from cloudfront"


def test_origin_failing_mid_body_caches_nothing(edge, origin):
    _, host = simple(edge, origin)
    p = path()
    body = os.urandom(2 * MIB)
    origin.routes[p] = Route(body, cut_after=300_000)
    with pytest.raises(Exception):
        get(edge, host, p)
    origin.routes[p] = Route(body)
    r = get(edge, host, p)
    assert r.status == 200 and r.body == body
    assert r.x_cache == "Miss from cloudfront"


def test_disallowed_method_is_refused(edge, origin):
    _, host = simple(edge, origin)
    r = get(edge, host, "/x", method="POST", body=b"a")
    assert r.status == 403 and r.x_cache == "Error from cloudfront"


def test_hot_reload_changes_behavior(edge, origin):
    did, host = simple(edge, origin, CACHING_OPTIMIZED)
    p = path()
    origin.routes[p] = Route(b"v")
    get(edge, host, p)
    assert get(edge, host, p).x_cache == "Hit from cloudfront"
    cfg = distribution([custom_origin("o", origin.port)], behavior("o", CACHING_DISABLED))
    (edge.dists / f"{did}.json").write_text(__import__("json").dumps(cfg))
    deadline = time.time() + 10
    while time.time() < deadline:
        if get(edge, host, p).x_cache == "Miss from cloudfront":
            break
        time.sleep(0.3)
    else:
        raise AssertionError("the new behavior never took effect")


def test_an_alias_belongs_to_one_distribution(edge, origin):
    """CloudFront refuses a second distribution that claims an alias (CNAMEAlreadyExists): the
    one already answering on it keeps it, whatever the IDs."""
    alias = f"taken-{uuid.uuid4().hex[:8]}.example.test"
    p = path()
    origin.routes[p] = Route(b"first owner")
    other = Origin()
    try:
        other.routes[p] = Route(b"second claimant")
        aliases = {"Quantity": 1, "Items": [alias]}
        first = "Z" + uuid.uuid4().hex[:10].upper()  # sorts after the second
        deploy(edge.dists, edge.edge_port, first,
               distribution([custom_origin("o", origin.port)], behavior("o"), Aliases=aliases))
        second = "A" + uuid.uuid4().hex[:10].upper()
        (edge.dists / f"{second}.json").write_text(__import__("json").dumps(
            distribution([custom_origin("o", other.port)], behavior("o"), Aliases=aliases)))
        # A third distribution loading shows the directory was read again.
        simple(edge, origin)
        assert get(edge, alias, p).body == b"first owner"
        r = get(edge, f"{second.lower()}.localhost", p)
        assert r.status == 403 and b"We can't connect" in r.body
        # Once the owner goes, the alias is free.
        (edge.dists / f"{first}.json").unlink()
        deadline = time.time() + 10
        while get(edge, alias, p).body != b"second claimant":
            assert time.time() < deadline, "the second distribution never took the alias"
            time.sleep(0.3)
        (edge.dists / f"{second}.json").unlink()
    finally:
        other.stop()


def test_trusted_signers_and_geo_restriction_without_a_database_fail_closed(edge, origin):
    """Two rules this edge cannot check refuse every request with CloudFront's 403 rather than
    serve content meant to be private: TrustedSigners (AWS accounts' key pairs, which Wharf
    does not have; key groups are checked, see test_edge_private_content.py) and a
    GeoRestriction when no geo database is configured."""
    import datetime

    from botocore.signers import CloudFrontSigner
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    p = path()
    origin.routes[p] = Route(b"public")
    origin.routes["/private" + p] = Route(b"secret")
    private = behavior("o", CACHING_OPTIMIZED, PathPattern="/private/*",
                       TrustedSigners={"Enabled": True, "Quantity": 1, "Items": ["self"]})
    public = behavior("o", CACHING_OPTIMIZED,
                      TrustedKeyGroups={"Enabled": False, "Quantity": 0},
                      TrustedSigners={"Enabled": False, "Quantity": 0})
    did = new_id()
    host = deploy(edge.dists, edge.edge_port, did,
                  distribution([custom_origin("o", origin.port)], public, behaviors=[private]))
    assert get(edge, host, p).body == b"public"
    r = get(edge, host, "/private" + p)
    assert r.status == 403 and r.x_cache == "Error from cloudfront"
    assert b"<Code>MissingKey</Code>" in r.body
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer = CloudFrontSigner("APKA9ONS7QCOWEXAMPLE", lambda m: key.sign(m, padding.PKCS1v15(), hashes.SHA1()))
    url = signer.generate_presigned_url(
        f"http://{host}/private{p}", date_less_than=datetime.datetime.now() + datetime.timedelta(hours=1))
    r = get(edge, host, url.split(host, 1)[1])
    assert r.status == 403 and b"<Code>InvalidKey</Code>" in r.body
    assert origin.count("/private" + p) == 0

    geo = distribution([custom_origin("o", origin.port)], behavior("o"),
                       Restrictions={"GeoRestriction": {"RestrictionType": "whitelist", "Quantity": 1, "Items": ["US"]}})
    gid = new_id()
    (edge.dists / f"{gid}.json").write_text(__import__("json").dumps(geo))
    deadline = time.time() + 10
    while b"block access from your country" not in (r := get(edge, f"{gid.lower()}.localhost", p)).body:
        assert time.time() < deadline, r.body
        time.sleep(0.2)
    assert r.status == 403 and r.x_cache == "Error from cloudfront"


def test_disk_tier_survives_restart(tmp_path, origin):
    dists = tmp_path / "d"
    dists.mkdir()
    conf = tmp_path / "wharf.toml"
    conf.write_text(f'[edge]\ndistributions_dir = "{dists}"\nmemory_cache_mb = 16\n')
    w = Wharf(tmp_path / "data").start("--config", str(conf))
    p = path()
    body = os.urandom(3 * MIB + 5)
    origin.routes[p] = Route(body)
    try:
        w.dists = dists
        did = new_id()
        host = deploy(dists, w.edge_port, did, distribution([custom_origin("o", origin.port)], behavior("o")))
        assert get(w, host, p).body == body
        time.sleep(0.5)
    finally:
        w.stop()
    w2 = Wharf(tmp_path / "data").start("--config", str(conf))
    try:
        host = deploy(dists, w2.edge_port, did, distribution([custom_origin("o", origin.port)], behavior("o")))
        r = get(w2, host, p)
        assert r.body == body and r.x_cache == "Hit from cloudfront"
        assert origin.count(p) == 1
    finally:
        w2.stop()


def test_invalidations_survive_kill_9_and_a_stop(tmp_path, origin):
    """An acknowledged CreateInvalidation is on disk before its answer: a kill -9 right after
    it does not bring the invalidated copy back from the disk tier. An unsafe method's
    invalidation is written within a second, and at a clean stop."""
    dists = tmp_path / "d"
    dists.mkdir()
    conf = tmp_path / "wharf.toml"
    conf.write_text(f'[edge]\ndistributions_dir = "{dists}"\nmemory_cache_mb = 16\n')
    did = new_id()
    methods = ("GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE")
    cfg = distribution([custom_origin("o", origin.port)], behavior("o", ORIGIN_HEADERS, methods=methods))
    a, b = path(), path()
    for p in (a, b):
        origin.routes[p] = Route(b"v", headers={"Cache-Control": "max-age=600"})

    def start():
        w = Wharf(tmp_path / "data").start("--config", str(conf))
        w.dists = dists
        return w, deploy(dists, w.edge_port, did, cfg)

    w, host = start()
    try:
        for p in (a, b):
            get(w, host, p)
            assert get(w, host, p).x_cache == "Hit from cloudfront"
        time.sleep(0.5)
        w.aws("cloudfront", "create-invalidation", "--distribution-id", did, "--paths", a)
    finally:
        w.stop(signal.SIGKILL)
    w, host = start()
    try:
        assert get(w, host, a).x_cache == "Miss from cloudfront"
        assert get(w, host, b).x_cache == "Hit from cloudfront"
        assert get(w, host, b, method="PUT", body=b"new").status == 200
    finally:
        assert w.stop() == 0
    w, host = start()
    try:
        assert get(w, host, b).x_cache == "Miss from cloudfront"
    finally:
        w.stop()


def test_demo_distribution(tmp_path):
    w = Wharf(tmp_path / "data").start("--demo")
    try:
        banner = "".join(w.banner)
        assert f"http://demo.localhost:{w.edge_port}/" in banner
        r = request(w.edge_port, "/", host=f"demo.localhost:{w.edge_port}")
        assert r.status == 200 and b"Hello from Wharf" in r.body
        assert r.h("content-type").startswith("text/html")
        # The default distribution answers on any host.
        r = request(w.edge_port, "/index.html")
        assert r.status == 200 and r.x_cache == "Hit from cloudfront"
        # The bucket is private and the distribution reads it with OAC and the policy AWS
        # documents, which grants s3:GetObject only: a missing key is CloudFront's 403, as on AWS.
        r = request(w.edge_port, "/missing")
        assert r.status == 403 and b"AccessDenied" in r.body
        assert "Origin Access Control" in banner
        assert request(w.port, "/demo-site/index.html").status == 403
        policy = json.loads(w.client().get_bucket_policy(Bucket="demo-site")["Policy"])
        assert policy["Statement"][0]["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        # The demo's CloudFront Function, made through the API, serves a directory's index.
        r = request(w.edge_port, "/blog/", host=f"demo.localhost:{w.edge_port}")
        assert r.status == 200 and b"The blog" in r.body
        described = json.loads(w.aws("cloudfront", "describe-function", "--name", "demo-index-rewrite",
                                     "--stage", "LIVE").stdout)
        assert described["FunctionSummary"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    finally:
        w.stop()


def test_compression_per_encoding(edge, origin):
    import gzip
    did = new_id()
    cfg = distribution([custom_origin("o", origin.port)], behavior("o", CACHING_OPTIMIZED, Compress=True))
    host = deploy(edge.dists, edge.edge_port, did, cfg)
    css, small, png = path(), path(), path()
    text = (b"body { color: red; margin: 0 auto; }\n" * 200)
    origin.routes[css] = Route(text, headers={"Content-Type": "text/css"})
    origin.routes[small] = Route(b"x" * 500, headers={"Content-Type": "text/css"})
    origin.routes[png] = Route(os.urandom(5000), headers={"Content-Type": "image/png"})
    r = get(edge, host, css, headers={"Accept-Encoding": "gzip, deflate"})
    assert r.h("content-encoding") == "gzip" and gzip.decompress(r.body) == text
    assert "Accept-Encoding" in r.h("vary") and r.h("etag").startswith("W/")
    r = get(edge, host, css, headers={"Accept-Encoding": "gzip"})
    assert r.x_cache == "Hit from cloudfront" and gzip.decompress(r.body) == text
    r = get(edge, host, css, headers={"Accept-Encoding": "gzip, br"})
    assert r.h("content-encoding") == "br" and 0 < len(r.body) < len(text) // 5
    r = get(edge, host, css)
    assert r.h("content-encoding") is None and r.body == text
    # Each encoding is its own cache entry; the origin saw the normalised Accept-Encoding.
    assert origin.count(css) == 3
    assert get(edge, host, small, headers={"Accept-Encoding": "gzip"}).h("content-encoding") is None
    assert get(edge, host, png, headers={"Accept-Encoding": "gzip"}).h("content-encoding") is None


def test_request_size_limits_and_two_hosts_are_refused_as_cloudfront_does(edge, origin):
    import socket
    _, host = simple(edge, origin)
    p = path()
    origin.routes[p] = Route(b"ok")
    # Within CloudFront's limits: 19 KiB of header fields and a 7,000-byte URL.
    r = get(edge, host, p, headers={"X-Big": "a" * 19_000})
    assert r.status == 200 and r.body == b"ok"
    r = get(edge, host, p + "?q=" + "b" * 7000)
    assert r.status == 200
    # Over them: a request of more than 20,480 bytes, a URL of more than 8,192: 413.
    r = get(edge, host, p, headers={"X-Big": "a" * 100 * 1024})
    assert r.status == 413 and r.x_cache == "Error from cloudfront"
    assert r.h("connection") == "close"
    r = get(edge, host, p + "?q=" + "b" * 9000)
    assert r.status == 413
    # Two Host fields: 400. The origin heard only of the first request (the second was a hit:
    # the policy keys on no query string), none of the refused ones.
    with socket.create_connection(("127.0.0.1", edge.edge_port), timeout=10) as s:
        s.sendall(f"GET {p} HTTP/1.1\r\nHost: {host}\r\nHost: other.example\r\n\r\n".encode())
        head = s.recv(65536).decode("latin-1")
    assert head.startswith("HTTP/1.1 400"), head[:200]
    assert origin.count(p) == 1


def test_collapsed_viewers_share_the_leaders_timeout(edge, origin):
    # The origin answers after 4 s; the origin read timeout is 1 s. Thirty viewers of one cold
    # key: one origin request, and every viewer gets the 504 within the timeout budget, not
    # one after another.
    did = new_id()
    host = deploy(edge.dists, edge.edge_port, did, distribution(
        [custom_origin("o", origin.port, read_timeout=1)], behavior("o")))
    p = path()
    origin.routes[p] = Route(b"late", delay=4)
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=30) as ex:
        results = list(ex.map(lambda _: get(edge, host, p, timeout=30), range(30)))
    took = time.time() - t0
    assert [r.status for r in results] == [504] * 30
    assert all(r.x_cache == "Error from cloudfront" for r in results)
    assert origin.count(p) == 1
    assert took < 3.5, took


def account_id(w):
    return next(l.split("\t")[1] for l in w.wharf_cmd("user", "list").stdout.splitlines()
                if l.startswith("account\t"))


def local_origin(bucket, oac=None, oai=""):
    o = {"Id": "s3", "DomainName": f"{bucket}.s3.localhost", "OriginPath": "",
         "CustomHeaders": {"Quantity": 0}, "S3OriginConfig": {"OriginAccessIdentity": oai}}
    if oac:
        o["OriginAccessControlId"] = oac
    return o


def oac_read(w, s3, bucket, dist_id, actions, also=()):
    """The bucket policy AWS documents for OAC: CloudFront reads, for distribution `dist_id`."""
    statement = {"Sid": "AllowCloudFrontServicePrincipalReadOnly", "Effect": "Allow",
                 "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": actions,
                 "Resource": f"arn:aws:s3:::{bucket}/*",
                 "Condition": {"StringEquals": {
                     "AWS:SourceArn": f"arn:aws:cloudfront::{account_id(w)}:distribution/{dist_id}"}}}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": [statement, *also]}))


def test_a_private_bucket_is_served_only_through_its_origin_access(edge):
    """CloudFront's model for a local bucket: without OAC the origin request is anonymous (403
    for a private bucket, 200 once its policy makes it public); with OAC it is the service
    principal for that distribution, which the documented bucket policy admits, and a policy
    naming another distribution does not. An OAC that never signs is anonymous again."""
    s3 = edge.client()
    bucket = f"oac-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"private page")
    oac_dir = edge.dists / "origin-access-controls"
    oac_dir.mkdir(exist_ok=True)
    for oac_id, behaviour in (("signs", "always"), ("never-signs", "never")):
        (oac_dir / f"{oac_id}.json").write_text(json.dumps({
            "Name": oac_id, "SigningProtocol": "sigv4", "SigningBehavior": behaviour,
            "OriginAccessControlOriginType": "s3"}))
    plain, with_oac, other, never = new_id(), new_id(), new_id(), new_id()
    hosts = {}
    for dist_id, oac in ((plain, None), (with_oac, "signs"), (other, "signs"), (never, "never-signs")):
        hosts[dist_id] = deploy(edge.dists, edge.edge_port, dist_id, distribution(
            [local_origin(bucket, oac=oac)], behavior("s3", CACHING_DISABLED)))
    get = lambda d, path="/index.html": request(edge.edge_port, path, host=hosts[d])
    # No bucket policy: nobody but the owner may read; every distribution gets CloudFront's 403.
    for d in hosts:
        r = get(d)
        assert r.status == 403 and b"AccessDenied" in r.body, (d, r.status, r.body)
    oac_read(edge, s3, bucket, with_oac, "s3:GetObject")
    assert (get(with_oac).status, get(with_oac).body) == (200, b"private page")
    for d in (plain, other, never):
        assert get(d).status == 403, d
    # Without s3:ListBucket a missing key is AccessDenied, as S3 answers CloudFront.
    r = get(with_oac, "/missing")
    assert r.status == 403 and b"AccessDenied" in r.body
    oac_read(edge, s3, bucket, with_oac, "s3:GetObject", also=[{
        "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}",
        "Condition": {"StringEquals": {
            "AWS:SourceArn": f"arn:aws:cloudfront::{account_id(edge)}:distribution/{with_oac}"}}}])
    r = get(with_oac, "/missing")
    assert r.status == 404 and b"NoSuchKey" in r.body
    # A public-read policy serves the bucket through every distribution, OAC or not (once the
    # bucket's Block Public Access allows public policies, as on S3).
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    for d in hosts:
        assert get(d).status == 200, d
    # An explicit Deny for CloudFront wins over the public grant.
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
        {"Effect": "Deny", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    assert get(with_oac).status == 403 and get(plain).status == 200


def test_a_legacy_origin_access_identity_reads_as_its_user(edge):
    s3 = edge.client()
    bucket = f"oai-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a", Body=b"via OAI")
    dist_id = new_id()
    host = deploy(edge.dists, edge.edge_port, dist_id, distribution(
        [local_origin(bucket, oai="origin-access-identity/cloudfront/E2QWRUHEXAMPLE")],
        behavior("s3", CACHING_DISABLED)))
    assert request(edge.edge_port, "/a", host=host).status == 403
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHEXAMPLE"},
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    r = request(edge.edge_port, "/a", host=host)
    assert (r.status, r.body) == (200, b"via OAI")


def test_a_local_bucket_origin_serves_versions(edge):
    """A distribution in front of this node's versioned bucket serves the current version, the
    version a forwarded `versionId` names (with `x-amz-version-id`), and S3's answers for delete
    markers (404 for a deleted key, 405 for a named marker) and archived objects (403)."""
    from edge_helpers import ALL_VIEWER

    s3 = edge.client()
    bucket = f"ver-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="page", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="page", Body=b"two")["VersionId"]
    s3.put_object(Bucket=bucket, Key="gone", Body=b"x")
    marker = s3.delete_object(Bucket=bucket, Key="gone")["VersionId"]
    dist_id = new_id()
    oac_read(edge, s3, bucket, dist_id, ["s3:GetObject", "s3:GetObjectVersion"])
    host = deploy(edge.dists, edge.edge_port, dist_id, distribution(
        [local_origin(bucket, oac="versions-oac")],
        behavior("s3", CACHING_DISABLED, OriginRequestPolicyId=ALL_VIEWER)))
    r = request(edge.edge_port, "/page", host=host)
    assert (r.status, r.body, r.h("x-amz-version-id")) == (200, b"two", v2)
    r = request(edge.edge_port, f"/page?versionId={v1}", host=host)
    assert (r.status, r.body, r.h("x-amz-version-id")) == (200, b"one", v1)
    r = request(edge.edge_port, "/gone", host=host)
    assert r.status == 404 and b"NoSuchKey" in r.body and r.h("x-amz-delete-marker") == "true"
    r = request(edge.edge_port, f"/gone?versionId={marker}", host=host)
    assert r.status == 405 and r.h("x-amz-delete-marker") == "true"
    r = request(edge.edge_port, "/page?versionId=nonsense", host=host)
    assert r.status == 400 and b"InvalidArgument" in r.body
    # An archived object is not served until restored, as S3 answers.
    s3.put_object(Bucket=bucket, Key="cold", Body=b"frozen", StorageClass="GLACIER")
    r = request(edge.edge_port, "/cold", host=host)
    assert r.status == 403 and b"InvalidObjectState" in r.body
