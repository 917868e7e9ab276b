"""S3's exact answers where Wharf used to differ (checked against AWS's documentation): request
ids, SigV2, SigV4 with a Date header, presigned lifetimes, multipart retries and checksums,
GetObjectAttributes, DeleteObjects digests, RFC 9110 conditions, listing details, CreateBucket,
anonymous requests, Content-MD5 and Content-Encoding, huge ranges, POST object, expected bucket
owners, and a bucket named like the CloudFront API's version."""

import base64
import hashlib
import os
import re
import subprocess
import urllib.parse
import uuid
import zlib

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import REGION, Wharf, empty_and_delete, error_code, status_of
from s3_helpers import (
    account_id,
    error_code_of,
    http_request,
    raw_request,
    signed_request,
    sigv4_with_date_header,
    xml_of,
)

MIB = 1 << 20


def md5_b64(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


# --- request ids -------------------------------------------------------------------------


def test_every_response_carries_request_ids(wharf, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    for call in (
        lambda: s3.get_object(Bucket=bucket, Key="k"),
        lambda: s3.head_object(Bucket=bucket, Key="k"),
        lambda: s3.list_objects_v2(Bucket=bucket),
    ):
        h = call()["ResponseMetadata"]["HTTPHeaders"]
        assert re.fullmatch(r"[0-9A-F]{16}", h["x-amz-request-id"]), h
        assert len(h["x-amz-id-2"]) >= 32
    # Errors carry them in the body too, the same ones.
    status, headers, body = raw_request(wharf, "GET", f"/{bucket}/nope")
    root = xml_of(body)
    assert status == 403 and root.findtext("Code") == "AccessDenied"
    assert root.findtext("RequestId") == headers["x-amz-request-id"]
    assert root.findtext("HostId") == headers["x-amz-id-2"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="nope")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"
    assert e.value.response["ResponseMetadata"]["RequestId"]
    assert e.value.response["Error"].get("HostId") or e.value.response["ResponseMetadata"]["HostId"]
    # HEAD errors have no body, but the headers.
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="nope")
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    assert len({s3.list_objects_v2(Bucket=bucket)["ResponseMetadata"]["RequestId"] for _ in range(20)}) == 20


# --- SigV2 ---------------------------------------------------------------------------------


def test_aws_cli_v1_presign_is_sigv2_and_works_with_curl(wharf, s3, bucket):
    s3.put_object(Bucket=bucket, Key="shared.txt", Body=b"from a presigned link")
    url = wharf.aws("s3", "presign", f"s3://{bucket}/shared.txt").stdout.strip()
    assert "AWSAccessKeyId=" in url and "Signature=" in url, url
    out = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", url], capture_output=True, timeout=30)
    assert out.stdout == b"from a presigned link\n200", out
    # Tampering with the key breaks the signature.
    out = subprocess.run(["curl", "-sS", url.replace("/shared.txt?", "/other.txt?")], capture_output=True, timeout=30)
    assert error_code_of(out.stdout) == "SignatureDoesNotMatch"


def test_boto3_default_presigned_urls_are_sigv2_and_work(wharf, bucket):
    # boto3's default client (no signature_version in its config) presigns with SigV2.
    legacy = boto3.client("s3", endpoint_url=wharf.endpoint, aws_access_key_id=wharf.access_key, aws_secret_access_key=wharf.secret_key, region_name=REGION)
    put = legacy.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "v2"}, ExpiresIn=300)
    assert "AWSAccessKeyId=" in put
    path = put.split(str(wharf.port), 1)[1]
    status, _, body = raw_request(wharf, "PUT", path, body=b"uploaded with SigV2")
    assert status == 200, body
    get = legacy.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v2"}, ExpiresIn=300)
    status, _, body = http_request(get)
    assert (status, body) == (200, b"uploaded with SigV2")
    expired = legacy.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v2"}, ExpiresIn=-10)
    status, _, body = http_request(expired)
    assert status == 403 and error_code_of(body) == "AccessDenied"


def test_sigv2_signed_requests_work_for_every_family(wharf, bucket):
    v2 = boto3.client("s3", endpoint_url=wharf.endpoint, aws_access_key_id=wharf.access_key, aws_secret_access_key=wharf.secret_key, region_name=REGION, config=Config(signature_version="s3", retries={"max_attempts": 1}))
    body = os.urandom(200_000)
    v2.put_object(Bucket=bucket, Key="dir/odd key+%.bin", Body=body)
    assert v2.get_object(Bucket=bucket, Key="dir/odd key+%.bin")["Body"].read() == body
    assert [o["Key"] for o in v2.list_objects_v2(Bucket=bucket)["Contents"]] == ["dir/odd key+%.bin"]
    v2.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "dir/odd key+%.bin"})
    uid = v2.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    etag = v2.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=b"part")["ETag"]
    v2.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    deleted = v2.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "copy"}, {"Key": "mp"}]})
    assert sorted(d["Key"] for d in deleted["Deleted"]) == ["copy", "mp"]
    wrong = boto3.client("s3", endpoint_url=wharf.endpoint, aws_access_key_id=wharf.access_key, aws_secret_access_key="not-the-secret", region_name=REGION, config=Config(signature_version="s3", retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as e:
        wrong.list_objects_v2(Bucket=bucket)
    assert error_code(e.value) == "SignatureDoesNotMatch"


def test_sigv2_can_be_turned_off(tmp_path):
    cfg = tmp_path / "wharf.toml"
    cfg.write_text("[api]\nallow_sigv2 = false\n")
    w = Wharf(tmp_path / "data").start("--config", str(cfg))
    try:
        w.client().create_bucket(Bucket="no-sigv2")
        legacy = boto3.client("s3", endpoint_url=w.endpoint, aws_access_key_id=w.access_key, aws_secret_access_key=w.secret_key, region_name=REGION)
        url = legacy.generate_presigned_url("get_object", Params={"Bucket": "no-sigv2", "Key": "k"}, ExpiresIn=60)
        status, _, body = http_request(url)
        assert status == 400 and error_code_of(body) == "InvalidRequest" and b"AWS4-HMAC-SHA256" in body
    finally:
        w.stop()


def test_sigv4_signed_with_a_date_header_and_no_x_amz_date(wharf, s3, bucket):
    s3.put_object(Bucket=bucket, Key="dated", Body=b"signed with Date")
    headers = sigv4_with_date_header(wharf, "GET", f"/{bucket}/dated")
    assert "x-amz-date" not in {k.lower() for k in headers}
    status, _, body = raw_request(wharf, "GET", f"/{bucket}/dated", headers=headers)
    assert (status, body) == (200, b"signed with Date")
    headers["Authorization"] = headers["Authorization"][:-4] + "0000"
    status, _, body = raw_request(wharf, "GET", f"/{bucket}/dated", headers=headers)
    assert status == 403 and error_code_of(body) == "SignatureDoesNotMatch"


# --- multipart ---------------------------------------------------------------------------


def test_a_repeated_complete_returns_the_same_result_while_the_object_is_current(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=b"only part")["ETag"]
    parts = {"Parts": [{"PartNumber": 1, "ETag": etag}]}
    first = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload=parts)
    again = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload=parts)
    assert again["ETag"] == first["ETag"] and again["Key"] == "mp"
    # Once the object it made is replaced, the upload is gone.
    s3.put_object(Bucket=bucket, Key="mp", Body=b"newer")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload=parts)
    assert error_code(e.value) == "NoSuchUpload"


def test_a_complete_naming_a_part_twice_is_out_of_order(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dup")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="dup", UploadId=uid, PartNumber=1, Body=b"a" * (5 * MIB))["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="dup", UploadId=uid, PartNumber=2, Body=b"b")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="dup", UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert (status_of(e.value), error_code(e.value)) == (400, "InvalidPartOrder")
    # Nothing was made and the upload is intact.
    assert len(s3.list_parts(Bucket=bucket, Key="dup", UploadId=uid)["Parts"]) == 2
    s3.abort_multipart_upload(Bucket=bucket, Key="dup", UploadId=uid)


@pytest.mark.parametrize("kind", ["FULL_OBJECT", "COMPOSITE"])
def test_a_wrong_whole_object_checksum_on_complete_is_bad_digest(s3, bucket, kind):
    parts = [os.urandom(5 * MIB), b"tail"]
    uid = s3.create_multipart_upload(Bucket=bucket, Key="ck", ChecksumAlgorithm="CRC32", ChecksumType=kind)["UploadId"]
    done = [s3.upload_part(Bucket=bucket, Key="ck", UploadId=uid, PartNumber=i + 1, Body=p, ChecksumAlgorithm="CRC32") for i, p in enumerate(parts)]
    listed = {"Parts": [{"PartNumber": i + 1, "ETag": d["ETag"], "ChecksumCRC32": d["ChecksumCRC32"]} for i, d in enumerate(done)]}
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="ck", UploadId=uid, MultipartUpload=listed, ChecksumCRC32="AAAAAA==")
    assert (status_of(e.value), error_code(e.value)) == (400, "BadDigest")
    whole = crc32_b64(b"".join(parts)) if kind == "FULL_OBJECT" else None
    kwargs = {"ChecksumCRC32": whole} if whole else {}
    ok = s3.complete_multipart_upload(Bucket=bucket, Key="ck", UploadId=uid, MultipartUpload=listed, **kwargs)
    assert ok["ChecksumType"] == kind


def test_a_part_read_with_checksum_mode_returns_the_parts_checksum(s3, bucket):
    parts = [os.urandom(5 * MIB), b"the last part"]
    uid = s3.create_multipart_upload(Bucket=bucket, Key="pc", ChecksumAlgorithm="CRC32")["UploadId"]
    done = [s3.upload_part(Bucket=bucket, Key="pc", UploadId=uid, PartNumber=i + 1, Body=p, ChecksumAlgorithm="CRC32") for i, p in enumerate(parts)]
    s3.complete_multipart_upload(Bucket=bucket, Key="pc", UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": d["ETag"], "ChecksumCRC32": d["ChecksumCRC32"]} for i, d in enumerate(done)]})
    got = s3.get_object(Bucket=bucket, Key="pc", PartNumber=2, ChecksumMode="ENABLED")
    assert got["Body"].read() == parts[1]
    assert got["ChecksumCRC32"] == crc32_b64(parts[1]) == done[1]["ChecksumCRC32"]
    assert got["ChecksumType"] == "COMPOSITE"
    head = s3.head_object(Bucket=bucket, Key="pc", PartNumber=1, ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == done[0]["ChecksumCRC32"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="pc", PartNumber=3)
    assert (status_of(e.value), error_code(e.value)) == (416, "InvalidPartNumber")


def test_get_object_attributes_etag_is_unquoted(wharf, s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="a", Body=b"attributes")["ETag"]
    got = s3.get_object_attributes(Bucket=bucket, Key="a", ObjectAttributes=["ETag", "ObjectSize"])
    assert got["ETag"] == etag.strip('"') and got["ObjectSize"] == 10
    status, _, body = signed_request(wharf, "GET", f"/{bucket}/a?attributes", headers={"x-amz-object-attributes": "ETag"})
    assert status == 200 and xml_of(body).findtext("ETag") == etag.strip('"')


# --- DeleteObjects digests ---------------------------------------------------------------


def test_delete_objects_verifies_the_digest_of_its_body(wharf, s3, bucket):
    s3.put_object(Bucket=bucket, Key="keep", Body=b"x")
    body = b"<Delete><Object><Key>keep</Key></Object></Delete>"
    path = f"/{bucket}?delete"
    for headers, code in (
        ({"Content-MD5": md5_b64(b"something else")}, "BadDigest"),
        ({"x-amz-checksum-crc32": crc32_b64(b"something else")}, "BadDigest"),
        ({}, "InvalidRequest"),
    ):
        status, _, resp = signed_request(wharf, "POST", path, body=body, headers=headers)
        assert (status, error_code_of(resp)) == (400, code), (headers, resp)
        assert s3.head_object(Bucket=bucket, Key="keep")["ContentLength"] == 1
    status, _, resp = signed_request(wharf, "POST", path, body=body, headers={"x-amz-checksum-crc32": crc32_b64(body)})
    assert status == 200, resp
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="keep")
    # boto3 sends a checksum of its own and works as ever.
    s3.put_object(Bucket=bucket, Key="k2", Body=b"y")
    assert s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k2"}]})["Deleted"][0]["Key"] == "k2"


# --- conditions ----------------------------------------------------------------------------


def test_if_match_and_if_none_match_lists_on_writes(wharf, s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"v1")["ETag"]
    path = f"/{bucket}/c"
    status, _, body = signed_request(wharf, "PUT", path, body=b"v2", headers={"If-Match": f'"nope", {etag}'})
    assert status == 200, body
    current = s3.head_object(Bucket=bucket, Key="c")["ETag"]
    status, _, body = signed_request(wharf, "PUT", path, body=b"v3", headers={"If-Match": '"a", "b"'})
    assert (status, error_code_of(body)) == (412, "PreconditionFailed")
    status, _, body = signed_request(wharf, "PUT", path, body=b"v3", headers={"If-None-Match": f'"a", {current}'})
    assert (status, error_code_of(body)) == (412, "PreconditionFailed")
    status, _, body = signed_request(wharf, "PUT", path, body=b"v3", headers={"If-None-Match": '"a", "b"'})
    assert status == 200
    assert s3.get_object(Bucket=bucket, Key="c")["Body"].read() == b"v3"
    # Reads evaluate lists too.
    current = s3.head_object(Bucket=bucket, Key="c")["ETag"]
    status, _, _ = signed_request(wharf, "GET", path, headers={"If-None-Match": f'"x", {current}'})
    assert status == 304
    status, _, _ = signed_request(wharf, "GET", path, headers={"If-Match": '"x", "y"'})
    assert status == 412
    # CompleteMultipartUpload: If-None-Match naming the current ETag fails.
    uid = s3.create_multipart_upload(Bucket=bucket, Key="c")["UploadId"]
    pe = s3.upload_part(Bucket=bucket, Key="c", UploadId=uid, PartNumber=1, Body=b"p")["ETag"]
    xml = f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{pe}</ETag></Part></CompleteMultipartUpload>".encode()
    status, _, body = signed_request(wharf, "POST", f"{path}?uploadId={uid}", body=xml, headers={"If-None-Match": f'"zz", {current}'})
    assert (status, error_code_of(body)) == (412, "PreconditionFailed"), body
    assert s3.get_object(Bucket=bucket, Key="c")["Body"].read() == b"v3"


def test_copy_honours_conditions_on_its_destination(wharf, s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    s3.put_object(Bucket=bucket, Key="dst", Body=b"existing")
    status, _, body = signed_request(wharf, "PUT", f"/{bucket}/dst", headers={"x-amz-copy-source": f"/{bucket}/src", "If-None-Match": "*"})
    assert (status, error_code_of(body)) == (412, "PreconditionFailed")
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"existing"
    status, _, body = signed_request(wharf, "PUT", f"/{bucket}/new", headers={"x-amz-copy-source": f"/{bucket}/src", "If-None-Match": "*"})
    assert status == 200, body
    assert s3.get_object(Bucket=bucket, Key="new")["Body"].read() == b"source"


# --- listings ------------------------------------------------------------------------------


def test_max_keys_zero_and_an_empty_delimiter(wharf, s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"x")
    page = s3.list_objects_v2(Bucket=bucket, MaxKeys=0)
    assert page["IsTruncated"] is False and page["KeyCount"] == 0 and "Contents" not in page
    assert s3.list_objects(Bucket=bucket, MaxKeys=0)["IsTruncated"] is False
    for query in ("list-type=2&delimiter=", "delimiter="):
        status, _, body = signed_request(wharf, "GET", f"/{bucket}?{query}")
        assert status == 200 and xml_of(body).find("Delimiter") is None, body


def test_list_v1_url_encoding_encodes_what_s3_encodes(wharf, s3, bucket):
    for k in ("a b/1", "a b/2", "c+d", "e\u00e9"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    q = "encoding-type=url&prefix=" + urllib.parse.quote("a b/", safe="") + "&marker=" + urllib.parse.quote("a b/1", safe="") + "&max-keys=1&delimiter=%2F"
    status, _, body = signed_request(wharf, "GET", f"/{bucket}?{q}")
    root = xml_of(body)
    assert status == 200, body
    assert root.findtext("Prefix") == "a%20b%2F" or root.findtext("Prefix") == "a%20b/"
    assert root.findtext("Marker") in ("a%20b%2F1", "a%20b/1")
    assert root.findtext("Delimiter") in ("%2F", "/")
    assert root.findtext("EncodingType") == "url"
    assert [c.findtext("Key") for c in root.findall("Contents")] == [root.findtext("Prefix").replace("%2F", "/") + "2"]
    status, _, body = signed_request(wharf, "GET", f"/{bucket}?encoding-type=url&max-keys=1&delimiter=%2F&marker=c")
    root = xml_of(body)
    assert [c.findtext("Key") for c in root.findall("Contents")] == ["c%2Bd"]
    assert root.findtext("NextMarker") == "c%2Bd" and root.findtext("IsTruncated") == "true"
    # boto3 asks for url encoding and decodes it back.
    assert [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]] == ["a b/1", "a b/2", "c+d", "e\u00e9"]


# --- buckets -------------------------------------------------------------------------------


def test_create_bucket_again_and_location_constraints(tmp_path):
    cfg = tmp_path / "wharf.toml"
    cfg.write_text('regions = ["eu-west-1"]\n')
    w = Wharf(tmp_path / "data").start("--config", str(cfg))
    try:
        s3 = w.client()
        s3.create_bucket(Bucket="east-bucket")
        # us-east-1's legacy answer: creating your own bucket again succeeds.
        assert s3.create_bucket(Bucket="east-bucket")["ResponseMetadata"]["HTTPStatusCode"] == 200
        s3.create_bucket(Bucket="west-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        assert s3.get_bucket_location(Bucket="west-bucket")["LocationConstraint"] == "eu-west-1"
        with pytest.raises(ClientError) as e:
            s3.create_bucket(Bucket="west-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        assert error_code(e.value) == "BucketAlreadyOwnedByYou"
        with pytest.raises(ClientError) as e:
            s3.create_bucket(Bucket="nowhere-bucket", CreateBucketConfiguration={"LocationConstraint": "mars-north-1"})
        assert (status_of(e.value), error_code(e.value)) == (400, "InvalidLocationConstraint")
        assert "nowhere-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    finally:
        w.stop()


def test_anonymous_requests_to_a_missing_bucket_are_404(wharf, bucket):
    status, _, body = http_request(f"{wharf.endpoint}/no-such-bucket-{uuid.uuid4().hex[:8]}/k")
    assert (status, error_code_of(body)) == (404, "NoSuchBucket")
    status, _, body = http_request(f"{wharf.endpoint}/{bucket}/k")
    assert (status, error_code_of(body)) == (403, "AccessDenied")


def test_expected_bucket_owner(wharf, s3, bucket):
    me = account_id(wharf)
    assert re.fullmatch(r"\d{12}", me)
    s3.put_object(Bucket=bucket, Key="o", Body=b"x", ExpectedBucketOwner=me)
    assert s3.get_object(Bucket=bucket, Key="o", ExpectedBucketOwner=me)["Body"].read() == b"x"
    other = "111111111111" if me != "111111111111" else "222222222222"
    for call in (
        lambda: s3.get_object(Bucket=bucket, Key="o", ExpectedBucketOwner=other),
        lambda: s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner=other),
        lambda: s3.put_object(Bucket=bucket, Key="o2", Body=b"x", ExpectedBucketOwner=other),
        lambda: s3.copy_object(Bucket=bucket, Key="o3", CopySource={"Bucket": bucket, "Key": "o"}, ExpectedSourceBucketOwner=other),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert (status_of(e.value), error_code(e.value)) == (403, "AccessDenied")
    assert "Contents" in s3.list_objects_v2(Bucket=bucket) and len(s3.list_objects_v2(Bucket=bucket)["Contents"]) == 1


def test_a_bucket_named_like_the_cloudfront_api_version(s3):
    try:
        s3.create_bucket(Bucket="2020-05-31")
        s3.put_object(Bucket="2020-05-31", Key="distribution/E123", Body=b"not a distribution")
        assert s3.get_object(Bucket="2020-05-31", Key="distribution/E123")["Body"].read() == b"not a distribution"
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="2020-05-31")["Contents"]] == ["distribution/E123"]
    finally:
        empty_and_delete(s3, "2020-05-31")


# --- headers -------------------------------------------------------------------------------


def test_an_empty_content_md5_is_an_invalid_digest(wharf, s3, bucket):
    status, _, body = signed_request(wharf, "PUT", f"/{bucket}/e", body=b"x", headers={"Content-MD5": ""})
    assert (status, error_code_of(body)) == (400, "InvalidDigest")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="e")


def test_aws_chunked_is_not_stored_as_a_content_encoding(wharf, s3, bucket):
    status, _, body = signed_request(wharf, "PUT", f"/{bucket}/z", body=b"gz", headers={"Content-Encoding": "gzip, aws-chunked"})
    assert status == 200, body
    assert s3.head_object(Bucket=bucket, Key="z")["ContentEncoding"] == "gzip"
    # And through a real aws-chunked upload (boto3 streams with a checksum trailer).
    s3.put_object(Bucket=bucket, Key="z2", Body=os.urandom(100_000), ContentEncoding="br")
    assert s3.head_object(Bucket=bucket, Key="z2")["ContentEncoding"] == "br"


@pytest.mark.parametrize(
    "rng,start",
    [("bytes=0-9223372036854775808", 0), ("bytes=3-18446744073709551615", 3), ("bytes=5-99999999999999999999", 5)],
)
def test_a_range_ending_past_2_to_the_63_is_clipped(wharf, s3, bucket, rng, start):
    data = b"0123456789"
    s3.put_object(Bucket=bucket, Key="r", Body=data)
    # Signed (boto3 signs Range) ...
    got = s3.get_object(Bucket=bucket, Key="r", Range=rng)
    assert got["Body"].read() == data[start:] and got["ContentRange"] == f"bytes {start}-9/10"
    # ... and unsigned, on a presigned URL.
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "r"}, ExpiresIn=60)
    status, headers, body = http_request(url, headers={"Range": rng})
    assert (status, body) == (206, data[start:])


# --- POST object ---------------------------------------------------------------------------


def multipart_form(fields, filename, content):
    boundary = uuid.uuid4().hex
    out = b""
    for k, v in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    out += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\nContent-Type: text/plain\r\n\r\n'.encode()
    out += content + f"\r\n--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def post_form(wharf, s3, bucket, key, content, filename="hello.txt", conditions=None, fields=None, mangle=None):
    post = s3.generate_presigned_post(bucket, key, Fields=fields or {}, Conditions=conditions or [], ExpiresIn=600)
    form = dict(post["fields"])
    if mangle:
        mangle(form)
    body, ctype = multipart_form(form, filename, content)
    return raw_request(wharf, "POST", f"/{bucket}", body=body, headers={"Content-Type": ctype})


def test_post_object_browser_uploads(wharf, s3, bucket):
    # ${filename} becomes the uploaded file's name.
    status, headers, body = post_form(wharf, s3, bucket, "uploads/${filename}", b"posted", filename="photo 1.txt", conditions=[["starts-with", "$key", "uploads/"]])
    assert status == 204, body
    got = s3.get_object(Bucket=bucket, Key="uploads/photo 1.txt")
    assert got["Body"].read() == b"posted"
    assert headers["etag"] == got["ETag"]
    # success_action_status 201: XML with the ETag quoted, as S3 sends it.
    status, _, body = post_form(wharf, s3, bucket, "created.txt", b"201", fields={"success_action_status": "201"}, conditions=[{"success_action_status": "201"}])
    assert status == 201, body
    assert xml_of(body).findtext("ETag") == s3.head_object(Bucket=bucket, Key="created.txt")["ETag"]
    # success_action_redirect: 303 to the URL with bucket, key and the quoted etag.
    status, headers, body = post_form(wharf, s3, bucket, "redirected.txt", b"303", fields={"success_action_redirect": "http://example.com/done"}, conditions=[{"success_action_redirect": "http://example.com/done"}])
    assert status == 303, body
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(headers["location"]).query)
    assert q["key"] == ["redirected.txt"] and q["etag"] == [s3.head_object(Bucket=bucket, Key="redirected.txt")["ETag"]]
    assert q["etag"][0].startswith('"')


def test_post_object_policy_violations_and_bad_policies(wharf, s3, bucket):
    # A key outside the policy's starts-with: 403 AccessDenied, nothing stored.
    def other_key(form):
        form["key"] = "elsewhere/x.txt"

    status, _, body = post_form(wharf, s3, bucket, "uploads/x.txt", b"no", conditions=[["starts-with", "$key", "uploads/"]], mangle=other_key)
    assert (status, error_code_of(body)) == (403, "AccessDenied"), body
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="elsewhere/x.txt")

    # A policy whose expiration is not a date: 400.
    def bad_expiration(form):
        policy = {"expiration": "someday", "conditions": [{"bucket": bucket}, {"key": "k"}]}
        form["policy"] = base64.b64encode(__import__("json").dumps(policy).encode()).decode()

    status, _, body = post_form(wharf, s3, bucket, "k", b"x", mangle=bad_expiration)
    assert status == 400, body


def test_post_object_checksum_fields(wharf, s3, bucket):
    content = b"checked by the form"
    status, _, body = post_form(wharf, s3, bucket, "ck.txt", content, fields={"x-amz-checksum-crc32": crc32_b64(content)}, conditions=[{"x-amz-checksum-crc32": crc32_b64(content)}])
    assert status == 204, body
    got = s3.head_object(Bucket=bucket, Key="ck.txt", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == crc32_b64(content)
    wrong = crc32_b64(b"other")
    status, _, body = post_form(wharf, s3, bucket, "bad.txt", content, fields={"x-amz-checksum-crc32": wrong}, conditions=[{"x-amz-checksum-crc32": wrong}])
    assert (status, error_code_of(body)) == (400, "BadDigest"), body
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="bad.txt")
