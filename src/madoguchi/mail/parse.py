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
    for name, raw_value in msg.raw_items():
        value = str(raw_value)
        key = name.strip().lower()
        first.setdefault(key, value)
        text, repairs = headers.decode_value(value, hints)
        defects.extend(Defect(key, p, r) for p, r in repairs)
        shown.append((name, text))
    return shown, first, hints


def _addresses(
    msg: Message, first: dict[str, str], defects: list[Defect], hints: Hints
) -> dict[str, list[Address]]:
    """Parse the address headers (every To/Cc/Reply-To), recording new repairs."""
    out: dict[str, list[Address]] = {}
    for key in _ADDRESS_HEADERS:
        value = first.get(key) if key == "from" else headers.joined(msg.raw_items(), key)
        found, repairs = headers.parse_addresses(value, hints)
        new = {Defect(key, p, r) for p, r in repairs}.difference(defects)
        defects.extend(sorted(new, key=lambda d: (d.problem, d.repair)))
        out[key] = found
    return out


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
    message_id = headers.parse_message_id(first.get("message-id"))
    bounce_id = (
        classify.bounce_message_id(body.returned, text, message_id) if kind == "bounce" else None
    )
    return ParsedMail(
        message_id=message_id,
        in_reply_to=headers.parse_message_id(first.get("in-reply-to")),
        references=headers.parse_ids(first.get("references")),
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
