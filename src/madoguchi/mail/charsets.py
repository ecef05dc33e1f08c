"""Charset resolution and tolerant decoding for mail (RFC 2045, RFC 2047, RFC 1468).

Real mail lies about its charset.  This module maps MIME charset labels to
Python codecs (treating ``shift_jis`` as CP932, ``gb2312`` as GB18030 and so
on), decodes ISO-2022-JP with the Windows extensions (CP50220: NEC special
characters such as ①, ㈱, IBM extensions and half-width katakana), and
guesses an encoding for 8-bit data without (or with a wrong) label.
Every repair is reported to the caller as a ``(problem, repair)`` pair.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

# MIME label -> Python codec.  Supersets are chosen on purpose: a mail
# labelled shift_jis written on Windows is CP932, gb2312 is GB18030, etc.
_ALIASES: dict[str, str] = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "csshiftjis": "cp932",
    "cp932": "cp932",
    "x-ms-cp932": "cp932",
    "ms932": "cp932",
    "shift_jisx0213": "cp932",
    "euc-jp": "euc_jp",
    "x-euc-jp": "euc_jp",
    "eucjp": "euc_jp",
    "euc_jp": "euc_jp",
    "cp51932": "euc_jp",
    "x-euc": "euc_jp",
    "euc-jis-2004": "euc_jis_2004",
    "iso-2022-jp": "iso2022_jp",
    "csiso2022jp": "iso2022_jp",
    "iso-2022-jp-1": "iso2022_jp",
    "iso-2022-jp-2": "iso2022_jp",
    "iso-2022-jp-3": "iso2022_jp",
    "cp50220": "iso2022_jp",
    "cp50221": "iso2022_jp",
    "cp50222": "iso2022_jp",
    "jis": "iso2022_jp",
    "gb2312": "gb18030",
    "iso-gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cn-gb": "gb18030",
    "euc-cn": "gb18030",
    "csgb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "ks_c_5601": "cp949",
    "korean": "cp949",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "windows-1252": "cp1252",
    "cp1252": "cp1252",
    "us-ascii": "ascii",
    "ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
    "us": "ascii",
    "iso-8859-8-i": "iso8859_8",
    "windows-874": "cp874",
    "tis-620": "cp874",
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "iso-8859-9": "cp1254",
    "iso-8859-11": "cp874",
}
_UNKNOWN = {"x-unknown", "unknown", "unknown-8bit", "x-user-defined", "default", "charset", ""}
_SINGLE_BYTE = {"cp1252", "iso8859_15", "cp1250", "cp1254", "iso8859_2", "latin_1"}
_ESC = re.compile(rb"\x1b(\(B|\(J|\(I|\$@|\$B|\$\(D|\$\(Q|\$\(O|&@)")
_JA_OK = re.compile(
    "[\u3000-\u30ff\u3200-\u33ff\u4e00-\u9fff\uff00-\uffef\u2460-\u24ff"
    "\u2000-\u206f\u2190-\u22ff\u2500-\u27bf\u0391-\u03c9\u0401-\u0451\u00a7\u00a8\u00b0\u00b1\u00b4\u00b6\u00d7\u00f7]"
)
_NON_ASCII = re.compile("[^\x00-\x7f]")

Repair = tuple[str, str] | None


@lru_cache(maxsize=256)
def resolve(label: str | None) -> str | None:
    """Return the Python codec for a MIME charset label, or None if unknown."""
    if label is None:
        return None
    name = label.strip().strip('"').strip("'").lower()
    if name in _ALIASES:
        return _ALIASES[name]
    if name in _UNKNOWN:
        return None
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def is_ascii(data: bytes) -> bool:
    """True when every byte is 7-bit."""
    return data.isascii()


def plausible_japanese(text: str) -> bool:
    """True when the non-ASCII characters of ``text`` look like Japanese text."""
    others = _NON_ASCII.findall(text)
    if not others:
        return True
    good = sum(1 for c in others if _JA_OK.match(c))
    return good / len(others) >= 0.9


def guess(data: bytes) -> tuple[str, str]:
    """Decode 8-bit bytes of unknown charset: UTF-8, CP932, EUC-JP, then CP1252.

    Returns ``(text, codec)``.  Japanese guesses are accepted only when the
    result looks like Japanese, so Western 8-bit text falls through to CP1252.
    """
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    for codec in ("cp932", "euc_jp", "euc_jis_2004"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if plausible_japanese(text):
            return text, codec
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _jis_to_sjis(j1: int, j2: int) -> bytes:
    """Map one JIS X 0208 row/cell pair (0x21..0x7E each) to Shift_JIS bytes."""
    s1 = (j1 - 0x21) // 2 + 0x81
    if s1 > 0x9F:
        s1 += 0x40
    if j1 % 2:
        s2 = j2 + 0x1F
        if s2 >= 0x7F:
            s2 += 1
    else:
        s2 = j2 + 0x7E
    return bytes((s1, s2))


def _kanji_segment(seg: bytes) -> str:
    """Decode one double-byte JIS X 0208 run, via CP932 if iso2022_jp refuses it."""
    try:
        return (b"\x1b$B" + seg + b"\x1b(B").decode("iso2022_jp")
    except UnicodeDecodeError:
        pass
    out = bytearray()
    i = 0
    while i < len(seg):
        b = seg[i]
        if 0x21 <= b <= 0x7E and i + 1 < len(seg) and 0x21 <= seg[i + 1] <= 0x7E:
            out += _jis_to_sjis(b, seg[i + 1])
            i += 2
        else:
            out.append(b)
            i += 1
    return out.decode("cp932", "replace")


def _katakana_segment(seg: bytes) -> str:
    """Decode a 7-bit half-width katakana run (ESC ( I or SO/SI, JIS X 0201)."""
    shifted = bytes(b + 0x80 if 0x21 <= b <= 0x5F else b for b in seg)
    return shifted.decode("cp932", "replace")


def _plain_segment(seg: bytes) -> str:
    """Decode an ASCII run that may carry SO/SI shifted half-width katakana."""
    if b"\x0e" not in seg:
        return seg.decode("latin-1")
    out: list[str] = []
    for i, piece in enumerate(re.split(rb"[\x0e\x0f]", seg)):
        out.append(_katakana_segment(piece) if i % 2 else piece.decode("latin-1"))
    return "".join(out)


def decode_iso2022jp_windows(data: bytes) -> str:
    """Decode ISO-2022-JP as Windows writes it (CP50220/CP50221/CP50222).

    Python's ``iso2022_jp`` codec rejects the NEC row-13 characters (①, ㈱,
    ㍻), the IBM extension rows, and half-width katakana (ESC ( I or SO/SI),
    and Python has no cp50220 codec.  Windows mail programs emit all of
    these.  We therefore split the data at its escape sequences and map each
    JIS X 0208 pair to Shift_JIS bytes, which the CP932 codec understands
    (CP932 is exactly the Windows superset these characters come from).
    JIS X 0212 runs are handed to ``iso2022_jp_2``.
    """
    parts: list[str] = []
    mode = b"(B"
    pos = 0
    for m in _ESC.finditer(data):
        parts.append(_decode_run(mode, data[pos : m.start()]))
        mode = m.group(1)
        pos = m.end()
    parts.append(_decode_run(mode, data[pos:]))
    return "".join(parts)


def _decode_run(mode: bytes, seg: bytes) -> str:
    """Decode the bytes between two escape sequences according to ``mode``."""
    if not seg:
        return ""
    if mode in (b"$@", b"$B", b"&@"):
        return _kanji_segment(seg)
    if mode == b"(I":
        return _katakana_segment(seg)
    if mode in (b"$(D", b"$(Q", b"$(O"):
        codec = "iso2022_jp_2" if mode == b"$(D" else "iso2022_jp_2004"
        return (b"\x1b" + mode + seg + b"\x1b(B").decode(codec, "replace")
    return _plain_segment(seg)


def _decode_iso2022(data: bytes, label: str) -> tuple[str, Repair]:
    """Decode data labelled ISO-2022-JP, detecting 8-bit mislabelled data."""
    if not data.isascii():
        text, codec = guess(data)
        return text, (f"8-bit data labelled {label}", f"decoded as {codec}")
    try:
        return data.decode("iso2022_jp"), None
    except UnicodeDecodeError:
        pass
    text = decode_iso2022jp_windows(data)
    return text, (f"undecodable {label.upper()}", "decoded as CP50220")


def _decode_known(data: bytes, codec: str, label: str) -> tuple[str, Repair]:
    """Decode with a resolved codec, with fallbacks when the bytes disagree."""
    if codec == "ascii":
        if data.isascii():
            return data.decode("ascii"), None
        text, used = guess(data)
        return text, (f"8-bit data labelled {label}", f"decoded as {used}")
    if codec in _SINGLE_BYTE and not data.isascii():
        try:
            text = data.decode("utf-8")
            return text, (f"UTF-8 data labelled {label}", "decoded as utf-8")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode(codec), None
    except UnicodeDecodeError:
        pass
    except Exception:  # noqa: BLE001 - exotic codecs may raise anything
        return guess(data)[0], (f"codec {label} failed", "guessed charset")
    return _fallback(data, codec, label)


def _fallback(data: bytes, codec: str, label: str) -> tuple[str, Repair]:
    """Handle bytes that are invalid in their declared codec."""
    if codec == "euc_jp":
        for alt in ("euc_jis_2004", "cp932"):
            try:
                return data.decode(alt), (f"bytes invalid in {label}", f"decoded as {alt}")
            except UnicodeDecodeError:
                continue
    if codec == "cp932" and data.isascii() and b"\x1b$" in data:
        return _decode_iso2022(data, "iso-2022-jp")[0], (
            f"ISO-2022-JP labelled {label}",
            "decoded as CP50220",
        )
    try:
        text = data.decode("utf-8")
        return text, (f"UTF-8 data labelled {label}", "decoded as utf-8")
    except UnicodeDecodeError:
        pass
    return data.decode(codec, "replace"), (
        f"bytes invalid in {label}",
        "replaced undecodable bytes",
    )


def decode(data: bytes, label: str | None) -> tuple[str, Repair]:
    """Decode ``data`` declared as ``label`` (None = undeclared); never raises.

    Returns the text and, when something had to be repaired, a
    ``(problem, repair)`` pair describing it.
    """
    try:
        return _decode(data, label)
    except Exception:  # noqa: BLE001 - last resort, decoding must not fail
        return data.decode("latin-1"), (f"decoding as {label} crashed", "decoded as latin-1")


def _decode(data: bytes, label: str | None) -> tuple[str, Repair]:
    """Implementation of :func:`decode`."""
    if label is None or not label.strip():
        if data.isascii():
            if b"\x1b$" in data:
                return _decode_iso2022(data, "iso-2022-jp")[0], None
            return data.decode("ascii"), None
        text, used = guess(data)
        return text, ("8-bit data without charset", f"decoded as {used}")
    codec = resolve(label)
    if codec is None:
        return _decode_unknown(data, label)
    if codec == "iso2022_jp":
        return _decode_iso2022(data, label)
    text, repair = _decode_known(data, codec, label)
    if repair is None and not _standard_label(label):
        repair = (f"unknown charset {label!r}", f"mapped to {codec}")
    return text, repair


def _decode_unknown(data: bytes, label: str) -> tuple[str, Repair]:
    """Decode data whose charset label no codec knows (x-unknown, typos)."""
    if data.isascii() and b"\x1b$" not in data:
        return data.decode("ascii"), None
    if data.isascii():
        text = _decode_iso2022(data, "iso-2022-jp")[0]
        return text, (f"unknown charset {label!r}", "decoded as ISO-2022-JP")
    text, used = guess(data)
    return text, (f"unknown charset {label!r}", f"decoded as {used}")


@lru_cache(maxsize=256)
def _standard_label(label: str) -> bool:
    """True when Python itself knows the label (so no alias repair was needed)."""
    try:
        codecs.lookup(label.strip().strip('"').strip("'"))
    except (LookupError, ValueError):
        return False
    return True
