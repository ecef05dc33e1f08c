"""Header decoding: RFC 5322 unfolding, RFC 2047 encoded-words, addresses, ids, dates.

The standard library's compat32 policy is used for speed, so this module
does the decoding itself, tolerating what real mail programs send:
encoded-words split in the middle of a multibyte character (adjacent words
of one charset are joined before decoding, RFC 2047 section 6.2), raw 8-bit
headers without any charset (decoded with the charsets the rest of the mail
declares, :class:`~madoguchi.mail.charsets.Hints`), raw ISO-2022-JP escape
sequences, unterminated encoded-words, group syntax (RFC 5322 section 3.4),
display names with unquoted commas or encoded-words holding specials,
addresses without angle brackets or with a null path, and unparseable dates.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import getaddresses, parsedate_to_datetime

from . import charsets
from .charsets import NO_HINTS, Hints
from .types import Address

Repairs = list[tuple[str, str]]

_EW = re.compile(rb"=\?([^?\s]+)\?([QqBb])\?([^?]*)\?=")
_EW_OPEN = re.compile(rb"=\?([^?\s]+)\?([QqBb])\?([^?]*)$")
_EW_RUN = re.compile(rb"=\?[^?\s]+\?[QqBb]\?[^?]*\?=(?:[ \t]*=\?[^?\s]+\?[QqBb]\?[^?]*\?=)*")
_EW_CHARSET = re.compile(rb"=\?([^?\s*]+)[^?\s]*\?[QqBb]\?")
_FOLD = re.compile(r"\r?\n(?=[ \t])|\r(?=[ \t])")
_WS = re.compile(r"\s+")
_MSGID = re.compile(r"<([^<>]*)>")
_ISO_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d))?")
_DOMAIN = re.compile(r"@([A-Za-z0-9.-]+\.[A-Za-z0-9-]+)")
_TOKEN = re.compile("\ue000(\\d+)\ue001")
_AT_FORM = re.compile(  # 'user at example.com (Name)', as list archives write senders
    r"(?P<local>[^\s@<>(),;:\"]+) at (?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
    r"(?:\s*\((?P<name>[^()]*)\))?"
)
_ADDR_AS_NAME = re.compile(r'(^|,)(\s*)([^\s,<>"()@]+@[^\s,<>"()]*)(\s*<[^<>]*>)')
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MAX_NAME = 998  # RFC 5322 line length: a longer "name" is a broken header, not a name
_MAX_VALUE = 16 * 1024  # header bytes looked at for charset declarations


def to_bytes(value: str) -> bytes:
    """Recover the raw bytes of a header value read with surrogateescape."""
    return value.encode("utf-8", "surrogateescape")


def unfold(value: str) -> str:
    """Remove RFC 5322 folding (CRLF before whitespace) and stray line breaks."""
    if "\n" not in value and "\r" not in value:
        return value
    value = _FOLD.sub("", value)
    return value.replace("\r", "").replace("\n", "")


def declared_charsets(values: Iterable[str]) -> list[str]:
    """Charset labels of the encoded-words in raw header values, in order."""
    found: list[str] = []
    for value in values:
        if "=?" not in value:
            continue
        for m in _EW_CHARSET.finditer(to_bytes(value[:_MAX_VALUE])):
            label = m.group(1).decode("ascii", "replace").lower()
            if label not in found:
                found.append(label)
    return found


def sender_domain(value: str | None) -> str | None:
    """The domain of the first address in a raw From value, or None."""
    if not value:
        return None
    m = _DOMAIN.search(value[:_MAX_VALUE])
    return m.group(1) if m else None


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


def _flush(
    out: list[str], label: bytes | None, buf: bytearray, repairs: Repairs, hints: Hints
) -> None:
    """Decode accumulated encoded-word bytes of one charset into ``out``."""
    if label is None or not buf:
        return
    name = label.decode("ascii", "replace").split("*", 1)[0]
    text, repair = charsets.decode(bytes(buf), name, hints)
    if repair:
        repairs.append(repair)
    out.append(text)


def _plain(seg: bytes, repairs: Repairs, hints: Hints = NO_HINTS) -> str:
    """Decode text outside encoded-words (ASCII, raw ISO-2022-JP or raw 8-bit)."""
    if seg.isascii() and b"\x1b" not in seg:
        return seg.decode("ascii")
    text, repair = charsets.decode(seg, None, hints)
    if repair:
        repairs.append(repair)
    return text


def _open_word(raw: bytes, end: int) -> re.Match[bytes] | None:
    """``_EW_OPEN.search(raw[:end])`` without copying or scanning from the start.

    An open word holds exactly three ``?`` after its ``=``, so the only place it
    can start is just before the third ``?`` from the end.
    """
    at = end
    for _ in range(3):
        at = raw.rfind(b"?", 0, at)
        if at < 1:
            return None
    return _EW_OPEN.match(raw, at - 1, end) if raw[at - 1 : at] == b"=" else None


def _unterminated(raw: bytes, repairs: Repairs, hints: Hints) -> str | None:
    """Decode encoded-words cut off before their closing ``?=`` (end of value).

    Open words one after the other are found from the end, each in time of
    its own length (no rescans: a run of them stays linear).
    """
    words: list[re.Match[bytes]] = []
    m = _open_word(raw, len(raw))
    while m is not None and m.group(3):
        words.append(m)
        m = _open_word(raw, m.start())
    if not words:
        return None
    prefix = decode_words(raw[: words[-1].start()], hints)
    repairs.extend(prefix[1])
    out = [prefix[0]]
    for word in reversed(words):
        buf = bytearray(_word_bytes(word.group(2), word.group(3)))
        _flush(out, word.group(1).lower(), buf, repairs, hints)
    repairs.append(("encoded-word without its closing ?=", "decoded to the end of the header"))
    return "".join(out)


def decode_words(raw: bytes, hints: Hints = NO_HINTS) -> tuple[str, Repairs]:
    """Decode an unfolded header value with RFC 2047 encoded-words; never raises."""
    repairs: Repairs = []
    if b"=?" not in raw:
        return _plain(raw, repairs, hints), repairs
    out: list[str] = []
    label: bytes | None = None
    buf = bytearray()
    pos = 0
    for m in _EW.finditer(raw):
        between = raw[pos : m.start()]
        pos = m.end()
        cur = m.group(1).lower()
        if between.strip() or label != cur:
            _flush(out, label, buf, repairs, hints)
            buf = bytearray()
            if between and (between.strip() or label is None):
                out.append(_plain(between, repairs, hints))
            label = cur
        buf += _word_bytes(m.group(2), m.group(3))
    _flush(out, label, buf, repairs, hints)
    if pos < len(raw):
        tail = _unterminated(raw[pos:], repairs, hints)
        out.append(tail if tail is not None else _plain(raw[pos:], repairs, hints))
    return "".join(out), repairs


def decode_value(value: str, hints: Hints = NO_HINTS) -> tuple[str, Repairs]:
    """Decode one raw (surrogate-escaped) header value to display text."""
    raw = to_bytes(unfold(value))
    if raw.isascii() and b"=?" not in raw and b"\x1b" not in raw:
        return raw.decode("ascii"), []
    return decode_words(raw, hints)


def decode_text(value: str, hints: Hints = NO_HINTS) -> tuple[str, Repairs]:
    """Decode an unstructured header (e.g. Subject) and normalise whitespace."""
    text, repairs = decode_value(value, hints)
    return _display(text), repairs


def _display(text: str) -> str:
    """Display text: control characters dropped, white space runs collapsed."""
    return _WS.sub(" ", _CONTROL.sub("", text)).strip()


# --- address lists ----------------------------------------------------------


def _protect(raw: bytes, hints: Hints, repairs: Repairs) -> tuple[str, list[str]]:
    """Decode an address list, replacing each run of encoded-words by a token.

    The tokens (private-use characters around an index) keep specials that an
    encoded-word may hold, such as the comma of ``=?UTF-8?Q?Doe,_John?=``,
    away from the address parser; :func:`_restore` puts the text back.
    """
    words: list[str] = []
    out: list[str] = []
    pos = 0
    for m in _EW_RUN.finditer(raw):
        out.append(_plain(raw[pos : m.start()], repairs, hints))
        text, found = decode_words(m.group(0), hints)
        repairs.extend(found)
        out.append(f"\ue000{len(words)}\ue001")
        words.append(text)
        pos = m.end()
    out.append(_plain(raw[pos:], repairs, hints))
    return "".join(out), words


def _restore(text: str, words: list[str]) -> str:
    """Put decoded encoded-word text back in place of its tokens."""
    if "\ue000" not in text:
        return text
    return _TOKEN.sub(lambda m: _word(words, int(m.group(1))), text)


def _word(words: list[str], index: int) -> str:
    """The decoded text of one protected encoded-word run ('' if out of range)."""
    return words[index] if index < len(words) else ""


def _split_bare(addr: str) -> tuple[str, str] | None:
    """Split 'Big Bug bb@bug.com' (no angle brackets) into name and address."""
    words = addr.split()
    at = [i for i, w in enumerate(words) if "@" in w]
    if len(at) != 1:
        return None
    name = " ".join(w for i, w in enumerate(words) if i != at[0])
    return name, words[at[0]].strip("<>")


def _pair(name: str, addr: str, words: list[str], repairs: Repairs) -> tuple[str, str]:
    """One parsed (name, address) with its tokens restored and a bare address split."""
    name, addr = _restore(name, words), _restore(addr, words).strip()
    if " " in addr and (bare := _split_bare(addr)) is not None:
        repairs.append(("address without angle brackets", "split into name and address"))
        return bare[0] or name, bare[1]
    return name, addr


def _pairs(text: str, words: list[str], repairs: Repairs) -> list[tuple[str, str]]:
    """Run the stdlib address parser and repair what it gets wrong."""
    quoted = _ADDR_AS_NAME.sub(r'\1\2"\3"\4', text)
    if quoted != text:
        repairs.append(("address used as display name", "read as the name"))
        text = quoted
    try:
        pairs = getaddresses([text])
    except Exception:  # noqa: BLE001 - the stdlib parser can fail on garbage
        repairs.append(("unparseable address list", "read as one name"))
        pairs = [(text, "")]
    out = [_pair(name, addr, words, repairs) for name, addr in pairs]
    return _join_commas([p for p in out if p[0] or p[1]], repairs)


def _join_commas(pairs: list[tuple[str, str]], repairs: Repairs) -> list[tuple[str, str]]:
    """Join 'Doe, John <j@x>' split at the unquoted comma back into one address."""
    out: list[tuple[str, str]] = []
    carry: list[str] = []
    for i, (name, addr) in enumerate(pairs):
        following = pairs[i + 1] if i + 1 < len(pairs) else None
        if not name and "@" not in addr and following is not None and following[0]:
            carry.append(addr)
            continue
        if carry:
            repairs.append(("unquoted comma in display name", "joined to the next address"))
            out.append((", ".join([*carry, name]), addr))
            carry = []
            continue
        out.append((name, addr))
    return out


def _lost_words(text: str, pairs: list[tuple[str, str]]) -> bool:
    """True when the parser dropped words of an address-less value ('Сергей Обухов')."""
    if "@" in text or "<" in text or len(pairs) != 1:
        return False
    kept = " ".join(pairs[0])
    return any(w not in kept for w in _WS.split(text.strip()))


def _make_address(name: str, addr: str) -> Address | None:
    """Build an Address, lowercasing the domain; None for empty entries."""
    addr = addr.strip().strip("<>").strip()
    name = _display(name)[:_MAX_NAME]
    if not addr or " " in addr:
        return Address(name=name, email="") if name else None
    local, sep, domain = addr.rpartition("@")
    email = f"{local}@{domain.lower()}" if sep else addr
    return Address(name=name, email=email)


def joined(items: Iterable[tuple[str, object]], key: str) -> str | None:
    """Every raw value of a repeated address header (To, Cc) as one list, or None."""
    values = [str(v) for k, v in items if k.strip().lower() == key]
    return ", ".join(values) if values else None


def parse_addresses(value: str | None, hints: Hints = NO_HINTS) -> tuple[list[Address], Repairs]:
    """Parse an address-list header; group syntax and garbage yield no exception.

    What a person can read is kept: a display name with an unquoted comma or
    with an encoded-word holding specials, an address without angle brackets,
    a name with the null path ``<>`` or with no address at all.
    """
    if not value:
        return [], []
    raw = to_bytes(unfold(value))
    repairs: Repairs = []
    text, words = _protect(raw, hints, repairs)
    at = _AT_FORM.fullmatch(text.strip())
    if at:
        repairs.append(("address written as 'user at domain'", "read as user@domain"))
        pairs = [(_restore(at["name"] or "", words), f"{at['local']}@{at['domain']}")]
    else:
        pairs = _pairs(text, words, repairs)
        if _lost_words(text, pairs):
            repairs.append(("display name without an address", "kept the name"))
            pairs = [(_restore(text, words).strip(), "")]
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


_DATE_COMMENT = re.compile(r"\([^()]{0,200}\)")


def parse_date(value: str | None) -> tuple[datetime | None, str | None]:
    """Parse an RFC 5322 date; returns (aware datetime or None, problem or None)."""
    if value is None or not value.strip():
        return None, "missing Date header"
    # RFC 5322 comments such as "(EDT)" may stand anywhere, even before the zone.
    text = " ".join(_DATE_COMMENT.sub(" ", unfold(value)).split())
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
