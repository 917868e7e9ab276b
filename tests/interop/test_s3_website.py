"""Static website hosting: Put/Get/DeleteBucketWebsite with the AWS CLI, the website endpoint
(`--website-listen`) answering as S3's does (index documents, the 302 from a folder without
its slash, routing rules, the error document, object redirects, RedirectAllRequestsTo, S3's
HTML error pages), followed by headless Chromium, and used as a distribution's custom origin."""

import http.client
import json
import re
import shutil
import subprocess
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import Wharf, error_code, status_of
from edge_helpers import ALL_VIEWER, CACHING_DISABLED, behavior, custom_origin, deploy, distribution, request


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp("website")
    dists = base / "distributions"
    dists.mkdir()
    (base / "wharf.toml").write_text(f'[edge]\ndistributions_dir = "{dists}"\n')
    w = Wharf(base / "data").start("--config", str(base / "wharf.toml"), "--website-listen", "127.0.0.1:0")
    w.dists = dists
    yield w
    w.stop()


def public_bucket(s3, name, listing=False):
    """AWS's website policy (public s3:GetObject), and public listing if asked: without it a
    missing page is 403, as on AWS."""
    s3.create_bucket(Bucket=name)
    s3.delete_public_access_block(Bucket=name)
    statements = [{"Sid": "PublicReadGetObject", "Effect": "Allow", "Principal": "*",
                   "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"}]
    if listing:
        statements.append({"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
                           "Resource": f"arn:aws:s3:::{name}"})
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))


def get(w, host, path, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", w.website_port, timeout=10)
    try:
        c.request(method, path, headers={"Host": host})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


WEBSITE = {
    "IndexDocument": {"Suffix": "index.html"},
    "ErrorDocument": {"Key": "error.html"},
    "RoutingRules": [
        {"Condition": {"KeyPrefixEquals": "docs/"}, "Redirect": {"ReplaceKeyPrefixWith": "documents/"}},
        {"Condition": {"KeyPrefixEquals": "old/", "HttpErrorCodeReturnedEquals": "404"},
         "Redirect": {"HostName": "archive.example.com", "ReplaceKeyPrefixWith": "", "HttpRedirectCode": "302"}},
    ],
}


def test_website_configuration_with_the_aws_cli(site, tmp_path):
    s3 = site.client()
    name = f"web-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_website(Bucket=name)
    assert (status_of(e.value), error_code(e.value)) == (404, "NoSuchWebsiteConfiguration")
    doc = tmp_path / "website.json"
    doc.write_text(json.dumps(WEBSITE))
    site.aws("s3api", "put-bucket-website", "--bucket", name, "--website-configuration", f"file://{doc}")
    got = json.loads(site.aws("s3api", "get-bucket-website", "--bucket", name).stdout)
    assert got["IndexDocument"] == {"Suffix": "index.html"} and got["ErrorDocument"] == {"Key": "error.html"}
    assert got["RoutingRules"] == WEBSITE["RoutingRules"]
    for bad, message in (
        ({"ErrorDocument": {"Key": "e.html"}}, "IndexDocument Suffix must be provided"),
        ({"IndexDocument": {"Suffix": "a/index.html"}}, "The IndexDocument Suffix is not well formed"),
        ({"RedirectAllRequestsTo": {"HostName": "x.test"}, "IndexDocument": {"Suffix": "i.html"}},
         "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules."),
        ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [
            {"Redirect": {"ReplaceKeyWith": "a", "ReplaceKeyPrefixWith": "b"}}]},
         "You can only define ReplaceKeyPrefix or ReplaceKey but not both."),
        ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [{"Redirect": {"HttpRedirectCode": "200"}}]},
         "The provided HTTP redirect code (200) is not valid. Valid codes are 3XX except 300."),
    ):
        with pytest.raises(ClientError) as e:
            s3.put_bucket_website(Bucket=name, WebsiteConfiguration=bad)
        assert (status_of(e.value), error_code(e.value)) == (400, "InvalidArgument")
        assert message in e.value.response["Error"]["Message"]
    s3.delete_bucket_website(Bucket=name)
    with pytest.raises(ClientError):
        s3.get_bucket_website(Bucket=name)
    s3.delete_bucket(Bucket=name)


def test_the_website_endpoint(site):
    s3 = site.client()
    name = f"web-{uuid.uuid4().hex[:10]}"
    public_bucket(s3, name, listing=True)
    put = lambda k, body, **kw: s3.put_object(Bucket=name, Key=k, Body=body, ContentType="text/html", **kw)
    put("index.html", b"<h1>home</h1>")
    put("about/index.html", b"<h1>about</h1>")
    put("error.html", b"<h1>oops</h1>")
    put("documents/a.html", b"a")
    put("moved.html", b"", WebsiteRedirectLocation="/about/")
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration=WEBSITE)
    host = f"{name}.s3-website.localhost:{site.website_port}"
    status, h, body = get(site, host, "/")
    assert (status, body) == (200, b"<h1>home</h1>") and h["content-type"] == "text/html"
    assert get(site, host, "/about/")[2] == b"<h1>about</h1>"
    status, h, _ = get(site, host, "/about")
    assert (status, h["location"]) == (302, "/about/")
    status, h, _ = get(site, host, "/docs/a.html")
    assert (status, h["location"]) == (301, "/documents/a.html")
    status, h, _ = get(site, host, "/old/page.html")
    assert (status, h["location"]) == (302, "http://archive.example.com/page.html")
    status, h, _ = get(site, host, "/moved.html")
    assert (status, h["location"]) == (301, "/about/")
    status, h, body = get(site, host, "/missing.html")
    assert (status, body) == (404, b"<h1>oops</h1>")
    status, _, body = get(site, host, "/", method="POST")
    assert status == 405 and b"MethodNotAllowed" in body
    status, h, body = get(site, host, "/", method="HEAD")
    assert status == 200 and body == b"" and h["content-length"] == "13"
    # Without a readable error document, S3's own HTML page.
    s3.delete_object(Bucket=name, Key="error.html")
    status, h, body = get(site, host, "/missing.html")
    assert status == 404 and h["content-type"].startswith("text/html")
    assert b"<li>Code: NoSuchKey</li>" in body and b"<li>Key: missing.html</li>" in body
    # Without public s3:ListBucket a missing page is 403, as on AWS.
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"}]}))
    status, _, body = get(site, host, "/missing.html")
    assert status == 403 and b"<li>Code: AccessDenied</li>" in body
    assert get(site, host, "/about")[0] == 302
    # Only what the bucket policy makes public is served: a private bucket is 403.
    s3.delete_bucket_policy(Bucket=name)
    status, _, body = get(site, host, "/")
    assert status == 403 and b"AccessDenied" in body
    # A bucket without a website configuration, and one that does not exist.
    plain = f"web-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=plain)
    status, _, body = get(site, f"{plain}.s3-website.localhost", "/")
    assert status == 404 and b"NoSuchWebsiteConfiguration" in body
    status, _, body = get(site, "no-such-bucket-web.s3-website.localhost", "/")
    assert status == 404 and b"NoSuchBucket" in body
    # RedirectAllRequestsTo.
    s3.put_bucket_website(Bucket=plain, WebsiteConfiguration={
        "RedirectAllRequestsTo": {"HostName": "www.example.com", "Protocol": "https"}})
    status, h, _ = get(site, f"{plain}.s3-website.localhost", "/a/b?x=1")
    assert (status, h["location"]) == (301, "https://www.example.com/a/b?x=1")


def test_chromium_follows_the_website(site, tmp_path):
    chromium = shutil.which("chromium")
    assert chromium, "scripts/install-test-deps installs chromium"
    s3 = site.client()
    name = f"web-{uuid.uuid4().hex[:10]}"
    public_bucket(s3, name)
    s3.put_object(Bucket=name, Key="index.html", ContentType="text/html",
                  Body=b'<html><body><a id="go" href="guide">guide</a></body></html>')
    s3.put_object(Bucket=name, Key="guide/index.html", ContentType="text/html",
                  Body=b'<html><body><p id="where">the guide</p></body></html>')
    s3.put_object(Bucket=name, Key="error.html", ContentType="text/html",
                  Body=b'<html><body><p id="where">custom error page</p></body></html>')
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}})
    base = f"http://{name}.s3-website.localhost:{site.website_port}"

    def dom(url):
        return subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000", "--dump-dom", url],
            capture_output=True, text=True, timeout=120).stdout

    # /guide is a folder: the browser follows S3's 302 to /guide/ and shows its index document.
    assert re.search(r'<p id="where">the guide</p>', dom(f"{base}/guide"))
    assert re.search(r'<a id="go" href="guide">', dom(f"{base}/"))
    assert re.search(r'<p id="where">custom error page</p>', dom(f"{base}/nothing-here"))


def test_the_website_endpoint_as_a_distribution_origin(site):
    """As on AWS: a distribution whose custom origin is the website endpoint, reaching the
    bucket named like the distribution's alias (the CNAME pattern), with the viewer's Host
    forwarded."""
    s3 = site.client()
    name = f"www.site-{uuid.uuid4().hex[:8]}.test"
    public_bucket(s3, name)
    s3.put_object(Bucket=name, Key="index.html", Body=b"via the edge", ContentType="text/html")
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    cfg = distribution([custom_origin("web", site.website_port)],
                       behavior("web", CACHING_DISABLED, OriginRequestPolicyId=ALL_VIEWER),
                       Aliases={"Quantity": 1, "Items": [name]})
    deploy(site.dists, site.edge_port, "WEBSITE1", cfg)
    r = request(site.edge_port, "/", host=name)
    assert (r.status, r.body) == (200, b"via the edge")
