"""Bucket versioning with the unmodified AWS CLI and boto3: versions, the null version, delete
markers, reads and deletes by version id, ListObjectVersions, suspension, and the errors S3
gives."""

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, status_of


def versioned(s3, bucket, status="Enabled"):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})


def test_versioning_with_the_aws_cli(wharf, s3, bucket, tmp_path):
    """The s3api commands a user types: versions pile up, a delete adds a marker, a delete by
    version id of the marker brings the object back."""
    aws = lambda *a: json.loads(wharf.aws("s3api", *a, "--bucket", bucket).stdout or "{}")  # noqa: E731
    assert aws("get-bucket-versioning") == {}
    wharf.aws("s3api", "put-bucket-versioning", "--bucket", bucket,
              "--versioning-configuration", "Status=Enabled")
    assert aws("get-bucket-versioning") == {"Status": "Enabled"}
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    v1 = aws("put-object", "--key", "doc.txt", "--body", str(empty))["VersionId"]
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"second")
    marker = aws("delete-object", "--key", "doc.txt")
    assert marker["DeleteMarker"] is True and marker["VersionId"] not in (v1, "null")
    listed = aws("list-object-versions")
    assert [(v["IsLatest"], v["Size"]) for v in listed["Versions"]] == [(False, 6), (False, 0)]
    assert listed["Versions"][1]["VersionId"] == v1
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [(marker["VersionId"], True)]
    assert "Contents" not in aws("list-objects-v2")
    res = wharf.aws("s3api", "get-object", "--bucket", bucket, "--key", "doc.txt", str(tmp_path / "out"), check=False)
    assert res.returncode != 0 and "NoSuchKey" in res.stderr
    out = aws("get-object", "--key", "doc.txt", "--version-id", v1, str(tmp_path / "out"))
    assert out["VersionId"] == v1 and out["ContentLength"] == 0
    removed = aws("delete-object", "--key", "doc.txt", "--version-id", marker["VersionId"])
    assert removed == {"DeleteMarker": True, "VersionId": marker["VersionId"]}
    assert s3.get_object(Bucket=bucket, Key="doc.txt")["Body"].read() == b"second"


def test_reads_of_delete_markers_and_missing_versions(s3, bucket):
    versioned(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["VersionId"] == v1
    d = s3.delete_object(Bucket=bucket, Key="k")
    assert d["DeleteMarker"] is True
    # The current version is a marker: 404 with x-amz-delete-marker and the marker's id.
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k")
    h = e.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert (status_of(e.value), error_code(e.value)) == (404, "NoSuchKey")
    assert h["x-amz-delete-marker"] == "true" and h["x-amz-version-id"] == d["VersionId"]
    # The marker named: 405 with Last-Modified.
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="k", VersionId=d["VersionId"])
    h = e.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert status_of(e.value) == 405 and h["x-amz-delete-marker"] == "true" and "last-modified" in h
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", VersionId=d["VersionId"])
    assert (status_of(e.value), error_code(e.value)) == (405, "MethodNotAllowed")
    # The old version is still readable by id.
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    # A version id this store could have issued but did not; one it never could.
    missing = v1[:-1] + ("0" if v1[-1] != "0" else "1")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", VersionId=missing)
    assert (status_of(e.value), error_code(e.value)) == (404, "NoSuchVersion")
    for call in (lambda: s3.get_object(Bucket=bucket, Key="k", VersionId="not a version"),
                 lambda: s3.delete_object(Bucket=bucket, Key="k", VersionId="not a version")):
        with pytest.raises(ClientError) as e:
            call()
        assert (status_of(e.value), error_code(e.value)) == (400, "InvalidArgument")
    # Deleting a version that does not exist succeeds, as in S3.
    assert s3.delete_object(Bucket=bucket, Key="k", VersionId=missing)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_suspended_versioning_replaces_the_null_version(s3, bucket):
    # Written before versioning: the null version, kept when versioning is enabled.
    s3.put_object(Bucket=bucket, Key="k", Body=b"before")
    assert "VersionId" not in s3.head_object(Bucket=bucket, Key="k")
    versioned(s3, bucket)
    assert s3.head_object(Bucket=bucket, Key="k")["VersionId"] == "null"
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"enabled")["VersionId"]
    versioned(s3, bucket, "Suspended")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"s1")["VersionId"] == "null"
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"s2")["VersionId"] == "null"
    got = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [(v["VersionId"], v["IsLatest"], v["Size"]) for v in got] == [("null", True, 2), (v1, False, 7)]
    # A simple DELETE while suspended: the null version goes, a null marker takes its place.
    d = s3.delete_object(Bucket=bucket, Key="k")
    assert (d["DeleteMarker"], d["VersionId"]) == (True, "null")
    listed = s3.list_object_versions(Bucket=bucket)
    assert [m["VersionId"] for m in listed["DeleteMarkers"]] == ["null"]
    assert [v["VersionId"] for v in listed["Versions"]] == [v1]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"enabled"


def test_versioning_configuration_errors(wharf, s3, bucket):
    for config in ({}, {"Status": "Off"}):
        with pytest.raises(ClientError) as e:
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration=config)
        assert (status_of(e.value), error_code(e.value)) == (400, "MalformedXML")
    # MFA delete needs a code of the owner's device: none here.
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=bucket, MFA="SERIAL 123456",
                                 VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    assert (status_of(e.value), error_code(e.value)) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=bucket, MFA="no-space",
                                 VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    assert (status_of(e.value), error_code(e.value)) == (400, "InvalidArgument")
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_versioning(Bucket="no-such-" + uuid.uuid4().hex[:8])
    assert error_code(e.value) == "NoSuchBucket"


def test_delete_objects_reports_markers_and_versions(s3, bucket):
    versioned(s3, bucket)
    a1 = s3.put_object(Bucket=bucket, Key="a", Body=b"a1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="b", Body=b"b1")
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a", "VersionId": a1}, {"Key": "b"}]})
    by_key = {d["Key"]: d for d in out["Deleted"]}
    assert by_key["a"] == {"Key": "a", "VersionId": a1}
    assert by_key["b"]["DeleteMarker"] is True and by_key["b"]["DeleteMarkerVersionId"]
    marker = by_key["b"]["DeleteMarkerVersionId"]
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b", "VersionId": marker}]})
    assert out["Deleted"] == [{"Key": "b", "VersionId": marker, "DeleteMarker": True,
                               "DeleteMarkerVersionId": marker}]
    assert s3.get_object(Bucket=bucket, Key="b")["Body"].read() == b"b1"
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b", "VersionId": "bogus"}]})
    assert out["Errors"][0]["Code"] == "InvalidArgument"


def test_copy_and_multipart_name_their_versions(s3, bucket):
    versioned(s3, bucket)
    src1 = s3.put_object(Bucket=bucket, Key="src", Body=b"first")["VersionId"]
    s3.put_object(Bucket=bucket, Key="src", Body=b"second")
    c = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src", "VersionId": src1})
    assert c["CopySourceVersionId"] == src1 and c["VersionId"] not in (src1, "null")
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"first"
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1, Body=b"x" * 100)
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert done["VersionId"] == s3.head_object(Bucket=bucket, Key="mp")["VersionId"]
    assert s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectSize"])["VersionId"] == \
        done["VersionId"]


def test_boto3_pages_1500_versions_and_empties_the_bucket(wharf, s3):
    """boto3's paginator over ListObjectVersions sees every version once, newest first per key;
    `Bucket.object_versions.delete()` removes them all, markers included, and the bucket can
    then be deleted (not before)."""
    import boto3.session

    name = "v-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    versioned(s3, name)
    written = {k: [] for k in ("a", "b/c", "d")}
    for i in range(500):
        for k in written:
            written[k].append(s3.put_object(Bucket=name, Key=k, Body=str(i).encode())["VersionId"])
    marker = s3.delete_object(Bucket=name, Key="d")["VersionId"]
    seen = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name, PaginationConfig={"PageSize": 333}):
        seen += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
        seen += [(m["Key"], m["VersionId"]) for m in page.get("DeleteMarkers", [])]
    expected = [(k, v) for k in written for v in reversed(written[k])] + [("d", marker)]
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen)) == 1501
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=name)
    assert error_code(e.value) == "BucketNotEmpty"
    session = boto3.session.Session(aws_access_key_id=wharf.access_key, aws_secret_access_key=wharf.secret_key,
                                    region_name="us-east-1")
    session.resource("s3", endpoint_url=wharf.endpoint).Bucket(name).object_versions.delete()
    assert s3.list_object_versions(Bucket=name).get("Versions") is None
    s3.delete_bucket(Bucket=name)


def test_list_object_versions_under_concurrent_writes(wharf, s3, bucket):
    """Pages of ListObjectVersions taken while other clients add versions, add delete markers
    and remove versions by id: every version that exists throughout is listed exactly once,
    and nothing is listed twice."""
    import random
    import threading

    versioned(s3, bucket)
    keys = [f"k{i:02d}" for i in range(12)]
    stable = set()
    for k in keys:
        for _ in range(6):
            stable.add((k, s3.put_object(Bucket=bucket, Key=k, Body=b"s")["VersionId"]))
    stop = threading.Event()
    errors = []

    def churn(seed):
        c, rng, mine = wharf.client(), random.Random(seed), []
        try:
            while not stop.is_set():
                k = rng.choice(keys)
                r = rng.random()
                if r < 0.5:
                    mine.append((k, c.put_object(Bucket=bucket, Key=k, Body=b"churn")["VersionId"]))
                elif r < 0.7:
                    mine.append((k, c.delete_object(Bucket=bucket, Key=k)["VersionId"]))
                elif mine:
                    k2, v = mine.pop(rng.randrange(len(mine)))
                    c.delete_object(Bucket=bucket, Key=k2, VersionId=v)
        except Exception as e:  # noqa: BLE001  (reported below)
            errors.append(e)

    threads = [threading.Thread(target=churn, args=(s,)) for s in range(3)]
    for t in threads:
        t.start()
    try:
        for _ in range(3):
            seen = []
            for page in s3.get_paginator("list_object_versions").paginate(
                    Bucket=bucket, PaginationConfig={"PageSize": 7}):
                seen += [(v["Key"], v["VersionId"]) for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            assert len(seen) == len(set(seen)), "an entry was listed twice"
            assert stable <= set(seen), f"{len(stable - set(seen))} stable versions were not listed"
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors


def test_list_object_versions_interleaves_markers_as_s3_does(wharf, s3, bucket):
    """In the XML itself, versions and delete markers come in listing order (key, then newest
    first), not as two separate lists."""
    import re

    from s3_helpers import signed_request

    versioned(s3, bucket)
    s3.put_object(Bucket=bucket, Key="a", Body=b"1")
    s3.delete_object(Bucket=bucket, Key="a")
    s3.put_object(Bucket=bucket, Key="a", Body=b"2")
    s3.delete_object(Bucket=bucket, Key="b")
    status, _, body = signed_request(wharf, "GET", f"/{bucket}?versions")
    assert status == 200, body
    tags = re.findall(rb"<(Version|DeleteMarker)>", body)
    assert tags == [b"Version", b"DeleteMarker", b"Version", b"DeleteMarker"], body
    listed = s3.list_object_versions(Bucket=bucket)
    assert len(listed["Versions"]) == 2 and len(listed["DeleteMarkers"]) == 2
