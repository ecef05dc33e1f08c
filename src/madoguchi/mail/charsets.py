"""Charset resolution and evidence-based decoding for mail (RFC 2045, RFC 2047, RFC 1468).

Real mail lies about its charset.  This module maps MIME charset labels to
Python codecs (treating ``shift_jis`` as CP932, ``gb2312`` as GB18030 and so
on), decodes ISO-2022-JP with the Windows extensions (CP50220: NEC special
characters such as ①, ㈱, IBM extensions and half-width katakana), and
decides the charset of 8-bit data without (or with a wrong) label by
evidence, in this order (docs/mail/charsets.md says why):

1. valid UTF-8 (or UTF-8 with a few stray Latin-1 bytes);
2. strong Japanese evidence: kana, or CP932 double-byte runs that no other
   charset produces;
3. the charsets the same mail declares elsewhere (:class:`Hints`);
4. a sender under ``.jp`` and bytes that read as plausible Japanese;
5. a statistical detector (Firefox's chardetng) on a bounded slice;
6. Windows-1252.

Every repair is reported to the caller as a ``(problem, repair)`` pair.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import NamedTuple

from chardetng_py import EncodingDetector

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
    "x-mac-cyrillic": "mac_cyrillic",
}
_UNKNOWN = {"x-unknown", "unknown", "unknown-8bit", "x-user-defined", "default", "charset", ""}
_JAPANESE = {"cp932", "euc_jp", "euc_jis_2004", "iso2022_jp", "shift_jis", "shift_jis_2004"}
_ESC = re.compile(rb"\x1b(\(B|\(J|\(I|\$@|\$B|\$\(D|\$\(Q|\$\(O|&@)")
_JA_OK = re.compile(
    "[\u3000-\u30ff\u3200-\u33ff\u4e00-\u9fff\uff00-\uffef\u2460-\u24ff"
    "\u2000-\u206f\u2190-\u22ff\u2500-\u27bf\u0391-\u03c9\u0401-\u0451\u00a7\u00a8\u00b0\u00b1\u00b4\u00b6\u00d7\u00f7]"
)
_NON_ASCII = re.compile("[^\x00-\x7f]")
_NON_ASCII_RUN = re.compile("[^\x00-\x7f]+")
# Characters no legitimate reading of mail text contains: C0/C1 controls
# (except whitespace), private use (CP932's unassigned bytes), U+FFFD.
_BAD = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ue000-\uf8ff\ufffd]")
_KANA = re.compile("[\u3041-\u30ff]")
_HALF_KANA = re.compile("[\uff61-\uff9f]")
_LONE_HALF_KANA = re.compile("(?<![\uff61-\uff9f])[\uff61-\uff9f](?![\uff61-\uff9f])")
_ASCII_LETTER = re.compile("[A-Za-z]")
# Latin letters and signs of Western European text (for short Windows-1252 readings).
_WESTERN = set(
    "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝßàáâãäåæçèéêëìíîïñòóôõöøùúûüýÿŒœŸ€£¥°«»“”‘’‚„–—…·•©®™§¿¡ºª×"
)
_GENERIC_TLDS = {"com", "net", "org", "info", "biz", "edu", "gov", "int", "mil", "io", "co"}
_TLD = re.compile(r"[a-z]{2,24}|xn--[a-z0-9-]{1,59}")
_LENIENT, _WEAK, _STRONG = 1, 2, 3  # levels of Japanese evidence
SAMPLE = 64 * 1024
MAX_HINTS = 8
MAX_SAMPLE = 4096  # raw header bytes kept as evidence for short undeclared text
_SHORT = 8  # at most this many 8-bit bytes: too few for the detector to tell Latin pages apart

Repair = tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class Hints:
    """What the rest of one mail says about its charsets.

    ``codecs`` are the codecs the mail declares somewhere (MIME parts,
    encoded-words), body first: a header's raw 8-bit bytes are most likely
    in the body's charset.  ``tld`` is the sender's top-level domain, which
    the detector uses as a prior, as browsers do.  ``sample`` holds the raw
    8-bit header bytes of the mail (bounded), which the detector reads along
    with a short undeclared text: one mail is most likely in one charset.
    """

    codecs: tuple[str, ...] = ()
    tld: str | None = None
    sample: bytes = b""

    def first(self, codec: str) -> Hints:
        """These hints with ``codec`` tried first."""
        rest = tuple(c for c in self.codecs if c != codec)
        return replace(self, codecs=(codec, *rest))

    def without(self, codec: str) -> Hints:
        """These hints without ``codec`` (one that already failed)."""
        return replace(self, codecs=tuple(c for c in self.codecs if c != codec))


NO_HINTS = Hints()


class Guess(NamedTuple):
    """The reading chosen for 8-bit data of unknown charset, and why."""

    text: str
    codec: str
    reason: str

    @property
    def repair(self) -> str:
        """The repair as recorded in a Defect."""
        return f"decoded as {self.codec} ({self.reason})"


def make_hints(
    labels: Iterable[str | None], domain: str | None = None, raw: Iterable[bytes] = ()
) -> Hints:
    """Build :class:`Hints` from charset labels (in order), the sender's domain and raw bytes.

    Of ``raw`` (header values) only 8-bit values that are not UTF-8 are kept,
    :data:`MAX_SAMPLE` bytes at most.
    """
    found: list[str] = []
    for label in labels:
        codec = resolve(label)
        if codec and codec not in ("ascii", "utf-8", "utf-7") and codec not in found:
            found.append(codec)
        if len(found) >= MAX_HINTS:
            break
    return Hints(tuple(found), _tld_of(domain), _legacy_sample(raw))


def _legacy_sample(raw: Iterable[bytes]) -> bytes:
    """8-bit, non-UTF-8 byte strings joined by newlines, bounded."""
    kept: list[bytes] = []
    size = 0
    for value in raw:
        if value.isascii() or _try(value, "utf-8") is not None:
            continue
        kept.append(value[: MAX_SAMPLE - size])
        size += len(kept[-1]) + 1
        if size >= MAX_SAMPLE:
            break
    return b"\n".join(kept)


def _tld_of(domain: str | None) -> str | None:
    """The last label of a domain when it is a usable top-level domain."""
    if not domain:
        return None
    tld = domain.strip().strip(".>").rsplit(".", 1)[-1].lower()
    return tld if _TLD.fullmatch(tld) and "." in domain else None


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


# --- evidence -------------------------------------------------------------


@lru_cache(maxsize=64)
def single_byte(codec: str) -> bool:
    """True for codecs that map every byte to one character (Windows-125x, KOI8-R...)."""
    pairs = (b"\x88\x9f", b"\xb0\xa1", b"\xc3\xa9")
    try:
        return all(len(pair.decode(codec, "replace")) == 2 for pair in pairs)
    except (LookupError, ValueError, TypeError):
        return False


@lru_cache(maxsize=64)
def _latin_script(codec: str) -> bool:
    """True for single-byte codecs whose upper half is mostly Latin letters."""
    text = bytes(range(0xC0, 0x100)).decode(codec, "replace")
    latin = sum(1 for c in text if unicodedata.name(c, "").startswith("LATIN"))
    return latin >= 0.8 * len(text)


def _try(data: bytes, codec: str) -> str | None:
    """Strictly decode the judging slice (first :data:`SAMPLE` bytes); None if invalid."""
    try:
        if len(data) <= SAMPLE:
            return data.decode(codec)
        return codecs.getincrementaldecoder(codec)().decode(data[:SAMPLE], False)
    except (UnicodeDecodeError, LookupError):
        return None


def _full(data: bytes, codec: str, sample: str) -> str:
    """The whole text once a codec is chosen on the slice (same text when short)."""
    return sample if len(data) <= SAMPLE else data.decode(codec, "replace")


def _clean(text: str) -> bool:
    """True when a reading contains no control, private-use or replacement characters."""
    return _BAD.search(text) is None


def _glued(text: str) -> tuple[int, int]:
    """(8-bit runs, runs shaped like Latin accents) - accents sit inside ASCII words.

    A run is Latin-shaped when ASCII letters touch it on both sides ('Müller'),
    or when it is one character touching an ASCII letter ('Agnès' read as
    CP932 is 'Agn鑚': the accent swallowed the next letter).
    """
    runs = glued = 0
    for m in _NON_ASCII_RUN.finditer(text):
        runs += 1
        before = bool(m.start()) and _ASCII_LETTER.match(text[m.start() - 1]) is not None
        after = m.end() < len(text) and _ASCII_LETTER.match(text[m.end()]) is not None
        single = m.end() - m.start() == 1
        glued += (before and after) or (single and (before or after))
    return runs, glued


def _latin_shaped(text: str) -> bool:
    """True when every 8-bit run sits inside an ASCII word, as accented letters do."""
    runs, glued = _glued(text)
    return runs > 0 and glued == runs


def _cjk_shaped(text: str) -> bool:
    """True when a multi-byte reading is clean and not shaped like Latin accents."""
    runs, glued = _glued(text)
    return _clean(text) and glued * 10 <= runs


def _japanese_level(text: str, codec: str) -> int:
    """How Japanese a reading looks: 0 not, 1 only half-width kana, 2 weak, 3 strong."""
    others = _NON_ASCII.findall(text)
    if not others or not _clean(text) or not plausible_japanese(text) or not _cjk_shaped(text):
        return 0
    if len(_LONE_HALF_KANA.findall(text)) > len(others) // 50:
        return 0
    if 2 * len(_HALF_KANA.findall(text)) > len(others):
        return _LENIENT
    return _STRONG if _strong_japanese(text, codec) else _WEAK


def _strong_japanese(text: str, codec: str) -> bool:
    """Strong evidence: kana, or CP932 pairs whose lead byte no other CJK charset uses.

    Kana are rare by accident in any other charset.  CP932 lead bytes 0x81-0x9F
    are C1 controls or punctuation in the ISO-8859/Windows pages and outside
    the common ranges of GBK, Big5 and EUC-KR.  One or two such pairs prove
    nothing; three do.
    """
    others = _NON_ASCII.findall(text)
    kana = len(_KANA.findall(text))
    if kana >= 2 and kana * 10 >= len(others):
        return True
    if codec != "cp932":
        return False
    low_lead = 0
    for char in others[:200]:
        encoded = char.encode("cp932", "ignore")
        low_lead += len(encoded) == 2 and encoded[0] <= 0x9F
    return low_lead >= 3


class _Reading(NamedTuple):
    """One Japanese reading of the judging slice and how Japanese it looks."""

    text: str
    codec: str
    level: int


def _japanese(data: bytes) -> list[_Reading]:
    """The Japanese readings of 8-bit data (CP932, EUC-JP), most convincing first."""
    found: list[_Reading] = []
    for codec in ("cp932", "euc_jp", "euc_jis_2004"):
        if codec == "euc_jis_2004" and any(r.codec == "euc_jp" for r in found):
            break
        text = _try(data, codec)
        level = _japanese_level(text, codec) if text is not None else 0
        if text is not None and level:
            found.append(_Reading(text, codec, level))
    return sorted(found, key=lambda r: -r.level)


def _pick(readings: list[_Reading], level: int, prefer: str | None = None) -> _Reading | None:
    """The most Japanese reading of at least ``level``; of equal ones, the ``prefer`` codec's."""
    good = [r for r in readings if r.level >= level]
    best = [r for r in good if r.level == good[0].level] if good else []
    return next((r for r in best if r.codec == prefer), best[0] if best else None)


# --- UTF-8 ----------------------------------------------------------------


def _latin1_stray(exc: UnicodeError) -> tuple[str, int]:
    """Error handler: a lone 8-bit byte inside UTF-8 text is read as Windows-1252."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    data = exc.object
    byte = data[exc.start]
    follower = data[exc.start + 1] if exc.start + 1 < len(data) else 0
    if byte >= 0xA0 and not 0x80 <= follower <= 0xBF:
        return bytes([byte]).decode("cp1252"), exc.start + 1
    return "\ufffd", exc.start + 1


codecs.register_error("madoguchi-latin1-stray", _latin1_stray)


_C1 = re.compile("[\x80-\x9f]")
_C1_AS_CP1252 = {
    code: bytes([code]).decode("cp1252", "ignore") or chr(code) for code in range(0x80, 0xA0)
}


def _utf8(data: bytes, sample: str) -> str:
    """The whole UTF-8 text, its C1 controls read as the Windows-1252 they were.

    U+0080..U+009F in UTF-8 text are Windows-1252 bytes (€, “, ”) that passed
    through Latin-1 before being encoded; no mail means the control characters.
    """
    text = _full(data, "utf-8", sample)
    return text.translate(_C1_AS_CP1252) if _C1.search(text) else text


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 text with a few stray bytes (mixed encodings); None when it is not UTF-8."""
    sample = data[:SAMPLE]
    text = sample.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    good = len(_NON_ASCII.findall(text)) - bad
    if good < 4 or good < 4 * bad:
        return None
    return data.decode("utf-8", "madoguchi-latin1-stray")


# --- the decision order ---------------------------------------------------


def guess(data: bytes, hints: Hints = NO_HINTS) -> Guess:
    """Decide the charset of 8-bit data that has no trustworthy label.

    The order is documented in docs/mail/charsets.md; each step only looks at
    the first :data:`SAMPLE` bytes, so the cost is bounded.
    """
    text = _try(data, "utf-8")
    if text is not None:
        return Guess(_utf8(data, text), "utf-8", "valid UTF-8")
    mixed = _mostly_utf8(data)
    if mixed is not None:
        return Guess(mixed, "utf-8", "UTF-8 with stray 8-bit bytes")
    ja = _japanese(data)
    strong = _pick(ja, _STRONG)
    if strong is not None:
        return _reading(data, strong, "Japanese byte evidence")
    found = _by_hints(data, hints, ja)
    if found is None and hints.tld == "jp" and (weak := _pick(ja, _WEAK)) is not None:
        found = _reading(data, weak, "sender in .jp")
    return found or _detect(data, hints, ja) or _default(data)


def _reading(data: bytes, reading: _Reading, reason: str) -> Guess:
    """A Guess from a Japanese reading."""
    return Guess(_full(data, reading.codec, reading.text), reading.codec, reason)


def _by_hints(data: bytes, hints: Hints, ja: list[_Reading]) -> Guess | None:
    """The first charset declared elsewhere in the mail that reads the data cleanly."""
    reason = "charset declared elsewhere in the mail"
    for codec in hints.codecs:
        if codec in _JAPANESE:
            reading = _pick(ja, _LENIENT, codec)
            if reading is not None:
                return _reading(data, reading, reason)
            continue
        text = _acceptable(data, codec)
        if text is not None:
            return Guess(_full(data, codec, text), codec, reason)
    return None


def _acceptable(data: bytes, codec: str) -> str | None:
    """A strict, clean reading in a non-Japanese codec; None when the bytes disagree."""
    text = _try(data, codec)
    if text is None or not _clean(text):
        return None
    if not single_byte(codec) and not _cjk_shaped(text):
        return None
    return text


def _chardetng(sample: bytes, tld: str | None) -> str | None:
    """Ask chardetng (Firefox's detector) for the codec of a bounded slice."""
    detector = EncodingDetector()
    detector.feed(sample, last=True)
    name = detector.guess(tld=tld.encode("ascii") if tld else None, allow_utf8=False)
    return resolve(str(name))


def _detect(data: bytes, hints: Hints, ja: list[_Reading]) -> Guess | None:
    """The detector's reading, checked against the bytes; with the sender's TLD first."""
    tlds = [hints.tld, None] if hints.tld else [None]
    probe = data[:SAMPLE]
    if hints.sample and len(probe) < MAX_SAMPLE:
        probe += b"\n" + hints.sample
    for tld in tlds:
        codec = _chardetng(probe, tld)
        if codec is None:
            continue
        if codec in _JAPANESE:
            reading = _pick(ja, _WEAK, codec)
            if reading is not None:
                return _reading(data, reading, "detector")
            continue
        text = _acceptable(data, codec)
        if text is None:
            continue
        if _prefer_western(data, codec, tld):
            break
        return Guess(_full(data, codec, text), codec, "detector")
    return None


def _prefer_western(data: bytes, codec: str, tld: str | None) -> bool:
    """True when a short Latin reading should be Windows-1252 rather than another page.

    With a handful of 8-bit bytes the detector cannot tell Windows-1250 from
    Windows-1252 ('Hélène' vs 'Hélčne'); Western European names are the
    likelier, unless the sender's country says otherwise.
    """
    if codec == "cp1252" or not single_byte(codec) or not _latin_script(codec):
        return False
    if tld is not None and tld not in _GENERIC_TLDS:
        return False
    high = len(data[:SAMPLE].translate(None, bytes(range(0x80))))
    if high > _SHORT:
        return False
    western = _try(data, "cp1252")
    return western is not None and all(c in _WESTERN for c in _NON_ASCII.findall(western))


def _default(data: bytes) -> Guess:
    """Windows-1252, the last resort (Latin-1 for its five undefined bytes)."""
    try:
        return Guess(data.decode("cp1252"), "cp1252", "default")
    except UnicodeDecodeError:
        return Guess(data.decode("latin-1"), "latin-1", "default")


# --- ISO-2022-JP with Windows extensions ------------------------------------


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


# --- decoding with a label --------------------------------------------------


def _decode_iso2022(data: bytes, label: str, hints: Hints) -> tuple[str, Repair]:
    """Decode data labelled ISO-2022-JP, detecting 8-bit mislabelled data."""
    if not data.isascii():
        found = guess(data, hints.first("iso2022_jp"))
        return found.text, (f"8-bit data labelled {label}", found.repair)
    try:
        return data.decode("iso2022_jp"), None
    except UnicodeDecodeError:
        pass
    text = decode_iso2022jp_windows(data)
    return text, (f"undecodable {label.upper()}", "decoded as CP50220")


def _utf8_instead(data: bytes, codec: str) -> str | None:
    """UTF-8 text sent under a legacy label: valid UTF-8 with real multi-byte characters."""
    if data.isascii() or codec == "utf-8":
        return None
    text = _try(data, "utf-8")
    if text is None:
        return None
    if not single_byte(codec) and len(_NON_ASCII.findall(text)) < 4:
        return None
    return _utf8(data, text)


def _decode_ascii(data: bytes, label: str, hints: Hints) -> tuple[str, Repair]:
    """Data labelled US-ASCII: 8-bit bytes in it are guessed from the evidence."""
    if data.isascii():
        return data.decode("ascii"), None
    found = guess(data, hints)
    return found.text, (f"8-bit data labelled {label}", found.repair)


def _decode_known(data: bytes, codec: str, label: str, hints: Hints) -> tuple[str, Repair]:
    """Decode with a resolved codec, with fallbacks when the bytes disagree."""
    if codec == "ascii":
        return _decode_ascii(data, label, hints)
    utf8 = _utf8_instead(data, codec)
    if utf8 is not None:
        return utf8, (f"UTF-8 data labelled {label}", "decoded as utf-8")
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return _fallback(data, codec, label, hints)
    except Exception:  # noqa: BLE001 - exotic codecs may raise anything
        found = guess(data, hints.without(codec))
        return found.text, (f"codec {label} failed", found.repair)
    if not single_byte(codec) and _latin_shaped(text[:SAMPLE]):
        return _latin_in_cjk(data, text, codec, label, hints)
    return text, None


def _latin_in_cjk(
    data: bytes, text: str, codec: str, label: str, hints: Hints
) -> tuple[str, Repair]:
    """A multi-byte label on bytes shaped like accented Latin words ('M黮ler')."""
    found = guess(data, hints.without(codec))
    if single_byte(found.codec) and found.codec != "latin-1":
        return found.text, (f"Latin text labelled {label}", found.repair)
    return text, None


def _fallback(data: bytes, codec: str, label: str, hints: Hints) -> tuple[str, Repair]:
    """Handle bytes that are invalid in their declared codec."""
    if codec == "euc_jp":
        for alt in ("euc_jis_2004", "cp932"):
            try:
                return data.decode(alt), (f"bytes invalid in {label}", f"decoded as {alt}")
            except UnicodeDecodeError:
                continue
    if codec == "cp932" and data.isascii() and b"\x1b$" in data:
        return _decode_iso2022(data, "iso-2022-jp", hints)[0], (
            f"ISO-2022-JP labelled {label}",
            "decoded as CP50220",
        )
    if codec != "utf-8":
        strict = _try(data, "utf-8")
        utf8 = _utf8(data, strict) if strict is not None else _mostly_utf8(data)
        if utf8 is not None:
            return utf8, (f"UTF-8 data labelled {label}", "decoded as utf-8")
    text = data.decode(codec, "replace")
    bad = text.count("\ufffd")
    if bad * 20 <= len(_NON_ASCII.findall(text)) - bad:
        return text, (f"bytes invalid in {label}", f"replaced {bad} undecodable bytes")
    found = guess(data, hints.without(codec))
    return found.text, (f"bytes invalid in {label}", found.repair)


def decode(data: bytes, label: str | None, hints: Hints = NO_HINTS) -> tuple[str, Repair]:
    """Decode ``data`` declared as ``label`` (None = undeclared); never raises.

    ``hints`` carries the charsets the same mail declares elsewhere, for
    8-bit data without a trustworthy label.  Returns the text and, when
    something had to be repaired, a ``(problem, repair)`` pair describing it.
    """
    try:
        return _decode(data, label, hints)
    except Exception:  # noqa: BLE001 - last resort, decoding must not fail
        return data.decode("latin-1"), (f"decoding as {label} crashed", "decoded as latin-1")


def _decode(data: bytes, label: str | None, hints: Hints) -> tuple[str, Repair]:
    """Implementation of :func:`decode`."""
    if label is None or not label.strip():
        if data.isascii():
            if b"\x1b$" in data:
                return _decode_iso2022(data, "iso-2022-jp", hints)[0], None
            return data.decode("ascii"), None
        found = guess(data, hints)
        return found.text, ("8-bit data without charset", found.repair)
    codec = resolve(label)
    if codec is None:
        return _decode_unknown(data, label, hints)
    if codec == "iso2022_jp":
        return _decode_iso2022(data, label, hints)
    text, repair = _decode_known(data, codec, label, hints)
    if repair is None and not _standard_label(label):
        repair = (f"unknown charset {label!r}", f"mapped to {codec}")
    return text, repair


def _decode_unknown(data: bytes, label: str, hints: Hints) -> tuple[str, Repair]:
    """Decode data whose charset label no codec knows (x-unknown, typos)."""
    if data.isascii() and b"\x1b$" not in data:
        return data.decode("ascii"), None
    if data.isascii():
        text = _decode_iso2022(data, "iso-2022-jp", hints)[0]
        return text, (f"unknown charset {label!r}", "decoded as ISO-2022-JP")
    found = guess(data, hints)
    return found.text, (f"unknown charset {label!r}", found.repair)


@lru_cache(maxsize=256)
def _standard_label(label: str) -> bool:
    """True when Python itself knows the label (so no alias repair was needed)."""
    try:
        codecs.lookup(label.strip().strip('"').strip("'"))
    except (LookupError, ValueError):
        return False
    return True
