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
from email.message import Message

from . import charsets, headers
from .tnef import open_tnef
from .types import Attachment, Defect

MAX_DEPTH = 40
MAX_PARTS = 2000
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class Body:
    """Everything collected from the MIME tree of one message."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)
    report_types: list[str] = field(default_factory=list)
    defects: list[Defect] = field(default_factory=list)


def _param_text(value: object) -> str | None:
    """Decode a parameter value from get_param (RFC 2231 tuple or RFC 2047 str)."""
    if isinstance(value, tuple) and len(value) == 3:
        label, _lang, text = value
        raw = str(text).encode("latin-1", "surrogateescape")
        decoded, _ = charsets.decode(raw, label or None)
        return decoded
    if isinstance(value, str):
        return headers.decode_words(headers.to_bytes(value))[0]
    return None


def filename_of(part: Message) -> str | None:
    """Return the decoded, path-free file name of a part, or None."""
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        try:
            value = part.get_param(param, None, header)
        except Exception:  # noqa: BLE001 - malformed parameters
            continue
        text = _param_text(value)
        if text:
            name = _BAD_NAME.sub("", text.replace("\\", "/").rsplit("/", 1)[-1]).strip()
            if name:
                return name[:255]
    return None


def _disposition(part: Message) -> str:
    """Return the lower-case Content-Disposition type ('' if none)."""
    value = part.get("content-disposition")
    return str(value).split(";", 1)[0].strip().lower() if value else ""


def _payload(part: Message) -> bytes:
    """Decoded transfer-encoded payload of a leaf part."""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


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
    text, repair = charsets.decode(data, _charset(part, data, ctype))
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


def _message_part(body: Body, part: Message, ctype: str) -> None:
    """Handle message/* parts: attachment, and remember returned headers."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if isinstance(inner, Message) and ctype in ("message/rfc822", "message/global"):
        mid = inner.get("message-id")
        if mid:
            body.returned.append(f"Message-ID: {mid}")
        subject = headers.decode_text(str(inner.get("subject", "")))[0]
        name = filename_of(part) or f"{subject[:80] or 'message'}.eml".replace("/", "_")
        _attach(body, part, ctype, _serialize(part), name)
        return
    data = _serialize(part)
    if ctype in ("message/rfc822-headers", "text/rfc822-headers", "message/rfc822"):
        body.returned.append(data.decode("utf-8", "replace"))
    _attach(body, part, ctype, data, filename_of(part))


def _leaf(body: Body, part: Message, where: str) -> None:
    """Classify one non-multipart part as body text, HTML or attachment."""
    ctype = part.get_content_type()
    if isinstance(part.get_payload(), list):
        _message_part(body, part, ctype)
        return
    name = filename_of(part)
    disp = _disposition(part)
    if ctype in ("text/plain", "text/html") and disp != "attachment" and not name:
        target = body.plain if ctype == "text/plain" else body.html
        target.append(_text(part, ctype, where, body))
        return
    data = _payload(part)
    if ctype == "application/ms-tnef" or (name or "").lower() == "winmail.dat":
        _tnef(body, part, data, where)
        return
    if ctype == "text/rfc822-headers":
        body.returned.append(data.decode("utf-8", "replace"))
    _attach(body, part, ctype, data, name)


def _unsplit(body: Body, part: Message, where: str) -> None:
    """A multipart whose payload could not be split: show it as text."""
    body.defects.append(
        Defect(where, "multipart could not be split into parts", "shown as plain text")
    )
    data = _payload(part)
    text, _ = charsets.decode(data, None)
    body.plain.append(text.replace("\r\n", "\n").replace("\r", "\n"))


def walk(msg: Message) -> Body:
    """Collect bodies and attachments from a message tree; iterative, bounded."""
    body = Body()
    stack: list[tuple[Message, str, int]] = [(msg, "body", 0)]
    seen = 0
    while stack:
        part, where, depth = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            body.defects.append(Defect(where, f"more than {MAX_PARTS} MIME parts", "rest ignored"))
            break
        if part.get_content_maintype() != "multipart":
            _leaf(body, part, where)
            continue
        if part.get_content_subtype() == "report":
            body.report_types.append(str(part.get_param("report-type", "") or "").lower())
        children = part.get_payload()
        if getattr(part, "unsplit", False):
            body.plain.append(charsets.decode(_payload(part), None)[0].replace("\r\n", "\n"))
        elif not isinstance(children, list):
            _unsplit(body, part, where)
        elif depth >= MAX_DEPTH:
            body.defects.append(
                Defect(where, f"MIME nesting deeper than {MAX_DEPTH}", "inner parts ignored")
            )
        else:
            kids = [c for c in children if isinstance(c, Message)]
            stack.extend(
                (c, f"{where}.{i + 1}", depth + 1) for i, c in reversed(list(enumerate(kids)))
            )
    return body
