"""`aws s3` (cp, sync, ls, rm, mb, rb) against a running Wharf, as a user would type it."""

import hashlib
import os

from conftest import new_bucket_name


def md5_file(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def test_mb_cp_ls_rm_rb(wharf, tmp_path):
    b = new_bucket_name("cli")
    assert f"make_bucket: {b}" in wharf.aws("s3", "mb", f"s3://{b}").stdout
    src = tmp_path / "hello.txt"
    src.write_text("hello wharf\n")
    wharf.aws("s3", "cp", str(src), f"s3://{b}/dir/hello.txt")
    listing = wharf.aws("s3", "ls", f"s3://{b}/dir/").stdout
    assert "hello.txt" in listing and "12" in listing
    assert "PRE dir/" in wharf.aws("s3", "ls", f"s3://{b}").stdout
    out = wharf.aws("s3", "cp", f"s3://{b}/dir/hello.txt", "-").stdout
    assert out == "hello wharf\n"
    wharf.aws("s3", "rm", f"s3://{b}/dir/hello.txt")
    assert wharf.aws("s3", "ls", f"s3://{b}/dir/", check=False).stdout == ""
    wharf.aws("s3", "rb", f"s3://{b}")
    assert b not in wharf.aws("s3", "ls").stdout


def test_multipart_upload_of_64_mib_file(wharf, tmp_path, bucket):
    src = tmp_path / "big.bin"
    with open(src, "wb") as f:
        for _ in range(64):
            f.write(os.urandom(1 << 20))
    wharf.aws("s3", "cp", str(src), f"s3://{bucket}/big.bin")
    head = wharf.client().head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == 64 << 20
    # The CLI uses 8 MiB parts: a multipart ETag with the part count.
    assert head["ETag"].strip('"').endswith("-8")
    dst = tmp_path / "back.bin"
    wharf.aws("s3", "cp", f"s3://{bucket}/big.bin", str(dst))
    assert md5_file(dst) == md5_file(src)


def test_recursive_sync_and_rm_of_1000_keys(wharf, tmp_path, bucket):
    src = tmp_path / "tree"
    for i in range(1000):
        d = src / f"d{i % 10}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i:04}.txt").write_text(f"file {i}\n")
    wharf.aws("s3", "cp", "--recursive", "--only-show-errors", str(src), f"s3://{bucket}/tree")
    lines = wharf.aws("s3", "ls", "--recursive", f"s3://{bucket}/tree/").stdout.splitlines()
    assert len(lines) == 1000
    # A second sync finds nothing to do; a changed file is uploaded again.
    assert wharf.aws("s3", "sync", str(src), f"s3://{bucket}/tree").stdout.strip() == ""
    (src / "d3" / "f0003.txt").write_text("changed, and longer than before\n")
    out = wharf.aws("s3", "sync", str(src), f"s3://{bucket}/tree").stdout
    assert "d3/f0003.txt" in out and out.count("upload:") == 1
    back = tmp_path / "back"
    wharf.aws("s3", "sync", "--only-show-errors", f"s3://{bucket}/tree", str(back))
    assert (back / "d3" / "f0003.txt").read_text() == "changed, and longer than before\n"
    assert sum(1 for _ in back.rglob("*.txt")) == 1000
    wharf.aws("s3", "rm", "--recursive", "--only-show-errors", f"s3://{bucket}/tree")
    assert wharf.aws("s3", "ls", "--recursive", f"s3://{bucket}/", check=False).stdout == ""


def test_rb_force_empties_bucket(wharf, tmp_path):
    b = new_bucket_name("rbf")
    wharf.aws("s3", "mb", f"s3://{b}")
    f = tmp_path / "x"
    f.write_text("x")
    for k in ("a", "b/c", "d/e/f"):
        wharf.aws("s3", "cp", str(f), f"s3://{b}/{k}")
    wharf.aws("s3", "rb", "--force", f"s3://{b}")
    assert b not in wharf.aws("s3", "ls").stdout
