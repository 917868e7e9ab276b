"""Private content on the edge, as CloudFront serves it: cache behaviors with TrustedKeyGroups
take signed URLs (made by `aws cloudfront sign` and botocore's CloudFrontSigner) and signed
cookies, canned and custom policies, RSA and ECDSA keys, SHA-1 and SHA-256; distributions with
a GeoRestriction locate viewers in MaxMind's test database, behind a trusted proxy."""

import base64
import datetime
import json
import time
import uuid
from pathlib import Path

import pytest
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from conftest import Wharf
from edge_helpers import (
    CACHING_OPTIMIZED,
    ORIGIN_HEADERS_QS,
    behavior,
    custom_origin,
    deploy,
    distribution,
    request,
)
from origin import Route
from test_edge import origin, path  # noqa: F401  (the module-scoped test origin)

GEO_DB = Path(__file__).resolve().parents[1] / "data" / "geo" / "GeoIP2-Country-Test.mmdb"
# Addresses in MaxMind's test database (tests/data/geo/README.md).
GB, US, SE = "81.2.69.142", "216.160.83.56", "89.160.20.112"


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    """An edge that believes X-Forwarded-For from 127.0.0.1 (as behind a load balancer), so a
    test can stand for a viewer anywhere, and that locates viewers in the test database."""
    base = tmp_path_factory.mktemp("private")
    dists = base / "distributions"
    for sub in ("", "public-keys", "key-groups"):
        (dists / sub).mkdir(exist_ok=True)
    conf = base / "wharf.toml"
    conf.write_text(f'[edge]\ndistributions_dir = "{dists}"\nmemory_cache_mb = 16\ndisk_cache_mb = 0\n'
                    f'geo_database = "{GEO_DB}"\ntrusted_proxies = ["127.0.0.1/32"]\n')
    w = Wharf(base / "data").start("--config", str(conf))
    w.dists = dists
    yield w
    w.stop()


def new_id(prefix="E"):
    return prefix + uuid.uuid4().hex[:12].upper()


def get(edge, host, target, **kw):
    return request(edge.edge_port, target, host=host, **kw)


def public_pem(key):
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def add_public_key(edge, key):
    """Writes public-keys/ID.json as `aws cloudfront create-public-key` takes it."""
    kid = new_id("K")
    (edge.dists / "public-keys" / f"{kid}.json").write_text(json.dumps(
        {"CallerReference": kid, "Name": kid.lower(), "EncodedKey": public_pem(key), "Comment": ""}))
    return kid


def add_key_group(edge, key_ids):
    gid = str(uuid.uuid4())
    write_key_group(edge, gid, key_ids)
    return gid


def write_key_group(edge, gid, key_ids):
    tmp = edge.dists / "key-groups" / f".{gid}.tmp"
    tmp.write_text(json.dumps({"Name": "group", "Items": list(key_ids), "Comment": ""}))
    tmp.rename(edge.dists / "key-groups" / f"{gid}.json")


def private_distribution(edge, origin, key_groups, policy=ORIGIN_HEADERS_QS):
    """`/private/*` needs a signature from one of `key_groups`; the rest is public."""
    trusted = {"Enabled": True, "Quantity": len(key_groups), "Items": list(key_groups)}
    private = behavior("o", policy, pattern="/private/*", TrustedKeyGroups=trusted)
    did = new_id()
    host = deploy(edge.dists, edge.edge_port, did,
                  distribution([custom_origin("o", origin.port)], behavior("o", CACHING_OPTIMIZED),
                               behaviors=[private]))
    return host


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rsa_sha1(key):
    return lambda m: key.sign(m, padding.PKCS1v15(), hashes.SHA1())


def in_an_hour():
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)


def target_of(url, host):
    return url.split(host, 1)[1]


def code_of(r):
    return r.body.split(b"<Code>")[1].split(b"</Code>")[0].decode() if b"<Code>" in r.body else None


@pytest.fixture(scope="module")
def rsa_setup(edge, origin):
    key = rsa_key()
    kid = add_public_key(edge, key)
    host = private_distribution(edge, origin, [add_key_group(edge, [kid])])
    pem = edge.dists.parent / f"{kid}.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption()))
    return key, kid, host, pem


def aws_sign(edge, url, kid, pem, *extra):
    out = edge.aws("cloudfront", "sign", "--url", url, "--key-pair-id", kid,
                   "--private-key", f"file://{pem}", *extra)
    return out.strip() if isinstance(out, str) else out.stdout.strip()


def test_aws_cli_canned_signed_url(edge, origin, rsa_setup):
    key, kid, host, pem = rsa_setup
    p = path()
    origin.routes["/private" + p] = Route(b"secret", headers={"Cache-Control": "max-age=600"})
    url = f"http://{host}/private{p}?color=red"
    expires = str(int(time.time()) + 3600)
    signed = aws_sign(edge, url, kid, pem, "--date-less-than", expires)
    assert "Expires=" in signed and "Signature=" in signed and f"Key-Pair-Id={kid}" in signed
    r = get(edge, host, target_of(signed, host))
    assert r.status == 200 and r.body == b"secret", r
    assert r.x_cache == "Miss from cloudfront"
    # The origin sees the viewer's own query, without the signing parameters.
    assert origin.last("/private" + p)[1] == f"/private{p}?color=red"
    # Another signature for the same URL is the same cache key: a hit.
    signed2 = aws_sign(edge, url, kid, pem, "--date-less-than", str(int(expires) + 60))
    assert signed2 != signed
    r = get(edge, host, target_of(signed2, host))
    assert r.status == 200 and r.x_cache == "Hit from cloudfront"
    assert origin.count("/private" + p) == 1
    # Unsigned, the same URL is refused even though it is cached.
    r = get(edge, host, f"/private{p}?color=red")
    assert r.status == 403 and code_of(r) == "MissingKey" and r.x_cache == "Error from cloudfront"
    assert r.h("content-type") == "text/xml"


def test_tampered_expired_and_foreign_signatures_are_refused(edge, origin, rsa_setup):
    key, kid, host, pem = rsa_setup
    p = path()
    origin.routes["/private" + p] = Route(b"secret")
    origin.routes["/private" + p + "-other"] = Route(b"other")
    url = f"http://{host}/private{p}"
    signed = aws_sign(edge, url, kid, pem, "--date-less-than", str(int(time.time()) + 3600))
    query = signed.split("?", 1)[1]
    # Signed for one object, used for another.
    r = get(edge, host, f"/private{p}-other?{query}")
    assert r.status == 403 and code_of(r) == "AccessDenied"
    # A parameter added after signing changes the URL the signature covers.
    r = get(edge, host, f"/private{p}?admin=1&{query}")
    assert r.status == 403 and code_of(r) == "AccessDenied"
    # A later expiry than the one signed.
    forged = query.replace("Expires=", "Expires=9")
    assert get(edge, host, f"/private{p}?{forged}").status == 403
    # Expired.
    old = aws_sign(edge, url, kid, pem, "--date-less-than", str(int(time.time()) - 10))
    r = get(edge, host, target_of(old, host))
    assert r.status == 403 and code_of(r) == "AccessDenied"
    # Signed with a key the behavior does not trust, under a trusted key's ID.
    stranger = CloudFrontSigner(kid, rsa_sha1(rsa_key()))
    r = get(edge, host, target_of(stranger.generate_presigned_url(url, date_less_than=in_an_hour()), host))
    assert r.status == 403 and code_of(r) == "AccessDenied"
    # An ID no trusted key group holds.
    unknown = CloudFrontSigner("KNOSUCHKEY1234", rsa_sha1(key))
    r = get(edge, host, target_of(unknown.generate_presigned_url(url, date_less_than=in_an_hour()), host))
    assert r.status == 403 and code_of(r) == "InvalidKey"
    # A policy that is not a policy.
    r = get(edge, host, f"/private{p}?Policy=bm90IGpzb24_&Signature=AAAA&Key-Pair-Id={kid}")
    assert r.status == 403 and code_of(r) == "MalformedPolicy"
    r = get(edge, host, f"/private{p}?Signature=AAAA&Key-Pair-Id={kid}")
    assert r.status == 403 and code_of(r) == "MalformedPolicy"
    assert origin.count("/private" + p) == 0 and origin.count("/private" + p + "-other") == 0


def test_aws_cli_custom_policy_with_address_and_start_time(edge, origin, rsa_setup):
    key, kid, host, pem = rsa_setup
    p = path()
    origin.routes["/private" + p] = Route(b"for GB only")
    url = f"http://{host}/private{p}"
    signed = aws_sign(edge, url, kid, pem, "--date-less-than", str(int(time.time()) + 3600),
                      "--ip-address", f"{GB}/32")
    assert "Policy=" in signed
    target = target_of(signed, host)
    r = get(edge, host, target, headers={"X-Forwarded-For": GB})
    assert r.status == 200 and r.body == b"for GB only", r
    r = get(edge, host, target, headers={"X-Forwarded-For": US})
    assert r.status == 403 and code_of(r) == "AccessDenied"
    # A viewer's own X-Forwarded-For before the proxy's hop does not help it.
    r = get(edge, host, target, headers={"X-Forwarded-For": f"{GB}, {US}"})
    assert r.status == 403
    later = aws_sign(edge, url, kid, pem, "--date-less-than", str(int(time.time()) + 7200),
                     "--date-greater-than", str(int(time.time()) + 3600))
    r = get(edge, host, target_of(later, host))
    assert r.status == 403 and code_of(r) == "AccessDenied"


def test_signed_cookies_with_a_wildcard_policy(edge, origin, rsa_setup):
    key, kid, host, pem = rsa_setup
    a, b = path(), path()
    origin.routes["/private" + a] = Route(b"a")
    origin.routes["/private" + b] = Route(b"b")
    signer = CloudFrontSigner(kid, rsa_sha1(key))
    policy = signer.build_policy(f"http://{host}/private/*", in_an_hour())
    enc = lambda raw: base64.b64encode(raw).decode().replace("+", "-").replace("=", "_").replace("/", "~")
    cookie = (f"CloudFront-Policy={enc(policy.encode())}; CloudFront-Signature={enc(signer.rsa_signer(policy.encode()))}; "
              f"CloudFront-Key-Pair-Id={kid}")
    for p, body in ((a, b"a"), (b, b"b")):
        r = get(edge, host, f"/private{p}?x=1", headers={"Cookie": cookie})
        assert r.status == 200 and r.body == body, r
    # The policy names this host only.
    other = private_distribution(edge, origin, [add_key_group(edge, [kid])])
    r = get(edge, other, f"/private{a}", headers={"Cookie": cookie})
    assert r.status == 403 and code_of(r) == "AccessDenied"
    # Cookies without the signature.
    r = get(edge, host, f"/private{a}", headers={"Cookie": f"CloudFront-Policy={enc(policy.encode())}; CloudFront-Key-Pair-Id={kid}"})
    assert r.status == 403 and code_of(r) == "AccessDenied"


def test_ecdsa_key_and_sha256(edge, origin):
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rsa_k = rsa_key()
    ec_id, rsa_id = add_public_key(edge, ec_key), add_public_key(edge, rsa_k)
    host = private_distribution(edge, origin, [add_key_group(edge, [ec_id]), add_key_group(edge, [rsa_id])])
    p = path()
    origin.routes["/private" + p] = Route(b"modern")
    url = f"http://{host}/private{p}"
    ec_signer = CloudFrontSigner(ec_id, lambda m: ec_key.sign(m, ec.ECDSA(hashes.SHA256())))
    signed = ec_signer.generate_presigned_url(url, date_less_than=in_an_hour())
    r = get(edge, host, target_of(signed, host) + "&Hash-Algorithm=SHA256")
    assert r.status == 200 and r.body == b"modern", r
    # Without Hash-Algorithm the signature is checked as SHA-1, and fails.
    assert get(edge, host, target_of(signed, host)).status == 403
    assert get(edge, host, target_of(signed, host) + "&Hash-Algorithm=MD5").status == 403
    rsa_signer = CloudFrontSigner(rsa_id, lambda m: rsa_k.sign(m, padding.PKCS1v15(), hashes.SHA256()))
    signed = rsa_signer.generate_presigned_url(url, date_less_than=in_an_hour())
    assert get(edge, host, target_of(signed, host) + "&Hash-Algorithm=SHA256").status == 200


def test_removing_a_key_from_its_group_revokes_its_urls(edge, origin):
    key = rsa_key()
    kid, spare = add_public_key(edge, key), add_public_key(edge, rsa_key())
    gid = add_key_group(edge, [kid, spare])
    host = private_distribution(edge, origin, [gid])
    p = path()
    origin.routes["/private" + p] = Route(b"x", headers={"Cache-Control": "no-store"})
    signed = CloudFrontSigner(kid, rsa_sha1(key)).generate_presigned_url(
        f"http://{host}/private{p}", date_less_than=in_an_hour())
    assert get(edge, host, target_of(signed, host)).status == 200
    write_key_group(edge, gid, [spare])
    deadline = time.time() + 10
    while (r := get(edge, host, target_of(signed, host))).status == 200:
        assert time.time() < deadline, "the key group change never took effect"
        time.sleep(0.2)
    assert code_of(r) == "InvalidKey"


def test_unloadable_key_group_keeps_the_distribution_out(edge, origin):
    """A behavior that trusts a key group that does not exist never serves: the distribution
    is not loaded (CloudFront refuses to create it)."""
    did = new_id()
    trusted = {"Enabled": True, "Quantity": 1, "Items": ["no-such-group"]}
    cfg = distribution([custom_origin("o", origin.port)], behavior("o", TrustedKeyGroups=trusted))
    (edge.dists / f"{did}.json").write_text(json.dumps(cfg))
    time.sleep(2.5)
    r = get(edge, f"{did.lower()}.localhost", "/")
    assert r.status != 200 and b"We can't connect to the server" in r.body


def geo_distribution(edge, origin, kind, countries):
    did = new_id()
    restriction = {"GeoRestriction": {"RestrictionType": kind, "Quantity": len(countries), "Items": countries}}
    return deploy(edge.dists, edge.edge_port, did,
                  distribution([custom_origin("o", origin.port)], behavior("o"), Restrictions=restriction))


def test_geo_restriction_allow_list(edge, origin):
    host = geo_distribution(edge, origin, "whitelist", ["GB", "SE"])
    p = path()
    origin.routes[p] = Route(b"uk and sweden")
    for viewer in (GB, SE):
        r = get(edge, host, p, headers={"X-Forwarded-For": viewer})
        assert r.status == 200 and r.body == b"uk and sweden", (viewer, r)
    r = get(edge, host, p, headers={"X-Forwarded-For": US})
    assert r.status == 403 and r.x_cache == "Error from cloudfront"
    assert b"configured to block access from your country" in r.body
    # A viewer the database does not know is served, as CloudFront does.
    assert get(edge, host, p).status == 200
    assert get(edge, host, p, headers={"X-Forwarded-For": "2001:218::1"}).status == 403  # JP


def test_geo_restriction_block_list(edge, origin):
    host = geo_distribution(edge, origin, "blacklist", ["US"])
    p = path()
    origin.routes[p] = Route(b"not for the US")
    assert get(edge, host, p, headers={"X-Forwarded-For": US}).status == 403
    assert get(edge, host, p, headers={"X-Forwarded-For": SE}).status == 200
    # Cached now; a blocked viewer is still refused.
    assert get(edge, host, p, headers={"X-Forwarded-For": US}).status == 403
    assert origin.count(p) == 1
