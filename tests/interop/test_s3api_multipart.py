"""Multipart uploads: every operation, S3's completion rules and its error codes."""

import base64
import hashlib
import os
import zlib

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, status_of

MIB = 1 << 20


def s3_multipart_etag(parts):
    h = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts))
    return '"%s-%d"' % (h.hexdigest(), len(parts))


def test_create_upload_list_complete(s3, bucket):
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), b"tail"]
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="video/mp4", Metadata={"m": "1"})
    uid = up["UploadId"]
    listed = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in listed] == [("mp", uid)]
    etags = [s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=i + 1, Body=p)["ETag"] for i, p in enumerate(parts)]
    lp = s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in lp["Parts"]] == [(i + 1, len(p), e) for i, (p, e) in enumerate(zip(parts, etags))]
    page = s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid, MaxParts=2)
    assert page["IsTruncated"] and page["NextPartNumberMarker"] == 2
    rest = s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid, PartNumberMarker=2)
    assert [p["PartNumber"] for p in rest["Parts"]] == [3] and not rest["IsTruncated"]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]}
    )
    assert done["ETag"] == s3_multipart_etag(parts)
    body = s3.get_object(Bucket=bucket, Key="mp")
    assert body["ContentType"] == "video/mp4" and body["Metadata"] == {"m": "1"}
    assert body["Body"].read() == b"".join(parts)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    # partNumber reads one part; GetObjectAttributes lists them.
    p2 = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert p2["Body"].read() == parts[1] and p2["PartsCount"] == 3
    assert p2["ContentRange"] == f"bytes {5 * MIB}-{10 * MIB - 1}/{10 * MIB + 4}"
    attrs = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts", "ObjectSize"])
    assert attrs["ObjectParts"]["TotalPartsCount"] == 3 and attrs["ObjectSize"] == 10 * MIB + 4
    assert s3.head_object(Bucket=bucket, Key="mp", PartNumber=3)["ContentLength"] == 4


def test_replacing_a_part_and_omitting_parts(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="r")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="r", UploadId=uid, PartNumber=1, Body=b"old" * MIB)
    e1 = s3.upload_part(Bucket=bucket, Key="r", UploadId=uid, PartNumber=1, Body=b"n" * (5 * MIB))["ETag"]
    s3.upload_part(Bucket=bucket, Key="r", UploadId=uid, PartNumber=2, Body=b"skipped")
    e3 = s3.upload_part(Bucket=bucket, Key="r", UploadId=uid, PartNumber=3, Body=b"end")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="r", UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 3, "ETag": e3}]})
    assert s3.get_object(Bucket=bucket, Key="r")["Body"].read() == b"n" * (5 * MIB) + b"end"


def test_completion_errors(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="e")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="e", UploadId=uid, PartNumber=1, Body=b"small")["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="e", UploadId=uid, PartNumber=2, Body=b"small too")["ETag"]

    def complete(parts):
        with pytest.raises(ClientError) as e:
            s3.complete_multipart_upload(Bucket=bucket, Key="e", UploadId=uid, MultipartUpload={"Parts": parts})
        return e.value

    err = complete([{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}])
    assert error_code(err) == "EntityTooSmall" and status_of(err) == 400
    err = complete([{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}])
    assert error_code(err) == "InvalidPartOrder"
    err = complete([{"PartNumber": 1, "ETag": '"0123456789abcdef0123456789abcdef"'}])
    assert error_code(err) == "InvalidPart"
    err = complete([{"PartNumber": 7, "ETag": e1}])
    assert error_code(err) == "InvalidPart"
    # A failed completion leaves the upload usable.
    s3.complete_multipart_upload(Bucket=bucket, Key="e", UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2}]})
    assert s3.get_object(Bucket=bucket, Key="e")["Body"].read() == b"small too"
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="e", UploadId=uid, PartNumber=1, Body=b"late")
    assert error_code(e.value) == "NoSuchUpload" and status_of(e.value) == 404


def test_abort_and_no_such_upload(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="a")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="a", UploadId=uid, PartNumber=1, Body=b"x")
    assert s3.abort_multipart_upload(Bucket=bucket, Key="a", UploadId=uid)["ResponseMetadata"]["HTTPStatusCode"] == 204
    for call in (
        lambda: s3.list_parts(Bucket=bucket, Key="a", UploadId=uid),
        lambda: s3.abort_multipart_upload(Bucket=bucket, Key="a", UploadId=uid),
        lambda: s3.upload_part(Bucket=bucket, Key="other-key", UploadId="nosuchupload", PartNumber=1, Body=b"x"),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert error_code(e.value) == "NoSuchUpload"
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="a", UploadId=uid, PartNumber=10001, Body=b"x")
    assert error_code(e.value) == "InvalidArgument"


def test_upload_part_copy_with_ranges(s3, bucket):
    src = os.urandom(6 * MIB)
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    r1 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=1, CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange=f"bytes=0-{5 * MIB - 1}")
    r2 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=2, CopySource={"Bucket": bucket, "Key": "src"})
    r3 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=3, CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange=f"bytes={5 * MIB}-{6 * MIB - 1}")
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=4, CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange=f"bytes=0-{6 * MIB}")
    assert error_code(e.value) == "InvalidRange"
    parts = [{"PartNumber": i + 1, "ETag": r["CopyPartResult"]["ETag"]} for i, r in enumerate((r1, r2, r3))]
    s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=uid, MultipartUpload={"Parts": parts})
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == src[: 5 * MIB] + src + src[5 * MIB :]


def test_composite_and_full_object_checksums(s3, bucket):
    p1, p2 = os.urandom(5 * MIB), b"last part"
    uid = s3.create_multipart_upload(Bucket=bucket, Key="ck", ChecksumAlgorithm="SHA256")["UploadId"]
    parts = []
    for n, p in ((1, p1), (2, p2)):
        r = s3.upload_part(Bucket=bucket, Key="ck", UploadId=uid, PartNumber=n, Body=p, ChecksumAlgorithm="SHA256")
        assert r["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(p).digest()).decode()
        parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumSHA256": r["ChecksumSHA256"]})
    done = s3.complete_multipart_upload(Bucket=bucket, Key="ck", UploadId=uid, MultipartUpload={"Parts": parts})
    composite = hashlib.sha256(hashlib.sha256(p1).digest() + hashlib.sha256(p2).digest()).digest()
    assert done["ChecksumSHA256"] == base64.b64encode(composite).decode() + "-2"
    assert done["ChecksumType"] == "COMPOSITE"

    uid = s3.create_multipart_upload(Bucket=bucket, Key="full", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")["UploadId"]
    parts = []
    for n, p in ((1, p1), (2, p2)):
        r = s3.upload_part(Bucket=bucket, Key="full", UploadId=uid, PartNumber=n, Body=p, ChecksumAlgorithm="CRC32")
        parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
    done = s3.complete_multipart_upload(Bucket=bucket, Key="full", UploadId=uid, MultipartUpload={"Parts": parts})
    assert done["ChecksumCRC32"] == base64.b64encode(zlib.crc32(p1 + p2).to_bytes(4, "big")).decode()
    assert done["ChecksumType"] == "FULL_OBJECT"
    head = s3.head_object(Bucket=bucket, Key="full", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == done["ChecksumCRC32"]


def test_list_multipart_uploads_pagination(s3, bucket):
    ids = {}
    for k in ("a/1", "a/2", "b", "c"):
        for _ in range(2):
            ids.setdefault(k, []).append(s3.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"])
    seen = []
    kw = {}
    while True:
        page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=3, **kw)
        seen += [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]
        if not page["IsTruncated"]:
            break
        kw = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}
    assert sorted(seen) == sorted((k, u) for k, us in ids.items() for u in us)
    folded = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in folded["CommonPrefixes"]] == ["a/"]
    assert sorted({u["Key"] for u in folded["Uploads"]}) == ["b", "c"]
