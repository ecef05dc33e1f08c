"""The simple rich text an agent may write: bold, italic, underline, lists, quotes, links.

Whatever the browser's editor produced is cleaned to that small set (nh3) before it is
stored or sent, and the plain-text part of the mail is derived from it.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

import nh3

from .html2text import html_to_text

TAGS = {"p", "div", "br", "b", "strong", "i", "em", "u", "s", "a", "ul", "ol", "li", "blockquote"}
_CLEANER = nh3.Cleaner(
    tags=TAGS,
    attributes={"a": {"href"}},
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer",
    strip_comments=True,
)


def clean_rich(html: str) -> str:
    """Only the allowed tags and safe links remain; '' when nothing visible is left."""
    cleaned = _CLEANER.clean(html).strip()
    return cleaned if html_to_text(cleaned).strip() else ""


def rich_to_text(html: str) -> str:
    return html_to_text(html).strip() + "\n"


class _LinkTargets(HTMLParser):
    """Re-emits sanitized HTML as it came, with each link's target written after it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self.get_starttag_text() or "")
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href") or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        self.out.append(f"</{tag}>")
        if tag == "a" and self.hrefs:
            self._target(self.hrefs.pop())

    def _target(self, href: str) -> None:
        shown = href or "(no address)"
        self.out.append(f" <code>[{escape(shown)}]</code>")

    def handle_data(self, data: str) -> None:
        self.out.append(escape(data, quote=False))

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")


def show_link_targets(html: str) -> str:
    """``html`` (already sanitized) with every link's address written in brackets after
    its text, so a reviewer sees where "click here" leads before the mail leaves."""
    parser = _LinkTargets()
    parser.feed(html)
    parser.close()
    while parser.hrefs:  # a link left open
        parser._target(parser.hrefs.pop())
    return "".join(parser.out)
