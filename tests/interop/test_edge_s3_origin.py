"""S3 origins that are not this node's bucket: reached over HTTP, signed with SigV4 when the
origin has Origin Access Control, read anonymously when it has not. This node's own S3 API
(path-style, through OriginPath) stands in for the remote endpoint, so the signature is checked
by the S3 server's verifier, not by the code that signed it."""

import uuid

from edge_helpers import behavior, deploy, distribution, request
from test_edge import edge, new_id  # noqa: F401  (fixtures)


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
