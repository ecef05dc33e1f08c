"""A real ``madoguchi run ROLES`` process on the test database, for HTTP, socket and
browser tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.fixtures import server_env
from tests.servers import free_port, wait_for_port


class WebProcess:
    """One ``madoguchi run ROLES`` child process listening on a free loopback port.

    The environment is read when it starts: a test that sets MADOGUCHI_* variables
    (``monkeypatch.setenv``) before starting one gets a server with them."""

    def __init__(self, *roles: str) -> None:
        self.roles = roles
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        #: What the process printed (in this run's data dir, removed with it).
        self.log = Path(os.environ["MADOGUCHI_DATA_DIR"]) / f"web-{self.port}.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WebProcess:
        env = server_env(MADOGUCHI_WEB_BIND=f"127.0.0.1:{self.port}")
        command = [sys.executable, "-m", "madoguchi.cli", "run", *self.roles]
        with self.log.open("wb") as log:
            self._proc = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        try:
            wait_for_port("127.0.0.1", self.port, timeout=60, proc=self._proc)
        except BaseException:
            self.stop()
            raise
        return self

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


@contextmanager
def web_process(*roles: str) -> Iterator[str]:
    """A `madoguchi run ROLES` process of this test alone; yields its base URL."""
    server = WebProcess(*roles).start()
    try:
        yield server.url
    finally:
        server.stop()


class SharedWebProcess:
    """The `madoguchi run web worker` process that consecutive ``web`` tests share.

    Started by the first of them, stopped by the first test after them that does not ask
    for ``web`` (tests/conftest.py), so its worker never takes the tasks of a test that
    runs its own worker or none; tests/conftest.py orders the tests so that those asking
    for ``web`` come together (twice: before the browser tests, and among them)."""

    def __init__(self) -> None:
        self._server: WebProcess | None = None

    def url(self) -> str:
        if self._server is not None and not self._server.running():
            raise AssertionError(f"the shared web process has ended: {self._server.log}")
        if self._server is None:
            self._server = WebProcess("web", "worker").start()
        return self._server.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


SHARED = SharedWebProcess()
