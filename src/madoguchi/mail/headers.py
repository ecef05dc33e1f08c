"""Header decoding: RFC 5322 unfolding, RFC 2047 encoded-words, addresses, ids, dates.

The standard library's compat32 policy is used for speed, so this module
does the decoding itself, tolerating what real mail programs send:
encoded-words split in the middle of a multibyte character (adjacent words
of one charset are joined before decoding, RFC 2047 section 6.2), raw 8-bit
headers without any charset, raw ISO-2022-JP escape sequences, group syntax
(RFC 5322 section 3.4) and unparseable dates.
"""

from __future__ import annotations

import binascii
import re
from datetime import UTC, datetime
from email.utils import getaddresses, parsedate_to_datetime

from . import charsets
from .types import Address

Repairs = list[tuple[str, str]]

_EW = re.compile(rb"=\?([^?\s]+)\?([QqBb])\?([^?]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])|\r(?=[ \t])")
_WS = re.compile(r"\s+")
_MSGID = re.compile(r"<([^<>]*)>")
_ISO_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d))?")


def to_bytes(value: str) -> bytes:
    """Recover the raw bytes of a header value read with surrogateescape."""
    return value.encode("utf-8", "surrogateescape")


def unfold(value: str) -> str:
    """Remove RFC 5322 folding (CRLF before whitespace) and stray line breaks."""
    if "\n" not in value and "\r" not in value:
        return value
    value = _FOLD.sub("", value)
    return value.replace("\r", "").replace("\n", "")


def _word_bytes(enc: bytes, payload: bytes) -> bytes:
    """Decode the payload of one encoded-word to bytes (B or Q encoding)."""
    if enc in (b"B", b"b"):
        clean = re.sub(rb"[^A-Za-z0-9+/]", b"", payload)
        clean = clean[: len(clean) - len(clean) % 4] if len(clean) % 4 == 1 else clean
        clean += b"=" * (-len(clean) % 4)
        try:
            return binascii.a2b_base64(clean)
        except (binascii.Error, ValueError):
            return b""
    return binascii.a2b_qp(payload, header=True)


def _flush(out: list[str], label: bytes | None, buf: bytearray, repairs: Repairs) -> None:
    """Decode accumulated encoded-word bytes of one charset into ``out``."""
    if label is None or not buf:
        return
    name = label.decode("ascii", "replace").split("*", 1)[0]
    text, repair = charsets.decode(bytes(buf), name)
    if repair:
        repairs.append(repair)
    out.append(text)


def _plain(seg: bytes, repairs: Repairs) -> str:
    """Decode text outside encoded-words (ASCII, raw ISO-2022-JP or raw 8-bit)."""
    if seg.isascii() and b"\x1b" not in seg:
        return seg.decode("ascii")
    text, repair = charsets.decode(seg, None)
    if repair:
        repairs.append(repair)
    return text


def decode_words(raw: bytes) -> tuple[str, Repairs]:
    """Decode an unfolded header value with RFC 2047 encoded-words; never raises."""
    repairs: Repairs = []
    if b"=?" not in raw:
        return _plain(raw, repairs), repairs
    out: list[str] = []
    label: bytes | None = None
    buf = bytearray()
    pos = 0
    for m in _EW.finditer(raw):
        between = raw[pos : m.start()]
        pos = m.end()
        cur = m.group(1).lower()
        if between.strip() or label != cur:
            _flush(out, label, buf, repairs)
            buf = bytearray()
            if between and (between.strip() or label is None):
                out.append(_plain(between, repairs))
            label = cur
        buf += _word_bytes(m.group(2), m.group(3))
    _flush(out, label, buf, repairs)
    if pos < len(raw):
        out.append(_plain(raw[pos:], repairs))
    return "".join(out), repairs


def decode_value(value: str) -> tuple[str, Repairs]:
    """Decode one raw (surrogate-escaped) header value to display text."""
    raw = to_bytes(unfold(value))
    if raw.isascii() and b"=?" not in raw and b"\x1b" not in raw:
        return raw.decode("ascii"), []
    return decode_words(raw)


def decode_text(value: str) -> tuple[str, Repairs]:
    """Decode an unstructured header (e.g. Subject) and normalise whitespace."""
    text, repairs = decode_value(value)
    return _WS.sub(" ", text).strip(), repairs


def _make_address(name: str, addr: str) -> Address | None:
    """Build an Address, lowercasing the domain; None for empty entries."""
    addr = addr.strip().strip("<>").strip()
    if not addr or " " in addr:
        return None
    local, at, domain = addr.rpartition("@")
    email = f"{local}@{domain.lower()}" if at else addr
    text, _ = decode_words(name.encode("utf-8", "surrogateescape"))
    return Address(name=_WS.sub(" ", text).strip(), email=email)


def parse_addresses(value: str | None) -> tuple[list[Address], Repairs]:
    """Parse an address-list header; group syntax and garbage yield no exception."""
    if not value:
        return [], []
    raw = to_bytes(unfold(value))
    repairs: Repairs = []
    text = _plain(raw, repairs) if not raw.isascii() else raw.decode("ascii")
    try:
        pairs = getaddresses([text])
    except Exception:  # noqa: BLE001 - the stdlib parser can fail on garbage
        repairs.append(("unparseable address list", "ignored"))
        return [], repairs
    found = [_make_address(n, a) for n, a in pairs]
    return [a for a in found if a is not None], repairs


def parse_ids(value: str | None) -> list[str]:
    """Extract message ids (without <>) in order, de-duplicated."""
    if not value:
        return []
    text = unfold(value)
    ids = ["".join(m.split()) for m in _MSGID.findall(text)]
    if not ids:
        ids = [t.strip("<>,") for t in text.split() if "@" in t]
    seen: dict[str, None] = {}
    for i in ids:
        if i:
            seen.setdefault(i, None)
    return list(seen)


def parse_message_id(value: str | None) -> str | None:
    """Return the first message id of a header, or None."""
    ids = parse_ids(value)
    if ids:
        return ids[0]
    if value and value.strip() and len(value.split()) == 1:
        return value.strip().strip("<>") or None
    return None


def parse_date(value: str | None) -> tuple[datetime | None, str | None]:
    """Parse an RFC 5322 date; returns (aware datetime or None, problem or None)."""
    if value is None or not value.strip():
        return None, "missing Date header"
    text = unfold(value).strip()
    try:
        dt: datetime | None = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        dt = _iso_date(text)
    if dt is None:
        return None, f"unparseable date {text[:60]!r}"
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC), "date without time zone (assumed UTC)"
    return dt, None


def _iso_date(text: str) -> datetime | None:
    """Fallback for ISO 8601-looking dates that some programs write."""
    m = _ISO_DATE.search(text)
    if not m:
        return None
    try:
        y, mo, d, h, mi, s = (int(p) if p else 0 for p in m.groups())
        return datetime(y, mo, d, h, mi, s, tzinfo=UTC)
    except ValueError:
        return None
