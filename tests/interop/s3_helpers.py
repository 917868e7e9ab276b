"""Raw HTTP against the S3 endpoint, for what boto3 would hide or refuse to send: plain and
SigV4-signed requests with chosen headers, and the error code of an S3 XML body."""

import datetime
import hashlib
import hmac
import http.client
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import REGION


def http_request(url, method="GET", data=None, headers=None):
    """urllib request; returns (status, headers, body) for any status."""
    req = urllib.request.Request(url, method=method, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def raw_request(wharf, method, path, body=b"", headers=None):
    """http.client request with exactly `headers` (urllib adds a Content-Type to bodies)."""
    conn = http.client.HTTPConnection("127.0.0.1", wharf.port, timeout=30)
    conn.request(method, path, body=body or None, headers=headers or {})
    r = conn.getresponse()
    out = r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    conn.close()
    return out


def error_code_of(body):
    return ET.fromstring(body).findtext("Code")


def xml_of(body):
    """The XML root with namespaces stripped from tags."""
    root = ET.fromstring(body)
    for el in root.iter():
        if "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root


def signed_headers(wharf, method, path, body=b"", headers=None, payload_hash=None):
    """SigV4 headers (botocore's signer) for a request to `path` on the S3 endpoint."""
    url = f"{wharf.endpoint}{path}"
    h = dict(headers or {})
    h["x-amz-content-sha256"] = payload_hash or hashlib.sha256(body).hexdigest()
    req = AWSRequest(method=method, url=url, data=body, headers=h)
    SigV4Auth(Credentials(wharf.access_key, wharf.secret_key), "s3", REGION).add_auth(req)
    return dict(req.headers)


def signed_request(wharf, method, path, body=b"", headers=None):
    """A SigV4-signed request with chosen headers; returns (status, headers, body)."""
    return raw_request(wharf, method, path, body, signed_headers(wharf, method, path, body, headers))


def sigv4_with_date_header(wharf, method, path, when=None):
    """Headers signed with SigV4 where the date comes from `Date` and no `X-Amz-Date` is sent
    (SigV4 allows either)."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    day = when.strftime("%Y%m%d")
    date_header = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    host = f"127.0.0.1:{wharf.port}"
    payload = hashlib.sha256(b"").hexdigest()
    parsed = urllib.parse.urlsplit(path)
    query = "&".join(sorted(p for p in parsed.query.split("&") if p)) if parsed.query else ""
    canonical = "\n".join([
        method, parsed.path, query,
        f"date:{date_header}\nhost:{host}\nx-amz-content-sha256:{payload}\n",
        "date;host;x-amz-content-sha256", payload,
    ])
    scope = f"{day}/{REGION}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])

    def h(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = h(h(h(h(("AWS4" + wharf.secret_key).encode(), day), REGION), "s3"), "aws4_request")
    sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "Host": host,
        "Date": date_header,
        "x-amz-content-sha256": payload,
        "Authorization": f"AWS4-HMAC-SHA256 Credential={wharf.access_key}/{scope}, SignedHeaders=date;host;x-amz-content-sha256, Signature={sig}",
    }


def account_id(wharf):
    """The store's account ID (what x-amz-expected-bucket-owner names), read from its database."""
    import sqlite3

    db = sqlite3.connect(f"file:{wharf.data_dir / 'meta.sqlite3'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT value FROM settings WHERE name = 'account_id'").fetchone()[0]
    finally:
        db.close()


def make_user(wharf, prefix="u"):
    """A new user: its name, its ARN (as `wharf user list` shows it) and a boto3 client signed
    with its key."""
    import uuid

    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    out = wharf.wharf_cmd("user", "create", name).stdout
    value = lambda k: next(l.split("=", 1)[1] for l in out.splitlines() if l.startswith(k + "="))
    arn = next(l.split("\t")[3] for l in wharf.wharf_cmd("user", "list").stdout.splitlines()
               if l.startswith(name + "\t"))
    return name, arn, wharf.client(access_key=value("AWS_ACCESS_KEY_ID"), secret_key=value("AWS_SECRET_ACCESS_KEY"))


def anonymous_client(wharf):
    """A boto3 client that signs nothing."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=wharf.endpoint, region_name=REGION,
                        config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1}))


def assert_denied(call):
    """The call fails with S3's 403 AccessDenied."""
    import pytest
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as e:
        call()
    code = e.value.response["Error"]["Code"]
    status = e.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert (status, code) == (403, "AccessDenied"), e.value.response
    return e.value
