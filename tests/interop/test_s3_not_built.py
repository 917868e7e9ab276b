"""Nothing silently ignored: a request naming an S3 feature Wharf does not implement yet is
refused with 501 NotImplemented naming the feature, and nothing is written. What S3 accepts with
ACLs disabled (x-amz-acl: private, bucket-owner-full-control) keeps working. (ACL grants are
decided by the operations: see test_s3api_acl_ownership.py.)"""

import os

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, new_bucket_name, status_of
from s3_helpers import error_code_of, signed_request

UNBUILT_OBJECT_HEADERS = [
    ({"x-amz-server-side-encryption": "AES256"}, "server-side encryption"),
    ({"x-amz-server-side-encryption": "aws:kms"}, "server-side encryption"),
    ({"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": "alias/k"}, "server-side encryption"),
    (
        {
            "x-amz-server-side-encryption-customer-algorithm": "AES256",
            "x-amz-server-side-encryption-customer-key": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            "x-amz-server-side-encryption-customer-key-MD5": "zZ5FnqcWO/xQfCuvnPnTMQ==",
        },
        "SSE-C",
    ),
]


@pytest.mark.parametrize("headers,feature", UNBUILT_OBJECT_HEADERS, ids=lambda v: str(v)[:40])
def test_put_object_refuses_unbuilt_features(wharf, s3, bucket, headers, feature):
    status, _, body = signed_request(wharf, "PUT", f"/{bucket}/k", body=b"secret", headers=headers)
    assert (status, error_code_of(body)) == (501, "NotImplemented"), body
    assert feature.encode() in body, body
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="k")
    assert status_of(e.value) == 404


def test_boto3_sse_c_put_is_refused_and_stores_nothing(s3, bucket):
    key = os.urandom(32)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="sse-c", Body=b"plaintext?", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert (status_of(e.value), error_code(e.value)) == (501, "NotImplemented")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="sse-c")
    # A read naming a customer key: no object here is encrypted with one.
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="plain", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert (status_of(e.value), error_code(e.value)) == (400, "InvalidRequest")


@pytest.mark.parametrize("headers,feature", UNBUILT_OBJECT_HEADERS[:3], ids=lambda v: str(v)[:40])
def test_copy_and_multipart_refuse_unbuilt_features(wharf, s3, bucket, headers, feature):
    s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    status, _, body = signed_request(wharf, "PUT", f"/{bucket}/copy", headers={"x-amz-copy-source": f"/{bucket}/src", **headers})
    assert (status, error_code_of(body)) == (501, "NotImplemented"), body
    status, _, body = signed_request(wharf, "POST", f"/{bucket}/mp?uploads", headers=headers)
    assert (status, error_code_of(body)) == (501, "NotImplemented"), body
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="copy")


def test_upload_part_refuses_customer_keys(wharf, s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    status, _, body = signed_request(wharf, "PUT", f"/{bucket}/mp?partNumber=1&uploadId={uid}", body=b"part", headers=UNBUILT_OBJECT_HEADERS[3][0])
    assert (status, error_code_of(body)) == (501, "NotImplemented"), body
    assert "Parts" not in s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)


def test_what_s3_accepts_without_acls_still_works(wharf, s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"x", ACL="private")
    s3.put_object(Bucket=bucket, Key="b", Body=b"x", ACL="bucket-owner-full-control")
    s3.put_object(Bucket=bucket, Key="c", Body=b"x", StorageClass="STANDARD")
    s3.copy_object(Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "a"}, TaggingDirective="REPLACE")
    name = new_bucket_name()
    s3.create_bucket(Bucket=name, ACL="private", ObjectOwnership="BucketOwnerEnforced")
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="e", Body=b"x", StorageClass="NOT_A_CLASS")
    assert (status_of(e.value), error_code(e.value)) == (400, "InvalidStorageClass")
