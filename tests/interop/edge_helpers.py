"""Helpers for edge tests: a Wharf with a distributions directory, distributions written as
the CloudFront CLI's JSON, and a plain HTTP client that sets Host as a browser would."""

import http.client
import json
import time

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_UNCOMPRESSED = "b2884449-e4de-46a7-ac36-70bc7f1ddd6d"
ORIGIN_HEADERS = "83da9c7e-98b4-4e11-a168-04f0df8e2c65"
ORIGIN_HEADERS_QS = "4cc15a8a-d715-48a4-82b8-cc0b614638fe"
ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def h(self, name):
        return self.headers.get(name.lower())

    @property
    def x_cache(self):
        return self.h("x-cache")

    def __repr__(self):
        return f"<{self.status} {self.headers} {self.body[:80]!r}>"


def request(port, path, host=None, headers=None, method="GET", body=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        if host:
            hdrs["Host"] = host
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        hl = {}
        for k, v in r.getheaders():
            k = k.lower()
            hl[k] = v if k not in hl else hl[k] + ", " + v
        return Resp(r.status, hl, data)
    finally:
        conn.close()


def custom_origin(origin_id, port, **extra):
    cfg = {"HTTPPort": port, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only",
           "OriginReadTimeout": extra.pop("read_timeout", 30), "OriginKeepaliveTimeout": 5}
    o = {"Id": origin_id, "DomainName": "127.0.0.1", "OriginPath": extra.pop("path", ""),
         "CustomHeaders": {"Quantity": 0}, "CustomOriginConfig": cfg,
         "ConnectionAttempts": extra.pop("attempts", 1), "ConnectionTimeout": extra.pop("connect_timeout", 2)}
    o.update(extra)
    return o


def behavior(target, policy=CACHING_OPTIMIZED, pattern=None, methods=("GET", "HEAD"), **extra):
    b = {"TargetOriginId": target, "ViewerProtocolPolicy": "allow-all",
         "AllowedMethods": {"Quantity": len(methods), "Items": list(methods),
                            "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
         "Compress": False}
    if policy:
        b["CachePolicyId"] = policy
    if pattern:
        b["PathPattern"] = pattern
    b.update(extra)
    return b


def distribution(origins, default, behaviors=(), groups=(), errors=(), **extra):
    d = {"CallerReference": "test", "Comment": "", "Enabled": True,
         "Origins": {"Quantity": len(origins), "Items": list(origins)},
         "DefaultCacheBehavior": default,
         "CacheBehaviors": {"Quantity": len(behaviors), "Items": list(behaviors)},
         "OriginGroups": {"Quantity": len(groups), "Items": list(groups)},
         "CustomErrorResponses": {"Quantity": len(errors), "Items": list(errors)}}
    d.update(extra)
    return d


def deploy(dist_dir, port, dist_id, config, probe="/__probe__"):
    """Writes ID.json and waits until the edge serves it (the edge polls once a second)."""
    tmp = dist_dir / f".{dist_id}.tmp"
    tmp.write_text(json.dumps(config))
    tmp.rename(dist_dir / f"{dist_id}.json")
    host = f"{dist_id.lower()}.localhost"
    deadline = time.time() + 10
    while time.time() < deadline:
        r = request(port, probe, host=host)
        if b"We can't connect to the server" not in r.body:
            return host
        time.sleep(0.2)
    raise AssertionError(f"distribution {dist_id} never loaded")
