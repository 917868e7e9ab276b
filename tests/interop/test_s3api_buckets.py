"""Bucket operations and ownership, through `aws s3api` and boto3."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, new_bucket_name, status_of


def test_create_list_head_location_delete(wharf):
    b = new_bucket_name("bk")
    wharf.aws("s3api", "create-bucket", "--bucket", b)
    names = [x["Name"] for x in json.loads(wharf.aws("s3api", "list-buckets").stdout)["Buckets"]]
    assert b in names
    owner = json.loads(wharf.aws("s3api", "list-buckets").stdout)["Owner"]
    assert len(owner["ID"]) == 64 and owner["DisplayName"] == "root"
    wharf.aws("s3api", "head-bucket", "--bucket", b)
    loc = json.loads(wharf.aws("s3api", "get-bucket-location", "--bucket", b).stdout)
    assert loc.get("LocationConstraint") in (None, "")
    wharf.aws("s3api", "delete-bucket", "--bucket", b)
    res = wharf.aws("s3api", "head-bucket", "--bucket", b, check=False)
    assert res.returncode != 0 and "404" in res.stderr


# LocationConstraint and CreateBucket of an owned bucket: test_s3_answers.py (they need a
# server configured with more regions).


@pytest.mark.parametrize("name", ["ab", "UPPER-case", "has_underscore", "-leading", "trailing-", "a..b", "192.168.1.1", "x" * 64])
def test_invalid_bucket_names(s3, name):
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name)
    assert error_code(e.value) == "InvalidBucketName" and status_of(e.value) == 400


def test_bucket_not_empty_and_no_such_bucket(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=bucket)
    assert error_code(e.value) == "BucketNotEmpty" and status_of(e.value) == 409
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=new_bucket_name("missing"))
    assert error_code(e.value) == "NoSuchBucket" and status_of(e.value) == 404


def test_other_users_are_denied(wharf, s3, bucket):
    out = wharf.wharf_cmd("user", "create", "alice").stdout
    ak = next(line.split("=", 1)[1] for line in out.splitlines() if line.startswith("AWS_ACCESS_KEY_ID="))
    sk = next(line.split("=", 1)[1] for line in out.splitlines() if line.startswith("AWS_SECRET_ACCESS_KEY="))
    assert "alice" in wharf.wharf_cmd("user", "list").stdout
    alice = wharf.client(access_key=ak, secret_key=sk)
    s3.put_object(Bucket=bucket, Key="secret", Body=b"root's")
    # Alice has her own identity and sees none of root's buckets.
    listed = alice.list_buckets()
    assert listed["Owner"]["DisplayName"] == "alice" and listed["Owner"]["ID"] != s3.list_buckets()["Owner"]["ID"]
    assert bucket not in [b["Name"] for b in listed["Buckets"]]
    for call in (
        lambda: alice.get_object(Bucket=bucket, Key="secret"),
        lambda: alice.put_object(Bucket=bucket, Key="x", Body=b"x"),
        lambda: alice.list_objects_v2(Bucket=bucket),
        lambda: alice.delete_object(Bucket=bucket, Key="secret"),
        lambda: alice.delete_bucket(Bucket=bucket),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert error_code(e.value) == "AccessDenied" and status_of(e.value) == 403
    with pytest.raises(ClientError) as e:
        alice.create_bucket(Bucket=bucket)
    assert error_code(e.value) == "BucketAlreadyExists"
    # Alice's own bucket is hers.
    mine = new_bucket_name("alice")
    alice.create_bucket(Bucket=mine)
    alice.put_object(Bucket=mine, Key="k", Body=b"v")
    assert alice.get_object(Bucket=mine, Key="k")["Body"].read() == b"v"
    with pytest.raises(ClientError):
        s3.get_object(Bucket=mine, Key="k")
    alice.delete_object(Bucket=mine, Key="k")
    alice.delete_bucket(Bucket=mine)
    # Deleting the user revokes the key (after the server's short cache expires).
    wharf.wharf_cmd("user", "delete", "alice")
    import time

    time.sleep(2.5)
    with pytest.raises(ClientError) as e:
        alice.list_buckets()
    assert error_code(e.value) == "InvalidAccessKeyId" and status_of(e.value) == 403


def test_bad_credentials(wharf):
    with pytest.raises(ClientError) as e:
        wharf.client(access_key="AKIANOSUCHKEY0000000").list_buckets()
    assert error_code(e.value) == "InvalidAccessKeyId"
    with pytest.raises(ClientError) as e:
        wharf.client(secret_key="wrong-secret-wrong-secret-wrong-secret00").list_buckets()
    assert error_code(e.value) == "SignatureDoesNotMatch" and status_of(e.value) == 403
