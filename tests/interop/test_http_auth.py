"""What plain HTTP clients see: presigned URLs (boto3-generated, used with urllib), expiry
caps, clock skew, unsigned requests, virtual-hosted addressing, malformed bodies, oversized
headers, and the Range rules S3 applies to unsigned Range headers. (SigV2 and the other S3
answers are in test_s3_answers.py.)"""

import datetime
import http.client
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import REGION
from s3_helpers import error_code_of, http_request


def test_presigned_get_and_put(s3, bucket):
    s3.put_object(Bucket=bucket, Key="p", Body=b"presigned body")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p"}, ExpiresIn=600)
    status, _, body = http_request(url)
    assert status == 200 and body == b"presigned body"
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up"}, ExpiresIn=600)
    status, _, _ = http_request(put_url, "PUT", data=b"uploaded by urllib")
    assert status == 200
    assert s3.get_object(Bucket=bucket, Key="up")["Body"].read() == b"uploaded by urllib"
    # Tampering with the URL breaks the signature.
    status, _, body = http_request(url.replace("/p?", "/up?"))
    assert status == 403 and error_code_of(body) == "SignatureDoesNotMatch"


def test_presigned_expiry(s3, bucket):
    s3.put_object(Bucket=bucket, Key="p", Body=b"x")
    # Outside 1 s .. 7 days S3 answers 403 AccessDenied, with its own message for each. (The
    # SDK refuses to presign some of these, so the parameter is edited into a valid URL.)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p"}, ExpiresIn=60)
    for expires, message in (("604801", b"less than a week"), ("0", b"expired"), ("-7", b"non-negative"), ("soon", b"number")):
        status, _, body = http_request(url.replace("X-Amz-Expires=60", f"X-Amz-Expires={expires}"))
        assert status == 403 and error_code_of(body) == "AccessDenied", (expires, body)
        assert message in body, (expires, body)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p"}, ExpiresIn=1)
    import time

    time.sleep(2.1)
    status, _, body = http_request(url)
    assert status == 403 and error_code_of(body) == "AccessDenied"


def test_anonymous_is_denied(wharf, bucket):
    status, _, body = http_request(f"{wharf.endpoint}/{bucket}/")
    assert status == 403 and error_code_of(body) == "AccessDenied"


def signed_request(wharf, method, url, body=b"", headers=None, when=None):
    creds = Credentials(wharf.access_key, wharf.secret_key)
    req = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    req.headers["x-amz-content-sha256"] = __import__("hashlib").sha256(body).hexdigest()
    signer = SigV4Auth(creds, "s3", REGION)
    if when:
        # botocore stamps the current time; sign as of `when` to simulate a skewed clock.
        import botocore.auth

        real = botocore.auth.datetime.datetime

        class Fixed(real):
            @classmethod
            def utcnow(cls):
                return when.replace(tzinfo=None)

            @classmethod
            def now(cls, tz=None):
                return when if tz else when.replace(tzinfo=None)

        botocore.auth.datetime.datetime = Fixed
        try:
            signer.add_auth(req)
        finally:
            botocore.auth.datetime.datetime = real
    else:
        signer.add_auth(req)
    return http_request(url, method, data=body or None, headers=dict(req.headers))


def test_request_time_too_skewed(wharf, bucket):
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    status, _, body = signed_request(wharf, "GET", f"{wharf.endpoint}/{bucket}?list-type=2", when=when)
    assert status == 403 and error_code_of(body) == "RequestTimeTooSkewed"


def test_malformed_xml(wharf, bucket):
    for body in (b"<Delete><Object><Key>a</Key></Object>", b"not xml at all", b"<Delete></Delete>"):
        status, _, resp = signed_request(wharf, "POST", f"{wharf.endpoint}/{bucket}?delete", body=body, headers={"Content-MD5": __import__("base64").b64encode(__import__("hashlib").md5(body).digest()).decode()})
        assert status == 400 and error_code_of(resp) == "MalformedXML", resp


def test_entity_too_large_is_refused_before_reading(wharf, bucket):
    # A 6 GiB Content-Length is refused from the headers alone.
    url = f"{wharf.endpoint}/{bucket}/huge"
    creds = Credentials(wharf.access_key, wharf.secret_key)
    req = AWSRequest(method="PUT", url=url, headers={"Content-Length": str(6 << 30), "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    SigV4Auth(creds, "s3", REGION).add_auth(req)
    conn = http.client.HTTPConnection("127.0.0.1", wharf.port, timeout=30)
    conn.putrequest("PUT", f"/{bucket}/huge", skip_accept_encoding=True)
    for k, v in req.headers.items():
        conn.putheader(k, v)
    conn.endheaders()
    conn.send(b"x" * 1024)
    resp = conn.getresponse()
    body = resp.read()
    assert resp.status == 400 and error_code_of(body) == "EntityTooLarge"
    conn.close()


def test_oversized_headers(wharf, bucket):
    status, _, body = http_request(f"{wharf.endpoint}/{bucket}/k", headers={"x-junk": "a" * 20000})
    assert status == 400 and error_code_of(body) == "RequestHeaderSectionTooLarge"


def test_virtual_hosted_style(wharf, bucket):
    # bucket.localhost resolves to 127.0.0.1 only through the Host header: point boto3 at
    # localhost:port and let it prepend the bucket.
    s3v = __import__("boto3").client(
        "s3",
        endpoint_url=f"http://localhost:{wharf.port}",
        aws_access_key_id=wharf.access_key,
        aws_secret_access_key=wharf.secret_key,
        region_name=REGION,
        config=__import__("botocore.config", fromlist=["Config"]).Config(signature_version="s3v4", s3={"addressing_style": "virtual"}),
    )
    url = s3v.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "vh"}, ExpiresIn=60)
    assert f"//{bucket}.localhost:" in url
    # Send to 127.0.0.1 with the virtual Host header (no DNS needed for *.localhost).
    path = url.split(f"{bucket}.localhost:{wharf.port}", 1)[1]
    conn = http.client.HTTPConnection("127.0.0.1", wharf.port, timeout=30)
    conn.request("PUT", path, body=b"virtual", headers={"Host": f"{bucket}.localhost:{wharf.port}"})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 200
    conn.close()
    assert wharf.client().get_object(Bucket=bucket, Key="vh")["Body"].read() == b"virtual"


@pytest.mark.parametrize(
    "rng,status,body",
    [
        ("bytes=0-1,4-5", 200, b"0123456789"),  # S3 serves one range: the whole object
        ("bytes=abc", 200, b"0123456789"),  # an unparsable Range is ignored
        ("bytes=2-3", 206, b"23"),
        ("bytes=-2", 206, b"89"),
    ],
)
def test_unsigned_range_headers(s3, bucket, rng, status, body):
    s3.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "digits"}, ExpiresIn=60)
    got_status, _, got = http_request(url, headers={"Range": rng})
    assert (got_status, got) == (status, body)
