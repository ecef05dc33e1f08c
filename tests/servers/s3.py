"""A real, throwaway S3-compatible server (moto's ``moto_server``) for tests.

``S3Server()`` runs ``python -m moto.server`` on a free loopback port, in its own process
group and a fresh /tmp dir (so the reaper of tests/servers finds it if a run is killed).
It keeps everything in memory and accepts any access key::

    with S3Server() as s3:
        s3.client().create_bucket(Bucket="attachments")
        ...  # endpoint s3.url, keys s3.access_key_id / s3.secret_access_key

The ``s3`` fixture gives one server per test module, stopped after it; a test module
imports it (``from tests.servers.s3 import s3``) and is marked ``servers``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

import pytest

from . import (
    LOOPBACK,
    ManagedServer,
    ServerError,
    free_port,
    make_workdir,
    register,
    terminate,
    wait_for_port,
)

__all__ = ["S3Server", "s3"]

PREFIX = "madoguchi-s3-"
PID_FILE = "moto.pid"


class S3Server(ManagedServer):
    """One moto server; ``start()``/``stop()`` or use as a context manager."""

    host: str = LOOPBACK
    access_key_id = "madoguchi-test"
    secret_access_key = "madoguchi-test-secret"  # any pair is accepted
    region = "us-east-1"

    def __init__(self, *, start_timeout: float = 30.0) -> None:
        self.start_timeout = start_timeout
        self.port = 0
        self.dir = Path()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        if self._proc is not None:
            return self
        self.dir = make_workdir(PREFIX, PID_FILE)
        register(self)
        last: Exception | None = None
        for _attempt in range(3):  # a "free" port can be taken before we bind it
            try:
                self._spawn()
                return self
            except ServerError as exc:
                last = exc
                self._kill()
        log = self.log()
        self.stop()
        raise ServerError(f"moto_server did not start: {last}\n{log}")

    def _spawn(self) -> None:
        self.port = free_port()
        out = open(self.dir / "stdout.log", "ab")  # noqa: SIM115 - owned by the child
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)],
                cwd=self.dir,  # how the reaper (tests/servers.is_ours) knows it
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: killpg() gets all of it
            )
        finally:
            out.close()
        (self.dir / PID_FILE).write_text(f"{self._proc.pid}\n")
        wait_for_port(self.host, self.port, self.start_timeout, self._proc)
        self._wait_until_it_answers()

    def _wait_until_it_answers(self) -> None:
        """Stricter than an open port: moto's own API answers (not some other process that
        took the "free" port first)."""
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=2) as r:
                    json.load(r)
                    return
            except (OSError, ValueError):
                if self._proc is not None and self._proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise ServerError(f"{self.url} is not moto")

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            terminate(proc)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log(self) -> str:
        path = self.dir / "stdout.log"
        return path.read_text(errors="replace") if path.is_file() else ""

    def client(self) -> Any:
        """A boto3 S3 client of this server (for set-up and checks, not for the code under
        test, which goes through its own configuration)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            region_name=self.region,
        )


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    """A moto S3 server shared by the tests of one module (each makes its own bucket)."""
    with S3Server() as server:
        yield server
