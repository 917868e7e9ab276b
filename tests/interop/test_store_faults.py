"""Faults the store must survive without losing or leaking anything: a copy onto itself whose
commit fails, reads racing overwrites, a second server on the same data directory, a full disk,
and data directories left open to other users."""

import concurrent.futures
import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import WHARF_BIN, Wharf, error_code, status_of

INLINE_MAX = 64 * 1024
MIB = 1 << 20


def blob_files(data_dir: Path):
    return sorted(p for p in (data_dir / "blobs").rglob("*") if p.is_file())


def db(w):
    c = sqlite3.connect(w.data_dir / "meta.sqlite3", timeout=10)
    c.execute("PRAGMA busy_timeout = 10000")
    return c


def test_a_copy_onto_itself_whose_commit_fails_leaves_the_object_readable(tmp_path):
    w = Wharf(tmp_path / "data").start()
    try:
        s3 = w.client()
        s3.create_bucket(Bucket="copyfail")
        for key, size in (("small", 1000), ("big", 3 * INLINE_MAX)):
            body = os.urandom(size)
            s3.put_object(Bucket="copyfail", Key=key, Body=body)
            files = blob_files(w.data_dir)
            # Inject the failure: the metadata database refuses the new version's row.
            c = db(w)
            c.execute("CREATE TRIGGER injected_failure BEFORE INSERT ON versions BEGIN SELECT RAISE(ABORT, 'injected'); END")
            c.commit()
            with pytest.raises(ClientError) as e:
                s3.copy_object(Bucket="copyfail", Key=key, CopySource={"Bucket": "copyfail", "Key": key}, MetadataDirective="REPLACE", ContentType="text/plain")
            assert status_of(e.value) == 500
            c.execute("DROP TRIGGER injected_failure")
            c.commit()
            c.close()
            # Nothing was released: the blob is still counted, the file still there, the
            # object whole (before the fix, its blob file was deleted right here).
            assert blob_files(w.data_dir) == files
            got = s3.get_object(Bucket="copyfail", Key=key)
            assert got["Body"].read() == body and got.get("ContentType") != "text/plain"
            # Once it can commit, the copy changes the metadata and copies no bytes.
            s3.copy_object(Bucket="copyfail", Key=key, CopySource={"Bucket": "copyfail", "Key": key}, MetadataDirective="REPLACE", ContentType="text/plain")
            assert blob_files(w.data_dir) == files
            got = s3.get_object(Bucket="copyfail", Key=key)
            assert got["Body"].read() == body and got["ContentType"] == "text/plain"
    finally:
        w.stop()


def test_reads_racing_overwrites_always_finish_whole(tmp_path):
    cfg = tmp_path / "wharf.toml"
    # A short grace period, so the collector deletes overwritten blobs while reads still run.
    cfg.write_text("[store]\nblob_grace_secs = 1\n")
    w = Wharf(tmp_path / "data").start("--config", str(cfg))
    try:
        s3 = w.client()
        s3.create_bucket(Bucket="race")
        size = 2 * MIB
        versions = {}

        def body_of(n):
            return bytes([n % 251]) * size

        versions[0] = body_of(0)
        s3.put_object(Bucket="race", Key="hot", Body=versions[0])
        stop = threading.Event()
        failures = []
        reads = [0]

        def reader():
            c = w.client(read_timeout=60)
            while not stop.is_set():
                try:
                    r = c.get_object(Bucket="race", Key="hot")
                    stream = r["Body"]
                    first = stream.read(64 * 1024)
                    # Linger mid-body past the grace period now and then.
                    if reads[0] % 5 == 0:
                        time.sleep(2.5)
                    data = first + stream.read()
                    if len(data) != size or len(set(data)) != 1:
                        failures.append(f"torn body: {len(data)} bytes, {len(set(data))} values")
                    reads[0] += 1
                except Exception as e:  # noqa: BLE001
                    failures.append(repr(e))

        threads = [threading.Thread(target=reader) for _ in range(4)]
        for t in threads:
            t.start()
        for n in range(1, 101):
            s3.put_object(Bucket="race", Key="hot", Body=body_of(n))
            if n % 20 == 0:
                time.sleep(1.2)
        time.sleep(3)
        stop.set()
        for t in threads:
            t.join()
        assert not failures, failures[:5]
        assert reads[0] >= 20
        # Every overwritten blob is collected once no read holds it.
        deadline = time.time() + 15
        while len(blob_files(w.data_dir)) > 1 and time.time() < deadline:
            time.sleep(0.5)
        assert len(blob_files(w.data_dir)) == 1
    finally:
        w.stop()


def test_a_second_server_on_the_same_data_dir_exits_at_once(tmp_path):
    w = Wharf(tmp_path / "data").start()
    try:
        w.client().create_bucket(Bucket="first")
        staged = w.data_dir / "tmp" / ("a" * 32)
        staged.write_bytes(b"a body the first server is receiving")
        env = w.env()
        r = subprocess.run(
            [WHARF_BIN, "serve", "--data-dir", str(w.data_dir), "--api-listen", "127.0.0.1:0", "--edge-listen", "127.0.0.1:0"],
            capture_output=True, text=True, env=env, timeout=30,
        )
        assert r.returncode != 0
        assert "in use by another wharf serve" in r.stderr and str(w.proc.pid) in r.stderr, r.stderr
        # The second server touched nothing: the first one's staging file is still there.
        assert staged.exists()
        assert w.client().list_buckets()["Buckets"][0]["Name"] == "first"
    finally:
        w.stop()


def test_the_data_dir_is_private_and_old_modes_are_fixed(tmp_path):
    data = tmp_path / "data"
    w = Wharf(data).start()
    try:
        s3 = w.client()
        s3.create_bucket(Bucket="private")
        s3.put_object(Bucket="private", Key="big", Body=os.urandom(3 * INLINE_MAX))
    finally:
        w.stop()

    def modes():
        out = {data: data.stat().st_mode & 0o777}
        for p in data.rglob("*"):
            out[p] = p.stat().st_mode & 0o777
        return out

    for p, m in modes().items():
        assert m == (0o700 if p.is_dir() else 0o600), (p, oct(m))
    # An older build (or an operator) left them open: the next start closes them and says so.
    os.chmod(data, 0o755)
    os.chmod(data / "meta.sqlite3", 0o644)
    os.chmod(data / "blobs", 0o755)
    os.chmod(blob_files(data)[0], 0o644)
    w = Wharf(data).start()
    try:
        for p, m in modes().items():
            assert m == (0o700 if p.is_dir() else 0o600), (p, oct(m))
    finally:
        w.stop()
    assert "private" in Path(w.log.name).read_text()


@pytest.fixture()
def small_disk(tmp_path):
    """A 64 MiB tmpfs of our own (skipped where mounting is not permitted)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=0700", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill(s3, bucket, prefix):
    """PUTs 1 MiB objects until the store answers 507; returns the keys it accepted."""
    keys = []
    for i in range(200):
        key = f"{prefix}{i}"
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=os.urandom(MIB))
            keys.append(key)
        except ClientError as e:
            assert (status_of(e), error_code(e)) == (507, "InsufficientStorage"), e.response
            assert "full" in e.response["Error"]["Message"]
            # Nothing partial: the refused key is not there.
            with pytest.raises(ClientError):
                s3.head_object(Bucket=bucket, Key=key)
            return keys
    raise AssertionError("the disk never filled")


def test_a_full_disk_refuses_writes_serves_deletes_and_restarts(small_disk):
    w = Wharf(small_disk / "data").start()
    try:
        s3 = w.client(read_timeout=30)
        s3.create_bucket(Bucket="full")
        uid = s3.create_multipart_upload(Bucket="full", Key="mp")["UploadId"]
        s3.upload_part(Bucket="full", Key="mp", UploadId=uid, PartNumber=1, Body=os.urandom(MIB))
        s3.put_object(Bucket="full", Key="small", Body=b"still readable")
        keys = fill(s3, "full", "a")
        assert len(keys) > 10
        # While full: writes are refused at once, reads, lists and deletes work.
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket="full", Key="tiny", Body=b"x")
        assert status_of(e.value) == 507
        with pytest.raises(ClientError) as e:
            s3.create_bucket(Bucket="another")
        assert status_of(e.value) == 507
        assert s3.get_object(Bucket="full", Key="small")["Body"].read() == b"still readable"
        assert s3.head_object(Bucket="full", Key=keys[0])["ContentLength"] == MIB
        assert len(s3.list_objects_v2(Bucket="full")["Contents"]) == len(keys) + 1
        s3.delete_object(Bucket="full", Key=keys[0])
        s3.delete_objects(Bucket="full", Delete={"Objects": [{"Key": k} for k in keys[1:10]]})
        s3.abort_multipart_upload(Bucket="full", Key="mp", UploadId=uid)
        # Freed space comes back and writes are accepted again.
        deadline = time.time() + 30
        while True:
            try:
                s3.put_object(Bucket="full", Key="after", Body=os.urandom(MIB))
                break
            except ClientError as e:
                assert status_of(e) == 507
                assert time.time() < deadline, "writes did not come back after deletes"
                time.sleep(0.5)
        # Fill it again and restart on the full disk.
        fill(s3, "full", "b")
    finally:
        w.stop()
    w = Wharf(small_disk / "data").start()
    try:
        s3 = w.client(read_timeout=30)
        assert s3.get_object(Bucket="full", Key="small")["Body"].read() == b"still readable"
        # Still (nearly) full: what does not fit is refused.
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket="full", Key="more", Body=os.urandom(10 * MIB))
        assert status_of(e.value) == 507
        everything = [o["Key"] for o in s3.list_objects_v2(Bucket="full")["Contents"]]
        for i in range(0, len(everything), 1000):
            s3.delete_objects(Bucket="full", Delete={"Objects": [{"Key": k} for k in everything[i:i + 1000]]})
        s3.delete_bucket(Bucket="full")
        assert s3.list_buckets()["Buckets"] == []
    finally:
        w.stop()
