"""rclone and s3cmd against Wharf: copy, sync, check; rclone's view of old versions."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import clean_env, new_bucket_name

VENV_BIN = Path(sys.executable).parent


def make_tree(root: Path, n=50):
    for i in range(n):
        d = root / f"dir{i % 5}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"file{i}.bin").write_bytes(os.urandom(1000 + i * 37))
    (root / "big.bin").write_bytes(os.urandom(12 << 20))


def rclone(wharf, *args):
    env = clean_env()
    env.update(
        {
            "RCLONE_CONFIG": "/dev/null",
            "RCLONE_CONFIG_WHARF_TYPE": "s3",
            "RCLONE_CONFIG_WHARF_PROVIDER": "Other",
            "RCLONE_CONFIG_WHARF_ACCESS_KEY_ID": wharf.access_key,
            "RCLONE_CONFIG_WHARF_SECRET_ACCESS_KEY": wharf.secret_key,
            "RCLONE_CONFIG_WHARF_ENDPOINT": wharf.endpoint,
            "RCLONE_CONFIG_WHARF_REGION": "us-east-1",
            "RCLONE_CONFIG_WHARF_FORCE_PATH_STYLE": "true",
        }
    )
    res = subprocess.run(["rclone", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", *args], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, f"rclone {' '.join(args)}:\n{res.stdout}\n{res.stderr}"
    return res


@pytest.mark.skipif(shutil.which("rclone") is None, reason="rclone is installed by scripts/install-test-deps")
def test_rclone_copy_sync_check(wharf, tmp_path):
    src = tmp_path / "src"
    make_tree(src)
    b = new_bucket_name("rclone")
    rclone(wharf, "mkdir", f"wharf:{b}")
    rclone(wharf, "copy", str(src), f"wharf:{b}/tree")
    rclone(wharf, "check", str(src), f"wharf:{b}/tree")
    (src / "dir1" / "file1.bin").write_bytes(b"changed")
    (src / "dir2" / "file2.bin").unlink()
    rclone(wharf, "sync", str(src), f"wharf:{b}/tree")
    rclone(wharf, "check", str(src), f"wharf:{b}/tree")
    back = tmp_path / "back"
    rclone(wharf, "copy", f"wharf:{b}/tree", str(back))
    assert (back / "dir1" / "file1.bin").read_bytes() == b"changed"
    assert (back / "big.bin").read_bytes() == (src / "big.bin").read_bytes()
    rclone(wharf, "purge", f"wharf:{b}")


def s3cmd(wharf, cfg, *args):
    res = subprocess.run([str(VENV_BIN / "s3cmd"), "-c", str(cfg), *args], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, f"s3cmd {' '.join(args)}:\n{res.stdout}\n{res.stderr}"
    return res


def test_s3cmd_put_sync_get(wharf, tmp_path):
    cfg = tmp_path / "s3cfg"
    host = f"127.0.0.1:{wharf.port}"
    cfg.write_text(
        "[default]\n"
        f"access_key = {wharf.access_key}\nsecret_key = {wharf.secret_key}\n"
        f"host_base = {host}\nhost_bucket = {host}\n"
        "use_https = False\nsignature_v2 = False\nbucket_location = us-east-1\n"
        "multipart_chunk_size_mb = 5\n"
    )
    src = tmp_path / "src"
    make_tree(src, n=20)
    b = new_bucket_name("s3cmd")
    s3cmd(wharf, cfg, "mb", f"s3://{b}")
    s3cmd(wharf, cfg, "put", str(src / "big.bin"), f"s3://{b}/big.bin")
    s3cmd(wharf, cfg, "sync", f"{src}/", f"s3://{b}/tree/")
    listing = s3cmd(wharf, cfg, "ls", "-r", f"s3://{b}/tree/").stdout
    assert listing.count("s3://") == 21
    # A second sync with checksums finds nothing to upload.
    again = s3cmd(wharf, cfg, "sync", "--check-md5", f"{src}/", f"s3://{b}/tree/").stdout
    assert "upload:" not in again
    s3cmd(wharf, cfg, "get", f"s3://{b}/big.bin", str(tmp_path / "big.back"))
    assert (tmp_path / "big.back").read_bytes() == (src / "big.bin").read_bytes()
    info = s3cmd(wharf, cfg, "info", f"s3://{b}/big.bin").stdout
    assert "MD5 sum" in info
    s3cmd(wharf, cfg, "del", "-r", "--force", f"s3://{b}/")
    s3cmd(wharf, cfg, "rb", f"s3://{b}")


@pytest.mark.skipif(shutil.which("rclone") is None, reason="rclone is installed by scripts/install-test-deps")
def test_rclone_lists_and_reads_old_versions(wharf, s3, tmp_path):
    """`rclone --s3-versions` shows a versioned bucket's old versions as `NAME-vTIMESTAMP`
    files and reads them; without the flag only current objects are listed."""
    b = new_bucket_name("rclone-v")
    s3.create_bucket(Bucket=b)
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=b, Key="notes.txt", Body=b"first draft")
    time.sleep(1.1)  # rclone names versions by their Last-Modified second
    s3.put_object(Bucket=b, Key="notes.txt", Body=b"second draft, longer")
    plain = rclone(wharf, "lsf", f"wharf:{b}").stdout.split()
    assert plain == ["notes.txt"]
    listed = rclone(wharf, "lsl", "--s3-versions", f"wharf:{b}").stdout.splitlines()
    names = sorted(line.split()[-1] for line in listed)
    assert len(names) == 2 and names[0].startswith("notes-v") and names[1] == "notes.txt", listed
    assert rclone(wharf, "cat", "--s3-versions", f"wharf:{b}/{names[0]}").stdout == "first draft"
    rclone(wharf, "purge", f"wharf:{b}")
