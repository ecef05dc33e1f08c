"""Convert mail HTML to plain text, optionally without the quoted history.

Used when a mail has no text/plain part.  In ``reply_only`` mode the
quoting markup of common mail programs is dropped: ``<blockquote>``,
Gmail's ``gmail_quote``, Yahoo's ``yahoo_quoted``, Thunderbird's
``moz-cite-prefix``, and everything after Outlook's ``divRplyFwdMsg`` /
``appendonsend`` / ``OLK_SRC_BODY_SECTION`` markers or Windows Live's
``stopSpelling`` rule.  Pure standard library (html.parser).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

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
_QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", "gmail_extra")
_STOP_IDS = ("divrplyfwdmsg", "appendonsend", "olk_src_body_section", "stopspelling")
_OUTLOOK_BORDER = re.compile(r"border-top:\s*solid\s+#(?:B5C4DF|E1E1E1)", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\n\f\u00a0]+")
_BLANKS = re.compile(r"\n{3,}")


class _Converter(HTMLParser):
    """Streaming HTML-to-text converter with optional quote removal."""

    def __init__(self, reply_only: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.reply_only = reply_only
        self.out: list[str] = []
        self.stack: list[str] = []
        self.skip_at: int | None = None
        self.stopped = False
        self.pre = 0

    def _is_quote(self, tag: str, attrs: list[tuple[str, str | None]]) -> tuple[bool, bool]:
        """Return (skip subtree, stop here) for an element in reply mode."""
        if not self.reply_only:
            return False, False
        values = {k: (v or "") for k, v in attrs}
        ident = values.get("id", "").lower()
        if any(s in ident for s in _STOP_IDS) or (
            tag == "div" and _OUTLOOK_BORDER.search(values.get("style", ""))
        ):
            return False, True
        if tag == "blockquote":
            return True, False
        cls = values.get("class", "")
        return any(c in cls for c in _QUOTE_CLASSES), False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Track structure, hidden and quoted subtrees, and block breaks."""
        if self.stopped:
            return
        skip, stop = self._is_quote(tag, attrs)
        if stop:
            self.stopped = True
            return
        if tag in _VOID:
            if self.skip_at is None and tag in ("br", "hr"):
                self.out.append("\n")
            return
        self.stack.append(tag)
        if self.skip_at is None and (skip or tag in _HIDDEN):
            self.skip_at = len(self.stack)
        if tag == "pre":
            self.pre += 1
        if self.skip_at is None and tag in _BLOCK:
            self._breaks(2 if tag == "p" else 1)
        if self.skip_at is None and tag == "li":
            self.out.append("- ")

    def handle_endtag(self, tag: str) -> None:
        """Close the innermost matching element, ending a skipped subtree."""
        if self.stopped or tag not in self.stack:
            return
        while self.stack:
            top = self.stack.pop()
            if self.skip_at is not None and len(self.stack) < self.skip_at:
                self.skip_at = None
            if top == "pre":
                self.pre = max(0, self.pre - 1)
            if top == tag:
                break
        if self.skip_at is None and tag in _BLOCK:
            self._breaks(2 if tag == "p" else 1)

    def _breaks(self, count: int) -> None:
        """Make the output end with at least ``count`` line breaks."""
        have = 0
        for piece in reversed(self.out):
            stripped = piece.rstrip(" ")
            if not stripped:
                continue
            have += len(stripped) - len(stripped.rstrip("\n"))
            if stripped.strip("\n"):
                break
            if have >= count:
                break
        if have < count:
            self.out.append("\n" * (count - have))

    def handle_data(self, data: str) -> None:
        """Emit visible text, collapsing whitespace outside <pre>."""
        if self.stopped or self.skip_at is not None:
            return
        self.out.append(data if self.pre else _SPACES.sub(" ", data))

    def text(self) -> str:
        """Return the collected text with tidy line breaks."""
        joined = "".join(self.out).replace("\u00a0", " ")
        lines = [line.strip() for line in joined.split("\n")]
        return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(html: str, reply_only: bool = False) -> str:
    """Convert HTML to readable plain text; never raises."""
    conv = _Converter(reply_only)
    try:
        conv.feed(html)
        conv.close()
    except Exception:  # noqa: BLE001 - html.parser can choke on hostile markup
        pass
    return conv.text()
