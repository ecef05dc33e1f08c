"""Extract the new text of a reply: drop quoted history and the signature.

Recognises the quoting of common English and Japanese mail programs:
``>`` quoting (RFC 3676 style), "On ... wrote:" attributions (also wrapped
over two or three lines), "-----Original Message-----", Outlook header
blocks (From:/Sent:/To:/Subject: and 差出人:/送信日時:/宛先:/件名:),
Gmail-JP "2024年1月1日(月) 10:00 山田 <…>:", Thunderbird-JP
"… さんは書きました:", and signatures after the "-- " delimiter
(RFC 3676 section 4.3).  Inline (interleaved) replies are kept whole.
"""

from __future__ import annotations

import re

MAX_LINES = 20000
_QUOTED = re.compile(r"^\s*>")
_ON = re.compile(r"^\s*(on|le|am|el|il|op|em|den|på|w dniu|dne)\s", re.IGNORECASE)
_ON_WROTE = re.compile(
    r"^\s*(on|le|am|el|il|op|em|den|på|w dniu|dne)\s.{0,400}"
    r"(wrote|writes|a écrit|schrieb|escribió|ha scritto|schreef|skrev|napisał|escreveu|kirjoitti)"
    r"\s*[:：]?\s*$",
    re.IGNORECASE,
)
_WROTE_END = re.compile(
    r"(wrote|writes|a écrit|schrieb|escribió|ha scritto|schreef|skrev|napisał|escreveu|"
    r"написал|написала|さんは書きました|さんが書きました|は書きました|が書きました|書きました|"
    r"wrote on .{0,80})\s*[:：]\s*$",
    re.IGNORECASE,
)
_ORIGINAL = re.compile(
    r"^\s*[-=_*]{2,}\s*(original message|original|ursprüngliche nachricht|message d'origine|"
    r"mensaje original|messaggio originale|oorspronkelijk bericht|元のメッセージ|"
    r"オリジナル\s*メッセージ|元のメール|reply message)\s*[-=_*]{2,}\s*$",
    re.IGNORECASE,
)
_HDR_FROM = re.compile(
    r"^\s*\*?(from|差出人|送信者|送信元|von|de|da|van|от|från|fra|od)\s*\*?\s*[:：]", re.IGNORECASE
)
_HDR_OTHER = re.compile(
    r"^\s*\*?(sent|date|to|subject|cc|送信日時|送信日|日時|日付|宛先|件名|cc|gesendet|datum|an|"
    r"betreff|envoyé|à|objet|enviado|para|asunto|inviato|oggetto|отправлено|кому|тема|дата|"
    r"skickat|till|ämne)\s*\*?\s*[:：]",
    re.IGNORECASE,
)
_JA_DATE = re.compile(r"^\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日.{0,60}\d{1,2}[:：]\d{2}")
_DATED_ADDR = re.compile(r"\d{1,2}:\d{2}.{0,200}@[\w.-]+.{0,40}[:：]\s*$")
_TIME = re.compile(r"\d{1,2}:\d{2}")
_RULE = re.compile(r"^\s*[-_=]{8,}\s*$")
_SIG = re.compile(r"^--\s?$")


def _ends_colon(line: str) -> bool:
    """True when a line ends with an ASCII or full-width colon."""
    return line.rstrip().endswith((":", "："))


def _attribution_at(lines: list[str], i: int) -> int | None:
    """If an attribution ends or starts at line i, return its first line."""
    line = lines[i]
    colon = _ends_colon(line)
    if (colon and _WROTE_END.search(line)) or ("wrote" in line and _ON_WROTE.match(line)):
        for back in (1, 2):
            if i - back >= 0 and lines[i - back].strip() and _ON.match(lines[i - back]):
                return i - back
        return i
    if _ON.match(line):
        joined = " ".join(lines[i : i + 3])
        if _ON_WROTE.match(joined) and _WROTE_END.search(joined):
            return i
    return i if _dated_attribution(lines, i, colon) else None


def _dated_attribution(lines: list[str], i: int, colon: bool) -> bool:
    """Date-first attributions: Gmail-JP '2024年1月1日(月) 10:00 山田 <…>:' and kin."""
    line = lines[i]
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    if "年" in line and _JA_DATE.match(line) and (colon or _ends_colon(nxt)):
        return True
    if colon and "@" in line and _DATED_ADDR.search(line):
        return True
    if _TIME.search(line) and _ends_colon(nxt) and len(nxt) < 120:
        return ("@" in line or "@" in nxt) and bool(_DATED_ADDR.search(line + " " + nxt))
    return False


def _header_block_at(lines: list[str], i: int) -> bool:
    """True when an Outlook-style header block (From:/Sent:/To:) starts at line i."""
    if not _HDR_FROM.match(lines[i]):
        return False
    following = [ln for ln in lines[i + 1 : i + 7] if ln.strip()][:4]
    return sum(1 for ln in following if _HDR_OTHER.match(ln)) >= 2


def _with_rule_above(lines: list[str], i: int) -> int:
    """Include a separator rule (____ or ----) directly above line i."""
    j = i - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    return j if j >= 0 and _RULE.match(lines[j]) else i


def _is_inline_reply(lines: list[str], start: int) -> bool:
    """True when unquoted text is followed by more quoting after ``start``."""
    seen_text = False
    for line in lines[start:]:
        if _QUOTED.match(line):
            if seen_text:
                return True
        elif line.strip():
            if _SIG.match(line):
                return False
            seen_text = True
    return False


def _find_cut(lines: list[str]) -> int | None:
    """Index of the first line of quoted history, or None if there is none."""
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if _QUOTED.match(line):
            return None if _is_inline_reply(lines, i) else i
        if _ORIGINAL.match(line):
            return i
        if _header_block_at(lines, i):
            return _with_rule_above(lines, i)
        start = _attribution_at(lines, i)
        if start is not None:
            return start
    return None


def _bottom_posted(lines: list[str], cut: int) -> str:
    """New text written below the quote (bottom-posting), without the quote."""
    rest = lines[cut + 1 :] if not _QUOTED.match(lines[cut]) else lines[cut:]
    kept = [ln for ln in rest if not _QUOTED.match(ln)]
    return "\n".join(ln.rstrip() for ln in strip_signature(kept)).strip()


def strip_signature(lines: list[str]) -> list[str]:
    """Drop everything from the last "-- " signature delimiter on."""
    for i in range(len(lines) - 1, -1, -1):
        if _SIG.match(lines[i]):
            return lines[:i]
    return lines


def reply_text(text: str) -> str:
    """Return only the new text of a mail body; never raises."""
    try:
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        head, tail = lines[:MAX_LINES], lines[MAX_LINES:]
        cut = _find_cut(head)
        kept = head[:cut] if cut is not None else head + tail
        result = "\n".join(line.rstrip() for line in strip_signature(kept)).strip()
        if not result and cut is not None:
            result = _bottom_posted(head, cut)
        return result or text.strip()
    except Exception:  # noqa: BLE001 - never fail a parse over reply detection
        return text.strip()
