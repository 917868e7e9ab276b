"""Block Public Access with the unmodified AWS CLI and boto3: on for every new bucket, the four
flags as S3 applies them, and the account-wide setting (`wharf public-access-block`)."""

import json
import time
import urllib.error
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, status_of

ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
          "RestrictPublicBuckets": True}


def public_read(bucket):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}]})


def unsigned_status(wharf, bucket, key):
    try:
        with urllib.request.urlopen(f"{wharf.endpoint}/{bucket}/{key}", timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_new_buckets_block_public_access(wharf, s3, bucket):
    out = json.loads(wharf.aws("s3api", "get-public-access-block", "--bucket", bucket).stdout)
    assert out["PublicAccessBlockConfiguration"] == ALL_ON
    # BlockPublicPolicy: a public policy is refused; one that is not public is fine.
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))
    assert (status_of(e.value), error_code(e.value)) == (403, "AccessDenied")
    assert "BlockPublicPolicy" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket=bucket)
    # BlockPublicAcls: with ACLs enabled (ObjectWriter), a public canned ACL or a grant to
    # AllUsers is AccessDenied.
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read")
    assert (status_of(e.value), error_code(e.value)) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x",
                      GrantRead='uri="http://acs.amazonaws.com/groups/global/AllUsers"')
    assert error_code(e.value) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key="k", ACL="public-read-write")
    assert error_code(e.value) == "AccessDenied"
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="private")
    # Without the block, a public ACL is taken (and an anonymous reader gets the object).
    wharf.aws("s3api", "delete-public-access-block", "--bucket", bucket)
    with pytest.raises(ClientError) as e:
        s3.get_public_access_block(Bucket=bucket)
    assert (status_of(e.value), error_code(e.value)) == (404, "NoSuchPublicAccessBlockConfiguration")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read")
    assert unsigned_status(wharf, bucket, "k") == 200


def test_restrict_public_buckets(wharf, s3, bucket):
    s3.put_object(Bucket=bucket, Key="page", Body=b"hello")
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": True})
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    # The policy is public but restricted: nobody outside the account gets its grant.
    assert unsigned_status(wharf, bucket, "page") == 403
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False})
    assert unsigned_status(wharf, bucket, "page") == 200
    # Turning BlockPublicPolicy back on keeps the policy that is there (S3 blocks new ones).
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicPolicy": True})
    assert unsigned_status(wharf, bucket, "page") == 200
    with pytest.raises(ClientError):
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))


def test_the_account_setting_applies_to_every_bucket(wharf, s3):
    name = f"pab-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    try:
        s3.delete_public_access_block(Bucket=name)
        wharf.wharf_cmd("public-access-block", "put", "--block-public-policy", "--restrict-public-buckets")
        got = json.loads(wharf.wharf_cmd("public-access-block", "get").stdout)
        assert got == {"BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": True,
                       "RestrictPublicBuckets": True}
        time.sleep(2.2)  # the server reads the account's setting at most every two seconds
        with pytest.raises(ClientError) as e:
            s3.put_bucket_policy(Bucket=name, Policy=public_read(name))
        assert error_code(e.value) == "AccessDenied"
        wharf.wharf_cmd("public-access-block", "delete")
        time.sleep(2.2)
        s3.put_bucket_policy(Bucket=name, Policy=public_read(name))
        s3.put_object(Bucket=name, Key="k", Body=b"v")
        assert unsigned_status(wharf, name, "k") == 200
    finally:
        wharf.wharf_cmd("public-access-block", "delete")
        for o in s3.list_objects_v2(Bucket=name).get("Contents", []):
            s3.delete_object(Bucket=name, Key=o["Key"])
        s3.delete_bucket(Bucket=name)
