"""CORS on buckets: Put/Get/DeleteBucketCors with the AWS CLI and boto3, preflight OPTIONS and
the headers of actual requests as S3 answers them, and headless Chromium doing what a web page
does: fetch() objects and upload with a presigned PUT across origins, allowed with the right
rule and blocked without it."""

import http.client
import http.server
import json
import re
import shutil
import subprocess
import threading
import urllib.parse

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, status_of

RULES = {"CORSRules": [
    {"ID": "uploads", "AllowedOrigins": ["http://*.example.com"], "AllowedMethods": ["PUT", "POST"],
     "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag", "x-amz-request-id"], "MaxAgeSeconds": 3000},
    {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"]},
]}


def raw(wharf, method, path, headers):
    c = http.client.HTTPConnection("127.0.0.1", wharf.port, timeout=10)
    try:
        c.request(method, path, headers=headers)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def test_cors_configuration_lifecycle(wharf, s3, bucket, tmp_path):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert (status_of(e.value), error_code(e.value)) == (404, "NoSuchCORSConfiguration")
    doc = tmp_path / "cors.json"
    doc.write_text(json.dumps(RULES))
    wharf.aws("s3api", "put-bucket-cors", "--bucket", bucket, "--cors-configuration", f"file://{doc}")
    got = json.loads(wharf.aws("s3api", "get-bucket-cors", "--bucket", bucket).stdout)
    assert got["CORSRules"] == RULES["CORSRules"]
    s3.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert error_code(e.value) == "NoSuchCORSConfiguration"


@pytest.mark.parametrize("rule,code,message", [
    ({"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}, "InvalidRequest",
     "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"),
    ({"AllowedOrigins": ["http://*.*.com"], "AllowedMethods": ["GET"]}, "InvalidRequest",
     'AllowedOrigin "http://*.*.com" can not have more than one wildcard.'),
    ({"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["a*b*"]}, "InvalidRequest",
     'AllowedHeader "a*b*" can not have more than one wildcard.'),
    ({"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "ExposeHeaders": ["*"]}, "InvalidRequest",
     'ExposeHeader "*" contains wildcard. We currently do not support wildcard for ExposeHeader.'),
])
def test_invalid_rules(s3, bucket, rule, code, message):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})
    assert (status_of(e.value), error_code(e.value)) == (400, code)
    assert e.value.response["Error"]["Message"] == message


def test_preflight_and_actual_requests(wharf, s3, bucket):
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"hello")
    pre = {"Origin": "http://app.example.com", "Access-Control-Request-Method": "PUT",
           "Access-Control-Request-Headers": "Content-Type, X-Amz-Date"}
    status, h, body = raw(wharf, "OPTIONS", f"/{bucket}/a.txt", pre)
    assert status == 403 and b"CORSResponse" in body and b"CORS is not enabled for this bucket." in body
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)
    status, h, _ = raw(wharf, "OPTIONS", f"/{bucket}/a.txt", pre)
    assert status == 200
    assert h["access-control-allow-origin"] == "http://app.example.com"
    assert h["access-control-allow-methods"] == "PUT, POST"
    assert h["access-control-allow-headers"] == "content-type, x-amz-date"
    assert h["access-control-max-age"] == "3000"
    assert h["access-control-allow-credentials"] == "true"
    assert "Origin" in h["vary"]
    # The first rule that matches answers; the second allows any origin to GET.
    status, h, _ = raw(wharf, "OPTIONS", f"/{bucket}/a.txt",
                       {"Origin": "https://elsewhere.test", "Access-Control-Request-Method": "GET"})
    assert status == 200 and h["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in h
    # Nothing matches: a PUT from another origin, or a header the GET rule does not allow.
    for headers in ({"Origin": "https://elsewhere.test", "Access-Control-Request-Method": "PUT"},
                    {"Origin": "https://elsewhere.test", "Access-Control-Request-Method": "GET",
                     "Access-Control-Request-Headers": "X-Custom"}):
        status, _, body = raw(wharf, "OPTIONS", f"/{bucket}/a.txt", headers)
        assert status == 403 and b"<Code>CORSResponse</Code>" in body
    status, _, body = raw(wharf, "OPTIONS", f"/{bucket}/a.txt", {"Access-Control-Request-Method": "GET"})
    assert status == 400 and b"Origin request header needed" in body
    status, _, body = raw(wharf, "OPTIONS", "/no-such-bucket-cors/a", pre)
    assert status == 404 and b"NoSuchBucket" in body
    # Actual requests: a presigned GET with an Origin gets the headers of the matching rule.
    url = urllib.parse.urlsplit(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a.txt"}))
    status, h, body = raw(wharf, "GET", f"{url.path}?{url.query}", {"Origin": "https://elsewhere.test"})
    assert (status, body) == (200, b"hello") and h["access-control-allow-origin"] == "*"
    status, h, _ = raw(wharf, "GET", f"/{bucket}/a.txt", {"Origin": "https://elsewhere.test"})
    assert status == 403 and h["access-control-allow-origin"] == "*"  # errors too
    status, h, _ = raw(wharf, "GET", f"/{bucket}/a.txt", {})
    assert "access-control-allow-origin" not in h


PAGE = """<!doctype html><html><body><pre id="out">running</pre><script>
const results = [];
async function attempt(name, f) {
  try { results.push(name + ":" + await f()); } catch (e) { results.push(name + ":blocked"); }
}
(async () => {
  await attempt("get", async () => (await fetch("GET_URL")).text());
  await attempt("put", async () => {
    const r = await fetch("PUT_URL", {method: "PUT", body: "from the browser", headers: {"Content-Type": "text/plain"}});
    return r.status + "/" + (r.headers.get("ETag") ? "etag" : "no-etag");
  });
  await attempt("none", async () => (await fetch("NONE_URL")).text());
  document.getElementById("out").textContent = results.join("|");
})();
</script></body></html>"""


def test_chromium_fetches_and_uploads_across_origins(wharf, s3, bucket, tmp_path):
    chromium = shutil.which("chromium")
    assert chromium, "scripts/install-test-deps installs chromium"
    other = bucket + "-nocors"
    s3.create_bucket(Bucket=other)
    try:
        s3.put_object(Bucket=bucket, Key="data.txt", Body=b"cross-origin data")
        s3.put_object(Bucket=other, Key="data.txt", Body=b"secret")
        page_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
        page_origin = f"http://localhost:{page_server.server_address[1]}"
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
            {"AllowedOrigins": [page_origin], "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["*"],
             "ExposeHeaders": ["ETag"]}]})
        sign = lambda op, b, **p: s3.generate_presigned_url(op, Params={"Bucket": b, "Key": "data.txt", **p}, ExpiresIn=300)
        page = (PAGE.replace("GET_URL", sign("get_object", bucket))
                .replace("PUT_URL", s3.generate_presigned_url("put_object", Params={
                    "Bucket": bucket, "Key": "upload.txt", "ContentType": "text/plain"}, ExpiresIn=300))
                .replace("NONE_URL", sign("get_object", other)))
        (tmp_path / "page.html").write_text(page)
        handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path), **k)
        page_server.RequestHandlerClass = handler
        threading.Thread(target=page_server.serve_forever, daemon=True).start()
        try:
            out = subprocess.run(
                [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
                 "--dump-dom", f"{page_origin}/page.html"],
                capture_output=True, text=True, timeout=120).stdout
        finally:
            page_server.shutdown()
        m = re.search(r'<pre id="out">(.*?)</pre>', out)
        assert m, out[-2000:]
        results = dict(r.split(":", 1) for r in m.group(1).split("|"))
        assert results["get"] == "cross-origin data"
        # The presigned PUT needed a preflight (Content-Type: text/plain is simple, but PUT is
        # not); the rule allowed it and exposed ETag.
        assert results["put"] == "200/etag"
        assert s3.get_object(Bucket=bucket, Key="upload.txt")["Body"].read() == b"from the browser"
        # No CORS rules on the other bucket: the browser refuses the page the response.
        assert results["none"] == "blocked"
    finally:
        s3.delete_object(Bucket=other, Key="data.txt")
        s3.delete_bucket(Bucket=other)
