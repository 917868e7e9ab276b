"""Crash safety and lifecycle: kill -9 under write load, graceful shutdown, clients that
vanish mid-upload, first start with generated credentials and the demo."""

import hashlib
import http.client
import os
import random
import signal
import threading
import time
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ClientError

from conftest import REGION, Wharf

INLINE_MAX = 64 * 1024  # bodies up to this size live in the metadata DB, not in blob files
MIB = 1 << 20


def blob_files(data_dir: Path):
    return [p for p in (data_dir / "blobs").rglob("*") if p.is_file()]


def writer(w, bucket, prefix, attempted, acked, stop, rng):
    s3 = w.client(connect_timeout=2, read_timeout=10)
    i = 0
    while not stop.is_set():
        key = f"{prefix}-{i}"
        size = rng.choice([0, 100, 4096, INLINE_MAX, INLINE_MAX + 1, 300_000, 2 * MIB])
        body = rng.randbytes(size)
        attempted.setdefault(key, []).append(body)
        try:
            r = s3.put_object(Bucket=bucket, Key=key, Body=body)
            acked[key] = (body, r["ETag"].strip('"'))
        except (ClientError, BotoCoreError, OSError):
            return
        i += 1


def overwriter(w, bucket, keys, attempted, acked, stop, rng):
    """Overwrites the same few keys and copies them onto themselves (a metadata change, sharing
    the blobs) and onto each other: the writes whose blob bookkeeping the crash must not break."""
    s3 = w.client(connect_timeout=2, read_timeout=10)
    while not stop.is_set():
        key = rng.choice(keys)
        try:
            if rng.random() < 0.5 or key not in acked:
                body = rng.randbytes(rng.choice([100, INLINE_MAX + 1, 300_000, 2 * MIB]))
                attempted.setdefault(key, []).append(body)
                r = s3.put_object(Bucket=bucket, Key=key, Body=body)
                acked[key] = (body, r["ETag"].strip('"'))
            elif rng.random() < 0.5:
                body = acked[key][0]
                r = s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key}, MetadataDirective="REPLACE", Metadata={"n": str(rng.random())})
                acked[key] = (body, r["CopyObjectResult"]["ETag"].strip('"'))
            else:
                src = rng.choice([k for k in keys if k in acked])
                body = acked[src][0]
                dst = rng.choice(keys)
                attempted.setdefault(dst, []).append(body)
                r = s3.copy_object(Bucket=bucket, Key=dst, CopySource={"Bucket": bucket, "Key": src})
                acked[dst] = (body, r["CopyObjectResult"]["ETag"].strip('"'))
        except (ClientError, BotoCoreError, OSError, KeyError):
            return


def multipart_writer(w, bucket, prefix, attempted, acked, stop, rng):
    s3 = w.client(connect_timeout=2, read_timeout=20)
    i = 0
    while not stop.is_set():
        key = f"{prefix}-{i}"
        parts = [rng.randbytes(5 * MIB), rng.randbytes(rng.randint(1, 200_000))]
        attempted.setdefault(key, []).append(b"".join(parts))
        try:
            uid = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
            etags = [s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=n + 1, Body=p)["ETag"] for n, p in enumerate(parts)]
            r = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": n + 1, "ETag": e} for n, e in enumerate(etags)]})
            acked[key] = (b"".join(parts), r["ETag"].strip('"'))
        except (ClientError, BotoCoreError, OSError):
            return
        i += 1


def verify(w, bucket, attempted, acked, recent=None):
    """Checks the store against what was attempted and acknowledged. Keys in `recent` (all keys
    if None) are read back byte for byte; the others, which an earlier round read back already,
    must still list with their acknowledged ETag and size (reading every key back after every
    round made this test quadratic; the last verification reads everything)."""
    s3 = w.client()
    listed = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            listed[o["Key"]] = o
    # Every acknowledged write is there, byte for byte: the last acknowledged one, or one
    # attempted after it whose acknowledgement the crash cut off.
    for key, (body, etag) in acked.items():
        assert key in listed, f"acknowledged {key} is missing after restart"
        if recent is not None and key not in recent:
            assert (listed[key]["ETag"].strip('"'), listed[key]["Size"]) == (etag, len(body)), f"{key} changed since it was verified"
            continue
        got = s3.get_object(Bucket=bucket, Key=key)
        data = got["Body"].read()
        later = attempted[key][attempted[key].index(body):] if body in attempted[key] else [body]
        assert data in later, f"{key}: neither its acknowledged body nor a later attempt"
        if data == body:
            assert got["ETag"].strip('"') == etag, key
        else:
            # A later attempt landed though the crash cut off its acknowledgement: it is what the
            # key holds now, so the next round's copies from this key copy it.
            acked[key] = (data, got["ETag"].strip('"'))
    # Anything visible is a whole write that was attempted, never a partial one.
    for key, o in listed.items():
        assert key in attempted, f"{key} was never written"
        assert o["Size"] in {len(b) for b in attempted[key]}, f"{key} is partial"
        if key not in acked:
            data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            assert data in attempted[key], f"unacknowledged {key} is visible but not whole"
    # On disk: exactly the blobs committed rows name (objects share blobs when copied, so the
    # metadata database is asked), and uploads the crash interrupted keep their parts.
    blobs_named, part_rows = referenced_blobs(w.data_dir)
    listed_parts = 0
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for u in page.get("Uploads", []):
            listed_parts += len(s3.list_parts(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"]).get("Parts", []))
    assert listed_parts == part_rows
    return blobs_named


def referenced_blobs(data_dir):
    """The blob ids committed rows name (versions and parts), from the metadata database, and
    how many parts there are."""
    import json
    import sqlite3

    db = sqlite3.connect(f"file:{data_dir / 'meta.sqlite3'}?mode=ro", uri=True)
    try:
        named = set()
        for (blobs,) in db.execute("SELECT blobs FROM versions WHERE blobs IS NOT NULL"):
            named.update(b["id"] for b in json.loads(blobs))
        parts = [r[0] for r in db.execute("SELECT blob FROM parts")]
        named.update(parts)
        return named, len(parts)
    finally:
        db.close()


def test_kill_9_under_write_load(tmp_path):
    data = tmp_path / "data"
    rng = random.Random(1234)
    attempted, acked = {}, {}
    verified = {}  # key -> how many attempts of it the last verification had seen
    bucket = "crash-test"
    rounds = int(os.environ.get("WHARF_CRASH_ROUNDS", "20"))
    for rnd in range(rounds):
        w = Wharf(data).start()
        if rnd == 0:
            w.client().create_bucket(Bucket=bucket)
        else:
            assert not list((data / "tmp").iterdir()), "staging files survived the start-up sweep"
            recent = {k for k, tries in attempted.items() if verified.get(k) != len(tries) or k.startswith("hot")}
            named = verify(w, bucket, attempted, acked, recent)
            verified = {k: len(tries) for k, tries in attempted.items()}
            on_disk = {p.name for p in blob_files(data)}
            assert named <= on_disk, f"round {rnd}: rows name missing blobs {sorted(named - on_disk)[:3]}"
            assert on_disk == named, f"round {rnd}: {len(on_disk - named)} blob files no row names"
        stop = threading.Event()
        threads = [threading.Thread(target=writer, args=(w, bucket, f"r{rnd}w{t}", attempted, acked, stop, random.Random(rng.random()))) for t in range(6)]
        threads.append(threading.Thread(target=multipart_writer, args=(w, bucket, f"r{rnd}mp", attempted, acked, stop, random.Random(rng.random()))))
        # Each overwriter has keys of its own, so the order of its acknowledgements is the order
        # of its writes.
        threads += [
            threading.Thread(target=overwriter, args=(w, bucket, [f"hot{t}-{i}" for i in range(3)], attempted, acked, stop, random.Random(rng.random())))
            for t in range(2)
        ]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.3, 1.5))
        w.proc.send_signal(signal.SIGKILL)
        w.proc.wait()
        stop.set()
        for t in threads:
            t.join()
        w.stop()
    w = Wharf(data).start()
    try:
        named = verify(w, bucket, attempted, acked)
        assert {p.name for p in blob_files(data)} == named
        assert len(acked) > rounds * 5, "the load generator acknowledged too few writes to mean anything"
    finally:
        w.stop()


def signed_put_headers(w, bucket, key, length):
    req = AWSRequest(method="PUT", url=f"{w.endpoint}/{bucket}/{key}", headers={"Content-Length": str(length), "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    SigV4Auth(Credentials(w.access_key, w.secret_key), "s3", REGION).add_auth(req)
    return dict(req.headers)


def test_graceful_shutdown_finishes_requests_in_flight(tmp_path):
    w = Wharf(tmp_path / "data").start()
    s3 = w.client()
    s3.create_bucket(Bucket="graceful")
    body = os.urandom(3 * MIB)
    conn = http.client.HTTPConnection("127.0.0.1", w.port, timeout=30)
    conn.putrequest("PUT", "/graceful/inflight", skip_accept_encoding=True, skip_host=True)
    for k, v in signed_put_headers(w, "graceful", "inflight", len(body)).items():
        conn.putheader(k, v)
    conn.putheader("Host", f"127.0.0.1:{w.port}")
    conn.endheaders()
    conn.send(body[: MIB])
    time.sleep(0.3)
    w.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    # New connections are refused while the old request is still running.
    with pytest.raises(OSError):
        http.client.HTTPConnection("127.0.0.1", w.port, timeout=2).request("GET", "/")
    conn.send(body[MIB:])
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 200
    assert w.proc.wait(timeout=30) == 0
    w2 = Wharf(tmp_path / "data").start()
    try:
        assert w2.client().get_object(Bucket="graceful", Key="inflight")["Body"].read() == body
    finally:
        w2.stop()


def test_client_vanishing_mid_upload_leaves_nothing(tmp_path):
    w = Wharf(tmp_path / "data").start()
    try:
        s3 = w.client()
        s3.create_bucket(Bucket="vanish")
        for size_sent in (1000, 2 * MIB):
            conn = http.client.HTTPConnection("127.0.0.1", w.port, timeout=30)
            conn.putrequest("PUT", "/vanish/partial", skip_accept_encoding=True, skip_host=True)
            for k, v in signed_put_headers(w, "vanish", "partial", 4 * MIB).items():
                conn.putheader(k, v)
            conn.putheader("Host", f"127.0.0.1:{w.port}")
            conn.endheaders()
            conn.send(os.urandom(size_sent))
            time.sleep(0.2)
            conn.sock.close()
        deadline = time.time() + 10
        while list((w.data_dir / "tmp").iterdir()) and time.time() < deadline:
            time.sleep(0.1)
        assert not list((w.data_dir / "tmp").iterdir()), "a staging file outlived its request"
        assert not blob_files(w.data_dir)
        with pytest.raises(ClientError):
            s3.head_object(Bucket="vanish", Key="partial")
        # The server is still healthy.
        s3.put_object(Bucket="vanish", Key="after", Body=b"ok")
    finally:
        w.stop()


def test_first_start_generates_credentials_and_demo(tmp_path):
    w = Wharf(tmp_path / "data", access_key="", secret_key="")
    w.start("--demo")
    try:
        banner = "".join(w.banner)
        ak = next(line.split("=", 1)[1].strip() for line in w.banner if "AWS_ACCESS_KEY_ID=" in line)
        sk = next(line.split("=", 1)[1].strip() for line in w.banner if "AWS_SECRET_ACCESS_KEY=" in line)
        assert "demo-site" in banner
        creds = (tmp_path / "data" / "root-credentials").read_text()
        assert ak in creds and sk in creds
        assert oct((tmp_path / "data" / "root-credentials").stat().st_mode & 0o777) == "0o600"
        page = w.client(access_key=ak, secret_key=sk).get_object(Bucket="demo-site", Key="index.html")
        assert page["ContentType"].startswith("text/html") and b"Wharf" in page["Body"].read()
    finally:
        w.stop()
    # Generated credentials are printed once: a restart keeps them and prints nothing.
    w = Wharf(tmp_path / "data", access_key="", secret_key="")
    w.start()
    try:
        assert not any("AWS_SECRET_ACCESS_KEY" in line for line in w.banner)
        assert w.client(access_key=ak, secret_key=sk).list_buckets()["Buckets"][0]["Name"] == "demo-site"
    finally:
        w.stop()


def versioned_writer(w, bucket, keys, state, pending, stop, rng):
    """Adds versions of its own keys, deletes them (delete markers) and removes versions by id,
    appending each acknowledged step to `state[key]` (oldest first: ("put", id, etag, size),
    ("marker", id)); `pending[key]` holds the step in flight, which a crash may or may not
    have committed."""
    s3 = w.client(connect_timeout=2, read_timeout=10)
    while not stop.is_set():
        key = rng.choice(keys)
        live = [e[1] for e in state[key]]
        r = rng.random()
        try:
            if r < 0.6 or not live:
                body = rng.randbytes(rng.choice([0, 100, 4096, INLINE_MAX + 1, 300_000]))
                pending[key] = ("put", None)
                resp = s3.put_object(Bucket=bucket, Key=key, Body=body)
                state[key].append(("put", resp["VersionId"], resp["ETag"].strip('"'), len(body)))
            elif r < 0.8:
                pending[key] = ("marker", None)
                resp = s3.delete_object(Bucket=bucket, Key=key)
                assert resp["DeleteMarker"] is True
                state[key].append(("marker", resp["VersionId"]))
            else:
                vid = rng.choice(live)
                pending[key] = ("remove", vid)
                s3.delete_object(Bucket=bucket, Key=key, VersionId=vid)
                state[key] = [e for e in state[key] if e[1] != vid]
            pending.pop(key, None)
        except (ClientError, BotoCoreError, OSError):
            return


def verify_versions(w, bucket, state, pending):
    """After a restart, every acknowledged version and marker of every key is listed, newest
    first, in the order the acknowledgements came, with its ETag and size; only the step each
    writer had in flight may differ (a version or marker added on top, or a version gone).
    Then `state` becomes what is listed."""
    s3 = w.client()
    listed = {k: [] for k in state}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        entries = [(v, "put") for v in page.get("Versions", [])] + [(m, "marker") for m in page.get("DeleteMarkers", [])]
        for e, kind in entries:
            listed[e["Key"]].append((e["VersionId"], kind, e))
    for key, acked in state.items():
        # Newest first; versions and markers come in two lists, so order them by id (ids sort
        # newest first).
        got = sorted(listed[key], key=lambda x: x[0])
        assert all(g[2]["IsLatest"] == (i == 0) for i, g in enumerate(got)), f"{key}: IsLatest wrong"
        ids = [g[0] for g in got]
        want = [e[1] for e in reversed(acked)]
        flight = pending.get(key)
        if flight and flight[0] == "remove" and flight[1] not in ids:
            want.remove(flight[1])
        extra = [i for i in ids if i not in want]
        assert len(extra) <= 1 and (not extra or (flight and flight[0] in ("put", "marker") and ids[0] == extra[0])), \
            f"{key}: versions nobody acknowledged: {extra}"
        assert [i for i in ids if i in want] == want, f"{key}: acknowledged versions missing or out of order"
        for e in acked:
            g = next((g for g in got if g[0] == e[1]), None)
            if g is None:
                continue
            assert g[1] == e[0], f"{key}: {e[1]} changed kind"
            if e[0] == "put":
                assert (g[2]["ETag"].strip('"'), g[2]["Size"]) == (e[2], e[3]), f"{key}: {e[1]} changed"
        state[key] = [("put", g[0], g[2]["ETag"].strip('"'), g[2]["Size"]) if g[1] == "put" else ("marker", g[0])
                      for g in reversed(got)]
    pending.clear()


def test_kill_9_on_a_versioned_bucket(tmp_path):
    """The crash test on a versioned bucket: PUTs (new versions), simple DELETEs (markers) and
    DELETEs by version id, killed with SIGKILL at random moments, six times."""
    data = tmp_path / "data"
    rng = random.Random(4321)
    bucket = "versioned-crash"
    keys = {t: [f"k{t}-{i}" for i in range(3)] for t in range(4)}
    state = {k: [] for ks in keys.values() for k in ks}
    pending = {}
    rounds = int(os.environ.get("WHARF_VERSIONED_CRASH_ROUNDS", "6"))
    for rnd in range(rounds):
        w = Wharf(data).start()
        if rnd == 0:
            s3 = w.client()
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        else:
            verify_versions(w, bucket, state, pending)
        stop = threading.Event()
        threads = [threading.Thread(target=versioned_writer, args=(w, bucket, keys[t], state, pending, stop, random.Random(rng.random())))
                   for t in keys]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.5, 1.5))
        w.proc.send_signal(signal.SIGKILL)
        w.proc.wait()
        stop.set()
        for t in threads:
            t.join()
        w.stop()
    w = Wharf(data).start()
    try:
        verify_versions(w, bucket, state, pending)
        assert sum(len(v) for v in state.values()) > rounds * 5, "too few versions to mean anything"
        assert any(e[0] == "marker" for v in state.values() for e in v)
    finally:
        w.stop()
