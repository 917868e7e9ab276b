"""Object Lock with boto3 and the AWS CLI: buckets created with it, default retention,
GOVERNANCE and COMPLIANCE retention and legal holds on versions, what each keeps from being
removed (and what the bypass allows), and the errors S3 gives."""

import base64
import datetime
import hashlib
import json


import pytest
from botocore.exceptions import ClientError

from conftest import error_code, new_bucket_name, status_of
from s3_helpers import error_code_of, signed_request


def soon(days=1):
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)


@pytest.fixture()
def locked(s3):
    name = new_bucket_name("lock")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def test_a_locked_bucket(s3, locked):
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"
    cfg = s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"]
    assert cfg == {"ObjectLockEnabled": "Enabled"}
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=locked, VersioningConfiguration={"Status": "Suspended"})
    assert (status_of(e.value), error_code(e.value)) == (409, "InvalidBucketState")


def test_compliance_retention(s3, locked):
    until = soon().replace(microsecond=0)
    v = s3.put_object(Bucket=locked, Key="k", Body=b"record", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=until)["VersionId"]
    head = s3.head_object(Bucket=locked, Key="k")
    assert head["ObjectLockMode"] == "COMPLIANCE" and head["ObjectLockRetainUntilDate"] == until
    for bypass in (False, True):
        with pytest.raises(ClientError) as e:
            s3.delete_object(Bucket=locked, Key="k", VersionId=v, BypassGovernanceRetention=bypass)
        assert (status_of(e.value), error_code(e.value)) == (403, "AccessDenied")
    out = s3.delete_objects(Bucket=locked, Delete={"Objects": [{"Key": "k", "VersionId": v}]})
    assert out["Errors"][0]["Code"] == "AccessDenied"
    # Shortening is refused, extending allowed.
    with pytest.raises(ClientError) as e:
        s3.put_object_retention(Bucket=locked, Key="k", VersionId=v,
                                Retention={"Mode": "COMPLIANCE", "RetainUntilDate": soon(0.5)})
    assert error_code(e.value) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        s3.put_object_retention(Bucket=locked, Key="k", VersionId=v, BypassGovernanceRetention=True,
                                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": soon(2)})
    assert error_code(e.value) == "AccessDenied"
    later = soon(3).replace(microsecond=0)
    s3.put_object_retention(Bucket=locked, Key="k", VersionId=v,
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later})
    assert s3.get_object_retention(Bucket=locked, Key="k", VersionId=v)["Retention"] == \
        {"Mode": "COMPLIANCE", "RetainUntilDate": later}
    # A simple DELETE still adds a marker; the version stays.
    assert s3.delete_object(Bucket=locked, Key="k")["DeleteMarker"] is True
    assert s3.get_object(Bucket=locked, Key="k", VersionId=v)["Body"].read() == b"record"


def test_governance_retention_and_the_bypass(wharf, s3, locked):
    v = s3.put_object(Bucket=locked, Key="g", Body=b"x", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=soon())["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=locked, Key="g", VersionId=v)
    assert error_code(e.value) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        s3.put_object_retention(Bucket=locked, Key="g", VersionId=v, Retention={})
    assert error_code(e.value) == "AccessDenied"
    # With the bypass: retention can be shortened, and the version removed.
    wharf.aws("s3api", "put-object-retention", "--bucket", locked, "--key", "g", "--version-id", v,
              "--bypass-governance-retention", "--retention",
              json.dumps({"Mode": "GOVERNANCE", "RetainUntilDate": soon(0.5).isoformat()}))
    s3.delete_object(Bucket=locked, Key="g", VersionId=v, BypassGovernanceRetention=True)
    assert "Versions" not in s3.list_object_versions(Bucket=locked, Prefix="g")


def test_legal_hold(wharf, s3, locked):
    v = s3.put_object(Bucket=locked, Key="h", Body=b"x")["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.get_object_legal_hold(Bucket=locked, Key="h")
    assert (status_of(e.value), error_code(e.value)) == (404, "NoSuchObjectLockConfiguration")
    wharf.aws("s3api", "put-object-legal-hold", "--bucket", locked, "--key", "h", "--legal-hold", "Status=ON")
    assert s3.get_object_legal_hold(Bucket=locked, Key="h")["LegalHold"] == {"Status": "ON"}
    assert s3.head_object(Bucket=locked, Key="h")["ObjectLockLegalHoldStatus"] == "ON"
    for bypass in (False, True):
        with pytest.raises(ClientError) as e:
            s3.delete_object(Bucket=locked, Key="h", VersionId=v, BypassGovernanceRetention=bypass)
        assert error_code(e.value) == "AccessDenied"
    s3.put_object_legal_hold(Bucket=locked, Key="h", LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=locked, Key="h", VersionId=v)
    # Set with the PUT itself.
    s3.put_object(Bucket=locked, Key="h2", Body=b"x", ObjectLockLegalHoldStatus="ON")
    assert s3.get_object_legal_hold(Bucket=locked, Key="h2")["LegalHold"]["Status"] == "ON"


def test_default_retention(s3, locked):
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 2}}})
    cfg = s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"]
    assert cfg["Rule"] == {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 2}}
    s3.put_object(Bucket=locked, Key="d", Body=b"x")
    r = s3.get_object_retention(Bucket=locked, Key="d")["Retention"]
    assert r["Mode"] == "GOVERNANCE"
    left = r["RetainUntilDate"] - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(days=1, hours=23) < left <= datetime.timedelta(days=2)
    # A copy gets the destination's default, not the source's lock.
    s3.copy_object(Bucket=locked, Key="d2", CopySource={"Bucket": locked, "Key": "d"},
                   ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=soon(5))
    assert s3.head_object(Bucket=locked, Key="d2")["ObjectLockMode"] == "COMPLIANCE"
    # Multipart uploads get locks at creation.
    up = s3.create_multipart_upload(Bucket=locked, Key="mp", ObjectLockLegalHoldStatus="ON")["UploadId"]
    part = s3.upload_part(Bucket=locked, Key="mp", UploadId=up, PartNumber=1, Body=b"p")
    s3.complete_multipart_upload(Bucket=locked, Key="mp", UploadId=up,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.head_object(Bucket=locked, Key="mp")["ObjectLockLegalHoldStatus"] == "ON"


@pytest.mark.parametrize("rule,code", [
    ({"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1, "Years": 1}}, "MalformedXML"),
    ({"DefaultRetention": {"Mode": "GOVERNANCE"}}, "MalformedXML"),
    ({"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 0}}, "InvalidArgument"),
])
def test_configuration_errors(s3, locked, rule, code):
    with pytest.raises(ClientError) as e:
        s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": rule})
    assert (status_of(e.value), error_code(e.value)) == (400, code)


def test_buckets_without_object_lock(wharf, s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_object_lock_configuration(Bucket=bucket)
    assert (status_of(e.value), error_code(e.value)) == (404, "ObjectLockConfigurationNotFoundError")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=soon())
    assert (status_of(e.value), error_code(e.value)) == (400, "InvalidRequest")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.put_object_legal_hold(Bucket=bucket, Key="k", LegalHold={"Status": "ON"})
    assert (status_of(e.value), error_code(e.value)) == (400, "InvalidRequest")
    # Object Lock on an existing bucket needs versioning enabled first.
    config = {"ObjectLockEnabled": "Enabled"}
    with pytest.raises(ClientError) as e:
        s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=config)
    assert (status_of(e.value), error_code(e.value)) == (409, "InvalidBucketState")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=config)
    assert s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"] == config


def test_header_and_integrity_errors(wharf, s3, locked):
    # Mode without a date, a date in the past.
    until = soon().strftime("%Y-%m-%dT%H:%M:%SZ")
    for headers in ({"x-amz-object-lock-mode": "GOVERNANCE"},
                    {"x-amz-object-lock-retain-until-date": until},
                    {"x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": "2001-01-01T00:00:00Z"}):
        status, _, body = signed_request(wharf, "PUT", f"/{locked}/bad", body=b"x",
                                         headers={**headers, "Content-MD5": base64.b64encode(hashlib.md5(b"x").digest()).decode()})
        assert (status, error_code_of(body)) == (400, "InvalidArgument"), body
    # Without Content-MD5 or a checksum.
    status, _, body = signed_request(wharf, "PUT", f"/{locked}/bad", body=b"x",
                                     headers={"x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": until})
    assert (status, error_code_of(body)) == (400, "InvalidRequest"), body
    xml = (b'<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
           b"<ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>")
    status, _, body = signed_request(wharf, "PUT", f"/{locked}?object-lock", body=xml)
    assert (status, error_code_of(body)) == (400, "InvalidRequest"), body
    with pytest.raises(ClientError):
        s3.head_object(Bucket=locked, Key="bad")
