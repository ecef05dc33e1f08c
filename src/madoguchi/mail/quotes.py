"""Extract the new text of a reply: drop quoted history, footers and the signature.

The text is read once, top to bottom, and split into blocks of new text (N) and
quoted history (Q).  History starts at the first of:

* ``>`` / ``＞`` quoting, or an attribution directly above a quote;
* an attribution ("On … wrote:", "Am … schrieb …:", "Le … a écrit :",
  "2026年12月2日(水) 10:00 山田太郎 <a@b>:", "2026/12/02 10:00、山田様のメッセージ:",
  "---- On … wrote ----", also wrapped over up to four lines);
* an "-----Original Message-----" rule ("----- 元のメッセージ -----", …);
* an Outlook header block (From:/Sent:/To:/Subject:, 差出人:/送信日時:/宛先:/件名:, …),
  together with the ``____`` rule above it.

New text written between quoted blocks (an interleaved answer) keeps the mail
whole; a reply written only below a quote (bottom-posting) keeps what is below.
A forward ("---------- Forwarded message ---------", "Begin forwarded message:",
転送メッセージ, an Outlook block with "Subject: FW: …") keeps the forwarded text:
it is the content.  The new text ends at the "-- " signature delimiter
(RFC 3676 section 4.3), a mobile footer ("Sent from my iPhone", 「iPhoneから送信」)
or a mailing-list footer.  See docs/mail/reply-text.md.

Every step looks at a bounded number of lines of bounded length, so the cost is
linear in the size of the mail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_LINES = 5000  # lines read for history; a longer mail without any is kept whole
MAX_LINE = 1000  # longer lines are never markers
_LOOKAHEAD = 4  # an attribution spans at most this many lines
_ATTRIBUTION_CHARS = 600  # … and this many characters
_BLOCK_SPAN = 12  # a header block spans at most this many lines

_QUOTED = re.compile(r"[ \t]*+[>＞]")
_CLOSING = re.compile(r"[ \t]*+>[ \t]*+[:：][ \t]*+")  # the end of a wrapped "<address\n>:"
_DECOR = " \t-*_=—–"
_RULE_CHARS = frozenset("-_=*—–~#━─")
_ON = re.compile(
    r"(?:on|le|am|el|il|op|em|den|på|dne|dnia|w dniu|in data|il giorno|在)\s", re.IGNORECASE
)
_WROTE = (  # "wrote" in many languages, lower case
    "wrote", "writes", "a écrit", "a ecrit", "schrieb", "schreef", "escribió", "escribio",
    "ha escri", "ha scritto", "scrisse", "escreveu", "skrev", "skriver", "kirjoitti", "napisał",
    "napisal", "pisze", "írta", "napsal", "написал", "написав", "пише", "写道", "寫道", "작성",
    "のメッセージ", "書きました", "書き込みました", "yazdı", "έγραψε",
)  # fmt: skip
_WROTE_TAIL = re.compile(r"(?:wrote|a\sécrit|schrieb|escribió|skrev|napisał)\W*$", re.IGNORECASE)
_DATED = re.compile(
    r"\d[:.時]\d\d|\d{1,4}[-/.] ?\d{1,2}[-/.] ?\d{1,4}|\d\s*年|\d\s*月\s*\d{1,2}\s*日"
)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_DAY = re.compile(r"(?<!\d)\d{1,2}(?!\d)")
_ADDRESS = re.compile(r"[\w.+-]@[\w-]")
_ADDR_END = re.compile(r"(?:@[\w.-]+|<[^<>@]*>)[\s>)\]]*[:：]$")
_ORIGINAL = re.compile(
    r"original(?: message| e-?mail)?|message d['’]origine|ursprüngliche nachricht|"
    r"oprindelig (?:besked|meddelelse)|oorspronkelijk bericht|mensaje original|"
    r"messaggio originale|mensagem original|alkuperäinen viesti|opprinnelig melding|"
    r"ursprungligt meddelande|wiadomość oryginalna|původní zpráva|исходное сообщение|"
    r"原始邮件|元のメッセージ|元のメール|オリジナル ?メッセージ|reply message|返信元",
    re.IGNORECASE,
)
_FORWARD_RULE = re.compile(
    r"forwarded (?:message|e-?mail)|weitergeleitete nachricht|message transf[ée]r[ée]|"
    r"mensaje reenviado|messaggio inoltrato|mensagem encaminhada|doorgestuurd bericht|"
    r"vidarebefordrat meddelande|videresendt (?:besked|meddelelse|melding)|välitetty viesti|"
    r"przekazana wiadomość|пересылаемое сообщение|転送メッセージ|転送されたメッセージ|"
    r"転送メール|转发邮件",
    re.IGNORECASE,
)
_FORWARD_INTRO = re.compile(
    r"(?:begin forwarded message|anfang der weitergeleiteten nachricht|"
    r"début du message réexpédié|inicio del mensaje reenviado|inizio messaggio inoltrato|"
    r"início da mensagem reencaminhada|doorgestuurd bericht|転送されたメッセージ)\s*[:：]",
    re.IGNORECASE,
)
_FROM_NAMES = (
    "from|von|de|da|van|fra|från|od|от|lähettäjä|kimden|feladó|差出人|送信者|送信元|发件人|寄件者|"
    "보낸 사람"
)
_OTHER_NAMES = (
    "sent|date|to|cc|bcc|subject|reply-to|gesendet|datum|an|betreff|envoyé le|envoyé|à|a|objet|"
    "copie à|sujet|message du|enviado|enviada|fecha|data|para|asunto|assunto|inviato|oggetto|"
    "verzonden|aan|onderwerp|sendt|dato|til|emne|skickat|till|ämne|wysłano|do|temat|dw|"
    "отправлено|дата|кому|тема|копия|lähetetty|vastaanottaja|aihe|päivämäärä|gönderildi|kime|"
    "konu|tarih|elküldve|címzett|tárgy|dátum|odesláno|komu|předmět|送信日時|送信日|日時|日付|宛先|"
    "件名|送信済み|发送时间|收件人|主题|抄送|寄件日期|收件者|主旨|副本|보낸 날짜|받는 사람|제목"
)
_HEADER = re.compile(
    rf"[ \t]*+(?:\*[ \t]*+)?({_FROM_NAMES}|{_OTHER_NAMES})"
    r"[ \t\u00a0\u202f]*+(?:\*[ \t\u00a0\u202f]*+)?[:：]",
    re.IGNORECASE,
)
_FROM_SET = frozenset(_FROM_NAMES.split("|"))
_SUBJECT_NAMES = (
    "subject|betreff|objet|sujet|asunto|assunto|oggetto|onderwerp|emne|ämne|temat|тема|aihe|konu|"
    "tárgy|předmět|件名|主题|主旨|제목"
)
_SUBJECT_SET = frozenset(_SUBJECT_NAMES.split("|"))
_FW_SUBJECT = re.compile(r"[ \t*]*+(?:fwd?|wg|tr|rv|vs|enc|doorst|転送|转发)[ \t]*+[:：]", re.I)
_FOOTER = re.compile(
    r"(?:(?i:sent (?:from|with|via)) (?:(?i:my) |[A-Z]|i[A-Z])[\w .&'’-]{1,40}"
    r"|(?i:get outlook for) \w+|(?i:outlook for) \w+ ?を入手"
    r"|(?i:envoy[ée] (?:de|depuis|à partir de|avec)) [\w .'’-]{2,40}"
    r"|(?i:gesendet (?:von|mit)) [\w .'’-]{2,40}|(?i:von meinem) [\w .'’-]{2,30} (?i:gesendet)"
    r"|(?i:enviado (?:desde|do|de|con|com|a partir do)) [\w .'’-]{2,40}"
    r"|(?i:inviato da) [\w .'’-]{2,40}|(?i:verzonden (?:vanaf|met|van)) [\w .'’-]{2,40}"
    r"|(?i:skickat från) [\w .'’-]{2,40}|(?i:sendt fra) [\w .'’-]{2,40}"
    r"|(?i:wysłane z) [\w .'’-]{2,40}|(?i:отправлено (?:с|из)) [\w .'’-]{2,40}"
    r")[ \t]*(?:<[^<>\s]{0,300}>)?[ \t]*\.?"
)
_FOOTER_JA = re.compile(  # 「iPhoneから送信」, 「docomoのスマートフォンから送信」, 「au携帯から」
    r"[\w !.'’-]{0,20}(?:iPhone|iPad|Android|Galaxy|Xperia|AQUOS|arrows|スマートフォン|スマホ|"
    r"携帯|タブレット|モバイル|Outlook|Gmail|Yahoo!メール|ドコモメール|auメール)[\w !.'’-]{0,10}"
    r"から(?:送信(?:されました)?)?"
)
_LIST_FOOTER = re.compile(r"mailing list|メーリングリスト|mailinglist", re.IGNORECASE)


@dataclass
class _Block:
    """A run of new text ("N") or quoted history ("Q"): first and last line index."""

    kind: str
    start: int
    end: int


@dataclass
class _Scan:
    """The blocks before the history, and why the scan stopped."""

    blocks: list[_Block] = field(default_factory=list)
    stop: int = 0
    why: str = "end"  # "end", "history", "forward" or "tail" (signature/footer)


def _clean(line: str) -> str:
    """A line without surrounding blanks and decoration (dashes, stars, rules)."""
    return line.strip().strip(_DECOR).strip()


def _is_blank(line: str) -> bool:
    """True for an empty or whitespace-only line."""
    return not line.strip()


def _is_quoted(line: str) -> bool:
    """True for a '>'-quoted line."""
    return _QUOTED.match(line) is not None


def _is_rule(line: str) -> bool:
    """True for a separator line such as ``____`` or ``-----`` (at least four marks)."""
    stripped = line.strip()
    return len(stripped) >= 4 and set(stripped) <= _RULE_CHARS


def _is_signature(line: str) -> bool:
    """True for the "-- " signature delimiter (also without its trailing space)."""
    return line.rstrip() == "--"


def _is_dated(text: str) -> bool:
    """True when text carries a time or a full date."""
    if _DATED.search(text):
        return True
    year = _YEAR.search(text)
    return year is not None and _DAY.search(text[: year.start()] + text[year.end() :]) is not None


def _has_wrote(chunk: str) -> bool:
    """True when the end of chunk has a "wrote" word of some language."""
    tail = chunk[-200:].lower().replace("\u00a0", " ")
    return any(word in tail for word in _WROTE)


def _classify(chunk: str, starts_on: bool) -> bool | None:
    """Is chunk an attribution? True: certainly; False: only above a quote; None: no."""
    if not chunk.endswith((":", "：")):
        if not starts_on or _WROTE_TAIL.search(chunk[-40:]) is None:  # "On … wrote" (zoho)
            return None
        return _is_dated(chunk) or _ADDRESS.search(chunk) is not None or None
    if _has_wrote(chunk):
        return _is_dated(chunk) or _ADDRESS.search(chunk) is not None
    if not _is_dated(chunk):
        return None
    if _ADDR_END.search(chunk[-200:]):
        return True
    return False if starts_on else None


def _opens(line: str) -> bool:
    """True when line can open a wrapped attribution ("On …", "Am …", a date)."""
    first = _clean(line)
    return _ON.match(first) is not None or _is_dated(first)


def _attribution(lines: list[str], i: int) -> tuple[int, bool] | None:
    """If an attribution starts at line i: (its last line, certain?)."""
    first = _clean(lines[i])
    if not first or len(lines[i]) > _ATTRIBUTION_CHARS:
        return None
    starts_on = _ON.match(first) is not None
    wraps = starts_on or _is_dated(first)
    parts: list[str] = []
    size = 0
    for j in range(i, min(i + _LOOKAHEAD, len(lines))):
        line = lines[j]
        size += len(line)
        if j > i and (not wraps or _is_blank(line) or size > _ATTRIBUTION_CHARS):
            break
        closing = _CLOSING.fullmatch(line) is not None
        if j > i and _is_quoted(line) and not closing:
            break
        parts.append(first if j == i else _clean(line))
        if not starts_on and not parts[-1].endswith((":", "：")):
            continue  # only "On … wrote" (zoho) may end without a colon
        chunk = " ".join(parts).replace("< ", "<").replace(" >", ">")
        certain = _classify(chunk, starts_on)
        if certain is not None:
            undated = j > i and not _is_dated(first)  # "Am heutigen Tage" above "Am 1.1. …"
            later = _attribution(lines, i + 1) if undated and _opens(lines[i + 1]) else None
            return None if later is not None and later[0] == j else (j, certain)
    return None


def _quote_follows(lines: list[str], j: int) -> bool:
    """True when the first non-blank line after line j is quoted."""
    for k in range(j + 1, len(lines)):
        if not _is_blank(lines[k]):
            return _is_quoted(lines[k])
    return False


def _header_block(lines: list[str], i: int) -> tuple[int, bool] | None:
    """If an Outlook-style header block starts at line i: (its last line, a forward?)."""
    if len(lines[i]) > MAX_LINE or not _HEADER.match(lines[i]):
        return None
    froms = others = loose = 0
    end, forward = i, False
    for j in range(i, min(i + _BLOCK_SPAN, len(lines))):
        line = lines[j]
        match = _HEADER.match(line) if len(line) <= MAX_LINE else None
        if _is_blank(line) or (match is None and loose >= 2):
            break
        if match is None:
            loose += 1
            continue
        name = match.group(1).lower()
        froms += name in _FROM_SET
        others += name not in _FROM_SET
        forward |= name in _SUBJECT_SET and _FW_SUBJECT.match(line, match.end()) is not None
        end, loose = j, 0
    return (end, forward) if froms and others >= 2 else None


def _separator(line: str) -> str | None:
    """'original' or 'forward' for a "-----Original Message-----" style rule or intro."""
    stripped = line.strip()
    if len(stripped) > 120:
        return None
    if _FORWARD_INTRO.match(stripped):
        return "forward"
    if len(stripped) < 2 or not set(stripped[:2]) <= _RULE_CHARS:
        return None
    inner = _clean(stripped)
    if _ORIGINAL.fullmatch(inner):
        return "original"
    if _FORWARD_RULE.fullmatch(inner) or _FORWARD_INTRO.match(inner):
        return "forward"
    return None


def _is_footer(lines: list[str], i: int) -> bool:
    """A mobile footer ("Sent from my iPhone") or a mailing-list footer starts at line i."""
    stripped = lines[i].strip()
    if len(stripped) <= 400 and (_FOOTER.fullmatch(stripped) or _FOOTER_JA.fullmatch(stripped)):
        return True
    if len(stripped) >= 2 and set(stripped) == {"_"}:
        for k in range(i + 1, min(i + 3, len(lines))):
            if _LIST_FOOTER.search(lines[k][:200]):
                return True
    return False


def _marker(lines: list[str], i: int, has_new: bool) -> tuple[str, int]:
    """Classify the unquoted, non-blank line i: (kind, last line of the marker).

    Kinds: "text", "tail" (signature/footer), "forward", "history", "quote" (an
    attribution directly above a quote) and "top" (a header block above any new text).
    """
    line = lines[i]
    if _is_signature(line) or _is_footer(lines, i):
        return "tail", i
    sep = _separator(line) if len(line) <= MAX_LINE else None
    if sep is not None:
        block = _header_block(lines, i + 1) if i + 1 < len(lines) else None
        return ("forward" if sep == "forward" or (block and block[1]) else "history"), i
    block = _header_block(lines, i)
    if block is not None:
        if block[1] or has_new:
            return ("forward" if block[1] else "history"), i
        return "top", block[0]
    return _attribution_kind(lines, i)


def _attribution_kind(lines: list[str], i: int) -> tuple[str, int]:
    """("quote", end) above a quote, ("history", i) for a certain attribution, else text."""
    attribution = _attribution(lines, i)
    if attribution is not None:
        end, certain = attribution
        if _quote_follows(lines, end):
            return "quote", end
        if certain:
            return "history", i
    return "text", i


def _is_continuation(lines: list[str], i: int) -> bool:
    """An unquoted line that continues a wrapped quoted line (bad wrapping, raw QP)."""
    prev = lines[i - 1].rstrip() if i else ""
    if not _is_quoted(prev):
        return False
    current = lines[i].strip()
    if prev.endswith("="):  # a quoted-printable soft line break left in the text
        return True
    return len(prev) >= 50 and (current[:1].islower() or len(current) <= 3)


def _add(blocks: list[_Block], kind: str, start: int, end: int) -> None:
    """Append lines start..end to the last block, or open a new block."""
    if blocks and blocks[-1].kind == kind:
        blocks[-1].end = end
    else:
        blocks.append(_Block(kind, start, end))


def _scan(lines: list[str]) -> _Scan:
    """Split lines into new-text and quoted blocks until history, a forward or a footer."""
    scan = _Scan()
    i, has_new = 0, False
    while i < len(lines):
        line = lines[i]
        if _is_blank(line):
            i += 1
            continue
        if _is_quoted(line) or _is_continuation(lines, i):
            _add(scan.blocks, "Q", i, i)
            i += 1
            continue
        kind, end = _marker(lines, i, has_new)
        if kind == "text":
            _add(scan.blocks, "N", i, end)
            has_new = True
        elif kind == "quote":
            _add(scan.blocks, "Q", i, end)
        elif kind != "top":  # "top": the mail's own header above its text, not new text
            scan.stop, scan.why = i, kind
            return scan
        i = end + 1
    scan.stop = len(lines)
    return scan


def _forward_after(lines: list[str], start: int) -> int | None:
    """Below a signature or footer: the line of a forward marker, if history starts there."""
    for i in range(start, len(lines)):
        line = lines[i]
        if _is_blank(line) or _is_signature(line):
            continue
        if _is_quoted(line):
            return None
        kind, _ = _marker(lines, i, True)
        if kind == "forward":
            return i
        if kind in ("history", "quote"):
            return None
    return None


def _trim(lines: list[str], blocks: list[_Block]) -> list[_Block]:
    """Drop trailing quoted blocks and trailing separator rules."""
    blocks = [_Block(b.kind, b.start, b.end) for b in blocks]
    while blocks:
        last = blocks[-1]
        if last.kind == "Q":
            blocks.pop()
            continue
        while last.end >= last.start and (_is_blank(lines[last.end]) or _is_rule(lines[last.end])):
            last.end -= 1
        if last.end >= last.start:
            break
        blocks.pop()
    return blocks


def _rule_above(lines: list[str], i: int) -> int:
    """Line i, or the separator rule (``____``) just above it."""
    j = i - 1
    while j >= 0 and _is_blank(lines[j]):
        j -= 1
    return j if j >= 0 and _is_rule(lines[j]) else i


def _kept(lines: list[str], scan: _Scan) -> str:
    """The new text: the only block, the text below a quote, or the interleaved whole.

    Unquoted text between a quote and more history (an attribution, a header
    block) is the older mail's own text, not an answer.
    """
    blocks = scan.blocks
    if scan.why == "history":
        quotes = [k for k, block in enumerate(blocks) if block.kind == "Q"]
        blocks = blocks[: quotes[0]] if quotes and quotes[0] else blocks
    blocks = _trim(lines, blocks)
    if not blocks:
        return ""
    if len(blocks) == 2 and blocks[0].kind == "Q":
        blocks = blocks[1:]
    return _join(lines[blocks[0].start : blocks[-1].end + 1])


def _join(lines: list[str]) -> str:
    """Join lines without trailing blanks."""
    return "\n".join(line.rstrip() for line in lines).strip()


def _split(text: str) -> list[str]:
    """Lines of a text, whatever its line ends."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _reply(lines: list[str]) -> str:
    """The new text of a mail given as lines (the first MAX_LINES of it)."""
    head = lines[:MAX_LINES]
    scan = _scan(head)
    forward = scan.stop if scan.why == "forward" else None
    if scan.why == "tail":
        forward = _forward_after(head, scan.stop + 1)
    new = _kept(head, scan)
    if forward is not None:
        return (new + "\n\n" + _join(lines[_rule_above(lines, forward) :])).strip()
    if scan.why == "end" and len(lines) > MAX_LINES and all(b.kind == "N" for b in scan.blocks):
        return _join(lines)
    return new


def is_forward(text: str) -> bool:
    """True when the history of a mail starts with a forwarded message."""
    try:
        lines = _split(text)[:MAX_LINES]
        scan = _scan(lines)
        if scan.why == "tail":
            return _forward_after(lines, scan.stop + 1) is not None
        return scan.why == "forward"
    except Exception:  # noqa: BLE001 - never fail a parse over reply detection
        return False


def reply_text(text: str) -> str:
    """Return only the new text of a mail body; never raises, never empty for a non-empty mail."""
    try:
        return _reply(_split(text)) or text.strip()
    except Exception:  # noqa: BLE001 - never fail a parse over reply detection
        return text.strip()
