"""A fast, tolerant MIME splitter producing compat32 ``email.message.Message`` trees.

The stdlib feedparser is line-oriented pure Python and dominates parse
time.  This splitter finds header blocks and multipart delimiters
(RFC 2046 section 5.1.1) with C-level byte searches instead, and fills
plain ``Message`` objects (policy compat32) so that the stdlib's
parameter handling (RFC 2231), ``get_payload(decode=True)`` and friends
still work.  It is tolerant: CR-only line ends, missing header/body
separators, missing close delimiters, unsplittable multiparts, and
nesting depth are all handled and reported as defects.
"""

from __future__ import annotations

import re
from email import policy
from email.message import Message

from .types import Defect

MAX_DEPTH = 40
_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")
_LINES = re.compile(rb"\r\n|\n|\r")
_BLANK = re.compile(rb"\r?\n\r?\n")


def _decode(data: bytes) -> str:
    """Bytes to the surrogate-escaped str that compat32 messages store."""
    return data.decode("ascii", "surrogateescape")


def _split_head(data: bytes) -> tuple[list[bytes], bytes, bool]:
    """Split raw bytes into header lines and body; flag a missing separator."""
    first = _LINES.match(data)
    if first:
        return [], data[first.end() :], False
    m = _BLANK.search(data)
    head = data[: m.start()] if m else data
    rest = data[m.end() :] if m else b""
    lines = _LINES.split(head)
    for i, line in enumerate(lines):
        if line[:1] in (b" ", b"\t"):
            if i == 0:
                return [], data, True
            continue
        if not _HEADER_LINE.match(line) and not (i == 0 and line.startswith(b"From ")):
            body = b"\n".join(lines[i:])
            return lines[:i], body + (b"\n\n" + rest if m else b""), True
    return lines, rest, False


def _headers(lines: list[bytes]) -> list[tuple[str, str]]:
    """Turn header lines (with continuations) into (name, raw value) pairs."""
    out: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (b" ", b"\t") and out:
            prev_name, prev_value = out[-1]
            out[-1] = (prev_name, prev_value + "\n" + _decode(line))
            continue
        if line.startswith(b"From ") and not out:
            continue
        name, _, value = line.partition(b":")
        out.append((_decode(name.strip()), _decode(value.strip(b" \t"))))
    return out


def _delimiters(body: bytes, boundary: str) -> list[tuple[int, int, bool]]:
    """Find delimiter lines (start, end, is_close) of one boundary (RFC 2046 5.1.1)."""
    marker = b"--" + boundary.encode("utf-8", "surrogateescape")
    found: list[tuple[int, int, bool]] = []
    pos = body.find(marker)
    while pos >= 0:
        end = pos + len(marker)
        if pos == 0 or body[pos - 1] in (10, 13):
            close = body[end : end + 2] == b"--"
            line_end = _line_end(body, end + 2 if close else end)
            if line_end is not None:
                start = pos - 2 if body[pos - 2 : pos] == b"\r\n" else max(pos - 1, 0)
                found.append((start, line_end, close))
                if close:
                    break
        pos = body.find(marker, end)
    return found


def _line_end(body: bytes, pos: int) -> int | None:
    """Offset after the line break ending a delimiter, if only blanks remain on its line."""
    nl = body.find(b"\n", pos)
    tail = body[pos:] if nl < 0 else body[pos:nl]
    if tail.strip(b" \t\r"):
        return None
    return len(body) if nl < 0 else nl + 1


def _split_multipart(body: bytes, boundary: str) -> tuple[list[bytes], bool] | None:
    """Split a multipart body at its delimiters; None when none is found."""
    found = _delimiters(body, boundary)
    if not found:
        return None
    parts: list[bytes] = []
    for i, (_start, end, close) in enumerate(found):
        if close:
            return parts, True
        stop = found[i + 1][0] if i + 1 < len(found) else len(body)
        parts.append(body[end:stop])
    return parts, False


def parse_bytes(data: bytes, defects: list[Defect], where: str = "body", depth: int = 0) -> Message:
    """Parse raw bytes into a compat32 Message tree; never raises for bad MIME."""
    if b"\n" not in data and b"\r" in data:
        data = data.replace(b"\r", b"\n")
    lines, body, missing = _split_head(data)
    if missing and lines:
        defects.append(Defect(where, "no blank line after the headers", "rest read as body"))
    msg = Message(policy=policy.compat32)
    msg._headers = _headers(lines)  # type: ignore[attr-defined]
    _fill(msg, body, defects, where, depth)
    return msg


def _fill(msg: Message, body: bytes, defects: list[Defect], where: str, depth: int) -> None:
    """Set the payload of ``msg``: children for multipart/message, else bytes."""
    ctype = msg.get_content_type()
    msg.raw_body = body  # type: ignore[attr-defined]
    if ctype.startswith("multipart/") or ctype in ("message/rfc822", "message/global"):
        if depth >= MAX_DEPTH:
            defects.append(
                Defect(where, f"MIME nesting deeper than {MAX_DEPTH}", "inner parts not opened")
            )
            msg.set_payload(_decode(body))
            return
        if ctype.startswith("message/"):
            msg.set_payload([parse_bytes(body, defects, where + ".1", depth + 1)])
            return
        _fill_multipart(msg, body, defects, where, depth)
        return
    msg.set_payload(_decode(body))


def _fill_multipart(
    msg: Message, body: bytes, defects: list[Defect], where: str, depth: int
) -> None:
    """Split a multipart body into child Messages, repairing what is broken."""
    boundary = msg.get_boundary()
    split = _split_multipart(body, boundary) if boundary else None
    if split is None:
        problem = "multipart without boundary" if not boundary else "multipart boundary not found"
        defects.append(Defect(where, problem, "shown as plain text"))
        msg.set_payload(_decode(body))
        msg.unsplit = True  # type: ignore[attr-defined]
        return
    parts, closed = split
    if not closed:
        defects.append(Defect(where, "multipart close delimiter missing", "read to end of message"))
    msg.set_payload(
        [parse_bytes(p, defects, f"{where}.{i + 1}", depth + 1) for i, p in enumerate(parts)]
    )
