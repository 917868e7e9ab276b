"""Fixtures that start the real `wharf` binary and point real S3 clients at it.

Each server gets its own temporary data directory and a port chosen by the kernel (port 0);
the port is read from the line the server prints. Servers are stopped by PID.
"""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]
WHARF_BIN = os.environ.get("WHARF_BIN", str(ROOT / "target" / "debug" / "wharf"))
VENV_BIN = Path(sys.executable).parent
ACCESS_KEY = "AKIAWHARFINTEROP0001"
SECRET_KEY = "interop-secret-key-000000000000000000001"
REGION = "us-east-1"


def clean_env():
    """The environment without inherited AWS settings (profiles, CA bundles, endpoints)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


class Wharf:
    """A running `wharf serve`."""

    def __init__(self, data_dir: Path, extra_env=None, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
        self.data_dir = data_dir
        self.access_key = access_key
        self.secret_key = secret_key
        self.extra_env = extra_env or {}
        self.proc = None
        self.endpoint = None
        self.port = None
        # Runs in the server's process before it starts (e.g. to lower its limits).
        self.preexec = None

    def env(self):
        env = dict(os.environ)
        env.update(
            {
                "WHARF_ROOT_ACCESS_KEY": self.access_key,
                "WHARF_ROOT_SECRET_KEY": self.secret_key,
                "WHARF_LOG": "warn",
            }
        )
        env.update(self.extra_env)
        return env

    def start(self, *args):
        self.log = open(self.data_dir.parent / f"wharf-{uuid.uuid4().hex[:6]}.log", "w")
        # Every test server has a console (metrics) on a port of its own.
        console = [] if "--console-listen" in args else ["--console-listen", "127.0.0.1:0"]
        self.proc = subprocess.Popen(
            [WHARF_BIN, "serve", "--data-dir", str(self.data_dir), "--api-listen", "127.0.0.1:0", "--edge-listen", "127.0.0.1:0", *console, *args],
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=self.env(),
            text=True,
            preexec_fn=self.preexec,
        )
        self.banner = []
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"wharf exited: {self.proc.wait()}")
            self.banner.append(line)
            m = re.search(r"S3 API listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                self.endpoint = f"http://127.0.0.1:{self.port}"
            m = re.search(r"S3 website endpoint listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.website_port = int(m.group(1))
            m = re.search(r"console listening on http://127\.0\.0\.1:(\d+)/metrics", line)
            if m:
                self.console_port = int(m.group(1))
            m = re.search(r"edge listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.edge_port = int(m.group(1))
                self.edge = f"http://127.0.0.1:{self.edge_port}"
            m = re.search(r"edge listening on https://127\.0\.0\.1:(\d+)", line)
            if m:
                self.edge_tls_port = int(m.group(1))
            if getattr(self, "edge_port", None) and (
                    "--edge-tls-listen" not in args or getattr(self, "edge_tls_port", None)):
                break
        else:
            raise RuntimeError("wharf did not start")
        if "--demo" in args:
            # The demo prints a few more lines, ending with a "try:" hint; read them all.
            while True:
                line = self.proc.stdout.readline()
                self.banner.append(line)
                if not line or line.strip().startswith("try:"):
                    break
        return self

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        return self.proc.returncode if self.proc else None

    def client(self, access_key=None, secret_key=None, **cfg):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            region_name=REGION,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": cfg.pop("addressing_style", "path")},
                retries={"max_attempts": 1},
                **cfg,
            ),
        )

    def cli_env(self, access_key=None, secret_key=None):
        env = clean_env()
        env.update(
            {
                "AWS_ACCESS_KEY_ID": access_key or self.access_key,
                "AWS_SECRET_ACCESS_KEY": secret_key or self.secret_key,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_CONFIG_FILE": "/dev/null",
                "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            }
        )
        return env

    def aws(self, *args, check=True, access_key=None, secret_key=None, input=None):
        """Runs the AWS CLI against this server; returns the CompletedProcess."""
        cmd = [str(VENV_BIN / "aws"), "--endpoint-url", self.endpoint, *args]
        res = subprocess.run(cmd, env=self.cli_env(access_key, secret_key), capture_output=True, text=True, input=input, timeout=600)
        if check and res.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
        return res

    def wharf_cmd(self, *args):
        return subprocess.run([WHARF_BIN, *args, "--data-dir", str(self.data_dir)], capture_output=True, text=True, env=self.env(), check=True)


@pytest.fixture(scope="session")
def wharf(tmp_path_factory):
    w = Wharf(tmp_path_factory.mktemp("wharf") / "data").start()
    yield w
    w.stop()


@pytest.fixture()
def s3(wharf):
    return wharf.client()


def new_bucket_name(prefix="t"):
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


@pytest.fixture()
def bucket(s3):
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete(s3, name)


def empty_and_delete(s3, name):
    """Empties a bucket the way clients do (ListObjectVersions + DeleteObjects), then deletes it."""
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            objs = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if objs:
                s3.delete_objects(Bucket=name, Delete={"Objects": objs, "Quiet": True})
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=name):
            for u in page.get("Uploads", []):
                s3.abort_multipart_upload(Bucket=name, Key=u["Key"], UploadId=u["UploadId"])
        s3.delete_bucket(Bucket=name)
    except s3.exceptions.NoSuchBucket:
        pass


def error_code(exc):
    return exc.response["Error"]["Code"]


def status_of(exc):
    return exc.response["ResponseMetadata"]["HTTPStatusCode"]
