"""Connections cannot exhaust the server: silent connections are closed after the header
timeout while the server keeps answering, a connection cap with eviction of idle connections
holds under a low open-files limit, TLS handshakes time out, and a body that trickles is cut."""

import resource
import socket
import time

import pytest
from botocore.exceptions import ClientError

from conftest import Wharf
from s3_helpers import signed_headers


def raise_own_fd_limit(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        if hard != resource.RLIM_INFINITY and hard < n:
            pytest.skip(f"this machine allows only {hard} open files")
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, hard))


def open_silent(port, n):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        socks.append(s)
    return socks


def closed_by_server(sock, within):
    """Whether the server closes `sock` (EOF or reset) within `within` seconds."""
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


@pytest.fixture()
def quick_timeouts(tmp_path):
    cfg = tmp_path / "wharf.toml"
    cfg.write_text("[server]\nheader_read_timeout_secs = 3\ntls_handshake_timeout_secs = 2\nbody_idle_timeout_secs = 3\nbody_grace_secs = 2\n")
    return cfg


def test_silent_connections_are_closed_and_the_server_answers_throughout(tmp_path, quick_timeouts):
    raise_own_fd_limit(6000)
    w = Wharf(tmp_path / "data").start("--config", str(quick_timeouts))
    try:
        s3 = w.client(connect_timeout=5, read_timeout=10)
        s3.create_bucket(Bucket="busy")
        silent = open_silent(w.port, 1500) + open_silent(w.edge_port, 500)
        # The server answers while 2,000 connections say nothing.
        for i in range(5):
            t = time.time()
            s3.put_object(Bucket="busy", Key=f"k{i}", Body=b"x")
            assert s3.list_objects_v2(Bucket="busy")["KeyCount"] == i + 1
            assert time.time() - t < 3
        # And closes them after the header timeout.
        deadline = time.time() + 15
        open_left = [s for s in silent if not closed_by_server(s, max(0.01, deadline - time.time()))]
        assert not open_left, f"{len(open_left)} silent connections still open"
        for s in silent:
            s.close()
        # A keep-alive connection that goes quiet after its request is closed too.
        c = socket.create_connection(("127.0.0.1", w.port))
        c.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert c.recv(65536).startswith(b"HTTP/1.1 403")
        assert closed_by_server(c, 10)
        c.close()
    finally:
        w.stop()


def test_a_low_open_files_limit_caps_connections_and_evicts_idle_ones(tmp_path, quick_timeouts):
    raise_own_fd_limit(3000)

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))

    w = Wharf(tmp_path / "data")
    w.preexec = low_limit
    w.start("--config", str(quick_timeouts))
    try:
        s3 = w.client(connect_timeout=5, read_timeout=10)
        s3.create_bucket(Bucket="capped")
        silent = open_silent(w.port, 1100)
        # Service goes on: a new connection evicts the longest-idle one.
        for i in range(5):
            s3.put_object(Bucket="capped", Key=f"k{i}", Body=b"x")
        assert s3.list_objects_v2(Bucket="capped")["KeyCount"] == 5
        deadline = time.time() + 15
        open_left = [s for s in silent if not closed_by_server(s, max(0.01, deadline - time.time()))]
        assert not open_left
        for s in silent:
            s.close()
        assert "accept failed" not in open(w.log.name).read()
    finally:
        w.stop()


def test_silent_tls_connections_are_cut_at_every_stage(tmp_path, quick_timeouts):
    import ssl  # noqa: PLC0415

    import trustme  # noqa: PLC0415

    ca = trustme.CA()
    leaf = ca.issue_cert("localhost", "127.0.0.1")
    pem = tmp_path / "viewer.pem"
    leaf.private_key_and_cert_chain_pem.write_to_path(str(pem))
    cfg = quick_timeouts.read_text() + "idle_timeout_secs = 2\n" + f'\n[edge]\ntls_cert_file = "{pem}"\ntls_key_file = "{pem}"\n'
    quick_timeouts.write_text(cfg)
    w = Wharf(tmp_path / "data").start("--config", str(quick_timeouts), "--edge-tls-listen", "127.0.0.1:0")
    try:
        # No handshake at all: cut at the handshake timeout.
        silent = open_silent(w.edge_tls_port, 50)
        t = time.time()
        assert all(closed_by_server(s, 10) for s in silent)
        assert time.time() - t < 8
        # A handshake, then nothing: HTTP/1.1 by the header timeout, HTTP/2 by the idle timeout.
        for alpn in ("http/1.1", "h2"):
            ctx = ssl.create_default_context()
            ca.configure_trust(ctx)
            ctx.set_alpn_protocols([alpn])
            raw = socket.create_connection(("127.0.0.1", w.edge_tls_port))
            tls = ctx.wrap_socket(raw, server_hostname="localhost")
            assert tls.selected_alpn_protocol() == alpn
            t = time.time()
            tls.settimeout(15)
            try:
                while tls.recv(4096):  # an HTTP/2 server sends its SETTINGS, then GOAWAY
                    pass
            except (ConnectionResetError, ssl.SSLError):
                pass
            assert time.time() - t < 10, alpn
            tls.close()
    finally:
        w.stop()


def test_a_trickling_body_is_cut_with_request_timeout(tmp_path, quick_timeouts):
    w = Wharf(tmp_path / "data").start("--config", str(quick_timeouts))
    try:
        s3 = w.client()
        s3.create_bucket(Bucket="slow")
        headers = signed_headers(w, "PUT", "/slow/trickle", headers={"Content-Length": "100000"}, payload_hash="UNSIGNED-PAYLOAD")
        sock = socket.create_connection(("127.0.0.1", w.port))
        headers.setdefault("Host", f"127.0.0.1:{w.port}")
        head = "PUT /slow/trickle HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode())
        sock.settimeout(0.5)
        got = b""
        start = time.time()
        # One byte a second: far below the minimum rate once the grace period is over.
        while time.time() - start < 20 and b"\r\n\r\n" not in got:
            try:
                sock.sendall(b"x")
            except OSError:
                pass
            try:
                got += sock.recv(65536)
            except socket.timeout:
                pass
        assert got.startswith(b"HTTP/1.1 400"), got
        assert b"RequestTimeout" in got
        assert time.time() - start < 10
        sock.close()
        with pytest.raises(ClientError):
            s3.head_object(Bucket="slow", Key="trickle")
        assert not list((w.data_dir / "tmp").iterdir())
    finally:
        w.stop()


def test_a_refused_upload_does_not_leave_its_body_on_the_connection(wharf, s3, bucket):
    """An upload refused before its body is read (here an anonymous PUT to a private bucket,
    sent with Expect: 100-continue, whose body the client sends anyway, as botocore may): the
    response closes the connection, so the body's bytes are never read as the next request.
    Found as an intermittent SignatureDoesNotMatch on the request after a refused upload."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"kept")
    with socket.create_connection(("127.0.0.1", wharf.port), timeout=10) as sock:
        sock.sendall((f"PUT /{bucket}/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
                      "Expect: 100-continue\r\n\r\n").encode())
        first = b""
        while b"\r\n\r\n" not in first:
            chunk = sock.recv(65536)
            assert chunk, first
            first += chunk
        head = first.split(b"\r\n\r\n", 1)[0].decode().lower()
        assert head.startswith("http/1.1 403") and "connection: close" in head, head
        # The client sends the body and another request anyway: the server must not take the
        # body's bytes for the start of that request.
        try:
            sock.sendall(b"xxxxxGET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        except OSError:
            return
        rest = b""
        sock.settimeout(5)
        try:
            while chunk := sock.recv(65536):
                rest += chunk
        except (ConnectionResetError, TimeoutError):
            pass
        assert b"HTTP/1.1 400" not in rest and b"xxxxxGET" not in rest, rest[:300]
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"kept"


def test_the_edge_closes_a_connection_whose_body_it_did_not_read(wharf):
    """The same rule on every listener: the edge refusing a request with a body it did not
    read (here no distribution answers) closes the connection after the answer."""
    with socket.create_connection(("127.0.0.1", wharf.edge_port), timeout=10) as sock:
        sock.sendall(b"PUT /x HTTP/1.1\r\nHost: nowhere.test\r\nContent-Length: 5\r\n"
                     b"Expect: 100-continue\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(65536)
            assert chunk, head
            head += chunk
        head = head.split(b"\r\n\r\n", 1)[0].decode().lower()
        assert "connection: close" in head, head
