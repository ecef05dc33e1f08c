"""The simple rich text an agent may write: bold, italic, underline, lists, quotes, links.

Whatever the browser's editor produced is cleaned to that small set (nh3) before it is
stored or sent, and the plain-text part of the mail is derived from it.
"""

from __future__ import annotations

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
