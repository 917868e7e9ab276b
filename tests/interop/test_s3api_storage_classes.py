"""Storage classes with boto3 and the AWS CLI: every class S3 accepts on a general-purpose
bucket is stored per version and shown; GLACIER and DEEP_ARCHIVE objects answer
InvalidObjectState until RestoreObject has made them readable (after the configured delay, here
one second), with x-amz-restore as S3 shows it."""

import time

import pytest
from botocore.exceptions import ClientError

from conftest import Wharf, error_code, status_of

CLASSES = ["STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
           "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    w = Wharf(tmp_path_factory.mktemp("classes") / "data", extra_env={"WHARF_RESTORE_SECS": "1"}).start()
    yield w
    w.stop()


@pytest.fixture()
def s3b(server):
    s3 = server.client()
    name = f"classes-{time.time_ns()}"
    s3.create_bucket(Bucket=name)
    return s3, name


def test_every_class_is_stored_and_listed(server, s3b):
    s3, b = s3b
    for c in CLASSES:
        s3.put_object(Bucket=b, Key=c, Body=b"x", StorageClass=c)
        head = s3.head_object(Bucket=b, Key=c)
        assert head.get("StorageClass", "STANDARD") == c
    listed = {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=b)["Contents"]}
    assert listed == {c: c for c in CLASSES}
    versions = {v["Key"]: v["StorageClass"] for v in s3.list_object_versions(Bucket=b)["Versions"]}
    assert versions == listed
    # Readable at once, but for the two archive classes.
    for c in CLASSES:
        if c in ("GLACIER", "DEEP_ARCHIVE"):
            with pytest.raises(ClientError) as e:
                s3.get_object(Bucket=b, Key=c)
            assert (status_of(e.value), error_code(e.value)) == (403, "InvalidObjectState")
        else:
            assert s3.get_object(Bucket=b, Key=c)["Body"].read() == b"x"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=b, Key="express", Body=b"x", StorageClass="EXPRESS_ONEZONE")
    assert (status_of(e.value), error_code(e.value)) == (400, "InvalidStorageClass")


def test_restore_makes_an_archived_object_readable(server, s3b):
    s3, b = s3b
    s3.put_object(Bucket=b, Key="cold", Body=b"frozen", StorageClass="GLACIER")
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "cold"})
    assert error_code(e.value) == "InvalidObjectState"
    r = s3.restore_object(Bucket=b, Key="cold", RestoreRequest={"Days": 2, "GlacierJobParameters": {"Tier": "Standard"}})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert s3.head_object(Bucket=b, Key="cold")["Restore"] == 'ongoing-request="true"'
    with pytest.raises(ClientError) as e:
        s3.restore_object(Bucket=b, Key="cold", RestoreRequest={"Days": 2})
    assert (status_of(e.value), error_code(e.value)) == (409, "RestoreAlreadyInProgress")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=b, Key="cold")
    assert error_code(e.value) == "InvalidObjectState"
    time.sleep(1.2)
    head = s3.head_object(Bucket=b, Key="cold")
    assert head["StorageClass"] == "GLACIER"
    assert head["Restore"].startswith('ongoing-request="false", expiry-date="') and head["Restore"].endswith(' 00:00:00 GMT"')
    got = s3.get_object(Bucket=b, Key="cold")
    assert got["Body"].read() == b"frozen" and got["Restore"] == head["Restore"]
    # A copy of a restored object is readable, and STANDARD unless asked otherwise.
    s3.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "cold"})
    assert "StorageClass" not in s3.head_object(Bucket=b, Key="copy")
    # Restoring a restored copy again sets its lifetime anew: 200.
    r = s3.restore_object(Bucket=b, Key="cold", RestoreRequest={"Days": 5})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_restore_errors(server, s3b):
    s3, b = s3b
    s3.put_object(Bucket=b, Key="warm", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.restore_object(Bucket=b, Key="warm", RestoreRequest={"Days": 1})
    assert (status_of(e.value), error_code(e.value)) == (403, "InvalidObjectState")
    s3.put_object(Bucket=b, Key="deep", Body=b"x", StorageClass="DEEP_ARCHIVE")
    with pytest.raises(ClientError) as e:
        s3.restore_object(Bucket=b, Key="deep", RestoreRequest={})
    assert (status_of(e.value), error_code(e.value)) == (400, "MalformedXML")
    with pytest.raises(ClientError) as e:
        s3.restore_object(Bucket=b, Key="missing", RestoreRequest={"Days": 1})
    assert error_code(e.value) == "NoSuchKey"


def test_classes_on_multipart_copy_and_versions(server, s3b):
    s3, b = s3b
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    up = s3.create_multipart_upload(Bucket=b, Key="mp", StorageClass="DEEP_ARCHIVE")["UploadId"]
    part = s3.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=1, Body=b"p")
    s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.head_object(Bucket=b, Key="mp")["StorageClass"] == "DEEP_ARCHIVE"
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"ia", StorageClass="STANDARD_IA")["VersionId"]
    s3.copy_object(Bucket=b, Key="k", CopySource={"Bucket": b, "Key": "k"}, StorageClass="GLACIER")
    assert s3.head_object(Bucket=b, Key="k")["StorageClass"] == "GLACIER"
    assert s3.head_object(Bucket=b, Key="k", VersionId=v1)["StorageClass"] == "STANDARD_IA"
    assert s3.get_object(Bucket=b, Key="k", VersionId=v1)["Body"].read() == b"ia"
