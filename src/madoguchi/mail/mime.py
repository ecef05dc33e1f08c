"""A fast, tolerant, bounded MIME splitter producing compat32 ``email.message.Message`` trees.

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

It is bounded (docs/mail/limits.md): every part is an offset range into the
one bytes object of the mail, so no level of the tree copies its body; only
leaves are cut out.  The part count (:data:`MAX_PARTS`) and the depth
(:data:`MAX_DEPTH`) are checked while splitting: past them the rest is kept
as one unsplit part with a defect, so memory stays a small multiple of the
mail's size however many delimiters or levels it holds.

It also reads the two bodies that carry structure of their own without
MIME: text/enriched (RFC 1896) and uuencoded files inside plain text.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import Message
from typing import NamedTuple

from .types import Defect

MAX_DEPTH = 40
#: Parts of one mail at most, counting the unsplit rests (the body walk reads as many).
MAX_PARTS = 2000
#: Parts kept back for the unsplit rests of the multiparts enclosing the one that hit the limit.
_RESERVE = MAX_DEPTH + 1
#: Header fields of one part read at most.
MAX_FIELDS = 100_000
#: Bytes of one header field kept at most; of a Content-* field (parameters).
MAX_FIELD = 1024 * 1024
MAX_PARAM_FIELD = 64 * 1024
_INDENT = (b" ", b"\t")
_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")
_MBOX_FROM = re.compile(rb"From (?![ \t]*:)")
_PARAMETER_LINE = re.compile(rb"[!-~]+=")
_TOKEN_LINE = re.compile(rb"[!-~]+[ \t]*\Z")
_LINES = re.compile(rb"\r\n|\n|\r")
_BLANK = re.compile(rb"\r?\n\r?\n")
_WHITE_LINE = re.compile(rb"[ \t]*(?:\r\n|\n|\r)")
_LINE_BLANKS = re.compile(rb"[ \t\r]*")
_BOM = b"\xef\xbb\xbf"
_HEADERS_AHEAD = 2


class Part(Message):
    """A compat32 Message that knows where its body lies in the bytes of the mail.

    ``raw_body`` (the bytes of an attached message) is cut from the shared
    bytes only when asked for, so the tree holds no copy of any inner body.
    """

    def __init__(self, source: bytes, start: int, end: int) -> None:
        super().__init__(policy=policy.compat32)
        self._mime_source = source
        self._mime_span = (start, end)

    @property
    def raw_body(self) -> bytes:
        start, end = self._mime_span
        return self._mime_source[start:end]


class _Span(NamedTuple):
    """A stretch ``data[start:end]`` of the mail's bytes: one part, or one part's body."""

    data: bytes
    start: int
    end: int

    def cut(self) -> bytes:
        return self.data[self.start : self.end]

    def at(self, start: int, end: int | None = None) -> _Span:
        return _Span(self.data, start, self.end if end is None else end)


def _decode(data: bytes) -> str:
    """Bytes to the surrogate-escaped str that compat32 messages store."""
    return data.decode("ascii", "surrogateescape")


def _starts_header(data: bytes, pos: int, end: int) -> bool:
    """Whether a header field (or an mbox ``From `` line) starts at ``pos``."""
    return bool(_HEADER_LINE.match(data, pos, end) or _MBOX_FROM.match(data, pos, end))


def _strip_lead(span: _Span, message: bool, defects: list[Defect], where: str) -> int:
    """Skip a UTF-8 byte order mark and, before a message's header, blank lines.

    Only when a header follows: otherwise the bytes are body text (a MIME part
    that starts with a blank line has no header, RFC 2046 5.1.1).  Returns
    the offset the part's header starts at.
    """
    data, start, end = span
    if data.startswith(_BOM, start, end) and _starts_header(data, start + len(_BOM), end):
        start += len(_BOM)
        defects.append(Defect(where, "byte order mark before the headers", "removed"))
    if not message:
        return start
    pos = start
    while m := _WHITE_LINE.match(data, pos, end):
        pos = m.end()
    if pos != start and _starts_header(data, pos, end):
        defects.append(Defect(where, "blank lines before the headers", "skipped"))
        return pos
    return start


def _kinds(lines: list[bytes]) -> list[str]:
    """Classify header block lines: 'field', 'fold' (continuation) or 'stray'."""
    field = _HEADER_LINE.match
    kinds = [
        "fold" if line[:1] in _INDENT else "field" if field(line) else "stray" for line in lines
    ]
    if kinds[0] == "stray" and _MBOX_FROM.match(lines[0]):
        kinds[0] = "field"
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
    span: _Span, defects: list[Defect], where: str, message: bool
) -> tuple[list[bytes], int, bool]:
    """Split a part into header lines and the offset of its body; flag a missing separator.

    A line inside the header block that is no header field is read as a
    continuation of the field before it (with a defect) when headers go on
    after it; otherwise the body starts there.
    """
    data, _, end = span
    start = _strip_lead(span, message, defects, where)
    first = _LINES.match(data, start, end)
    if first:
        return [], first.end(), False
    m = _BLANK.search(data, start, end)
    lines = _LINES.split(data[start : m.start() if m else end])
    kinds = _kinds(lines)
    if kinds[0] == "fold":
        return [], start, True
    stop, folded = _read_on(lines, kinds)
    if folded:
        problem = f"{folded} line(s) in the header block not a header field"
        defects.append(Defect(where, problem, "read as part of the field before"))
    if stop is not None:
        return lines[:stop], _line_start(data, start, end, stop), True
    return lines, m.end() if m else end, False


def _line_start(data: bytes, start: int, end: int, index: int) -> int:
    """Offset of line ``index`` (from 0) of the lines of ``data[start:end]``."""
    if index:
        for i, m in enumerate(_LINES.finditer(data, start, end), 1):
            if i == index:
                return m.end()
    return start


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


def _headers(lines: list[bytes], defects: list[Defect], where: str) -> list[tuple[str, str]]:
    """Turn header lines (with continuations) into (name, raw value) pairs.

    The lines of a field are joined once at the end: a field folded over many
    lines costs its length, not its length times its lines.  At most
    :data:`MAX_FIELDS` fields are read, each cut at :func:`_field_limit` bytes.
    """
    fields: list[tuple[bytes, list[bytes], list[int]]] = []
    mbox = False
    cut = 0
    for line in lines:
        if line[:1] in _INDENT and (fields or mbox):
            if fields:  # else it continues the mbox ``From `` line, which is no field
                name, parts, size = fields[-1]
                size[0] += len(line) + 1
                limit = _field_limit(name)
                if size[0] <= limit:
                    parts.append(line)
                elif size[0] - len(line) - 1 <= limit:
                    cut += 1
            continue
        if not fields and _MBOX_FROM.match(line):
            mbox = True
            continue
        if len(fields) == MAX_FIELDS:
            defects.append(Defect(where, f"more than {MAX_FIELDS} header fields", "rest not read"))
            break
        name, _, value = line.partition(b":")
        name, value = name.strip(), value.strip(b" \t")
        if len(value) > _field_limit(name):
            value, cut = value[: _field_limit(name)], cut + 1
        fields.append((name, [value], [len(value)]))
    if cut:
        problem = f"{cut} header field(s) longer than the limit"
        defects.append(Defect(where, problem, "cut there"))
    return [(_decode(name), _decode(b"\n".join(parts))) for name, parts, _ in fields]


def _field_limit(name: bytes) -> int:
    """Bytes kept of a field: less for those read by the stdlib's parameter parser.

    That parser (``Message.get_param``) is quadratic in the length of a field.
    """
    return MAX_PARAM_FIELD if name.lower().startswith(b"content-") else MAX_FIELD


def _delimiters(span: _Span, boundary: str) -> Iterator[tuple[int, int, bool]]:
    """Delimiter lines (start, end, is_close) of one boundary in a body (RFC 2046 5.1.1).

    Found one at a time, so that splitting can stop at the part limit.  Only
    markers at the start of a line are looked at: ``bytes.find`` looks for the
    marker after a LF and after a CR, each search going on where it stopped.
    """
    data, start, end = span
    marker = b"--" + boundary.encode("utf-8", "surrogateescape")
    lanes = _Lanes(data, end, (b"\n" + marker, b"\r" + marker), start)
    pos = start if data.startswith(marker, start, end) else lanes.marker(start)
    while pos >= 0:
        after = pos + len(marker)
        close = data.startswith(b"--", after, end)
        line_end = _line_end(data, after + 2 if close else after, end)
        if line_end is not None:
            crlf = pos - 2 >= start and data.startswith(b"\r\n", pos - 2, pos)
            yield (pos - 2 if crlf else max(pos - 1, start)), line_end, close
            if close:
                return
        pos = lanes.marker(after - 1)


class _Lanes:
    """Markers at the start of a line: a line break and the marker, one search per break kind.

    Each needle's search goes on from where it last stopped, so finding all
    delimiters of a body reads it about twice, at C speed.
    """

    def __init__(self, data: bytes, end: int, needles: tuple[bytes, ...], start: int) -> None:
        self.data, self.end, self.needles = data, end, needles
        self.found = [data.find(n, start, end) for n in needles]

    def marker(self, at: int) -> int:
        """Offset of the marker after the first line break found at or after ``at``, or -1."""
        best = -1
        for i, needle in enumerate(self.needles):
            if 0 <= self.found[i] < at:
                self.found[i] = self.data.find(needle, at, self.end)
            if self.found[i] >= 0 and (best < 0 or self.found[i] < best):
                best = self.found[i]
        return best + 1 if best >= 0 else -1


def _line_end(data: bytes, pos: int, end: int) -> int | None:
    """Offset after the line break ending a delimiter, if only blanks remain on its line."""
    m = _LINE_BLANKS.match(data, pos, end)
    stop = m.end() if m else pos
    if stop >= end:
        return end
    return stop + 1 if data[stop] == 10 else None


def parse_bytes(data: bytes, defects: list[Defect], where: str = "body") -> Message:
    """Parse raw bytes into a compat32 Message tree; never raises for bad MIME."""
    return _Split(defects).parse(_Span(data, 0, len(data)), where, 0, message=True)


@dataclass
class _Split:
    """Splitting one mail: its defects, and how many parts were made so far."""

    defects: list[Defect]
    parts: int = 0

    def full(self) -> bool:
        """Whether no more parts may be split off (the reserve is for unsplit rests)."""
        return self.parts >= MAX_PARTS - _RESERVE

    def parse(
        self, span: _Span, where: str, depth: int, *, message: bool, default_type: str = ""
    ) -> Message:
        """One part from ``span`` and, below it, its parts.

        ``message`` is false for the body parts of a multipart (their header may
        be empty); ``default_type`` is the type of a part without Content-Type
        (message/rfc822 inside multipart/digest, RFC 2046 5.1.5).
        """
        self.parts += 1
        data, start, end = span
        if data.find(b"\n", start, end) < 0 and data.find(b"\r", start, end) >= 0:
            # CR-only line ends; once replaced, nothing below needs it again
            data = span.cut().replace(b"\r", b"\n")
            span = _Span(data, 0, len(data))
        lines, body, missing = _split_head(span, self.defects, where, message)
        if missing and lines:
            problem, repair = "no blank line after the headers", "rest read as body"
            self.defects.append(Defect(where, problem, repair))
        msg = Part(span.data, body, span.end)
        if default_type:
            msg.set_default_type(default_type)
        msg._headers = _headers(lines, self.defects, where)  # type: ignore[attr-defined]
        self.fill(msg, span.at(body), where, depth)
        return msg

    def fill(self, msg: Message, body: _Span, where: str, depth: int) -> None:
        """Set the payload of ``msg``: children for multipart/message, else its text."""
        ctype = msg.get_content_type()
        if not ctype.startswith("multipart/") and ctype not in ("message/rfc822", "message/global"):
            msg.set_payload(_decode(body.cut()))
        elif depth >= MAX_DEPTH or self.full():
            problem = (
                f"MIME nesting deeper than {MAX_DEPTH}"
                if depth >= MAX_DEPTH
                else f"more than {MAX_PARTS} MIME parts"
            )
            self.defects.append(Defect(where, problem, "inner parts not opened"))
            msg.set_payload(_decode(body.cut()))
        elif ctype.startswith("message/"):
            msg.set_payload([self.parse(body, where + ".1", depth + 1, message=True)])
        else:
            self.fill_multipart(msg, body, where, depth)

    def fill_multipart(self, msg: Message, body: _Span, where: str, depth: int) -> None:
        """Split a multipart body into child Messages, repairing what is broken."""
        try:
            boundary = msg.get_boundary()
        except (TypeError, ValueError):  # the stdlib's RFC 2231 reader on broken parameters
            boundary = None
        found = _delimiters(body, boundary) if boundary else iter(())
        first = next(found, None)
        if first is None:
            problem = (
                "multipart without boundary" if not boundary else "multipart boundary not found"
            )
            self.defects.append(Defect(where, problem, "shown as plain text"))
            msg.set_payload(_decode(body.cut()))
            msg.unsplit = True  # type: ignore[attr-defined]
            return
        digest = msg.get_content_type() == "multipart/digest"
        mark = len(self.defects)
        children: list[Message | str] = []
        _, pos, closed = first
        while not closed:
            place = f"{where}.{len(children) + 1}"
            if self.full():
                children.append(self.rest(body.at(pos), place))
                break
            after = next(found, None)
            part = body.at(pos, after[0] if after is not None else None)
            default = "message/rfc822" if digest else ""
            children.append(self.parse(part, place, depth + 1, message=False, default_type=default))
            if after is None:
                problem, repair = "multipart close delimiter missing", "read to end of message"
                self.defects.insert(mark, Defect(where, problem, repair))
                break
            _, pos, closed = after
        msg.set_payload(children)

    def rest(self, span: _Span, where: str) -> Message:
        """The rest of a multipart past the part limit: one text part, not split further."""
        self.parts += 1
        problem = f"more than {MAX_PARTS} MIME parts"
        self.defects.append(Defect(where, problem, "the rest kept unsplit as one text part"))
        msg = Part(*span)
        msg.set_payload(_decode(span.cut()))
        return msg


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
