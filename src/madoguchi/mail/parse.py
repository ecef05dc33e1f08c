"""parse(): raw RFC 5322 bytes to a :class:`ParsedMail`, never raising.

Uses the standard library parser with ``policy=compat32`` (about four
times faster than ``policy.default``) and does its own header decoding
(:mod:`.headers`), body walking (:mod:`.body`), HTML sanitizing
(:mod:`.sanitize`), quote stripping (:mod:`.quotes`) and classification
(:mod:`.classify`).  RFC 5322, RFC 2045-2047, RFC 2231, RFC 3834, RFC 3464.
"""

from __future__ import annotations

from email.message import Message

from . import classify, headers, quotes
from .body import Body, mail_hints, walk
from .charsets import Hints
from .charsets import decode as decode_bytes
from .html2text import html_to_text
from .mime import parse_bytes
from .sanitize import sanitize_html
from .types import Address, Defect, ParsedMail

_ADDRESS_HEADERS = ("from", "to", "cc", "reply-to")
_FALLBACK_TEXT_LIMIT = 1_000_000
#: Commas of one address list (To, Cc, Reply-To) read at most: some 10,000 addresses (a comma
#: may stand in a name), at ~25 µs each in the stdlib parser.
MAX_ADDRESS_COMMAS = 25_000
MAX_ADDRESS_BYTES = 512 * 1024
MAX_SENDER_BYTES = 16 * 1024
#: Header values with 8-bit bytes or encoded-words decoded with charset evidence (~1 ms each);
#: the rest are read as UTF-8.  The first of each field this module reads is always decoded.
MAX_DECODED_HEADERS = 200
_WANTED = frozenset(("from", "to", "cc", "reply-to", "subject"))


def parse(raw: bytes) -> ParsedMail:
    """Parse raw mail bytes; on any internal failure degrade gracefully."""
    try:
        data = bytes(raw)
    except Exception:  # noqa: BLE001 - not bytes-like at all
        data = b""
    try:
        return _parse(data)
    except Exception as exc:  # noqa: BLE001 - parse() must never raise
        return _fallback(data, exc)


def _fallback(data: bytes, exc: BaseException) -> ParsedMail:
    """A minimal ParsedMail showing the raw text, for mail we could not parse."""
    defect = Defect("message", f"parser failed: {type(exc).__name__}", "shown as raw text")
    try:
        text = decode_bytes(data[:_FALLBACK_TEXT_LIMIT], None)[0]
    except Exception:  # noqa: BLE001
        text = data[:_FALLBACK_TEXT_LIMIT].decode("latin-1")
    return _empty(text, [defect])


def _empty(text: str, defects: list[Defect]) -> ParsedMail:
    """A ParsedMail with no headers and the given text."""
    return ParsedMail(
        message_id=None,
        in_reply_to=None,
        references=[],
        subject="",
        sender=None,
        to=[],
        cc=[],
        reply_to=[],
        date=None,
        text=text,
        html=None,
        reply_text=text.strip(),
        attachments=[],
        kind="normal",
        bounce_message_id=None,
        defects=defects,
        headers=[],
    )


def _decode_headers(
    msg: Message, defects: list[Defect]
) -> tuple[list[tuple[str, str]], dict[str, str], Hints]:
    """Decode every header; return the display list, first raw value by name, and hints.

    The hints (charsets the mail declares, sender TLD) decode raw 8-bit
    header bytes as Thunderbird does: most likely in the body's charset.
    """
    hints = mail_hints(msg)
    shown: list[tuple[str, str]] = []
    first: dict[str, str] = {}
    decoded = 0
    for name, raw_value in msg.raw_items():
        value = str(raw_value)
        key = name.strip().lower()
        wanted = key in _WANTED and key not in first
        first.setdefault(key, value)
        if value.isascii() and "=?" not in value and "\x1b" not in value:
            text = headers.unfold(value)
        elif decoded < MAX_DECODED_HEADERS or wanted:
            decoded += 1
            text, repairs = headers.decode_value(value, hints)
            defects.extend(Defect(key, p, r) for p, r in repairs)
        else:  # charset evidence costs about a millisecond a value
            text = headers.to_bytes(headers.unfold(value)).decode("utf-8", "replace")
            decoded += 1
        shown.append((name, text))
    if decoded > MAX_DECODED_HEADERS:
        problem = f"more than {MAX_DECODED_HEADERS} header values with 8-bit bytes or encoded-words"
        defects.append(Defect("headers", problem, "the rest read as UTF-8"))
    return shown, first, hints


def _addresses(
    msg: Message, first: dict[str, str], defects: list[Defect], hints: Hints
) -> dict[str, list[Address]]:
    """Parse the address headers (every To/Cc/Reply-To), recording new repairs."""
    out: dict[str, list[Address]] = {}
    for key in _ADDRESS_HEADERS:
        value = first.get(key) if key == "from" else headers.joined(msg.raw_items(), key)
        value = _bounded_list(value, key, defects)
        found, repairs = headers.parse_addresses(value, hints)
        new = {Defect(key, p, r) for p, r in repairs}.difference(defects)
        defects.extend(sorted(new, key=lambda d: (d.problem, d.repair)))
        out[key] = found
    return out


def _bounded_list(value: str | None, key: str, defects: list[Defect]) -> str | None:
    """An address list cut to what the stdlib parser reads in bounded time.

    At most :data:`MAX_ADDRESS_COMMAS` commas and :data:`MAX_ADDRESS_BYTES` (a sender:
    :data:`MAX_SENDER_BYTES`); the parser takes ~25 µs an address, and junk such as
    ``t>t>t>`` is an address every two bytes.
    """
    if value is None:
        return None
    limit = MAX_SENDER_BYTES if key == "from" else MAX_ADDRESS_BYTES
    cut = limit if len(value) > limit else len(value)
    if value.count(",", 0, cut) >= MAX_ADDRESS_COMMAS:
        pos = -1
        for _ in range(MAX_ADDRESS_COMMAS):
            pos = value.find(",", pos + 1)
        cut = pos
    if cut == len(value):
        return value
    defects.append(Defect(key, "address list longer than the limit", "the rest not read"))
    return value[:cut]


def _texts(body: Body) -> tuple[str, str | None, str]:
    """Return (text, sanitized html, reply text) from the collected bodies."""
    raw_html = "\n".join(body.html) if body.html else None
    html = sanitize_html(raw_html) if raw_html is not None else None
    if body.plain:
        text = "\n".join(body.plain)
        return text, html, quotes.reply_text(text)
    if raw_html is not None:
        text = html_to_text(raw_html)
        reply = "" if quotes.is_forward(text) else html_to_text(raw_html, reply_only=True)
        # a forward's forwarded mail is the content; nothing new at all: the whole text
        return text, html, quotes.reply_text(reply) if reply.strip() else quotes.reply_text(text)
    return "", None, ""


def _id_text(value: str | None) -> str | None:
    """A raw header value for message ids: 8-bit bytes read as UTF-8 (RFC 6532), storable."""
    if value is None or value.isascii():
        return value
    return headers.to_bytes(value).decode("utf-8", "replace")


def _required(first: dict[str, str], defects: list[Defect]) -> None:
    """Record missing mandatory or expected headers."""
    for key in ("from", "message-id"):
        if key not in first:
            defects.append(Defect(key, f"missing {key} header", "left empty"))


def _parse(data: bytes) -> ParsedMail:
    """Implementation of :func:`parse`."""
    defects: list[Defect] = []
    msg = parse_bytes(data, defects)
    shown, first, hints = _decode_headers(msg, defects)
    _required(first, defects)
    subject, repairs = headers.decode_text(first.get("subject", ""), hints)
    addrs = _addresses(msg, first, defects, hints)
    date, problem = headers.parse_date(first.get("date"))
    if problem:
        defects.append(
            Defect("date", problem, "date left empty" if date is None else "assumed UTC")
        )
    body = walk(msg, hints)
    defects.extend(body.defects)
    text, html, reply = _texts(body)
    lower = {k: headers.unfold(v) for k, v in first.items()}
    sender = addrs["from"][0] if addrs["from"] else None
    evidence = classify.Evidence(returned=classify.has_returned(body.returned, text))
    found = classify.verdict(lower, subject, sender, body.report_types, evidence)
    kind = found.kind
    message_id = headers.parse_message_id(_id_text(first.get("message-id")))
    bounce_id = (
        _id_text(classify.bounce_message_id(body.returned, text, message_id))
        if kind == "bounce"
        else None
    )
    return ParsedMail(
        message_id=message_id,
        in_reply_to=headers.parse_message_id(_id_text(first.get("in-reply-to"))),
        references=headers.parse_ids(_id_text(first.get("references"))),
        subject=subject,
        sender=sender,
        to=addrs["to"],
        cc=addrs["cc"],
        reply_to=addrs["reply-to"],
        date=date,
        text=text,
        html=html,
        reply_text=reply,
        attachments=body.attachments,
        kind=kind,
        bounce_message_id=bounce_id,
        defects=defects,
        headers=shown,
        kind_reason=found.reason,
        kind_hint=found.hint,
    )
