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


def sanitize_html(html: str) -> str:
    """Return ``html`` made safe for display; never raises.

    The Python-level style filter is only run when the markup contains a
    token that could smuggle code through a CSS value.
    """
    try:
        lowered = html.lower()
        cleaner = _SAFE if any(tok in lowered for tok in _RISKY) else _FAST
        return cleaner.clean(html)
    except Exception:  # noqa: BLE001 - keep the viewer alive on anything odd
        return ""
