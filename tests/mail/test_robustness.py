"""parse() never raises, whatever the input."""

from __future__ import annotations

import os
import random

from madoguchi.mail import ParsedMail, parse

from .conftest import mail


def test_empty_bytes() -> None:
    """Empty input gives an empty ParsedMail."""
    result = parse(b"")
    assert isinstance(result, ParsedMail) and result.subject == "" and result.text == ""


def test_random_garbage() -> None:
    """Random binary garbage never raises."""
    rng = random.Random(1234)
    for size in (1, 10, 100, 1000, 10000):
        assert isinstance(parse(bytes(rng.getrandbits(8) for _ in range(size))), ParsedMail)


def test_os_random_bytes() -> None:
    """Bytes from os.urandom never raise."""
    assert isinstance(parse(os.urandom(4096)), ParsedMail)


def test_deeply_nested_multipart() -> None:
    """A multipart nested 500 deep is cut off with a defect, not a crash."""
    depth = 500
    head = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
        for i in range(depth)
    )
    raw = b"From: a@example.com\r\n" + head + b"Content-Type: text/plain\r\n\r\ndeep\r\n"
    result = parse(raw)
    assert any("nesting" in d.problem for d in result.defects)


def test_large_attachment() -> None:
    """A 20 MB attachment is parsed."""
    payload = b"A" * (20 * 1024 * 1024)
    raw = mail(
        "Content-Type: multipart/mixed; boundary=Z",
        b"--Z\r\nContent-Type: application/octet-stream; name=big.bin\r\n\r\n"
        + payload
        + b"\r\n--Z--\r\n",
    )
    assert parse(raw).attachments[0].size == len(payload)


def test_multipart_without_boundary() -> None:
    """A multipart without a boundary is shown as text with a defect."""
    result = parse(mail("Content-Type: multipart/mixed", b"just text"))
    assert "just text" in result.text
    assert any("boundary" in d.problem for d in result.defects)


def test_missing_close_delimiter() -> None:
    """A multipart missing its close delimiter still yields its parts."""
    result = parse(
        mail(
            "Content-Type: multipart/mixed; boundary=Q",
            b"--Q\r\nContent-Type: text/plain\r\n\r\nbody text\r\n",
        )
    )
    assert result.text.strip() == "body text"
    assert any("close delimiter" in d.problem for d in result.defects)


def test_cr_only_line_endings() -> None:
    """Old Mac CR-only line endings are understood."""
    result = parse(b"Subject: hi\rFrom: a@example.com\r\rbody\r")
    assert result.subject == "hi" and result.text.strip() == "body"


def test_non_bytes_input() -> None:
    """A str passed by mistake does not raise."""
    assert isinstance(parse("Subject: x\n\nbody"), ParsedMail)  # type: ignore[arg-type]


def test_html_only_mail_has_text() -> None:
    """An HTML-only mail gets a plain-text version."""
    result = parse(
        mail("Content-Type: text/html; charset=utf-8", b"<p>Hello <b>there</b></p><p>Bye</p>")
    )
    assert result.text == "Hello there\n\nBye"
    assert result.html is not None and "<b>there</b>" in result.html
