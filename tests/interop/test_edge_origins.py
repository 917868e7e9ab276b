"""Origins reached over the network: HTTPS custom origins (by OriginProtocolPolicy, with the
certificate checked), and S3 origins that are not this node's bucket, signed with SigV4 when the
origin has Origin Access Control and read anonymously when it has not. This node's own S3 API
(path-style, through OriginPath) stands in for the remote S3 endpoint, so the signature is
checked by the S3 server's verifier, not by the code that signed it."""

import uuid

import pytest
import trustme

from edge_helpers import behavior, custom_origin, deploy, distribution, request
from origin import Origin, Route
from test_edge import edge, new_id  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def https_origin(edge):
    o = Origin(tls=edge.ca)
    yield o
    o.stop()


def https_custom_origin(port, policy="https-only", http_port=80):
    o = custom_origin("o", http_port)
    o["CustomOriginConfig"].update({"HTTPSPort": port, "OriginProtocolPolicy": policy})
    return o


def test_https_only_origin(edge, https_origin):
    host = deploy(edge.dists, edge.edge_port, new_id(),
                  distribution([https_custom_origin(https_origin.port)], behavior("o")))
    p = f"/{uuid.uuid4().hex}"
    https_origin.routes[p] = Route(b"over tls", headers={"Content-Type": "text/plain"})
    r = request(edge.edge_port, p, host=host)
    assert r.status == 200 and r.body == b"over tls", r
    assert r.x_cache == "Miss from cloudfront"
    assert request(edge.edge_port, p, host=host).x_cache == "Hit from cloudfront"
    assert https_origin.count(p) == 1
    # The Host the origin saw names it on its HTTPS port.
    assert https_origin.last(p)[2]["host"] == f"127.0.0.1:{https_origin.port}"


def test_untrusted_origin_certificate_is_a_502(edge):
    stranger = Origin(tls=trustme.CA())
    try:
        host = deploy(edge.dists, edge.edge_port, new_id(),
                      distribution([https_custom_origin(stranger.port)], behavior("o")))
        p = f"/{uuid.uuid4().hex}"
        stranger.routes[p] = Route(b"secret")
        r = request(edge.edge_port, p, host=host)
        assert r.status == 502 and r.x_cache == "Error from cloudfront", r
        assert stranger.count(p) == 0
    finally:
        stranger.stop()


def test_match_viewer_uses_http_for_http_viewers(edge, https_origin):
    plain = Origin()
    try:
        host = deploy(edge.dists, edge.edge_port, new_id(), distribution(
            [https_custom_origin(https_origin.port, "match-viewer", http_port=plain.port)],
            behavior("o")))
        p = f"/{uuid.uuid4().hex}"
        plain.routes[p] = Route(b"plain")
        r = request(edge.edge_port, p, host=host)
        assert r.status == 200 and r.body == b"plain", r
        assert plain.count(p) == 1 and https_origin.count(p) == 0
    finally:
        plain.stop()


def s3_origin(edge, bucket, oac):
    o = {"Id": "s3", "DomainName": f"127.0.0.1:{edge.port}", "OriginPath": f"/{bucket}",
         "CustomHeaders": {"Quantity": 0}, "S3OriginConfig": {"OriginAccessIdentity": ""},
         "ConnectionAttempts": 1, "ConnectionTimeout": 2}
    if oac:
        o["OriginAccessControlId"] = "E2OACEXAMPLE1"
    return o


def test_oac_signs_requests_to_a_private_bucket(edge):
    s3 = edge.client()
    bucket = f"oac-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"<h1>private</h1>", ContentType="text/html")
    odd = "dir/a b+é~(1).txt"
    s3.put_object(Bucket=bucket, Key=odd, Body=b"odd key")
    s3.put_object(Bucket=bucket, Key="auth.txt", Body=b"no viewer credentials")

    signed = deploy(edge.dists, edge.edge_port, new_id(),
                    distribution([s3_origin(edge, bucket, oac=True)], behavior("s3")))
    r = request(edge.edge_port, "/index.html", host=signed)
    assert r.status == 200, r
    assert r.body == b"<h1>private</h1>" and r.h("content-type") == "text/html"
    assert r.h("etag") and r.x_cache == "Miss from cloudfront"
    assert request(edge.edge_port, "/index.html", host=signed).x_cache == "Hit from cloudfront"
    # A viewer's own credentials never reach the origin: the edge's signature replaces them
    # (and the response to a request with Authorization is not stored, as RFC 9111 §3.5 asks).
    forged = {"Authorization": "AWS4-HMAC-SHA256 Credential=viewer/forged"}
    for _ in range(2):
        r = request(edge.edge_port, "/auth.txt", host=signed, headers=forged)
        assert r.status == 200 and r.body == b"no viewer credentials", r
        assert r.x_cache == "Miss from cloudfront"
    # A key that needs percent-encoding: signed in SigV4's canonical form, found by S3.
    r = request(edge.edge_port, "/dir/a%20b%2B%C3%A9~(1).txt", host=signed)
    assert r.status == 200 and r.body == b"odd key", r
    r = request(edge.edge_port, "/missing", host=signed)
    assert r.status == 404 and b"NoSuchKey" in r.body

    # Without OAC the edge reads anonymously, and the private bucket refuses it.
    anonymous = deploy(edge.dists, edge.edge_port, new_id(),
                       distribution([s3_origin(edge, bucket, oac=False)], behavior("s3")))
    r = request(edge.edge_port, "/index.html", host=anonymous)
    assert r.status == 403 and b"AccessDenied" in r.body, r
