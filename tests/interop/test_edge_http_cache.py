"""HTTP caching as RFC 9111 (and RFC 9213's CDN-Cache-Control) says a shared cache behaves,
checked from outside: a test origin behind the edge counts what reaches it. The distribution
uses the managed UseOriginCacheControlHeaders-QueryStrings policy (MinTTL 0, DefaultTTL 0), so
the origin's headers decide, as they do for a conformance suite run against the edge."""

import time
import uuid
from email.utils import formatdate

import pytest

from edge_helpers import ORIGIN_HEADERS_QS, behavior, custom_origin, deploy, distribution, request
from origin import Route
from test_edge import edge, origin  # noqa: F401  (module-scoped fixtures: the edge, a test origin)

METHODS = ("GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE")


@pytest.fixture(scope="module")
def host(edge, origin):  # noqa: F811
    did = "H" + uuid.uuid4().hex[:10].upper()
    cfg = distribution([custom_origin("o", origin.port)], behavior("o", ORIGIN_HEADERS_QS, methods=METHODS))
    return deploy(edge.dists, edge.edge_port, did, cfg)


@pytest.fixture()
def fetch(edge, host):  # noqa: F811
    def f(p, **kw):
        return request(edge.edge_port, p, host=host, **kw)
    return f


def path():
    return f"/{uuid.uuid4().hex}"


def http_date(offset):
    return formatdate(time.time() + offset, usegmt=True)


def twice(fetch, origin, p, route, **kw):
    origin.routes[p] = route
    fetch(p, **kw)
    r = fetch(p, **kw)
    return r, origin.count(p)


# --- Freshness (RFC 9111 §4.2) ---

def test_max_age_fresh_is_reused(fetch, origin):
    r, n = twice(fetch, origin, path(), Route(b"a", headers={"Cache-Control": "max-age=3600"}))
    assert n == 1 and r.x_cache == "Hit from cloudfront"


def test_s_maxage_beats_max_age(fetch, origin):
    _, n = twice(fetch, origin, path(), Route(b"a", headers={"Cache-Control": "max-age=0, s-maxage=3600"}, validators=False))
    assert n == 1


def test_expires_in_future_is_reused(fetch, origin):
    _, n = twice(fetch, origin, path(), Route(b"a", headers={"Expires": http_date(3600)}, validators=False))
    assert n == 1


def test_invalid_expires_is_stale(fetch, origin):
    _, n = twice(fetch, origin, path(), Route(b"a", headers={"Expires": "0"}, validators=False))
    assert n == 2


def test_max_age_beats_expires(fetch, origin):
    _, n = twice(fetch, origin, path(), Route(b"a", headers={"Expires": http_date(3600), "Cache-Control": "max-age=0"}, validators=False))
    assert n == 2


def test_no_freshness_no_validator_is_never_reused(fetch, origin):
    _, n = twice(fetch, origin, path(), Route(b"a", validators=False))
    assert n == 2


def test_heuristic_freshness_from_last_modified(fetch, origin):
    route = Route(b"a")
    route.last_modified = http_date(-10 * 86400)
    route.headers = {}
    r, n = twice(fetch, origin, path(), route)
    assert n == 1 and r.x_cache == "Hit from cloudfront"


def test_cache_control_parsing(fetch, origin):
    for cc in ("MAX-AGE=3600", 'max-age="3600"', "public, max-age=3600, foo=bar"):
        _, n = twice(fetch, origin, path(), Route(b"a", headers={"Cache-Control": cc}, validators=False))
        assert n == 1, cc
    for cc in ("max-age=abc", "max-age=-1", "max-age =3600", "max-age= 3600",
               'extension="max-age=3600", max-age=0', "max-age=0, public"):
        _, n = twice(fetch, origin, path(), Route(b"a", headers={"Cache-Control": cc}, validators=False))
        assert n == 2, cc


# --- Age (RFC 9111 §4.2.3, §5.1) ---

def test_age_is_generated_and_received_age_counts(fetch, origin):
    p = path()
    origin.routes[p] = Route(b"a", headers={"Cache-Control": "max-age=3600", "Age": "30"})
    fetch(p)
    r = fetch(p)
    assert int(r.h("age")) >= 30
    q = path()
    # Age 30 > max-age 20: already stale when received, so not reused.
    _, n = twice(fetch, origin, q, Route(b"a", headers={"Cache-Control": "max-age=20", "Age": "30"}, validators=False))
    assert n == 2


# The current http-tests/cache-tests suite's required Age cases (max-age=3600): an Age that is
# not a non-negative integer is ignored; of a list or several lines, the first value counts.
@pytest.mark.parametrize("age, reused", [
    ("abc", True), ("-7200", True), ("7200.0", True),
    ("2147483647", False), ("2147483648", False), ("2147483649", False),
    ("7200, 0", False), ("0, 7200", True), (("7200", "0"), False), (("0", "7200"), True),
    ("0, 0", True), (("0", "0"), True), ("7200;foo=bar", False),
])
def test_received_age_is_read_as_the_current_suite_reads_it(fetch, origin, age, reused):
    p = path()
    lines = [("Age", a) for a in (age if isinstance(age, tuple) else (age,))]
    route = Route(b"a", headers={"Cache-Control": "max-age=3600"}, validators=False, extra_lines=lines)
    _, n = twice(fetch, origin, p, route)
    assert n == (1 if reused else 2), age


def test_age_grows_while_stored(fetch, origin):
    p = path()
    origin.routes[p] = Route(b"a", headers={"Cache-Control": "max-age=3600"})
    fetch(p)
    time.sleep(1.2)
    assert int(fetch(p).h("age")) >= 1


# --- Validation (RFC 9111 §4.3) and stored headers updated from a 304 ---

def test_stale_response_is_revalidated_and_headers_updated(fetch, origin):
    p = path()
    route = Route(b"body", headers={"Cache-Control": "max-age=0", "X-Version": "1"})
    origin.routes[p] = route
    assert fetch(p).h("x-version") == "1"
    route.headers = {"Cache-Control": "max-age=0", "X-Version": "2"}
    r = fetch(p)
    assert r.status == 200 and r.body == b"body"
    assert r.x_cache == "RefreshHit from cloudfront"
    assert r.h("x-version") == "2"
    _, _, h, _ = origin.last(p)
    assert h.get("if-none-match") == route.etag
    assert "if-modified-since" in h


def test_weak_etag_is_revalidated_as_it_came(fetch, origin):
    p = path()
    route = Route(b"body", headers={"Cache-Control": "max-age=0"})
    route.etag = 'W/"abcdef"'
    origin.routes[p] = route
    fetch(p)
    r = fetch(p)
    assert (r.status, r.x_cache) == (200, "RefreshHit from cloudfront")
    assert origin.last(p)[2].get("if-none-match") == 'W/"abcdef"'


def test_304_does_not_update_the_fields_that_describe_the_stored_body(fetch, origin):
    # A 304 updates stored fields (X-Version) but not the ETag that selected the stored
    # response nor its digest (RFC 9111 §3.2, §4.3.4).
    p = path()
    route = Route(b"body", headers={"Cache-Control": "max-age=0", "X-Version": "1",
                                    "Content-MD5": "rL0Y20zC+Fzt72VPzMSk2A=="})
    route.etag = '"abcdef"'
    origin.routes[p] = route
    fetch(p)
    route.headers = {"Cache-Control": "max-age=3600", "X-Version": "2", "ETag": '"ghijkl"',
                     "Content-MD5": "N7UdGUp1E+RbVvZSTy1R8g=="}
    r = fetch(p)
    assert (r.status, r.x_cache, r.h("x-version")) == (200, "RefreshHit from cloudfront", "2")
    assert (r.h("etag"), r.h("content-md5")) == ('"abcdef"', "rL0Y20zC+Fzt72VPzMSk2A==")
    r = fetch(p)
    assert (r.x_cache, r.h("etag"), r.h("content-md5")) == ("Hit from cloudfront", '"abcdef"', "rL0Y20zC+Fzt72VPzMSk2A==")


def test_changed_object_replaces_stored_one(fetch, origin):
    p = path()
    origin.routes[p] = Route(b"old", headers={"Cache-Control": "max-age=0"})
    fetch(p)
    origin.routes[p] = Route(b"new!", headers={"Cache-Control": "max-age=0"})
    assert fetch(p).body == b"new!"


# --- Vary (RFC 9111 §4.1) ---

def test_vary_selects_stored_response(fetch, origin):
    p = path()
    origin.routes[p] = Route(b"a", headers={"Cache-Control": "max-age=3600", "Vary": "Accept-Language"})
    fetch(p, headers={"Accept-Language": "en"})
    fetch(p, headers={"Accept-Language": "fr"})
    assert origin.count(p) == 2
    assert fetch(p, headers={"Accept-Language": "en"}).x_cache == "Hit from cloudfront"
    assert fetch(p, headers={"Accept-Language": "fr"}).x_cache == "Hit from cloudfront"
    assert fetch(p).x_cache == "Miss from cloudfront"
    assert origin.count(p) == 3


def test_vary_compares_normalised_values(fetch, origin):
    # RFC 9111 §4.1: whitespace around list members does not make another variant.
    p = path()
    origin.routes[p] = Route(b"a", headers={"Cache-Control": "max-age=3600", "Vary": "X-Foo"})
    fetch(p, headers={"X-Foo": "1,2"})
    assert fetch(p, headers={"X-Foo": " 1, 2 "}).x_cache == "Hit from cloudfront"
    assert fetch(p, headers={"X-Foo": "1,3"}).x_cache == "Miss from cloudfront"
    assert origin.count(p) == 2


def test_vary_accept_language_ignores_order_case_and_spacing_and_honours_the_preferred_language(fetch, origin):
    p = path()
    origin.routes[p] = Route(b"Hallo", headers={"Cache-Control": "max-age=3600", "Vary": "Accept-Language",
                                                "Content-Language": "de"})
    fetch(p, headers={"Accept-Language": "en, de"})
    for same in ("de, en", "eN, De", " en ,   de", "fr;q=0.5, de;q=1.0", "de"):
        assert fetch(p, headers={"Accept-Language": same}).x_cache == "Hit from cloudfront", same
    assert origin.count(p) == 1
    for other in ("en", "fr, en", "de;q=0.5, en"):
        assert fetch(p, headers={"Accept-Language": other}).x_cache == "Miss from cloudfront", other


def test_vary_star_is_not_reused(fetch, origin):
    _, n = twice(fetch, origin, path(), Route(b"a", headers={"Cache-Control": "max-age=3600", "Vary": "*"}))
    assert n == 2


# --- Storing (RFC 9111 §3) ---

def test_no_store_and_private_are_not_stored(fetch, origin):
    for cc in ("no-store, max-age=3600", "private, max-age=3600"):
        _, n = twice(fetch, origin, path(), Route(b"a", headers={"Cache-Control": cc}))
        assert n == 2, cc


def test_qualified_no_cache_and_private_omit_only_the_named_fields(fetch, origin):
    # RFC 9111 §5.2.2.4 and §5.2.2.7: the response is reused, without the listed fields.
    p = path()
    origin.routes[p] = Route(b"a", headers={"Cache-Control": 'max-age=3600, no-cache="X-A, X-B", private="X-C"',
                                            "X-A": "1", "X-B": "2", "X-C": "3", "X-D": "4"})
    # The viewer whose request fetched the response gets all of it.
    r = fetch(p)
    assert (r.x_cache, r.h("x-a"), r.h("x-b"), r.h("x-c"), r.h("x-d")) == ("Miss from cloudfront", "1", "2", "3", "4")
    r = fetch(p)
    assert r.x_cache == "Hit from cloudfront" and origin.count(p) == 1
    assert r.h("x-d") == "4"
    assert r.h("x-a") is None and r.h("x-b") is None and r.h("x-c") is None


def test_no_cache_is_stored_but_always_revalidated(fetch, origin):
    p = path()
    r, n = twice(fetch, origin, p, Route(b"a", headers={"Cache-Control": "no-cache, max-age=3600"}))
    assert n == 2 and r.x_cache == "RefreshHit from cloudfront"
    assert "if-none-match" in origin.last(p)[2]


def test_status_codes(fetch, origin):
    cases = [
        (404, {"Cache-Control": "max-age=3600"}, 1),
        (302, {"Cache-Control": "max-age=3600", "Location": "/x"}, 1),
        (302, {"Location": "/x"}, 2),
        # CloudFront caches a bare 500 for the error caching minimum TTL (10 s by default),
        # whatever the cache policy says; test_edge.py's test_error_caching times it.
        (500, {}, 1),
        (500, {"Cache-Control": "max-age=3600"}, 1),
    ]
    for status, headers, want in cases:
        _, n = twice(fetch, origin, path(), Route(b"a", status=status, headers=headers, validators=False))
        assert n == want, (status, headers)
    route = Route(b"gone", status=410)
    route.last_modified = http_date(-10 * 86400)
    _, n = twice(fetch, origin, path(), route)
    assert n == 1
    # An unknown status is reused heuristically only when `public` marks it cacheable.
    for cc, want in (("public", 1), (None, 2)):
        route = Route(b"odd", status=599, headers={"Cache-Control": cc} if cc else {})
        route.last_modified = http_date(-86400)
        r, n = twice(fetch, origin, path(), route)
        assert (r.status, n) == (599, want), cc


def test_authorization_needs_explicit_permission(fetch, origin):
    auth = {"Authorization": "Basic dTpw"}
    _, n = twice(fetch, origin, path(), Route(b"a", headers={"Cache-Control": "max-age=3600"}), headers=auth)
    assert n == 2
    _, n = twice(fetch, origin, path(), Route(b"a", headers={"Cache-Control": "public, max-age=3600"}), headers=auth)
    assert n == 1


# --- Partial content (RFC 9111 §3.3, §3.4; RFC 9110 §14) ---

def origin_ranges(origin, p):
    return [h.get("range") for (m, q, h, _) in origin.requests if q == p]


def test_complete_response_answers_ranges(fetch, origin):
    p = path()
    origin.routes[p] = Route(b"0123456789A", headers={"Cache-Control": "max-age=3600"})
    fetch(p)
    for rng, body, cr in (("bytes=0-1", b"01", "bytes 0-1/11"), ("bytes=1-", b"123456789A", "bytes 1-10/11"),
                          ("bytes=-1", b"A", "bytes 10-10/11")):
        r = fetch(p, headers={"Range": rng})
        assert (r.status, r.body, r.h("content-range")) == (206, body, cr)
        assert r.x_cache == "Hit from cloudfront"
    assert origin.count(p) == 1


def test_suffix_range_is_forwarded_and_its_206_reused(fetch, origin):
    p = path()
    body = bytes(range(100))
    origin.routes[p] = Route(body, headers={"Cache-Control": "max-age=3600"})
    r = fetch(p, headers={"Range": "bytes=-5"})
    assert (r.status, r.body, r.h("content-range")) == (206, body[-5:], "bytes 95-99/100")
    assert origin_ranges(origin, p) == ["bytes=-5"]
    r = fetch(p, headers={"Range": "bytes=-5"})
    assert (r.status, r.body, r.x_cache) == (206, body[-5:], "Hit from cloudfront")
    # A smaller range within the stored part comes from it too.
    r = fetch(p, headers={"Range": "bytes=97-98"})
    assert (r.status, r.body, r.h("content-range")) == (206, body[97:99], "bytes 97-98/100")
    assert r.x_cache == "Hit from cloudfront"
    assert origin.count(p) == 1


U64_MAX = 2**64 - 1


def test_ranges_to_the_last_u64_never_overflow(fetch, origin):
    # The largest last byte a viewer can send means "to the end", cold and warm.
    p = path()
    body = bytes(range(100))
    origin.routes[p] = Route(body, headers={"Cache-Control": "max-age=3600"})
    for x_cache in ("Miss from cloudfront", "Hit from cloudfront"):
        r = fetch(p, headers={"Range": f"bytes=0-{U64_MAX}"})
        assert (r.status, r.body, r.h("content-range")) == (206, body, "bytes 0-99/100")
        assert r.x_cache == x_cache
    r = fetch(p, headers={"Range": f"bytes={U64_MAX}-{U64_MAX}"})
    assert (r.status, r.h("content-range")) == (416, "bytes */100")
    # An origin whose Content-Range ends at the last u64 is not stored, and nothing breaks.
    q = path()
    origin.routes[q] = Route(b"0123", status=206, ranges=False, validators=False,
                             headers={"Cache-Control": "max-age=3600", "Content-Range": f"bytes 0-{U64_MAX}/*"})
    for _ in range(2):
        r = fetch(q, headers={"Range": "bytes=-4"})
        assert (r.status, r.body) == (206, b"0123")
    assert origin.count(q) == 2


def test_incomplete_206_answers_ranges_within_what_arrived(fetch, origin):
    # Content-Range claims six bytes, five arrive: the five answer ranges inside them.
    p = path()
    origin.routes[p] = Route(b"01234", status=206, ranges=False, validators=False,
                             headers={"Cache-Control": "max-age=3600", "Content-Range": "bytes 4-9/10"})
    r = fetch(p, headers={"Range": "bytes=-5"})
    assert (r.status, r.body, r.h("content-range")) == (206, b"01234", "bytes 4-9/10")
    r = fetch(p, headers={"Range": "bytes=6-8"})
    assert (r.status, r.body, r.h("content-range"), r.x_cache) == (206, b"234", "bytes 6-8/10", "Hit from cloudfront")
    assert origin.count(p) == 1


@pytest.mark.parametrize("origin_answers", ["206", "200"])
def test_stored_partial_content_is_completed_with_only_the_missing_bytes(fetch, origin, origin_answers):
    p = path()
    common = {"Cache-Control": "max-age=3600", "ETag": '"same"'}
    origin.routes[p] = Route(b"01234", status=206, ranges=False, validators=False,
                             headers={**common, "Content-Range": "bytes 0-4/10"})
    r = fetch(p, headers={"Range": "bytes=-5"})
    assert (r.status, r.body) == (206, b"01234")
    # Now the origin has the whole representation (same validator); it may answer a range
    # with a 206 or with the whole 200.
    origin.routes[p] = Route(b"0123456789", ranges=origin_answers == "206", validators=False, headers=common)
    r = fetch(p)
    assert (r.status, r.body) == (200, b"0123456789")
    assert origin_ranges(origin, p) == ["bytes=-5", "bytes=5-"]
    r = fetch(p)
    assert (r.status, r.body, r.x_cache) == (200, b"0123456789", "Hit from cloudfront")
    assert origin.count(p) == 2


@pytest.mark.parametrize("origin_answers", ["200", "206"])
def test_stored_partial_content_of_a_changed_object_is_replaced_not_truncated(fetch, origin, origin_answers):
    # The stored fragment's object changed at the origin. The viewer gets the new whole
    # response, never the stored head over a body that cannot be completed (RFC 9111 §3.4).
    p = path()
    origin.routes[p] = Route(b"01234", status=206, ranges=False, validators=False,
                             headers={"Cache-Control": "max-age=3600", "ETag": '"old"', "Content-Range": "bytes 0-4/10"})
    fetch(p, headers={"Range": "bytes=-5"})
    new = b"a new, longer representation"
    origin.routes[p] = Route(new, ranges=origin_answers == "206", validators=False,
                             headers={"Cache-Control": "max-age=3600", "ETag": '"new"'})
    r = fetch(p)
    assert (r.status, r.body, r.h("etag"), r.x_cache) == (200, new, '"new"', "Miss from cloudfront")
    r = fetch(p)
    assert (r.status, r.body, r.x_cache) == (200, new, "Hit from cloudfront")


def test_large_suffix_answer_is_relayed_not_stored(fetch, origin):
    p = path()
    body = bytes(200_000)
    origin.routes[p] = Route(body, headers={"Cache-Control": "max-age=3600"})
    for _ in range(2):
        r = fetch(p, headers={"Range": "bytes=-100000"})
        assert (r.status, len(r.body), r.h("content-range")) == (206, 100_000, "bytes 100000-199999/200000")
    assert origin_ranges(origin, p) == ["bytes=-100000", "bytes=-100000"]


# --- HEAD (RFC 9110 §9.3.2) ---

def test_head_is_answered_from_a_stored_get(fetch, origin):
    p = path()
    origin.routes[p] = Route(b"12345", headers={"Cache-Control": "max-age=3600"})
    fetch(p)
    r = fetch(p, method="HEAD")
    assert r.status == 200 and r.body == b"" and r.h("content-length") == "5"
    assert r.x_cache == "Hit from cloudfront"
    assert origin.count(p) == 1


# --- Invalidation by unsafe methods (RFC 9111 §4.4) ---

def test_post_invalidates_target_and_location(fetch, origin):
    p, loc = path(), path()
    for x in (p, loc):
        origin.routes[x] = Route(b"a", headers={"Cache-Control": "max-age=3600"})
        fetch(x)
    post = path()
    origin.routes[post] = Route(b"created", status=201, headers={"Location": loc})
    # POST to p (routed to the same origin, answered 201 with Location).
    origin.routes[p] = Route(b"a", status=201, headers={"Cache-Control": "max-age=3600", "Location": loc})
    assert fetch(p, method="POST", body=b"x").status == 201
    origin.routes[p] = Route(b"a", headers={"Cache-Control": "max-age=3600"})
    assert fetch(p).x_cache == "Miss from cloudfront"
    assert fetch(loc).x_cache == "Miss from cloudfront"


def test_post_response_naming_its_own_uri_serves_later_gets(fetch, origin):
    # RFC 9110 §9.3.3: explicit freshness and Content-Location = the target URI.
    p = path()
    origin.routes[p] = Route(b"posted", validators=False,
                             headers={"Cache-Control": "max-age=3600", "Content-Location": p})
    r = fetch(p, method="POST", body=b"12345", headers={"Content-Type": "text/plain"})
    assert (r.status, r.body) == (200, b"posted")
    r = fetch(p)
    assert (r.status, r.body, r.x_cache) == (200, b"posted", "Hit from cloudfront")
    assert origin.count(p) == 1
    # Without the Content-Location (or the freshness) it does not.
    for with_location, with_freshness in ((False, True), (True, False)):
        q = path()
        headers = {"Cache-Control": "max-age=3600"} if with_freshness else {}
        if with_location:
            headers["Content-Location"] = q
        origin.routes[q] = Route(b"posted", validators=False, headers=headers)
        fetch(q, method="POST", body=b"12345")
        assert fetch(q).x_cache == "Miss from cloudfront", headers


def test_extension_method_is_forwarded_and_invalidates(fetch, origin):
    # A behavior that allows every method forwards extension methods, as a proxy does; a
    # successful one invalidates like any unsafe method.
    p = path()
    origin.routes[p] = Route(b"a", headers={"Cache-Control": "max-age=3600"})
    fetch(p)
    r = fetch(p, method="M-SEARCH", body=b"abc")
    assert r.status == 200 and origin.last(p)[0] == "M-SEARCH"
    assert fetch(p).x_cache == "Miss from cloudfront"


def test_failed_unsafe_request_does_not_invalidate(fetch, origin):
    p = path()
    origin.routes[p] = Route(b"a", headers={"Cache-Control": "max-age=3600"})
    fetch(p)
    origin.routes[p] = Route(b"no", status=500)
    fetch(p, method="DELETE")
    origin.routes[p] = Route(b"a", headers={"Cache-Control": "max-age=3600"})
    assert fetch(p).x_cache == "Hit from cloudfront"


# --- Serving stale (RFC 5861 via RFC 9111 §4.2.4) ---

def test_stale_while_revalidate(fetch, origin):
    p = path()
    origin.routes[p] = Route(b"v1", headers={"Cache-Control": "max-age=1, stale-while-revalidate=60"})
    fetch(p)
    time.sleep(1.5)
    origin.routes[p] = Route(b"v2", headers={"Cache-Control": "max-age=60"})
    r = fetch(p)
    assert r.body == b"v1" and r.x_cache == "Hit from cloudfront"
    deadline = time.time() + 5
    while time.time() < deadline and origin.count(p) < 2:
        time.sleep(0.05)
    assert origin.count(p) == 2
    deadline = time.time() + 5
    while time.time() < deadline and fetch(p).body != b"v2":
        time.sleep(0.1)
    assert fetch(p).body == b"v2"


@pytest.mark.parametrize("validators", [True, False])
def test_stale_if_error(fetch, origin, validators):
    # With or without a validator (then the request to the origin is unconditional).
    p = path()
    origin.routes[p] = Route(b"good", headers={"Cache-Control": "max-age=1, stale-if-error=60"}, validators=validators)
    fetch(p)
    time.sleep(1.5)
    origin.routes[p] = Route(b"broken", status=503)
    r = fetch(p)
    assert r.status == 200 and r.body == b"good"


def test_origin_error_on_revalidation_is_relayed_and_the_stale_copy_kept(fetch, origin):
    # Without stale-if-error the viewer gets the origin's own 5xx, not a gateway error; the
    # stored copy is not thrown away, so revalidation can succeed later.
    p = path()
    route = Route(b"good", headers={"Cache-Control": "max-age=1"})
    origin.routes[p] = route
    fetch(p)
    time.sleep(1.5)
    origin.routes[p] = Route(b"busy", status=503, headers={"Retry-After": "1"})
    r = fetch(p)
    assert (r.status, r.body, r.h("retry-after")) == (503, b"busy", "1")
    origin.routes[p] = route
    r = fetch(p)
    assert (r.status, r.body, r.x_cache) == (200, b"good", "RefreshHit from cloudfront")


def test_must_revalidate_forbids_stale(fetch, origin):
    p = path()
    origin.routes[p] = Route(b"good", headers={"Cache-Control": "max-age=1, must-revalidate, stale-if-error=60"})
    fetch(p)
    time.sleep(1.5)
    origin.routes[p] = Route(b"broken", status=500)
    assert fetch(p).status >= 500


# --- CDN-Cache-Control (RFC 9213) ---

def test_cdn_cache_control_overrides_cache_control(fetch, origin):
    _, n = twice(fetch, origin, path(), Route(b"a", headers={"Cache-Control": "no-store", "CDN-Cache-Control": "max-age=3600"}))
    assert n == 1
    _, n = twice(fetch, origin, path(), Route(b"a", headers={"Cache-Control": "max-age=3600", "CDN-Cache-Control": "no-store"}))
    assert n == 2
    p = path()
    r, _ = twice(fetch, origin, p, Route(b"a", headers={"CDN-Cache-Control": "max-age=3600"}))
    # Passed through unchanged.
    assert r.h("cdn-cache-control") == "max-age=3600"


def test_invalid_cdn_cache_control_is_ignored(fetch, origin):
    # RFC 9213 §2.1: CDN-Cache-Control is a Structured Field Dictionary; one that does not
    # parse is ignored, and Cache-Control (here no-store) applies.
    for cdn in ("max-age=10000, &&&&&", 'max-age="10000"', "max-age =10000"):
        _, n = twice(fetch, origin, path(),
                     Route(b"a", headers={"CDN-Cache-Control": cdn, "Cache-Control": "no-store"}, validators=False))
        assert n == 2, cdn
    _, n = twice(fetch, origin, path(), Route(b"a", headers={"CDN-Cache-Control": "max-age=99999999999"}))
    assert n == 1


# --- Interim responses (RFC 9110 §15.2) ---

@pytest.mark.parametrize("code", [102, 103])
def test_interim_response_is_not_stored_and_final_response_is(fetch, origin, code):
    p = path()
    route = Route(b"final", headers={"Cache-Control": "max-age=3600"},
                  interim=[(code, {"Link": "</s.css>; rel=preload; as=style"})])
    r, n = twice(fetch, origin, p, route)
    assert (r.status, r.body, r.x_cache, n) == (200, b"final", "Hit from cloudfront", 1)


# --- Passing origin headers through ---

def test_origin_headers_pass_through(fetch, origin):
    p = path()
    origin.routes[p] = Route(b"a", headers={"Cache-Control": "max-age=3600", "X-Custom": "1", "Content-Type": "text/x-test"})
    for r in (fetch(p), fetch(p)):
        assert r.h("x-custom") == "1" and r.h("content-type") == "text/x-test"
        assert r.h("cache-control") == "max-age=3600"
