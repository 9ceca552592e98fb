"""A real S3 endpoint for tests: moto's server as an HTTP process on loopback.

Use it with ``from tests.fixtures_s3 import s3  # noqa: F401`` and a test argument ``s3``.
One server runs per test session (a subprocess on a free port); every test gets a
fresh, empty bucket and the environment that points ``sqis.storage`` at the server
(``SQIS_S3_ENDPOINT_URL`` and test credentials). ``s3.stop()`` / ``s3.start()`` stop and
restart the server process on the same port, for fault tests (moto keeps its state in
memory, so a restart empties every bucket: ``start()`` re-creates this test's bucket
when asked to).
"""

from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sqis.settings import reset_settings_cache

_MOTO = Path(sys.executable).parent / "moto_server"
if not _MOTO.exists():  # a Python outside the venv layout: take the one on PATH
    _MOTO = Path(shutil.which("moto_server") or "moto_server")
_REGION = "us-west-2"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MotoServer:
    """One moto_server process on 127.0.0.1:``port``; restartable on the same port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 20.0) -> None:
        if self.running():
            return
        self._proc = subprocess.Popen(
            [str(_MOTO), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"moto_server exited with code {self._proc.returncode}")
            try:
                with urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1):
                    return
            except urllib.error.HTTPError:
                return  # it answers: that is all we wait for
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto_server did not answer on {self.endpoint} within {timeout}s")

    def stop(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        self._proc = None


class S3Fixture:
    """What a test sees: the endpoint, its bucket, a boto3 client, stop/start."""

    def __init__(self, server: MotoServer, bucket: str) -> None:
        self._server = server
        self.bucket = bucket
        self.endpoint = server.endpoint
        self.client: Any = _client(server.endpoint)

    def uri(self, prefix: str = "") -> str:
        prefix = prefix.strip("/")
        return f"s3://{self.bucket}/{prefix}" if prefix else f"s3://{self.bucket}"

    def stop(self) -> None:
        """Stop the server process (requests fail until ``start``)."""
        self._server.stop()

    def start(self, recreate_bucket: bool = False) -> None:
        """Start the server again on the same port (its memory is empty after a restart)."""
        self._server.start()
        if recreate_bucket:
            self.create_bucket()

    def create_bucket(self) -> None:
        self.client.create_bucket(
            Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": _REGION}
        )

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def keys(self, prefix: str = "") -> list[str]:
        out: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            out.extend(o["Key"] for o in page.get("Contents", []))
        return sorted(out)


def _client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=_REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 5, "mode": "standard"}),
    )


_SERVER: MotoServer | None = None


def moto_server() -> MotoServer:
    """The test session's one moto S3 server, started on first use, stopped at exit.

    A module-level singleton rather than a session fixture, so that importing ``s3``
    alone is enough (pytest finds only the fixtures a test module imports).
    """
    global _SERVER
    if _SERVER is None:
        _SERVER = MotoServer()
        atexit.register(_SERVER.stop)
    _SERVER.start()
    return _SERVER


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Fixture]:
    """A fresh bucket on the session's moto server, with the environment pointing at it."""
    server = moto_server()  # (re)started if a previous test stopped it
    monkeypatch.setenv("SQIS_S3_ENDPOINT_URL", server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", _REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    reset_settings_cache()
    fixture = S3Fixture(server, f"sqis-test-{uuid.uuid4().hex[:12]}")
    fixture.create_bucket()
    try:
        yield fixture
    finally:
        server.start()  # leave the server up for the next test
        reset_settings_cache()
