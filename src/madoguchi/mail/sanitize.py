"""HTML sanitizing for mail bodies with nh3 (ammonia).

Mail HTML is hostile.  We keep formatting (tables, fonts, inline styles
restricted to harmless properties) and images with their ``src`` (so the
viewer can block remote images until asked, and resolve ``cid:`` URLs from
RFC 2392), and drop scripts, styles sheets, event handlers, ``javascript:``
URLs and CSS expressions.
"""

from __future__ import annotations

import re

import nh3

_TAGS = set(nh3.ALLOWED_TAGS) | {"font", "tfoot", "u", "center", "big", "small"}
_COMMON = {
    "align",
    "valign",
    "width",
    "height",
    "bgcolor",
    "border",
    "dir",
    "lang",
    "title",
    "style",
    "class",
    "color",
}
_ATTRS: dict[str, set[str]] = {tag: set(nh3.ALLOWED_ATTRIBUTES.get(tag, set())) for tag in _TAGS}
_ATTRS["*"] = _COMMON
_ATTRS["font"] = {"face", "size", "color"}
_ATTRS["table"] = _ATTRS.get("table", set()) | {"cellpadding", "cellspacing"}
_ATTRS["img"] = _ATTRS["img"] | {"src", "alt"}
_ATTRS["a"] = {"href", "hreflang", "name", "target"}
_SCHEMES = {"http", "https", "mailto", "tel", "cid", "ftp"}
_STYLE_PROPS = {
    "color",
    "background-color",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "text-align",
    "text-decoration",
    "line-height",
    "margin",
    "margin-left",
    "margin-right",
    "margin-top",
    "margin-bottom",
    "padding",
    "padding-left",
    "padding-right",
    "padding-top",
    "padding-bottom",
    "border",
    "border-left",
    "border-right",
    "border-top",
    "border-bottom",
    "border-color",
    "border-style",
    "border-width",
    "border-collapse",
    "width",
    "height",
    "max-width",
    "min-width",
    "vertical-align",
    "white-space",
    "display",
    "list-style-type",
    "text-indent",
    "letter-spacing",
    "direction",
}
_BAD_STYLE = re.compile(
    r"expression|javascript|vbscript|url\s*\(|behavior|binding|@import|\\", re.IGNORECASE
)


def _filter(tag: str, attr: str, value: str) -> str | None:
    """Drop style values carrying CSS expressions, urls or escapes."""
    if attr == "style" and _BAD_STYLE.search(value):
        return None
    return value


_RISKY = ("expression", "javascript", "vbscript", "url(", "behavior", "binding", "import", "\\")


def _cleaner(with_filter: bool) -> nh3.Cleaner:
    """Build a reusable nh3 cleaner (building one per call is slow)."""
    return nh3.Cleaner(
        tags=_TAGS,
        clean_content_tags={"script", "style", "head", "title", "noscript", "template"},
        attributes=_ATTRS,
        attribute_filter=_filter if with_filter else None,
        url_schemes=_SCHEMES,
        filter_style_properties=_STYLE_PROPS,
        link_rel="noopener noreferrer",
    )


_FAST = _cleaner(False)
_SAFE = _cleaner(True)

#: Deeper elements are unwrapped before nh3 sees them: html5ever's tree building costs
#: time in proportion to elements × depth (100 KB of nested ``<ul>`` took 2 s, 1 MB would
#: take minutes). Browsers stop nesting at 512; mail that means anything is far shallower.
MAX_DEPTH = 256
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]{0,40})[^<>]{0,2000}>")
_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
#: Opening one of these ends an open one nearby (HTML's implied end tags), so unclosed
#: paragraphs, list items and cells do not count as nesting.
_IMPLIED = frozenset(["p", "li", "td", "th", "tr", "option", "dt", "dd"])


def cap_depth(html: str, limit: int = MAX_DEPTH) -> str:
    """``html`` with the tags that would nest deeper than ``limit`` removed (their text
    stays). Linear: each tag is looked at once, and a close tag searches at most ``limit``
    open ones."""
    if html.count("<") <= limit:
        return html
    out: list[str] = []
    stack: list[str] = []
    dropped: dict[str, int] = {}
    pos = 0
    for m in _TAG.finditer(html):
        closing, name = m.group(1), m.group(2).lower()
        keep = True
        if not closing:
            if name not in _VOID and not m.group(0).endswith("/>"):
                if name in _IMPLIED and name in stack[-4:]:
                    del stack[len(stack) - 1 - stack[::-1].index(name) :]
                if len(stack) >= limit:
                    keep = False
                    dropped[name] = dropped.get(name, 0) + 1
                else:
                    stack.append(name)
        elif name in stack:
            del stack[len(stack) - 1 - stack[::-1].index(name) :]
        elif dropped.get(name):
            dropped[name] -= 1
            keep = False
        if not keep:
            out.append(html[pos : m.start()])
            pos = m.end()
    if pos == 0:
        return html
    out.append(html[pos:])
    return "".join(out)


def sanitize_html(html: str) -> str:
    """Return ``html`` made safe for display; never raises.

    The Python-level style filter is only run when the markup contains a
    token that could smuggle code through a CSS value.
    """
    try:
        html = cap_depth(html)
        lowered = html.lower()
        cleaner = _SAFE if any(tok in lowered for tok in _RISKY) else _FAST
        return cleaner.clean(html)
    except Exception:  # noqa: BLE001 - keep the viewer alive on anything odd
        return ""
