"""Object Ownership and ACLs with the unmodified AWS CLI and boto3: new buckets are
BucketOwnerEnforced (ACLs disabled, read as the owner's full control, AccessControlListNotSupported
for any other), the other two settings, who owns a written object, and ACL grants (canned,
grant headers, AccessControlPolicy documents) on buckets and objects counted in the decision,
with Block Public Access's BlockPublicAcls and IgnorePublicAcls."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import empty_and_delete, error_code, new_bucket_name, status_of
from s3_helpers import anonymous_client as anonymous
from s3_helpers import assert_denied as denied
from s3_helpers import error_code_of, make_user, signed_request


def owner_id(s3):
    return s3.list_buckets()["Owner"]["ID"]


def test_new_buckets_have_acls_disabled(wharf, s3, bucket):
    out = json.loads(wharf.aws("s3api", "get-bucket-ownership-controls", "--bucket", bucket).stdout)
    assert out["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    acl = json.loads(wharf.aws("s3api", "get-bucket-acl", "--bucket", bucket).stdout)
    assert acl["Owner"]["ID"] == owner_id(s3)
    assert acl["Grants"] == [{"Grantee": {"ID": owner_id(s3), "DisplayName": acl["Owner"]["DisplayName"],
                                          "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}]
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    got = s3.get_object_acl(Bucket=bucket, Key="k")
    assert [g["Permission"] for g in got["Grants"]] == ["FULL_CONTROL"]
    # Setting an ACL that grants anyone else is refused; restating the owner's is accepted.
    for call in (lambda: s3.put_object(Bucket=bucket, Key="p", Body=b"x", ACL="public-read"),
                 lambda: s3.put_object_acl(Bucket=bucket, Key="k", ACL="authenticated-read"),
                 lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read"),
                 lambda: s3.put_object(Bucket=bucket, Key="p", Body=b"x", GrantRead=f"id={'0' * 64}")):
        with pytest.raises(ClientError) as e:
            call()
        assert (status_of(e.value), error_code(e.value)) == (400, "AccessControlListNotSupported")
        assert e.value.response["Error"]["Message"] == "The bucket does not allow ACLs"
    s3.put_object_acl(Bucket=bucket, Key="k", ACL="private")
    s3.put_object_acl(Bucket=bucket, Key="k", ACL="bucket-owner-full-control")
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={
        "Owner": {"ID": owner_id(s3)},
        "Grants": [{"Grantee": {"ID": owner_id(s3), "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}]})
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="p")


def test_create_bucket_ownership_and_acl_headers(wharf, s3):
    name = new_bucket_name()
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name, ACL="public-read")
    assert (status_of(e.value), error_code(e.value)) == (400, "InvalidBucketAclWithObjectOwnership")
    status, _, body = signed_request(wharf, "PUT", f"/{name}", headers={"x-amz-object-ownership": "Nobody"})
    assert (status, error_code_of(body)) == (400, "InvalidArgument")
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerPreferred")
    try:
        rules = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
        assert rules == [{"ObjectOwnership": "BucketOwnerPreferred"}]
    finally:
        s3.delete_bucket(Bucket=name)


def test_who_owns_what_a_granted_user_writes(wharf, s3, bucket):
    _, arn, writer = make_user(wharf, "acl")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": arn}, "Action": ["s3:PutObject", "s3:GetObjectAcl"],
        "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    writer_id = writer.list_buckets()["Owner"]["ID"]
    # BucketOwnerEnforced: the bucket owner owns everything written to the bucket.
    writer.put_object(Bucket=bucket, Key="enforced", Body=b"x")
    assert s3.get_object_acl(Bucket=bucket, Key="enforced")["Owner"]["ID"] == owner_id(s3)
    # ObjectWriter: the writer owns it; BucketOwnerPreferred: the bucket owner, when the writer
    # gives it bucket-owner-full-control.
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    writer.put_object(Bucket=bucket, Key="written", Body=b"x")
    assert s3.get_object_acl(Bucket=bucket, Key="written")["Owner"]["ID"] == writer_id
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    writer.put_object(Bucket=bucket, Key="preferred", Body=b"x", ACL="bucket-owner-full-control")
    assert s3.get_object_acl(Bucket=bucket, Key="preferred")["Owner"]["ID"] == owner_id(s3)
    writer.put_object(Bucket=bucket, Key="kept", Body=b"x")
    assert s3.get_object_acl(Bucket=bucket, Key="kept")["Owner"]["ID"] == writer_id
    # With ACLs enabled, a public ACL meets Block Public Access first.
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="pub", Body=b"x", ACL="public-read")
    assert (status_of(e.value), error_code(e.value)) == (403, "AccessDenied")
    # Deleting the setting: S3 then reads the bucket as ObjectWriter, and Get is 404.
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert (status_of(e.value), error_code(e.value)) == (404, "OwnershipControlsNotFoundError")
    with pytest.raises(ClientError) as e:
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "Everyone"}]})
    assert error_code(e.value) == "MalformedXML"


def test_acl_grants_count_when_acls_are_enabled(wharf, s3, bucket):
    _, arn, other = make_user(wharf, "acl")
    other_id = other.list_buckets()["Owner"]["ID"]
    anon = anonymous(wharf)
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.put_object(Bucket=bucket, Key="doc", Body=b"shared")
    denied(lambda: other.get_object(Bucket=bucket, Key="doc"))
    # An object grant by canonical ID (grant header), shown by GetObjectAcl.
    s3.put_object_acl(Bucket=bucket, Key="doc", GrantRead=f'id="{other_id}"')
    assert other.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"shared"
    grants = s3.get_object_acl(Bucket=bucket, Key="doc")["Grants"]
    assert {(g["Grantee"].get("ID"), g["Permission"]) for g in grants} == {
        (owner_id(s3), "FULL_CONTROL"), (other_id, "READ")}
    denied(lambda: other.put_object(Bucket=bucket, Key="doc", Body=b"x"))
    denied(lambda: other.get_object_acl(Bucket=bucket, Key="doc"))
    # A bucket grant: READ lets the other user list, WRITE put objects.
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={
        "Owner": {"ID": owner_id(s3)},
        "Grants": [{"Grantee": {"ID": owner_id(s3), "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"},
                   {"Grantee": {"ID": other_id, "Type": "CanonicalUser"}, "Permission": "READ"},
                   {"Grantee": {"ID": other_id, "Type": "CanonicalUser"}, "Permission": "WRITE"}]})
    assert [o["Key"] for o in other.list_objects_v2(Bucket=bucket)["Contents"]] == ["doc"]
    other.put_object(Bucket=bucket, Key="theirs", Body=b"t")
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert sorted(g["Permission"] for g in acl["Grants"]) == ["FULL_CONTROL", "READ", "WRITE"]
    # Public ACLs once Block Public Access allows them; IgnorePublicAcls makes them count for
    # nothing again.
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="pub", Body=b"public", ACL="public-read")
    assert anon.get_object(Bucket=bucket, Key="pub")["Body"].read() == b"public"
    denied(lambda: anon.get_object(Bucket=bucket, Key="doc"))
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"IgnorePublicAcls": True})
    denied(lambda: anon.get_object(Bucket=bucket, Key="pub"))
    s3.delete_public_access_block(Bucket=bucket)
    # An authenticated-read object: any signed-in user, not anonymous callers.
    s3.put_object(Bucket=bucket, Key="auth", Body=b"a", ACL="authenticated-read")
    assert other.get_object(Bucket=bucket, Key="auth")["Body"].read() == b"a"
    denied(lambda: anon.get_object(Bucket=bucket, Key="auth"))
    # An explicit Deny in the bucket policy beats an ACL grant.
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": {"AWS": arn}, "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    denied(lambda: other.get_object(Bucket=bucket, Key="doc"))
    s3.delete_bucket_policy(Bucket=bucket)
    # Switching ACLs off makes every grant count for nothing.
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    denied(lambda: other.get_object(Bucket=bucket, Key="doc"))
    denied(lambda: anon.get_object(Bucket=bucket, Key="pub"))


def test_acl_errors(wharf, s3, bucket):
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    for kwargs, code in (
        ({"GrantRead": 'emailAddress="someone@example.com"'}, "UnresolvableGrantByEmailAddress"),
        ({"GrantRead": 'uri="http://example.com/not-a-group"'}, "InvalidArgument"),
        ({"GrantRead": 'id="not-a-canonical-id"'}, "InvalidArgument"),
        ({"ACL": "private", "GrantRead": f'id="{"a" * 64}"'}, "InvalidRequest"),
    ):
        with pytest.raises(ClientError) as e:
            s3.put_object_acl(Bucket=bucket, Key="k", **kwargs)
        assert (status_of(e.value), error_code(e.value)) == (400, code), kwargs
    # A bucket made with ACLs enabled and a grant keeps it.
    name = new_bucket_name()
    other = "c" * 64
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter", GrantRead=f'id="{other}"')
    try:
        grants = s3.get_bucket_acl(Bucket=name)["Grants"]
        assert (other, "READ") in {(g["Grantee"].get("ID"), g["Permission"]) for g in grants}
        with pytest.raises(ClientError) as e:
            s3.create_bucket(Bucket=new_bucket_name(), ObjectOwnership="ObjectWriter", ACL="public-read")
        assert error_code(e.value) == "AccessDenied"
    finally:
        s3.delete_bucket(Bucket=name)
