"""A fast, tolerant MIME splitter producing compat32 ``email.message.Message`` trees.

The stdlib feedparser is line-oriented pure Python and dominates parse
time.  This splitter finds header blocks and multipart delimiters
(RFC 2046 section 5.1.1) with C-level byte searches instead, and fills
plain ``Message`` objects (policy compat32) so that the stdlib's
parameter handling (RFC 2231), ``get_payload(decode=True)`` and friends
still work.  It is tolerant: CR-only line ends, blank lines or a byte
order mark before a message's header, stray lines inside a header block,
missing header/body separators, missing close delimiters, unsplittable
multiparts, and nesting depth are all handled and reported as defects.
Parts of a multipart/digest default to message/rfc822 (RFC 2046 5.1.5).

It also reads the two bodies that carry structure of their own without
MIME: text/enriched (RFC 1896) and uuencoded files inside plain text.
"""

from __future__ import annotations

import binascii
import re
from email import policy
from email.message import Message

from .types import Defect

MAX_DEPTH = 40
_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")
_MBOX_FROM = re.compile(rb"From (?![ \t]*:)")
_PARAMETER_LINE = re.compile(rb"[!-~]+=")
_TOKEN_LINE = re.compile(rb"[!-~]+[ \t]*\Z")
_LINES = re.compile(rb"\r\n|\n|\r")
_BLANK = re.compile(rb"\r?\n\r?\n")
_WHITE_LINE = re.compile(rb"[ \t]*(?:\r\n|\n|\r)")
_BOM = b"\xef\xbb\xbf"
_HEADERS_AHEAD = 2


def _decode(data: bytes) -> str:
    """Bytes to the surrogate-escaped str that compat32 messages store."""
    return data.decode("ascii", "surrogateescape")


def _starts_header(data: bytes, pos: int = 0) -> bool:
    """Whether a header field (or an mbox ``From `` line) starts at ``pos``."""
    return bool(_HEADER_LINE.match(data, pos) or _MBOX_FROM.match(data, pos))


def _strip_lead(data: bytes, message: bool, defects: list[Defect], where: str) -> bytes:
    """Drop a UTF-8 byte order mark and, before a message's header, blank lines.

    Only when a header follows: otherwise the bytes are body text (a MIME part
    that starts with a blank line has no header, RFC 2046 5.1.1).
    """
    if data.startswith(_BOM) and _starts_header(data, len(_BOM)):
        data = data[len(_BOM) :]
        defects.append(Defect(where, "byte order mark before the headers", "removed"))
    if not message:
        return data
    pos = 0
    while m := _WHITE_LINE.match(data, pos):
        pos = m.end()
    if pos and _starts_header(data, pos):
        defects.append(Defect(where, "blank lines before the headers", "skipped"))
        return data[pos:]
    return data


def _kinds(lines: list[bytes]) -> list[str]:
    """Classify header block lines: 'field', 'fold' (continuation) or 'stray'."""
    kinds = []
    for i, line in enumerate(lines):
        if line[:1] in (b" ", b"\t"):
            kinds.append("fold")
        elif _HEADER_LINE.match(line) or (i == 0 and _MBOX_FROM.match(line)):
            kinds.append("field")
        else:
            kinds.append("stray")
    return kinds


def _inside_head(lines: list[bytes], kinds: list[str], i: int) -> bool:
    """Whether stray line ``i`` belongs to the header block rather than starting the body.

    It does when it is a parameter wrapped without indentation after a ``;``
    (Exchange, Apple Mail), the value of a field left empty on the line
    before (Exchange), or a mangled header line (one token, or with a colon)
    after which header fields go on: the way MimeKit and enmime read on.
    Prose that starts a body right after the headers is none of these.
    """
    line = lines[i]
    prev = lines[i - 1].rstrip() if i else b""
    if not prev:
        return False
    if prev.endswith(b";") and _PARAMETER_LINE.match(line):
        return True
    token = _TOKEN_LINE.match(line) is not None
    if token and kinds[i - 1] == "field" and prev.endswith(b":"):
        return True
    return (token or b":" in line) and _fields_follow(kinds, i)


def _fields_follow(kinds: list[str], i: int) -> bool:
    """Whether header fields follow line ``i`` before any other stray line.

    The scan stops at the first stray line or after a few fields, so the
    scans of all stray lines of a header block together stay linear.
    """
    fields = 0
    for j in range(i + 1, len(kinds)):
        if kinds[j] == "stray":
            return False
        if kinds[j] == "field":
            fields += 1
            if fields == _HEADERS_AHEAD:
                return True
    return False


def _split_head(
    data: bytes, defects: list[Defect], where: str, message: bool
) -> tuple[list[bytes], bytes, bool]:
    """Split raw bytes into header lines and body; flag a missing separator.

    A line inside the header block that is no header field is read as a
    continuation of the field before it (with a defect) when headers go on
    after it; otherwise the body starts there.
    """
    data = _strip_lead(data, message, defects, where)
    first = _LINES.match(data)
    if first:
        return [], data[first.end() :], False
    m = _BLANK.search(data)
    head = data[: m.start()] if m else data
    rest = data[m.end() :] if m else b""
    lines = _LINES.split(head)
    kinds = _kinds(lines)
    if kinds[0] == "fold":
        return [], data, True
    end, folded = _read_on(lines, kinds)
    if folded:
        problem = f"{folded} line(s) in the header block not a header field"
        defects.append(Defect(where, problem, "read as part of the field before"))
    if end is None:
        return lines, rest, False
    body = b"\n".join(lines[end:])
    return lines[:end], body + (b"\n\n" + rest if m else b""), True


def _read_on(lines: list[bytes], kinds: list[str]) -> tuple[int | None, int]:
    """Fold the stray lines that belong to the header block into the field before.

    Returns the index of the line the body starts at (None: the whole block
    is header) and the number of lines folded.
    """
    folded = 0
    for i, kind in enumerate(kinds):
        if kind != "stray":
            continue
        if not _inside_head(lines, kinds, i):
            return i, folded
        lines[i] = b" " + lines[i]
        kinds[i] = "fold"
        folded += 1
    return None, folded


def _headers(lines: list[bytes]) -> list[tuple[str, str]]:
    """Turn header lines (with continuations) into (name, raw value) pairs."""
    out: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (b" ", b"\t") and out:
            prev_name, prev_value = out[-1]
            out[-1] = (prev_name, prev_value + "\n" + _decode(line))
            continue
        if not out and _MBOX_FROM.match(line):
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


def parse_bytes(
    data: bytes,
    defects: list[Defect],
    where: str = "body",
    depth: int = 0,
    *,
    message: bool = True,
    default_type: str = "text/plain",
) -> Message:
    """Parse raw bytes into a compat32 Message tree; never raises for bad MIME.

    ``message`` is false for the body parts of a multipart (their header may
    be empty); ``default_type`` is the type of a part without Content-Type
    (message/rfc822 inside multipart/digest, RFC 2046 5.1.5).
    """
    if b"\n" not in data and b"\r" in data:
        data = data.replace(b"\r", b"\n")
    lines, body, missing = _split_head(data, defects, where, message)
    if missing and lines:
        defects.append(Defect(where, "no blank line after the headers", "rest read as body"))
    msg = Message(policy=policy.compat32)
    if default_type != "text/plain":
        msg.set_default_type(default_type)
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
    default = "message/rfc822" if msg.get_content_type() == "multipart/digest" else "text/plain"
    msg.set_payload(
        [
            parse_bytes(
                p, defects, f"{where}.{i + 1}", depth + 1, message=False, default_type=default
            )
            for i, p in enumerate(parts)
        ]
    )


# --------------------------------------------------------------------------
# Bodies that carry structure of their own: text/enriched, uuencoded files
# --------------------------------------------------------------------------

_ENRICHED_MARKUP = re.compile(r"<<|<param>[^<]*</param>|</?[A-Za-z0-9-]{1,60}>", re.IGNORECASE)
_ENRICHED_BREAKS = re.compile(r"\n+")
_UU_BEGIN = re.compile(r"^begin [0-7]{3,4} ([^\n]*\S)[ \t]*$", re.MULTILINE)
_UU_END = re.compile(r"^end[ \t]*$", re.MULTILINE)
MAX_UUENCODED = 50


def enriched_to_text(text: str) -> str:
    """Plain text of a text/enriched (RFC 1896) or text/richtext body.

    Formatting commands and their ``<param>`` blocks are dropped, ``<<`` is a
    literal ``<``; a single line break is a space and n breaks are n - 1.
    """
    text = _ENRICHED_MARKUP.sub(lambda m: "<" if m.group() == "<<" else "", text)
    return _ENRICHED_BREAKS.sub(lambda m: " " if len(m.group()) == 1 else m.group()[1:], text)


def split_uuencoded(text: str) -> tuple[str, list[tuple[str, bytes]]]:
    """Cut uuencoded files (``begin 644 name`` ... ``end``) out of a text body.

    Returns the text without the blocks and the (name, data) of each file.
    A block that does not decode stays in the text.  One pass over the
    text; at most :data:`MAX_UUENCODED` files.
    """
    files: list[tuple[str, bytes]] = []
    kept: list[str] = []
    pos = 0
    while len(files) < MAX_UUENCODED:
        begin = _UU_BEGIN.search(text, pos)
        end = _UU_END.search(text, begin.end()) if begin else None
        if begin is None or end is None:
            break
        data = _uudecode(text[begin.end() : end.start()])
        if data is None:
            kept.append(text[pos : end.end()])
        else:
            kept.append(text[pos : begin.start()])
            files.append((begin.group(1).replace("\\", "/").rsplit("/", 1)[-1], data))
        pos = end.end()
    kept.append(text[pos:])
    return "".join(kept), files


def _uudecode(block: str) -> bytes | None:
    """Decode the lines of one uuencoded block; None if any line is not uuencode."""
    out = bytearray()
    for text in block.split("\n"):
        line = text.rstrip("\r")
        if not line:
            continue
        if not line.isascii():
            return None
        raw = line.encode("ascii")
        try:
            out += binascii.a2b_uu(raw)
        except binascii.Error:
            # Some encoders pad lines beyond their length byte (as the stdlib uu module allowed).
            try:
                out += binascii.a2b_uu(raw[: (((raw[0] - 32) & 63) * 4 + 5) // 3])
            except binascii.Error:
                return None
    return bytes(out) or None
