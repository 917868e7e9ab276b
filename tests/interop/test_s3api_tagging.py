"""Object and bucket tagging with the unmodified AWS CLI and boto3: tag sets per version, the
x-amz-tagging header on PUT, multipart and copy (with the tagging directive), the tag count on
reads, and S3's limits and errors."""

import json
import urllib.parse

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, status_of


def tagset(d):
    return [{"Key": k, "Value": v} for k, v in d.items()]


def as_dict(tag_set):
    return {t["Key"]: t["Value"] for t in tag_set}


def test_object_tagging_with_the_aws_cli(wharf, s3, bucket):
    s3.put_object(Bucket=bucket, Key="doc", Body=b"x")
    wharf.aws("s3api", "put-object-tagging", "--bucket", bucket, "--key", "doc",
              "--tagging", json.dumps({"TagSet": tagset({"project": "wharf", "stage": "dev test"})}))
    out = json.loads(wharf.aws("s3api", "get-object-tagging", "--bucket", bucket, "--key", "doc").stdout)
    assert as_dict(out["TagSet"]) == {"project": "wharf", "stage": "dev test"}
    assert s3.get_object(Bucket=bucket, Key="doc")["TagCount"] == 2
    head = s3.head_object(Bucket=bucket, Key="doc")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "2"
    wharf.aws("s3api", "delete-object-tagging", "--bucket", bucket, "--key", "doc")
    assert s3.get_object_tagging(Bucket=bucket, Key="doc")["TagSet"] == []
    assert "TagCount" not in s3.get_object(Bucket=bucket, Key="doc")


def test_tags_on_put_multipart_and_copy(s3, bucket):
    header = urllib.parse.urlencode({"a": "1", "b c": "d/e"})
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", Tagging=header)
    assert as_dict(s3.get_object_tagging(Bucket=bucket, Key="src")["TagSet"]) == {"a": "1", "b c": "d/e"}
    # Copy keeps the source's tags by default, even when replacing metadata; REPLACE takes the header's.
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "src"},
                   MetadataDirective="REPLACE", Metadata={"m": "1"})
    assert as_dict(s3.get_object_tagging(Bucket=bucket, Key="copy")["TagSet"]) == {"a": "1", "b c": "d/e"}
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "src"},
                   TaggingDirective="REPLACE", Tagging="only=this")
    assert as_dict(s3.get_object_tagging(Bucket=bucket, Key="copy")["TagSet"]) == {"only": "this"}
    s3.copy_object(Bucket=bucket, Key="bare", CopySource={"Bucket": bucket, "Key": "src"}, TaggingDirective="REPLACE")
    assert s3.get_object_tagging(Bucket=bucket, Key="bare")["TagSet"] == []
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", Tagging="kind=multipart")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1, Body=b"p")
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert as_dict(s3.get_object_tagging(Bucket=bucket, Key="mp")["TagSet"]) == {"kind": "multipart"}


def test_tags_belong_to_versions(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"1", Tagging="v=1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"2")["VersionId"]
    out = s3.put_object_tagging(Bucket=bucket, Key="k", VersionId=v1, Tagging={"TagSet": tagset({"v": "one"})})
    assert out["VersionId"] == v1
    assert as_dict(s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=v1)["TagSet"]) == {"v": "one"}
    current = s3.get_object_tagging(Bucket=bucket, Key="k")
    assert current["TagSet"] == [] and current["VersionId"] == v2
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.get_object_tagging(Bucket=bucket, Key="k")
    assert error_code(e.value) == "NoSuchKey"
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="k", VersionId=marker, Tagging={"TagSet": []})
    assert status_of(e.value) == 405


@pytest.mark.parametrize("tags,code", [
    ({f"k{i}": "v" for i in range(11)}, "InvalidTag"),
    ({"k" * 129: "v"}, "InvalidTag"),
    ({"k": "v" * 257}, "InvalidTag"),
    ({"aws:reserved": "v"}, "InvalidTag"),
    ({"bad*char": "v"}, "InvalidTag"),
])
def test_tag_limits(s3, bucket, tags, code):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tagset(tags)})
    assert (status_of(e.value), error_code(e.value)) == (400, code)
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []


def test_tag_limits_at_their_edges_and_in_the_header(s3, bucket):
    edge = {f"k{i}": "v" for i in range(9)}
    edge["k" * 128] = "v" * 256
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging=urllib.parse.urlencode(edge))
    assert len(s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]) == 10
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="eleven", Body=b"x",
                      Tagging=urllib.parse.urlencode({f"k{i}": "v" for i in range(11)}))
    assert (status_of(e.value), error_code(e.value)) == (400, "BadRequest")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="dup", Body=b"x", Tagging="a=1&a=2")
    assert error_code(e.value) == "InvalidArgument"
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]})
    assert error_code(e.value) == "InvalidTag"
    for key in ("eleven", "dup"):
        with pytest.raises(ClientError):
            s3.head_object(Bucket=bucket, Key=key)


def test_bucket_tagging(wharf, s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert (status_of(e.value), error_code(e.value)) == (404, "NoSuchTagSet")
    wharf.aws("s3api", "put-bucket-tagging", "--bucket", bucket,
              "--tagging", json.dumps({"TagSet": tagset({"team": "edge", "cost-center": "42"})}))
    assert as_dict(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == {"team": "edge", "cost-center": "42"}
    r = s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tagset({f"k{i}": "v" for i in range(50)})})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tagset({f"k{i}": "v" for i in range(51)})})
    assert error_code(e.value) == "InvalidTag"
    assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 50
    s3.delete_bucket_tagging(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error_code(e.value) == "NoSuchTagSet"


def test_browser_form_uploads_carry_tags_and_locks(wharf, s3):
    """A POST form's `tagging` field (a <Tagging> document) and its Object Lock fields, as S3
    reads them."""
    import datetime

    from conftest import new_bucket_name
    from test_s3_answers import post_form

    b = new_bucket_name("form")
    s3.create_bucket(Bucket=b, ObjectLockEnabledForBucket=True)
    tagging = "<Tagging><TagSet><Tag><Key>source</Key><Value>form</Value></Tag></TagSet></Tagging>"
    until = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fields = {"tagging": tagging, "x-amz-object-lock-mode": "GOVERNANCE",
              "x-amz-object-lock-retain-until-date": until, "x-amz-object-lock-legal-hold": "ON"}
    status, _, body = post_form(wharf, s3, b, "posted.txt", b"hello", fields=fields,
                                conditions=[{k: v} for k, v in fields.items()])
    assert status == 204, body
    assert as_dict(s3.get_object_tagging(Bucket=b, Key="posted.txt")["TagSet"]) == {"source": "form"}
    head = s3.head_object(Bucket=b, Key="posted.txt")
    assert head["ObjectLockMode"] == "GOVERNANCE" and head["ObjectLockLegalHoldStatus"] == "ON"
    status, _, body = post_form(wharf, s3, b, "bad.txt", b"x", fields={"tagging": "<Tagging><TagSet>"},
                                conditions=[{"tagging": "<Tagging><TagSet>"}])
    assert status == 400 and b"MalformedXML" in body, body
