"""CloudFront's own request headers (CloudFront-Viewer-*, CloudFront-Forwarded-Proto,
CloudFront-Is-*-Viewer): the edge makes them from the connection, MaxMind's City and ASN test
databases and the User-Agent, adds them to origin requests exactly when a policy names them, and never
passes on a viewer's own copy."""
import json
import uuid
from pathlib import Path

import pytest

from conftest import Wharf
from edge_helpers import ALL_VIEWER, CACHING_DISABLED, behavior, custom_origin, deploy, distribution, request
from origin import Origin, Route

CITY_DB = Path(__file__).resolve().parents[1] / "data" / "geo" / "GeoIP2-City-Test.mmdb"
ASN_DB = CITY_DB.parent / "GeoLite2-ASN-Test.mmdb"
# Milton, WA, US (autonomous system 209) and London, GB (no autonomous system) in the test databases
US, GB = "216.160.83.56", "81.2.69.142"
ALL_VIEWER_AND_CLOUDFRONT = "33f36d7e-f396-46d9-90e0-52428a34d9dc"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
FORGED = {"CloudFront-Viewer-Country": "XX", "CloudFront-Viewer-ASN": "1", "CloudFront-Viewer-Latitude": "0",
          "CloudFront-Is-Desktop-Viewer": "true"}


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    base = tmp_path_factory.mktemp("viewer-headers")
    dists = base / "distributions"
    for sub in ("", "origin-request-policies", "cache-policies"):
        (dists / sub).mkdir(exist_ok=True)
    conf = base / "wharf.toml"
    conf.write_text(f'[edge]\ndistributions_dir = "{dists}"\nmemory_cache_mb = 16\ndisk_cache_mb = 0\n'
                    f'geo_database = "{CITY_DB}"\nasn_database = "{ASN_DB}"\ntrusted_proxies = ["127.0.0.1/32"]\n')
    w = Wharf(base / "data").start("--config", str(conf))
    w.dists = dists
    yield w
    w.stop()


@pytest.fixture(scope="module")
def origin():
    o = Origin()
    yield o
    o.stop()


def path():
    return f"/{uuid.uuid4().hex}"


def policy(edge, kind, config):
    pid = uuid.uuid4().hex
    (edge.dists / kind / f"{pid}.json").write_text(json.dumps(config))
    return pid


def headers_policy(edge, names):
    return policy(edge, "origin-request-policies", {
        "Name": "cf", "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": {"Quantity": len(names), "Items": names}},
        "CookiesConfig": {"CookieBehavior": "none"}, "QueryStringsConfig": {"QueryStringBehavior": "none"}})


def site(edge, origin, cache_policy=CACHING_DISABLED, origin_policy=None):
    did = f"V{uuid.uuid4().hex[:12].upper()}"
    extra = {"OriginRequestPolicyId": origin_policy} if origin_policy else {}
    return deploy(edge.dists, edge.edge_port, did, distribution(
        [custom_origin("o", origin.port)], behavior("o", cache_policy, **extra)))


def seen(edge, origin, host, headers):
    p = path()
    origin.routes[p] = Route(b"ok")
    r = request(edge.edge_port, p, host=host, headers=headers)
    assert r.status == 200, r
    return origin.last(p)[2]


def test_named_headers_are_made_and_forged_ones_replaced(edge, origin):
    names = ["CloudFront-Viewer-Country", "CloudFront-Viewer-Country-Name", "CloudFront-Viewer-Country-Region",
             "CloudFront-Viewer-City", "CloudFront-Viewer-Time-Zone", "CloudFront-Viewer-Metro-Code", "CloudFront-Viewer-ASN",
             "CloudFront-Forwarded-Proto", "CloudFront-Viewer-Address", "CloudFront-Viewer-Http-Version",
             "CloudFront-Is-Mobile-Viewer", "CloudFront-Is-Desktop-Viewer", "CloudFront-Is-IOS-Viewer"]
    host = site(edge, origin, origin_policy=headers_policy(edge, names))
    h = seen(edge, origin, host, {"X-Forwarded-For": US, "User-Agent": IPHONE, **FORGED})
    assert h["cloudfront-viewer-country"] == "US"
    assert h["cloudfront-viewer-country-name"] == "United States"
    assert h["cloudfront-viewer-country-region"] == "WA"
    assert h["cloudfront-viewer-city"] == "Milton"
    assert h["cloudfront-viewer-time-zone"] == "America/Los_Angeles"
    assert h["cloudfront-viewer-metro-code"] == "819"
    assert h["cloudfront-viewer-asn"] == "209"
    assert h["cloudfront-forwarded-proto"] == "http"
    host_part, port = h["cloudfront-viewer-address"].rsplit(":", 1)
    assert host_part == "127.0.0.1" and port.isdigit()
    assert h["cloudfront-viewer-http-version"] == "1.1"
    assert (h["cloudfront-is-mobile-viewer"], h["cloudfront-is-desktop-viewer"], h["cloudfront-is-ios-viewer"]) == \
        ("true", "false", "true")
    # Not named: the viewer's copy is gone all the same.
    assert "cloudfront-viewer-latitude" not in h


def test_a_viewers_cloudfront_headers_never_reach_the_origin(edge, origin):
    # AllViewer forwards every header the viewer sent, but not these.
    host = site(edge, origin, origin_policy=ALL_VIEWER)
    h = seen(edge, origin, host, {"X-Forwarded-For": GB, "X-Other": "kept", **FORGED})
    assert h["x-other"] == "kept"
    assert not [k for k in h if k.startswith("cloudfront-")], h


def test_managed_all_viewer_and_cloudfront_headers(edge, origin):
    host = site(edge, origin, origin_policy=ALL_VIEWER_AND_CLOUDFRONT)
    h = seen(edge, origin, host, {"X-Forwarded-For": GB, "X-Other": "kept", **FORGED})
    assert h["x-other"] == "kept"
    assert h["cloudfront-viewer-country"] == "GB"
    assert h["cloudfront-is-desktop-viewer"] == "true"
    # The ASN database does not know this address: no header, and the viewer's forged one is gone.
    assert "cloudfront-viewer-asn" not in h
    h = seen(edge, origin, host, {"X-Forwarded-For": US, **FORGED})
    assert (h["cloudfront-viewer-country"], h["cloudfront-viewer-asn"]) == ("US", "209")


def test_a_cache_key_on_the_viewers_country_uses_the_made_value(edge, origin):
    pid = policy(edge, "cache-policies", {
        "Name": "by-country", "MinTTL": 0, "DefaultTTL": 3600, "MaxTTL": 3600,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": False,
            "HeadersConfig": {"HeaderBehavior": "whitelist",
                              "Headers": {"Quantity": 1, "Items": ["CloudFront-Viewer-Country"]}},
            "CookiesConfig": {"CookieBehavior": "none"}, "QueryStringsConfig": {"QueryStringBehavior": "none"}}})
    host = site(edge, origin, cache_policy=pid)
    p = path()
    origin.routes[p] = Route(b"by country", headers={"Cache-Control": "max-age=3600"})
    get = lambda **h: request(edge.edge_port, p, host=host, headers=h)  # noqa: E731
    assert get(**{"X-Forwarded-For": US}).x_cache == "Miss from cloudfront"
    assert origin.last(p)[2]["cloudfront-viewer-country"] == "US"
    # A forged country does not pick another entry: the key holds the made value.
    r = get(**{"X-Forwarded-For": US, "CloudFront-Viewer-Country": "GB"})
    assert r.x_cache == "Hit from cloudfront"
    assert get(**{"X-Forwarded-For": GB}).x_cache == "Miss from cloudfront"
    assert origin.last(p)[2]["cloudfront-viewer-country"] == "GB"
    assert origin.count(p) == 2


def test_redirect_by_country_function_reads_the_viewer_country(edge, origin):
    """AWS's redirect-by-country example (its country constant set to one the test database
    has): a viewer-request function sees CloudFront-Viewer-Country, made by the edge from the
    viewer's address when the behavior's policy adds it, never the viewer's forged copy."""
    import boto3
    from botocore.config import Config

    from conftest import REGION
    from test_cloudfront_functions import REDIRECT_BY_COUNTRY

    cf = boto3.client("cloudfront", endpoint_url=edge.endpoint, region_name=REGION,
                      aws_access_key_id=edge.access_key, aws_secret_access_key=edge.secret_key,
                      config=Config(retries={"max_attempts": 1}))
    code = REDIRECT_BY_COUNTRY.replace("var country = 'DE';", "var country = 'GB';")
    made = cf.create_function(Name=f"geo-{uuid.uuid4().hex[:8]}", FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0"},
                              FunctionCode=code.encode())
    cf.publish_function(Name=made["FunctionSummary"]["Name"], IfMatch=made["ETag"])
    arn = made["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]
    did = f"V{uuid.uuid4().hex[:12].upper()}"
    assoc = {"Quantity": 1, "Items": [{"FunctionARN": arn, "EventType": "viewer-request"}]}
    host = deploy(edge.dists, edge.edge_port, did, distribution(
        [custom_origin("o", origin.port)],
        behavior("o", CACHING_DISABLED, OriginRequestPolicyId=ALL_VIEWER_AND_CLOUDFRONT, FunctionAssociations=assoc)))
    p = path()
    origin.routes[p] = Route(b"home")
    r = request(edge.edge_port, p, host=host, headers={"X-Forwarded-For": GB})
    assert r.status == 302 and r.h("location") == f"https://{host}/de/index.html"
    assert r.x_cache == "FunctionGeneratedResponse from cloudfront"
    # A US viewer claiming GB is not redirected.
    r = request(edge.edge_port, p, host=host, headers={"X-Forwarded-For": US, "CloudFront-Viewer-Country": "GB"})
    assert r.status == 200 and r.body == b"home"
