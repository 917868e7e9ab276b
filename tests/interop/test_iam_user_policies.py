"""Identity policies: `wharf user policy put|get|list|delete` attaches IAM policies to users,
and S3 requests are decided with them beside the bucket policy (same account: either may
allow, an explicit Deny in either wins)."""

import json
import subprocess
import time
import uuid

import pytest

from conftest import WHARF_BIN
from s3_helpers import assert_denied as denied
from s3_helpers import make_user


def attach(wharf, user, name, statements, tmp_path):
    doc = tmp_path / f"{name}.json"
    doc.write_text(json.dumps({"Version": "2012-10-17", "Statement": statements}))
    wharf.wharf_cmd("user", "policy", "put", user, name, str(doc))


# Identities are cached for up to two seconds by the server.
SETTLE = 2.2


def test_an_identity_policy_grants_and_denies(wharf, s3, bucket, tmp_path):
    s3.put_object(Bucket=bucket, Key="reports/q1", Body=b"q1")
    name, _, user = make_user(wharf, "iam")
    attach(wharf, name, "read-reports", [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::{bucket}/reports/*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}",
         "Condition": {"StringLike": {"s3:prefix": "reports/*"}}},
        {"Effect": "Deny", "Action": "s3:CreateBucket", "Resource": "*"},
    ], tmp_path)
    # Same account: the identity policy alone lets the user into root's bucket.
    assert user.get_object(Bucket=bucket, Key="reports/q1")["Body"].read() == b"q1"
    assert user.list_objects_v2(Bucket=bucket, Prefix="reports/")["KeyCount"] == 1
    denied(lambda: user.list_objects_v2(Bucket=bucket))
    denied(lambda: user.put_object(Bucket=bucket, Key="reports/q2", Body=b"x"))
    denied(lambda: user.create_bucket(Bucket=f"iam-{uuid.uuid4().hex[:12]}"))
    # Listing and getting the policies.
    assert wharf.wharf_cmd("user", "policy", "list", name).stdout.split() == ["read-reports"]
    doc = json.loads(wharf.wharf_cmd("user", "policy", "get", name, "read-reports").stdout)
    assert doc["Statement"][2]["Action"] == "s3:CreateBucket"
    # An explicit Deny in an identity policy wins over the user's own bucket.
    wharf.wharf_cmd("user", "policy", "delete", name, "read-reports")
    attach(wharf, name, "no-deletes", [{"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}], tmp_path)
    time.sleep(SETTLE)
    mine = f"iam-{uuid.uuid4().hex[:12]}"
    user.create_bucket(Bucket=mine)
    user.put_object(Bucket=mine, Key="k", Body=b"v")
    denied(lambda: user.delete_object(Bucket=mine, Key="k"))
    denied(lambda: user.get_object(Bucket=bucket, Key="reports/q1"))
    wharf.wharf_cmd("user", "policy", "delete", name, "no-deletes")
    time.sleep(SETTLE)
    user.delete_object(Bucket=mine, Key="k")
    user.delete_bucket(Bucket=mine)


def test_home_folders_as_aws_documents_them(wharf, s3, bucket, tmp_path):
    """AWS's "allow each user a home folder" identity policy, with ${aws:username}."""
    name, _, user = make_user(wharf, "iam")
    attach(wharf, name, "home", [
        {"Sid": "AllowListingOfUserFolder", "Action": ["s3:ListBucket"], "Effect": "Allow",
         "Resource": [f"arn:aws:s3:::{bucket}"],
         "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/*"]}}},
        {"Sid": "AllowAllS3ActionsInUserFolder", "Effect": "Allow", "Action": ["s3:*"],
         "Resource": [f"arn:aws:s3:::{bucket}/home/${{aws:username}}/*"]},
    ], tmp_path)
    user.put_object(Bucket=bucket, Key=f"home/{name}/a.txt", Body=b"a")
    assert [o["Key"] for o in user.list_objects_v2(Bucket=bucket, Prefix=f"home/{name}/")["Contents"]] == [f"home/{name}/a.txt"]
    assert user.list_objects_v2(Bucket=bucket, Prefix="home/", Delimiter="/")["CommonPrefixes"]
    denied(lambda: user.list_objects_v2(Bucket=bucket, Prefix="home/other/"))
    denied(lambda: user.put_object(Bucket=bucket, Key="home/other/a.txt", Body=b"x"))
    user.delete_object(Bucket=bucket, Key=f"home/{name}/a.txt")


def test_policy_commands_refuse_bad_input(wharf, tmp_path):
    name, _, _ = make_user(wharf, "iam")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]}))
    run = lambda *a: subprocess.run([WHARF_BIN, "user", "policy", *a, "--data-dir", str(wharf.data_dir)],
                                    capture_output=True, text=True, env=wharf.env())
    r = run("put", name, "p", str(bad))
    assert r.returncode != 0 and "Policy document should not specify a principal." in r.stderr
    bad.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Fly", "Resource": "*"}]}')
    r = run("put", name, "p", str(bad))
    assert r.returncode != 0 and "Policy has invalid action" in r.stderr
    good = tmp_path / "good.json"
    good.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}')
    r = run("put", "no-such-user", "p", str(good))
    assert r.returncode != 0 and "no-such-user" in r.stderr
    r = run("get", name, "missing")
    assert r.returncode != 0 and "NoSuchEntity" in r.stderr
    r = run("put", name, "bad name!", str(bad))
    assert r.returncode != 0 and "invalid policy name" in r.stderr
