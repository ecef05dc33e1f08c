"""Convert mail HTML to plain text, optionally marking the quoted history.

Used when a mail has no text/plain part.  In ``reply_only`` mode the quoting
markup of common mail programs becomes ``>`` quoting, so that
:func:`madoguchi.mail.quotes.reply_text` can tell new text from history the
same way as for plain-text mail (interleaved answers included):
``<blockquote>`` (Apple Mail, Thunderbird ``type=cite``, Gmail), Yahoo's
``yahoo_quoted``, Thunderbird's ``moz-cite-prefix``, Gmail's ``gmail_attr`` and
the start of Gmail's ``gmail_quote`` up to its first quote (older Gmail put the
attribution there; answers typed between its quotes stay new text).
Everything after Outlook's ``divRplyFwdMsg`` / ``appendonsend`` /
``OLK_SRC_BODY_SECTION`` markers, its ``border-top`` header separator or
Windows Live's ``stopSpelling`` rule is dropped, and Gmail's HTML signature
gets the "-- " delimiter its plain-text part has.

The markup is read by a small tokenizer (tags, end tags, comments,
declarations, raw script/style text, character references) that finds every
delimiter with one forward search, so hostile input (a megabyte of unclosed
tags or of ``<!--``) costs linear time; ``html.parser`` is quadratic on some of
it.  Pure standard library.
"""

from __future__ import annotations

import re
from contextlib import suppress
from html import unescape

_VOID = {"br", "img", "hr", "meta", "link", "input", "col", "area", "base", "wbr", "source"}
_BLOCK = {
    "p",
    "div",
    "tr",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "dl",
    "dt",
    "dd",
    "address",
    "center",
    "section",
    "article",
    "header",
    "footer",
    "form",
    "tbody",
    "thead",
}
_HIDDEN = {"script", "style", "head", "title", "noscript", "template", "xml"}
_TRACKED = _BLOCK | _HIDDEN | {"pre"}  # other elements carry no state: never stacked
_STATEFUL = _TRACKED | {"br", "hr", "blockquote"}
_QUOTE_CLASS = re.compile(r"yahoo_quoted|moz-cite-prefix|gmail_attr")
_SIGNATURE_CLASS = "gmail_signature"
_CONTAINER_CLASS = "gmail_quote"
_STOP_ID = re.compile(r"divrplyfwdmsg|appendonsend|olk_src_body_section|stopspelling", re.I)
_PLAIN = (False, False, False)
_MAX_PREFIX = 5  # '> ' marks per line at most, however deep the quoting
_OUTLOOK_BORDER = re.compile(
    r"border-top:\s*(?:solid\s+#(?:b5c4df|e1e1e1)|1(?:\.0)?(?:pt|px)\s+solid\s+"
    r"(?:#(?:b5c4df|e1e1e1)|rgb\(\s*225,\s*225,\s*225\s*\)))",
    re.IGNORECASE,
)
_SPACES = re.compile(r"[ \t\r\n\f\u00a0]+")
_BLANKS = re.compile(r"\n{3,}")
_TOKEN = re.compile(r"<(?:(/?)([a-zA-Z][^\t\n\f\r />]*)([^>]*)>|(!--)|[!?][^>]*>)")
_ATTR = re.compile(r"([^\t\n\f\r />=][^\t\n\f\r />=]*)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'>]*))?")
_OPEN_QUOTE = re.compile(r"=\s*([\"'])")
_MAX_QUOTED = 8  # quoted attribute values holding a '>' that one tag may have
_RAW_END = {
    "script": re.compile(r"</script[\s/>]", re.IGNORECASE),
    "style": re.compile(r"</style[\s/>]", re.IGNORECASE),
}

Attrs = list[tuple[str, str | None]]


class _Converter:
    """Streaming HTML-to-text converter with optional quote marking."""

    def __init__(self, reply_only: bool) -> None:
        self.reply_only = reply_only
        self.out: list[str] = []
        self.depths: list[int] = []
        self.stack: list[tuple[str, bool]] = []
        self.containers: list[int] = []  # stack sizes of gmail_quote divs still quoting
        self.open: dict[str, int] = {}
        self.skip_at: int | None = None
        self.stopped = False
        self.pre = 0
        self.depth = 0
        self.trail = 0  # line breaks at the end of the output, ignoring spaces
        self.last = ""  # the last text emitted that is not only blanks

    def _classify(self, tag: str, attrs: Attrs) -> tuple[bool, bool, bool]:
        """Return (quoted subtree, stop here, signature) for an element in reply mode."""
        if not self.reply_only or (not attrs and tag != "blockquote"):
            return _PLAIN
        ident = cls = style = ""
        for name, value in attrs:
            if name == "id":
                ident = (value or "")[:200]
            elif name == "class":
                cls = (value or "")[:500]
            elif name == "style":
                style = (value or "")[:2000]
        if _STOP_ID.search(ident) or (tag == "div" and _OUTLOOK_BORDER.search(style)):
            return False, True, False
        quoted = tag == "blockquote" or _QUOTE_CLASS.search(cls) is not None
        if tag == "div" and _CONTAINER_CLASS in cls.split():
            self.containers.append(len(self.stack) + 1)
            quoted = True
        return quoted, False, _SIGNATURE_CLASS in cls.split()

    def _emit(self, text: str) -> None:
        """Append text at the current quote depth and track trailing line breaks."""
        self.out.append(text)
        self.depths.append(self.depth)
        body = text.rstrip(" ")
        if not body:
            return
        content = body.rstrip("\n")
        if content.strip():
            self.last = content
        breaks = len(body) - len(content)
        self.trail = breaks if content else self.trail + breaks

    def handle_starttag(self, tag: str, attrs: Attrs) -> None:
        """Track structure, hidden and quoted subtrees, and block breaks."""
        if self.stopped:
            return
        quoted = signature = False
        inside = bool(self.containers)  # a gmail_quote div that still quotes is open
        if self.reply_only and (attrs or tag == "blockquote"):
            quoted, stop, signature = self._classify(tag, attrs)
            if stop:
                self.stopped = True
                return
        if tag in _VOID:
            if self.skip_at is None and tag in ("br", "hr"):
                self._emit("\n")
            return
        if tag not in _TRACKED and not quoted and not signature:
            return
        if quoted and inside:
            if tag == "blockquote":
                self._end_container_quote()
            else:
                quoted = False  # already quoted by the gmail_quote around it
        self._push(tag, quoted, signature)

    def _push(self, tag: str, quoted: bool, signature: bool) -> None:
        """Open an element that carries state; emit its line breaks."""
        self.stack.append((tag, quoted))
        self.open[tag] = self.open.get(tag, 0) + 1
        self.depth += quoted
        if tag == "pre":
            self.pre += 1
        if self.skip_at is not None:
            return
        if tag in _HIDDEN:
            self.skip_at = len(self.stack)
        elif tag in _BLOCK or signature:
            self._breaks(2 if tag == "p" else 1)
            if signature and self.last.strip() != "--":  # newer Gmail writes its own "-- "
                self._emit("-- \n")
            if tag == "li":
                self._emit("- ")

    def handle_endtag(self, tag: str) -> None:
        """Close the innermost matching element, ending a skipped subtree."""
        if self.stopped or not self.open.get(tag):
            return
        while self.stack:
            top, quoted = self.stack.pop()
            self.open[top] -= 1
            self.depth -= quoted
            if self.containers and self.containers[-1] > len(self.stack):
                self.containers.pop()
            if self.skip_at is not None and len(self.stack) < self.skip_at:
                self.skip_at = None
            if top == "pre":
                self.pre = max(0, self.pre - 1)
            if top == tag:
                break
        if self.skip_at is None and tag in _BLOCK:
            self._breaks(2 if tag == "p" else 1)

    def _end_container_quote(self) -> None:
        """From its first quote on, text in a gmail_quote div is an answer, not history."""
        if not self.containers:
            return
        index = self.containers.pop() - 1
        tag, quoted = self.stack[index]
        self.stack[index] = (tag, False)
        self.depth -= quoted

    def _breaks(self, count: int) -> None:
        """Make the output end with at least ``count`` line breaks."""
        if self.trail < count:
            self._emit("\n" * (count - self.trail))

    def handle_data(self, data: str) -> None:
        """Emit visible text, collapsing whitespace outside <pre>."""
        if self.stopped or self.skip_at is not None:
            return
        self._emit(data if self.pre else _SPACES.sub(" ", data))

    def _lines(self) -> list[str]:
        """Output lines, each prefixed with '> ' per quote level of its first text."""
        lines: list[str] = []
        current: list[str] = []
        level: int | None = None
        for piece, depth in zip(self.out, self.depths, strict=True):
            parts = piece.split("\n")
            for index, part in enumerate(parts):
                if index:
                    lines.append(_line(current, level))
                    current, level = [], None
                if level is None and part.strip(" \u00a0"):
                    level = depth
                current.append(part)
        lines.append(_line(current, level))
        return lines

    def text(self) -> str:
        """Return the collected text with tidy line breaks."""
        if any(self.depths):
            lines = self._lines()
        else:
            joined = "".join(self.out).replace("\u00a0", " ")
            lines = [line.strip() for line in joined.split("\n")]
        return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def _attrs(source: str) -> Attrs:
    """Attributes of a start tag: lower-case names, unquoted and unescaped values."""
    found: Attrs = []
    for match in _ATTR.finditer(source):
        name, value = match.group(1).lower(), match.group(2)
        if value is not None and value[:1] in ("'", '"'):
            value = value[1:-1]
        found.append((name, unescape(value) if value else value))
    return found


def _feed(conv: _Converter, html: str) -> None:
    """Tokenize html in one forward pass and report it to conv."""
    limit = html.rfind(">") + 1  # a tag must end by here: no search runs past it twice
    finder = _Finder(html)
    text_from: int | None = 0
    while text_from is not None and not conv.stopped:
        text_from = _feed_from(conv, html, text_from, limit, finder)


def _feed_from(
    conv: _Converter, html: str, text_from: int, limit: int, finder: _Finder
) -> int | None:
    """Report tokens from text_from on; return where to resume after a jump, None at the end."""
    opened, data = conv.open, conv.handle_data
    for token in _TOKEN.finditer(html, text_from, limit):
        if conv.stopped:
            return None
        start, end = token.span()
        if start > text_from:
            data(unescape(html[text_from:start]))
        text_from = end
        closing, name, source, comment = token.groups()
        if name is None:
            if comment:  # a comment runs to "-->"
                close = html.find("-->", end)
                return None if close < 0 else close + 3
            continue
        tag = name.lower()
        if closing:
            if opened.get(tag):
                conv.handle_endtag(tag)
        elif source or tag in _RAW_END:
            resume = _tag(conv, html, token, tag, finder)
            if resume != end:
                return resume
        elif tag in _STATEFUL:  # the common <p>, <div>: no attributes
            conv.handle_starttag(tag, [])
    if text_from < len(html) and not conv.stopped:
        data(unescape(html[text_from:]))
    return None


def _tag(conv: _Converter, html: str, token: re.Match[str], tag: str, finder: _Finder) -> int:
    """Report a start tag (again, for raw text); return where the text after it starts."""
    source, end = token.group(3), token.end()
    if '"' in source or "'" in source:
        close = _tag_end(html, token.start(3), end - 1, finder)
        if close > 0:
            source, end = html[token.start(3) : close], close + 1
    conv.handle_starttag(tag, _attrs(source) if source.strip() else [])
    if source.rstrip().endswith("/"):
        conv.handle_endtag(tag)
    return _raw_text(conv, html, end)


class _Finder:
    """str.find over one text, remembering its last answer per character.

    Searches move forward, so a remembered answer usually still holds: every
    character of the text is scanned about once, however many tags ask.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.last: dict[str, tuple[int, int]] = {}

    def find(self, char: str, pos: int) -> int:
        """The index of char at or after pos, -1 when there is none."""
        since, found = self.last.get(char, (-1, -2))
        if 0 <= since <= pos and (found >= pos or found == -1):
            return found
        found = self.text.find(char, pos)
        self.last[char] = (pos, found)
        return found


def _tag_end(html: str, start: int, close: int, finder: _Finder) -> int:
    """The '>' ending a tag, past any '>' inside quoted attribute values (a few at most)."""
    at = start
    for _ in range(_MAX_QUOTED):
        opening = _OPEN_QUOTE.search(html, at, close)
        if opening is None:
            return close
        end = finder.find(opening.group(1), opening.end())
        if end < 0:
            return close
        at = end + 1
        if at > close:
            close = finder.find(">", at)
            if close < 0:
                return -1
    return close


def _raw_text(conv: _Converter, html: str, pos: int) -> int:
    """After <script> or <style>, skip their raw text; return where markup resumes."""
    if not conv.stack or conv.stack[-1][0] not in _RAW_END:
        return pos
    tag = conv.stack[-1][0]
    end = _RAW_END[tag].search(html, pos)
    if end is None:
        conv.handle_data(html[pos:])
        return len(html)
    conv.handle_data(html[pos : end.start()])
    return end.start()


def _line(parts: list[str], level: int | None) -> str:
    """One output line: stripped, with its quote prefix."""
    line = "".join(parts).replace("\u00a0", " ").strip()
    return "> " * min(level, _MAX_PREFIX) + line if line and level else line


def html_to_text(html: str, reply_only: bool = False) -> str:
    """Convert HTML to readable plain text; never raises.

    With ``reply_only``, quoted history is marked with ``>`` and Outlook's
    history (after its reply separator) is dropped; pass the result to
    :func:`madoguchi.mail.quotes.reply_text`.
    """
    conv = _Converter(reply_only)
    with suppress(Exception):  # never fail a parse over hostile markup
        _feed(conv, html)
    return conv.text()
