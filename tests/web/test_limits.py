"""Request bodies are bounded before anything reads them, against a real uvicorn server."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest

from tests.web.server import web_process

MiB = 1024 * 1024


def _open(base: str) -> socket.socket:
    url = urlsplit(base)
    return socket.create_connection((url.hostname, url.port), timeout=10)


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


class Reader(threading.Thread):
    """Reads the server's answer while the test is still sending."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(daemon=True)
        self.sock, self.data = sock, b""

    def run(self) -> None:
        try:
            while chunk := self.sock.recv(65536):
                self.data += chunk
        except OSError:
            pass


def _chunked(base: str, path: str, total: int) -> tuple[int, int]:
    """POST ``total`` bytes in chunks (no Content-Length); (status, bytes the server took)."""
    sock = _open(base)
    reader = Reader(sock)
    reader.start()
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                 "Content-Type: application/octet-stream\r\n\r\n".encode())  # fmt: skip
    chunk = b"%x\r\n" % (64 * 1024) + b"x" * (64 * 1024) + b"\r\n"
    sent = 0
    try:
        while sent < total and not reader.data:
            sock.sendall(chunk)
            sent += 64 * 1024
        if sent >= total:
            sock.sendall(b"0\r\n\r\n")
    except OSError:  # the server closed the connection: it stopped reading
        pass
    reader.join(timeout=20)
    sock.close()
    return _status(reader.data), sent


def test_a_body_declared_too_large_is_refused_before_it_is_read(web):
    """10 GiB announced, nothing sent: 413 at once (the server used to wait for the body)."""
    with _open(web) as sock:
        sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Length: 10737418240\r\n\r\n")  # fmt: skip
        started = time.monotonic()
        answer = sock.recv(65536)
        assert _status(answer) == 413, answer
        assert b"connection: close" in answer.lower()
        assert time.monotonic() - started < 5


def test_a_chunked_body_is_cut_off_at_the_limit(web):
    """No Content-Length (``curl -T /dev/zero``): the server stops reading after 1 MiB."""
    status, sent = _chunked(web, "/healthz", 256 * MiB)
    assert status == 413
    assert sent < 64 * MiB  # what the socket buffers take beyond the 1 MiB read


def test_sign_in_takes_only_a_small_body(web):
    status, _ = _chunked(web, "/login/", 256 * 1024)
    assert status == 413


def test_a_content_length_lie_reads_no_more_than_announced(web):
    """Content-Length 5 then 2 MiB: the five bytes are the body, the rest is refused as a
    malformed next request (400, closed); the server keeps serving others."""
    with _open(web) as sock:
        reader = Reader(sock)
        reader.start()
        with contextlib.suppress(OSError):
            sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\n"
                         + b"y" * (2 * MiB))  # fmt: skip
        reader.join(timeout=20)
        assert not reader.is_alive()  # the connection was closed
        assert b"HTTP/1.1 400 " in reader.data
    with _open(web) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert _status(sock.recv(65536)) == 200


@pytest.fixture
def small_web(transactional_db, monkeypatch):
    """A web process whose largest mail is 3 MiB."""
    monkeypatch.setenv("MADOGUCHI_MAX_MESSAGE_BYTES", str(3 * MiB))
    with web_process("web") as base:
        yield base


@pytest.mark.processes  # a web process of its own
def test_uploads_may_carry_a_mail_and_no_more(small_web):
    """A reply's body may be as large as the largest mail (plus its fields), not larger."""
    status, sent = _chunked(small_web, "/c/1/reply", 2 * MiB)
    assert status in (302, 403) and sent == 2 * MiB  # read whole, then the usual checks
    assert _chunked(small_web, "/m/1/compose", 5 * MiB)[0] == 413
    assert _chunked(small_web, "/c/1/note", 2 * MiB)[0] == 413  # a note has no files
    with _open(small_web) as sock:
        sock.sendall(f"POST /c/1/m/2/forward HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     f"Content-Length: {5 * MiB}\r\n\r\n".encode())  # fmt: skip
        assert _status(sock.recv(65536)) == 413


def test_a_template_file_may_be_as_large_as_a_mail_attachment():
    """Template files were held to the 1 MiB form limit: a 2 MB price list got a 413."""
    from madoguchi.core.limits import DEFAULT_LIMIT, limit_for

    assert limit_for("/admin/templates/7/files", 10_000_000) > 2_000_000 > DEFAULT_LIMIT
    assert limit_for("/admin/templates/7/files/3/remove", 10_000_000) == DEFAULT_LIMIT
