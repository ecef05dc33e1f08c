"""MIME body walking: text and HTML bodies, attachments (RFC 2045-2046, 2183, 2231).

Walks the stdlib compat32 message tree iteratively (depth-limited, so a
deeply nested multipart cannot exhaust the stack), decodes text parts with
:mod:`madoguchi.mail.charsets`, names attachments from RFC 2231 / RFC 2047
parameters, opens winmail.dat, and remembers what a bounce carries back
(message/rfc822 and text/rfc822-headers parts, RFC 3462).
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from email._encoded_words import decode_b
from email.message import Message

from . import charsets, headers
from .charsets import NO_HINTS, Hints
from .html2text import html_to_text
from .mime import enriched_to_text, split_uuencoded
from .tnef import open_tnef
from .types import Attachment, Defect

MAX_DEPTH = 40
#: ``charset=utf-8`` or ``charset="iso-2022-jp"`` in a Content-Type value.
_CHARSET_PARAM = re.compile(r'(?i)(?:^|;)\s*charset\s*=\s*"?([A-Za-z0-9._:+-]{1,40})"?\s*(?:;|$)')
MAX_PARTS = 2000
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f]")
_BODY_TYPES = ("text/plain", "text/html", "text/enriched")
_WHITE_RUN = re.compile(r"\s+")


@dataclass
class Body:
    """Everything collected from the MIME tree of one message."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)
    report_types: list[str] = field(default_factory=list)
    defects: list[Defect] = field(default_factory=list)
    hints: Hints = NO_HINTS


def _param_text(value: object, hints: Hints, repairs: list[tuple[str, str]]) -> str | None:
    """Decode a parameter value from get_param (RFC 2231 tuple or RFC 2047 str)."""
    if isinstance(value, tuple) and len(value) == 3:
        label, _lang, text = value
        raw = str(text).encode("latin-1", "surrogateescape")
        decoded, repair = charsets.decode(raw, label or None, hints)
        if repair:
            repairs.append(repair)
        return decoded
    if isinstance(value, str):
        decoded, found = headers.decode_words(headers.to_bytes(value), hints)
        repairs.extend(found)
        return decoded
    return None


def filename_of(
    part: Message, hints: Hints = NO_HINTS, repairs: list[tuple[str, str]] | None = None
) -> str | None:
    """Return the decoded, path-free file name of a part, or None.

    A name with a wrong or missing charset (RFC 2231 or RFC 2047) is decoded
    with the charsets the rest of the mail declares; what had to be repaired
    is appended to ``repairs``.
    """
    found: list[tuple[str, str]] = []
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        try:
            value = _get_param(part, param, header)
        except Exception:  # noqa: BLE001 - malformed parameters
            continue
        found.clear()
        text = _param_text(value, hints, found)
        if text:
            if repairs is not None:
                repairs.extend(found)
            name = _BAD_NAME.sub("", text.replace("\\", "/").rsplit("/", 1)[-1]).strip()
            if name:
                return name[:255]
    return None


def _get_param(part: Message, param: str, header: str) -> object:
    """A header parameter as raw (surrogate-escaped) text, 8-bit bytes intact.

    compat32 turns a header holding 8-bit bytes into a ``Header`` whose
    parameters come back with U+FFFD; reading the parameters from the raw
    value, mapped byte for byte to Latin-1, keeps the bytes for the decoder.
    """
    raw = next((str(v) for k, v in part.raw_items() if k.lower() == header), None)
    if raw is None or raw.isascii():
        return part.get_param(param, None, header)
    probe = Message()
    probe[header] = headers.to_bytes(raw).decode("latin-1")
    value = probe.get_param(param, None, header)
    if isinstance(value, str):
        return value.encode("latin-1", "replace").decode("ascii", "surrogateescape")
    return value


def _disposition(part: Message) -> str:
    """Return the lower-case Content-Disposition type ('' if none)."""
    value = part.get("content-disposition")
    return str(value).split(";", 1)[0].strip().lower() if value else ""


def _payload(part: Message) -> bytes:
    """Decoded transfer-encoded payload of a leaf part.

    Base64 is decoded here as the stdlib does, but without its list of every line
    (``splitlines``: ~90 bytes of memory per line break, 4 GB for 50 MB of them).
    """
    payload = _raw_payload(part)
    cte = str(part.get("content-transfer-encoding", "")).lower()
    if cte == "base64" and isinstance(payload, str):
        raw = payload.encode("ascii", "surrogateescape")
        decoded: bytes = decode_b(raw.replace(b"\r", b"").replace(b"\n", b""))[0]
        return decoded
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _raw_payload(part: Message) -> object:
    """The payload as stored: the children, or the surrogate-escaped text.

    ``get_payload()`` without ``decode`` decodes 8-bit text with the part's charset
    parameter, which costs a copy and raises on broken parameters (a NUL in the
    charset, RFC 2231 continuations mixed with plain ones).
    """
    return part._payload  # type: ignore[attr-defined]


def _charset(part: Message, data: bytes, ctype: str) -> str | None:
    """Declared charset of a text part, sniffing <meta> for undeclared HTML."""
    try:
        label = part.get_content_charset()
    except Exception:  # noqa: BLE001 - odd RFC 2231 charset parameters
        label = None
    if label is None and ctype == "text/html":
        m = _META_CHARSET.search(data[:4096])
        if m:
            return m.group(1).decode("ascii")
    return label


def _text(part: Message, ctype: str, where: str, body: Body) -> str:
    """Decode a text part to str, recording any charset repair."""
    data = _payload(part)
    text, repair = charsets.decode(data, _charset(part, data, ctype), body.hints)
    if repair:
        body.defects.append(Defect(where, *repair))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _attach(body: Body, part: Message, ctype: str, data: bytes, name: str | None) -> None:
    """Record one attachment."""
    cid = part.get("content-id")
    content_id = str(cid).strip().strip("<>").strip() or None if cid else None
    disp = _disposition(part)
    if not name:
        ext = mimetypes.guess_extension(ctype) or ".bin"
        name = f"part-{len(body.attachments) + 1}{ext}"
    inline = disp == "inline" or (disp == "" and content_id is not None)
    body.attachments.append(
        Attachment(
            filename=name,
            content_type=ctype,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content_id=content_id,
            inline=inline,
            data=data,
        )
    )


def _tnef(body: Body, part: Message, data: bytes, where: str) -> None:
    """Open a winmail.dat into its attachments (keep the blob if it fails)."""
    try:
        content = open_tnef(data)
    except ValueError as exc:
        body.defects.append(Defect(where, str(exc)[:120], "kept winmail.dat as attachment"))
        _attach(body, part, "application/ms-tnef", data, "winmail.dat")
        return
    for name, payload in content.files:
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        _attach(body, part, ctype, payload, name)
    if content.html:
        body.html.append(content.html)
    elif content.text:
        body.plain.append(content.text)
    if not content.files and not content.html and not content.text:
        _attach(body, part, "application/ms-tnef", data, "winmail.dat")


def _serialize(part: Message) -> bytes:
    """Bytes of an encapsulated message (message/rfc822 and friends)."""
    raw = getattr(part, "raw_body", None)
    if isinstance(raw, bytes):
        return raw
    payload = part.get_payload()
    if isinstance(payload, list):
        out = []
        for sub in payload:
            try:
                out.append(sub.as_bytes() if isinstance(sub, Message) else str(sub).encode())
            except Exception:  # noqa: BLE001 - generator trips on odd content
                out.append(str(sub).encode("utf-8", "surrogateescape"))
        return b"\n".join(out)
    return _payload(part)


def _message_part(body: Body, part: Message, ctype: str, where: str) -> None:
    """Handle message/* parts: attachment, and remember returned headers."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if isinstance(inner, Message) and ctype in ("message/rfc822", "message/global"):
        mid = inner.get("message-id")
        if mid:
            body.returned.append(f"Message-ID: {mid}")
        subject = headers.decode_text(str(inner.get("subject", "")), body.hints)[0]
        name = _filename(body, part, where) or f"{subject[:80] or 'message'}.eml".replace("/", "_")
        _attach(body, part, ctype, _serialize(part), name)
        return
    data = _serialize(part)
    if ctype in ("message/rfc822-headers", "text/rfc822-headers", "message/rfc822"):
        body.returned.append(data.decode("utf-8", "replace"))
    _attach(body, part, ctype, data, _filename(body, part, where))


def _filename(body: Body, part: Message, where: str) -> str | None:
    """The file name of a part, recording charset repairs of the name as defects."""
    repairs: list[tuple[str, str]] = []
    name = filename_of(part, body.hints, repairs)
    body.defects.extend(Defect(where, f"file name: {p}", r) for p, r in repairs)
    return name


def _leaf(body: Body, part: Message, where: str) -> None:
    """Classify one non-multipart part as body text, HTML or attachment."""
    ctype = part.get_content_type()
    if part.is_multipart():
        _message_part(body, part, ctype, where)
        return
    name = _filename(body, part, where)
    disp = _disposition(part)
    if ctype in _BODY_TYPES and disp != "attachment" and not name:
        _body_text(body, part, ctype, where)
        return
    data = _payload(part)
    if ctype == "application/ms-tnef" or (name or "").lower() == "winmail.dat":
        _tnef(body, part, data, where)
        return
    if ctype == "text/rfc822-headers":
        body.returned.append(data.decode("utf-8", "replace"))
    _attach(body, part, ctype, data, name)


def _body_text(body: Body, part: Message, ctype: str, where: str) -> None:
    """Add one body: HTML, enriched text as plain, or plain text (uuencoded files cut out)."""
    text = _text(part, ctype, where, body)
    if ctype == "text/html":
        body.html.append(text)
        return
    if ctype == "text/enriched":
        body.plain.append(enriched_to_text(text))
        return
    if "begin " in text:
        text, files = split_uuencoded(text)
        for name, data in files:
            ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
            _attach(body, part, ctype, data, name)
    body.plain.append(text)


def _unsplit(body: Body, part: Message, where: str) -> None:
    """A multipart whose payload could not be split: show it as text."""
    body.defects.append(
        Defect(where, "multipart could not be split into parts", "shown as plain text")
    )
    data = _payload(part)
    text, _ = charsets.decode(data, None, body.hints)
    body.plain.append(text.replace("\r\n", "\n").replace("\r", "\n"))


def declared_charsets(msg: Message) -> list[str]:
    """Charset labels the MIME parts of a message declare, in tree order, bounded."""
    found: list[str] = []
    stack = [msg]
    seen = 0
    while stack and seen < MAX_PARTS:
        part = stack.pop()
        seen += 1
        label = _declared(part)
        if label and label not in found:
            found.append(label)
        children = _raw_payload(part)
        if isinstance(children, list):
            stack.extend(c for c in reversed(children) if isinstance(c, Message))
    return found


def _declared(part: Message) -> str | None:
    """The charset parameter of one part's Content-Type, or None.

    Most parts declare a plain ``charset=x``: a regular expression finds it far faster
    than ``get_param``, which is only asked for the rest (RFC 2231 forms, odd quoting).
    """
    ctype = part.get("content-type")
    if ctype is None:
        return None
    ctype = str(ctype)
    if "charset" not in ctype.lower():
        return None
    plain = _CHARSET_PARAM.search(ctype)
    if plain is not None:
        return plain.group(1).strip().lower()
    try:
        value = part.get_param("charset")
    except Exception:  # noqa: BLE001 - malformed parameters
        return None
    if isinstance(value, tuple):
        value = value[2]
    return str(value).strip().lower() if value else None


def mail_hints(msg: Message) -> Hints:
    """Charset evidence of a whole mail: part charsets first, then encoded-words, sender TLD."""
    values = [str(v) for _, v in msg.raw_items()]
    labels = declared_charsets(msg) + headers.declared_charsets(values)
    domain = headers.sender_domain(str(msg.get("from", "")))
    raw = (headers.to_bytes(v) for v in values if not v.isascii())
    return charsets.make_hints(labels, domain, raw)


def walk(msg: Message, hints: Hints | None = None) -> Body:
    """Collect bodies and attachments from a message tree; iterative, bounded.

    ``hints`` (default: :func:`mail_hints` of ``msg``) decode parts and file
    names that carry 8-bit bytes without a trustworthy charset.  Of each
    multipart/alternative only the chosen alternatives give text and HTML
    (:func:`_settle`).
    """
    body = Body(hints=mail_hints(msg) if hints is None else hints)
    pieces = _Pieces()
    stack: list[tuple[Message, str, int, _Path]] = [(msg, "body", 0, ())]
    seen = 0
    while stack:
        part, where, depth, path = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            body.defects.append(Defect(where, f"more than {MAX_PARTS} MIME parts", "rest ignored"))
            break
        if part.get_content_maintype() != "multipart":
            _leaf(body, part, where)
        else:
            kids = _multipart(body, part, where, depth)
            paths = pieces.paths(part, path, len(kids))
            stack.extend(
                (c, f"{where}.{i + 1}", depth + 1, paths[i])
                for i, c in reversed(list(enumerate(kids)))
            )
        pieces.record(body, part, path)
    _settle(body, pieces)
    return body


def _multipart(body: Body, part: Message, where: str, depth: int) -> list[Message]:
    """Handle one multipart: return its children to walk, or show its payload as text."""
    if part.get_content_subtype() == "report":
        try:
            report = part.get_param("report-type", "")
        except (TypeError, ValueError):  # the stdlib's RFC 2231 reader on broken parameters
            report = ""
        body.report_types.append(str(report or "").lower())
    children = _raw_payload(part)
    if getattr(part, "unsplit", False):
        text = charsets.decode(_payload(part), None, body.hints)[0]
        body.plain.append(text.replace("\r\n", "\n"))
    elif not isinstance(children, list):
        _unsplit(body, part, where)
    elif depth >= MAX_DEPTH:
        body.defects.append(
            Defect(where, f"MIME nesting deeper than {MAX_DEPTH}", "inner parts ignored")
        )
    else:
        return [c for c in children if isinstance(c, Message)]
    return []


# --------------------------------------------------------------------------
# Alternatives: which text and HTML bodies are shown
# --------------------------------------------------------------------------

#: (group, index) for each multipart/alternative above a body: which alternative it is in.
_Path = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class _Piece:
    """One body met in the walk: 'plain', 'enriched' (already plain text) or 'html'."""

    kind: str
    path: _Path
    text: str


@dataclass
class _Pieces:
    """The text bodies of a walk in tree order, with the alternatives they sit in."""

    items: list[_Piece] = field(default_factory=list)
    groups: int = 0
    plain_seen: int = 0
    html_seen: int = 0

    def paths(self, part: Message, path: _Path, count: int) -> list[_Path]:
        """Paths of the ``count`` children of ``part``: a new group for an alternative."""
        if part.get_content_subtype() != "alternative":
            return [path] * count
        self.groups += 1
        return [(*path, (self.groups, i)) for i in range(count)]

    def record(self, body: Body, part: Message, path: _Path) -> None:
        """Take the bodies that ``part`` has just added to ``body`` as pieces at ``path``."""
        kind = "enriched" if part.get_content_type() == "text/enriched" else "plain"
        self.items.extend(_Piece(kind, path, t) for t in body.plain[self.plain_seen :])
        self.items.extend(_Piece("html", path, t) for t in body.html[self.html_seen :])
        self.plain_seen, self.html_seen = len(body.plain), len(body.html)


@dataclass
class _Choice:
    """For each alternative group, the alternative giving each kind of body."""

    plain: dict[int, int] = field(default_factory=dict)
    enriched: dict[int, int] = field(default_factory=dict)
    html: dict[int, int] = field(default_factory=dict)

    def keeps(self, piece: _Piece) -> bool:
        """Whether ``piece`` lies in the chosen alternative of every group above it."""
        for group, index in piece.path:
            if piece.kind == "html":
                chosen = self.html.get(group)
            elif piece.kind == "plain":
                chosen = self.plain.get(group)
            elif group in self.plain or group in self.html:
                return False
            else:
                chosen = self.enriched.get(group)
            if chosen != index:
                return False
        return True


def _choose(items: list[_Piece]) -> _Choice:
    """Text from the first alternative with non-blank plain text (else enriched), HTML the last.

    RFC 2046 5.1.4 orders alternatives from plainest to richest; the plain
    text is what the text field shows, the richest HTML what the HTML view shows.
    """
    choice = _Choice()
    for piece in items:
        for group, index in piece.path:
            if piece.kind == "html":
                choice.html[group] = index
            elif piece.kind == "enriched":
                choice.enriched.setdefault(group, index)
            elif piece.text.strip():
                choice.plain.setdefault(group, index)
    return choice


def _collapse(text: str) -> str:
    """Text with white space runs collapsed, to compare bodies.

    As ``" ".join(text.split())``, without a list of every word (bounded memory).
    """
    return _WHITE_RUN.sub(" ", text).strip()


def _settle(body: Body, pieces: _Pieces) -> None:
    """Keep the chosen alternatives; give HTML shown beside plain text a text of its own.

    An HTML body that is no alternative of a plain one (multipart/mixed
    shows its parts one after another, RFC 2046 5.1.3) is content too: when
    there is plain text, the HTML's text joins it in place, unless it only
    repeats a plain body.  Without plain text the HTML becomes the text later.
    """
    choice = _choose(pieces.items)
    kept = [p for p in pieces.items if choice.keeps(p)]
    body.html = [p.text for p in kept if p.kind == "html"]
    texts = [p for p in kept if p.kind != "html"]
    if not texts:
        body.plain = []
        return
    known = {_collapse(p.text) for p in texts}
    plain: list[str] = []
    for piece in kept:
        if piece.kind != "html":
            plain.append(piece.text)
        elif not any(group in choice.plain for group, _ in piece.path):
            text = html_to_text(piece.text)
            collapsed = _collapse(text)
            if collapsed and collapsed not in known:
                plain.append(text)
    body.plain = plain
