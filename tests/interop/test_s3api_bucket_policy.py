"""Bucket policies with the unmodified AWS CLI, boto3 and unsigned HTTP: Put/Get/Delete/
GetBucketPolicyStatus, S3's MalformedPolicy reasons, and the policy applied to every request
(anonymous ones included) over a matrix of callers: the owner, another user with and without a
grant, and anonymous."""

import json
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import error_code, status_of
from s3_helpers import anonymous_client as anonymous
from s3_helpers import assert_denied as denied
from s3_helpers import make_user


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(principal, actions, resources, **extra):
    return {"Effect": "Allow", "Principal": principal, "Action": actions, "Resource": resources, **extra}


def deny(principal, actions, resources, **extra):
    return {"Effect": "Deny", "Principal": principal, "Action": actions, "Resource": resources, **extra}


def allow_public_policies(s3, bucket):
    """New buckets block public access, as on S3: a public policy needs this first."""
    s3.delete_public_access_block(Bucket=bucket)


def unsigned_get(wharf, bucket, key):
    try:
        with urllib.request.urlopen(f"{wharf.endpoint}/{bucket}/{key}", timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_policy_lifecycle_with_the_aws_cli(wharf, s3, bucket, tmp_path):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=bucket)
    assert (status_of(e.value), error_code(e.value)) == (404, "NoSuchBucketPolicy")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy_status(Bucket=bucket)
    assert error_code(e.value) == "NoSuchBucketPolicy"
    text = policy(allow("*", "s3:GetObject", f"arn:aws:s3:::{bucket}/*", Sid="PublicRead"))
    wharf.aws("s3api", "delete-public-access-block", "--bucket", bucket)
    doc = tmp_path / "policy.json"
    doc.write_text(text)
    wharf.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", f"file://{doc}")
    out = json.loads(wharf.aws("s3api", "get-bucket-policy", "--bucket", bucket).stdout)
    assert out["Policy"] == text
    status = json.loads(wharf.aws("s3api", "get-bucket-policy-status", "--bucket", bucket).stdout)
    assert status["PolicyStatus"]["IsPublic"] is True
    # A policy that only CloudFront's OAC of one distribution may use is not public.
    oac = policy(allow({"Service": "cloudfront.amazonaws.com"}, "s3:GetObject", f"arn:aws:s3:::{bucket}/*",
                       Condition={"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::111122223333:distribution/E1"}}))
    s3.put_bucket_policy(Bucket=bucket, Policy=oac)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    resp = s3.delete_bucket_policy(Bucket=bucket)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=bucket)
    assert error_code(e.value) == "NoSuchBucketPolicy"
    s3.delete_bucket_policy(Bucket=bucket)  # deleting no policy succeeds
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket="no-such-bucket-" + uuid.uuid4().hex[:8], Policy=text)
    assert error_code(e.value) == "NoSuchBucket"


@pytest.mark.parametrize("doc,reason", [
    ("not json", "Policies must be valid JSON and the first byte must be '{'"),
    ('{"Version": "2012-10-17", "Statement": [', "Invalid policy syntax."),
    ('{"Version": "2012-10-17"}', "Missing required field Statement"),
    ('{"Version": "1999-01-01", "Statement": []}', "The policy must contain a valid version string"),
    (policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::BUCKET/*"}),
     "Missing required field Principal"),
    (policy(allow("*", "s3:GetObjectt", "arn:aws:s3:::BUCKET/*")), "Policy has invalid action"),
    (policy(allow("*", "s3:GetObject", "arn:aws:s3:::another-bucket/*")), "Policy has invalid resource"),
    (policy(allow("*", "s3:GetObject", "arn:aws:s3:::BUCKET")),
     "Action does not apply to any resource(s) in statement"),
    (policy(allow({"AWS": "nobody"}, "s3:GetObject", "arn:aws:s3:::BUCKET/*")), "Invalid principal in policy"),
    (policy(allow("*", "s3:GetObject", "arn:aws:s3:::BUCKET/*", Condition={"StringEqualz": {"a": "b"}})),
     "Invalid Condition type : StringEqualz"),
    (policy(allow("*", "s3:GetObject", "arn:aws:s3:::BUCKET/*", Extra=1)), "Unknown field Extra"),
])
def test_malformed_policies(s3, bucket, doc, reason):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=bucket, Policy=doc.replace("BUCKET", bucket))
    assert (status_of(e.value), error_code(e.value)) == (400, "MalformedPolicy")
    assert e.value.response["Error"]["Message"] == reason
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket=bucket)


def test_public_read_with_unsigned_requests(wharf, s3, bucket):
    s3.put_object(Bucket=bucket, Key="site/index.html", Body=b"<h1>hi</h1>")
    anon = anonymous(wharf)
    assert unsigned_get(wharf, bucket, "site/index.html")[0] == 403
    allow_public_policies(s3, bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        allow("*", ["s3:GetObject"], f"arn:aws:s3:::{bucket}/*")))
    assert unsigned_get(wharf, bucket, "site/index.html") == (200, b"<h1>hi</h1>")
    assert anon.get_object(Bucket=bucket, Key="site/index.html")["Body"].read() == b"<h1>hi</h1>"
    assert anon.head_object(Bucket=bucket, Key="site/index.html")["ContentLength"] == 11
    # Reading is all the policy gives: no writes, no listing, and without s3:ListBucket a
    # missing key is AccessDenied, not NoSuchKey (S3 hides which keys exist).
    denied(lambda: anon.put_object(Bucket=bucket, Key="x", Body=b"x"))
    denied(lambda: anon.delete_object(Bucket=bucket, Key="site/index.html"))
    denied(lambda: anon.list_objects_v2(Bucket=bucket))
    assert unsigned_get(wharf, bucket, "missing")[0] == 403
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        allow("*", ["s3:GetObject"], f"arn:aws:s3:::{bucket}/*"),
        allow("*", ["s3:ListBucket"], f"arn:aws:s3:::{bucket}")))
    assert [o["Key"] for o in anon.list_objects_v2(Bucket=bucket)["Contents"]] == ["site/index.html"]
    status, body = unsigned_get(wharf, bucket, "missing")
    assert status == 404 and b"NoSuchKey" in body
    s3.delete_bucket_policy(Bucket=bucket)
    assert unsigned_get(wharf, bucket, "site/index.html")[0] == 403


def test_caller_matrix(wharf, s3, bucket):
    """The owner, a user the policy names, a user it does not, and anonymous, over the main
    operations."""
    s3.put_object(Bucket=bucket, Key="doc", Body=b"v1")
    granted_name, granted_arn, granted = make_user(wharf)
    _, _, other = make_user(wharf)
    anon = anonymous(wharf)
    # `wharf user list` shows each user's ARN, as policies name it.
    assert granted_arn.startswith("arn:aws:iam::") and granted_arn.endswith(f":user/{granted_name}")
    # A user of this account that does not exist is not a principal, as on AWS.
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=bucket, Policy=policy(allow(
            {"AWS": granted_arn.rsplit("/", 1)[0] + "/nobody-here"}, "s3:GetObject", f"arn:aws:s3:::{bucket}/*")))
    assert (error_code(e.value), e.value.response["Error"]["Message"]) == ("MalformedPolicy", "Invalid principal in policy")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        allow({"AWS": granted_arn}, ["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::{bucket}/*"),
        allow({"AWS": [granted_arn]}, "s3:ListBucket", f"arn:aws:s3:::{bucket}")))
    ops = {
        "get": lambda c: c.get_object(Bucket=bucket, Key="doc")["Body"].read(),
        "put": lambda c: c.put_object(Bucket=bucket, Key="new", Body=b"n"),
        "list": lambda c: c.list_objects_v2(Bucket=bucket),
        "delete": lambda c: c.delete_object(Bucket=bucket, Key="new"),
        "get-policy": lambda c: c.get_bucket_policy(Bucket=bucket),
    }
    expected = {
        "owner": {"get", "put", "list", "delete", "get-policy"},
        "granted": {"get", "put", "list"},
        "other": set(),
        "anonymous": set(),
    }
    clients = {"owner": s3, "granted": granted, "other": other, "anonymous": anon}
    for who, client in clients.items():
        for op, call in ops.items():
            if op in expected[who]:
                call(client)
            else:
                denied(lambda: call(client))
    # An object the granted user wrote belongs to the bucket, and the owner reads it.
    granted.put_object(Bucket=bucket, Key="by-granted", Body=b"g")
    assert s3.get_object(Bucket=bucket, Key="by-granted")["Body"].read() == b"g"


def test_explicit_deny_beats_ownership_but_not_policy_management(wharf, s3, bucket):
    s3.put_object(Bucket=bucket, Key="keep", Body=b"k")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        deny("*", ["s3:DeleteObject", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"],
             [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"])))
    denied(lambda: s3.delete_object(Bucket=bucket, Key="keep"))
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "keep"}]})
    assert out["Errors"][0]["Code"] == "AccessDenied" and out["Errors"][0]["Key"] == "keep"
    # The owner can never lock themselves out of the policy itself.
    assert "Deny" in s3.get_bucket_policy(Bucket=bucket)["Policy"]
    s3.delete_bucket_policy(Bucket=bucket)
    s3.delete_object(Bucket=bucket, Key="keep")


def test_conditions_on_the_request(wharf, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    resources = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    # The documented IP restriction: only from 192.0.2.0/24; the tests connect from 127.0.0.1.
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(deny("*", "s3:GetObject", resources,
        Condition={"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}})))
    denied(lambda: s3.get_object(Bucket=bucket, Key="k"))
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(deny("*", "s3:GetObject", resources,
        Condition={"NotIpAddress": {"aws:SourceIp": ["127.0.0.0/8", "::1/128"]}})))
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    # The documented "deny requests not over TLS": this API listens over plain HTTP.
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(deny("*", "s3:*", resources,
        Condition={"Bool": {"aws:SecureTransport": "false"}}, Sid="RestrictToTLSRequestsOnly")))
    denied(lambda: s3.get_object(Bucket=bucket, Key="k"))
    s3.delete_bucket_policy(Bucket=bucket)
    # Presigned URLs refused, header signatures accepted.
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(deny("*", "s3:GetObject", resources,
        Condition={"StringEquals": {"s3:authType": "REST-QUERY-STRING"}})))
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url, timeout=10)
    assert e.value.code == 403
    # The documented "deny unencrypted uploads".
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(deny("*", "s3:PutObject", f"arn:aws:s3:::{bucket}/*",
        Condition={"Null": {"s3:x-amz-server-side-encryption": "true"}})))
    denied(lambda: s3.put_object(Bucket=bucket, Key="plain", Body=b"x"))
    # Listing only under a prefix (s3:prefix).
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(deny("*", "s3:ListBucket", f"arn:aws:s3:::{bucket}",
        Condition={"StringNotLike": {"s3:prefix": "public/*"}})))
    denied(lambda: s3.list_objects_v2(Bucket=bucket))
    assert s3.list_objects_v2(Bucket=bucket, Prefix="public/")["KeyCount"] == 0
    s3.delete_bucket_policy(Bucket=bucket)


def test_home_folders_with_policy_variables(wharf, s3, bucket):
    name, _, user = make_user(wharf)
    allow_public_policies(s3, bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        allow({"AWS": "*"}, ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
              f"arn:aws:s3:::{bucket}/home/${{aws:username}}/*")))
    user.put_object(Bucket=bucket, Key=f"home/{name}/notes.txt", Body=b"mine")
    assert user.get_object(Bucket=bucket, Key=f"home/{name}/notes.txt")["Body"].read() == b"mine"
    denied(lambda: user.put_object(Bucket=bucket, Key="home/someone-else/notes.txt", Body=b"x"))
    # Anonymous callers have no aws:username: the statement matches nothing for them.
    denied(lambda: anonymous(wharf).get_object(Bucket=bucket, Key=f"home/{name}/notes.txt"))
    # DeleteObjects decides key by key.
    user.put_object(Bucket=bucket, Key=f"home/{name}/b", Body=b"b")
    s3.put_object(Bucket=bucket, Key="root-only", Body=b"r")
    out = user.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"home/{name}/b"}, {"Key": "root-only"}]})
    assert [d["Key"] for d in out["Deleted"]] == [f"home/{name}/b"]
    assert [(e["Key"], e["Code"]) for e in out["Errors"]] == [("root-only", "AccessDenied")]


def test_conditions_on_the_objects_own_tags(wharf, s3, bucket):
    """s3:ExistingObjectTag/KEY: the version's tags, read before the decision."""
    name, user_arn, user = make_user(wharf)
    s3.put_object(Bucket=bucket, Key="open", Body=b"o", Tagging="share=yes")
    s3.put_object(Bucket=bucket, Key="closed", Body=b"c", Tagging="share=no&classification=confidential")
    s3.put_object(Bucket=bucket, Key="plain", Body=b"p")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        allow({"AWS": user_arn}, "s3:GetObject", f"arn:aws:s3:::{bucket}/*",
              Condition={"StringEquals": {"s3:ExistingObjectTag/share": "yes"}}),
        deny("*", "s3:GetObject", f"arn:aws:s3:::{bucket}/*",
             Condition={"StringEquals": {"s3:ExistingObjectTag/classification": "confidential"}})))
    assert user.get_object(Bucket=bucket, Key="open")["Body"].read() == b"o"
    denied(lambda: user.get_object(Bucket=bucket, Key="closed"))
    denied(lambda: user.get_object(Bucket=bucket, Key="plain"))
    # The Deny holds for the owner too; an untagged object is the owner's as ever.
    denied(lambda: s3.get_object(Bucket=bucket, Key="closed"))
    assert s3.get_object(Bucket=bucket, Key="plain")["Body"].read() == b"p"
    # Retagging changes the answer at once.
    s3.put_object_tagging(Bucket=bucket, Key="plain", Tagging={"TagSet": [{"Key": "share", "Value": "yes"}]})
    assert user.get_object(Bucket=bucket, Key="plain")["Body"].read() == b"p"
    s3.delete_bucket_policy(Bucket=bucket)
