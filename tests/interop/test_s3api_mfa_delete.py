"""MFA delete with the AWS CLI and boto3: `wharf mfa create` registers a virtual device (its
secret read back by pyotp, as an authenticator app would), MfaDelete=Enabled needs one of its
codes, and then changing versioning or removing a version for good needs a fresh code; a code
is accepted once."""

import json
import re
import time

import pyotp
import pytest
from botocore.exceptions import ClientError

from conftest import Wharf, error_code, status_of


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    w = Wharf(tmp_path_factory.mktemp("mfa") / "data").start()
    yield w
    w.stop()


def codes(totp):
    """Three codes of consecutive steps around now, oldest first (each accepted once, within
    one step of the server's clock); waits out the end of a step so none expires meanwhile."""
    if 30 - time.time() % 30 < 4:
        time.sleep(30 - time.time() % 30 + 0.2)
    now = time.time()
    return [totp.at(now - 30), totp.at(now), totp.at(now + 30)]


def test_mfa_delete(server):
    out = server.wharf_cmd("mfa", "create", "root").stdout
    serial = re.search(r"^serial (\S+)$", out, re.M).group(1)
    secret = re.search(r"^secret ([A-Z2-7]+)$", out, re.M).group(1)
    assert f"otpauth://totp/Wharf:root?secret={secret}" in out
    assert "\u2580" in out or "\u2584" in out or "\u2588" in out, "a QR code is drawn"
    assert serial.startswith("arn:aws:iam::") and serial.endswith(":mfa/root")
    totp = pyotp.TOTP(secret)
    s3 = server.client()
    b = "mfa-bucket"
    s3.create_bucket(Bucket=b)
    c1, c2, c3 = codes(totp)
    # Enabling MFA delete takes a code (with the aws cli's --mfa).
    server.aws("s3api", "put-bucket-versioning", "--bucket", b, "--mfa", f"{serial} {c1}",
               "--versioning-configuration", "Status=Enabled,MFADelete=Enabled")
    got = json.loads(server.aws("s3api", "get-bucket-versioning", "--bucket", b).stdout)
    assert got == {"Status": "Enabled", "MFADelete": "Enabled"}
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"keep me")["VersionId"]
    # A simple DELETE (a marker) needs none; removing a version does.
    marker = s3.delete_object(Bucket=b, Key="k")["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=b, Key="k", VersionId=v1)
    assert (status_of(e.value), error_code(e.value)) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "k", "VersionId": v1}]})
    assert error_code(e.value) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
    assert error_code(e.value) == "AccessDenied"
    assert s3.get_object(Bucket=b, Key="k", VersionId=v1)["Body"].read() == b"keep me"
    # A code used once is refused the second time; a wrong one always.
    s3.delete_object(Bucket=b, Key="k", VersionId=marker, MFA=f"{serial} {c2}")
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=b, Key="k", VersionId=v1, MFA=f"{serial} {c2}")
    assert error_code(e.value) == "AccessDenied"
    wrong = f"{(int(c3) + 1) % 1_000_000:06d}"
    with pytest.raises(ClientError) as e:
        s3.delete_objects(Bucket=b, MFA=f"{serial} {wrong}", Delete={"Objects": [{"Key": "other"}]})
    assert error_code(e.value) == "AccessDenied"
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"keep me"
    # Turning it off takes a code too, and is shown.
    s3.put_bucket_versioning(Bucket=b, MFA=f"{serial} {c3}",
                             VersioningConfiguration={"Status": "Enabled", "MFADelete": "Disabled"})
    assert s3.get_bucket_versioning(Bucket=b)["MFADelete"] == "Disabled"
    s3.delete_object(Bucket=b, Key="k", VersionId=v1)
    assert "Versions" not in s3.list_object_versions(Bucket=b)
