"""Object operations: PUT, GET (ranges, partNumber, conditionals), HEAD, DELETE, copy,
metadata, checksums and GetObjectAttributes."""

import base64
import datetime
import hashlib
import zlib

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, status_of


def test_put_get_head_with_system_headers_and_metadata(s3, bucket):
    expires = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    put = s3.put_object(
        Bucket=bucket,
        Key="docs/a.html",
        Body=b"<h1>hi</h1>",
        ContentType="text/html",
        ContentEncoding="identity",
        ContentDisposition='inline; filename="a.html"',
        ContentLanguage="en",
        CacheControl="max-age=60",
        Expires=expires,
        Metadata={"Color": "blue", "n": "1"},
    )
    assert put["ETag"] == '"%s"' % hashlib.md5(b"<h1>hi</h1>").hexdigest()
    for resp in (s3.get_object(Bucket=bucket, Key="docs/a.html"), s3.head_object(Bucket=bucket, Key="docs/a.html")):
        assert resp["ContentType"] == "text/html"
        assert resp["ContentEncoding"] == "identity"
        assert resp["ContentDisposition"] == 'inline; filename="a.html"'
        assert resp["ContentLanguage"] == "en"
        assert resp["CacheControl"] == "max-age=60"
        assert resp["Expires"] == expires
        assert resp["Metadata"] == {"color": "blue", "n": "1"}
        assert resp["ContentLength"] == 11
        assert resp["ETag"] == put["ETag"]
    assert s3.get_object(Bucket=bucket, Key="docs/a.html")["Body"].read() == b"<h1>hi</h1>"


def test_default_content_type_and_empty_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    h = s3.head_object(Bucket=bucket, Key="empty")
    assert h["ContentLength"] == 0 and h["ContentType"] == "binary/octet-stream"
    assert h["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    assert s3.get_object(Bucket=bucket, Key="empty")["Body"].read() == b""


def test_overwrite_is_visible_immediately(s3, bucket):
    for i in range(20):
        s3.put_object(Bucket=bucket, Key="k", Body=f"v{i}".encode())
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == f"v{i}".encode()


def test_large_object_round_trip(s3, bucket):
    data = bytes(range(256)) * 4096 * 3  # 3 MiB: stored as a blob file, not inline
    s3.put_object(Bucket=bucket, Key="big", Body=data)
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == data


@pytest.mark.parametrize(
    "rng,status,body,content_range",
    [
        ("bytes=0-4", 206, b"01234", "bytes 0-4/10"),
        ("bytes=5-", 206, b"56789", "bytes 5-9/10"),
        ("bytes=-3", 206, b"789", "bytes 7-9/10"),
        ("bytes=8-100", 206, b"89", "bytes 8-9/10"),
        ("bytes=-100", 206, b"0123456789", "bytes 0-9/10"),
    ],
)
def test_ranges(s3, bucket, rng, status, body, content_range):
    s3.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    r = s3.get_object(Bucket=bucket, Key="digits", Range=rng)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == status
    assert r["Body"].read() == body
    assert r.get("ContentRange") == content_range


def test_unsatisfiable_range(s3, bucket):
    s3.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="digits", Range="bytes=10-20")
    assert error_code(e.value) == "InvalidRange" and status_of(e.value) == 416


def test_conditional_get(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="c", Body=b"data")
    etag = put["ETag"]
    lm = s3.head_object(Bucket=bucket, Key="c")["LastModified"]
    later = lm + datetime.timedelta(hours=1)
    earlier = lm - datetime.timedelta(hours=1)
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"data"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"nope"')
    assert error_code(e.value) == "PreconditionFailed" and status_of(e.value) == 412
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert status_of(e.value) == 304
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=later)
    assert status_of(e.value) == 304
    assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=earlier)["Body"].read() == b"data"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=earlier)
    assert status_of(e.value) == 412
    # S3's precedence: If-Match true + If-Unmodified-Since false => 200.
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag, IfUnmodifiedSince=earlier)["Body"].read() == b"data"
    # If-None-Match false + If-Modified-Since true => 304.
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag, IfModifiedSince=earlier)
    assert status_of(e.value) == 304
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="c", IfMatch='"nope"')
    assert status_of(e.value) == 412


def test_conditional_writes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="once", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="once", Body=b"second", IfNoneMatch="*")
    assert error_code(e.value) == "PreconditionFailed" and status_of(e.value) == 412
    etag = s3.head_object(Bucket=bucket, Key="once")["ETag"]
    s3.put_object(Bucket=bucket, Key="once", Body=b"third", IfMatch=etag)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="once", Body=b"fourth", IfMatch=etag)
    assert error_code(e.value) == "PreconditionFailed"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="absent", Body=b"x", IfMatch=etag)
    assert error_code(e.value) == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"third"


def test_no_such_key_and_delete(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="nothing")
    assert error_code(e.value) == "NoSuchKey" and status_of(e.value) == 404
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="nothing")
    assert status_of(e.value) == 404
    # Deleting a missing key succeeds, as in S3.
    assert s3.delete_object(Bucket=bucket, Key="nothing")["ResponseMetadata"]["HTTPStatusCode"] == 204
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="k")


def test_hostile_keys_are_just_keys(s3, bucket):
    keys = ["../../etc/passwd", "a/../b", "./x", "sp ace/ü/日本", "q?x=1&y=2", "%2F%00", "k" * 1024, "trailing/"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    for k in keys:
        assert s3.get_object(Bucket=bucket, Key=k)["Body"].read() == k.encode()
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(listed) == sorted(keys)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x")
    assert error_code(e.value) == "KeyTooLongError" and status_of(e.value) == 400


def test_delete_objects_quiet_and_verbose(s3, bucket):
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"d{i}", Body=b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d0"}, {"Key": "d1", "VersionId": "null"}, {"Key": "missing"}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["d0", "d1", "missing"]
    assert [d.get("VersionId") for d in r["Deleted"] if d["Key"] == "d1"] == ["null"]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d2"}, {"Key": "k" * 1025, "VersionId": "null"}], "Quiet": True})
    assert "Deleted" not in r
    (err,) = r["Errors"]
    assert err["Key"] == "k" * 1025 and err["VersionId"] == "null" and err["Code"] == "KeyTooLongError" and err["Message"]
    left = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert left == ["d3", "d4"]


def test_copy_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"copy me", ContentType="text/plain", Metadata={"a": "1"})
    r = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert r["CopyObjectResult"]["ETag"] == '"%s"' % hashlib.md5(b"copy me").hexdigest()
    h = s3.head_object(Bucket=bucket, Key="dst")
    assert h["ContentType"] == "text/plain" and h["Metadata"] == {"a": "1"}
    s3.copy_object(Bucket=bucket, Key="dst2", CopySource=f"{bucket}/src", MetadataDirective="REPLACE", ContentType="text/x", Metadata={"b": "2"})
    h = s3.head_object(Bucket=bucket, Key="dst2")
    assert h["ContentType"] == "text/x" and h["Metadata"] == {"b": "2"}
    assert s3.get_object(Bucket=bucket, Key="dst2")["Body"].read() == b"copy me"


def test_copy_onto_itself(s3, bucket):
    s3.put_object(Bucket=bucket, Key="self", Body=b"same bytes", Metadata={"v": "1"})
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"})
    assert error_code(e.value) == "InvalidRequest"
    s3.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"}, MetadataDirective="REPLACE", Metadata={"v": "2"})
    assert s3.head_object(Bucket=bucket, Key="self")["Metadata"] == {"v": "2"}
    assert s3.get_object(Bucket=bucket, Key="self")["Body"].read() == b"same bytes"


def test_copy_source_conditionals(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="s", Body=b"x")["ETag"]
    s3.copy_object(Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "s"}, CopySourceIfMatch=etag)
    for kw in ({"CopySourceIfMatch": '"other"'}, {"CopySourceIfNoneMatch": etag}):
        with pytest.raises(ClientError) as e:
            s3.copy_object(Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "s"}, **kw)
        assert error_code(e.value) == "PreconditionFailed" and status_of(e.value) == 412
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "missing"})
    assert error_code(e.value) == "NoSuchKey"


def b64(digest):
    return base64.b64encode(digest).decode()


@pytest.mark.parametrize("alg", ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"])
def test_checksums_are_stored_and_returned(s3, bucket, alg):
    data = b"hello world"
    put = s3.put_object(Bucket=bucket, Key="ck", Body=data, ChecksumAlgorithm=alg)
    value = put[f"Checksum{alg}"]
    expected = {
        "CRC32": b64(zlib.crc32(data).to_bytes(4, "big")),
        "SHA1": b64(hashlib.sha1(data).digest()),
        "SHA256": b64(hashlib.sha256(data).digest()),
        "CRC32C": "yZRlqg==",
        "CRC64NVME": "jSnVw/bqjr4=",
    }[alg]
    assert value == expected
    g = s3.get_object(Bucket=bucket, Key="ck", ChecksumMode="ENABLED")
    assert g[f"Checksum{alg}"] == expected and g["ChecksumType"] == "FULL_OBJECT"
    assert g["Body"].read() == data
    attrs = s3.get_object_attributes(Bucket=bucket, Key="ck", ObjectAttributes=["Checksum", "ETag", "ObjectSize", "StorageClass"])
    assert attrs["Checksum"][f"Checksum{alg}"] == expected
    assert attrs["ObjectSize"] == len(data) and attrs["StorageClass"] == "STANDARD"


def test_wrong_checksum_is_refused_and_stores_nothing(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"hello", ChecksumSHA256=b64(hashlib.sha256(b"other").digest()))
    assert error_code(e.value) == "BadDigest" and status_of(e.value) == 400
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"hello", ContentMD5=b64(hashlib.md5(b"other").digest()))
    assert error_code(e.value) == "BadDigest"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="bad")
    assert status_of(e.value) == 404


def test_conditional_delete(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="cd", Body=b"v1")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=bucket, Key="cd", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert error_code(e.value) == "PreconditionFailed" and status_of(e.value) == 412
    assert s3.get_object(Bucket=bucket, Key="cd")["Body"].read() == b"v1"
    s3.delete_object(Bucket=bucket, Key="cd", IfMatch=etag)
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="cd")
    assert status_of(e.value) == 404
