"""Hostile HTML is neutralised while images and cid: URLs survive."""

from __future__ import annotations

from madoguchi.mail import parse
from madoguchi.mail.sanitize import sanitize_html

from .conftest import mail


def test_script_removed() -> None:
    """<script> and its content are removed."""
    assert sanitize_html("<p>hi</p><script>alert(1)</script>") == "<p>hi</p>"


def test_event_handler_removed() -> None:
    """onerror and other event handler attributes are removed."""
    out = sanitize_html('<img src="https://x.example/a.png" onerror="alert(1)">')
    assert "onerror" not in out and 'src="https://x.example/a.png"' in out


def test_javascript_url_removed() -> None:
    """javascript: URLs are dropped."""
    assert "javascript" not in sanitize_html('<a href="javascript:alert(1)">x</a>')


def test_css_expression_removed() -> None:
    """CSS expression() in style attributes is dropped."""
    out = sanitize_html('<div style="width: expression(alert(1)); color: red">x</div>')
    assert "expression" not in out


def test_style_element_removed() -> None:
    """<style> blocks are removed."""
    assert "body" not in sanitize_html("<style>body{background:url(javascript:x)}</style><p>a</p>")


def test_safe_style_kept() -> None:
    """Harmless inline styles are kept."""
    assert 'style="color:red"' in sanitize_html('<span style="color:red; position:fixed">x</span>')


def test_cid_image_kept() -> None:
    """cid: image sources (RFC 2392) are kept for inline images."""
    assert 'src="cid:logo@example.com"' in sanitize_html('<img src="cid:logo@example.com">')


def test_parse_sanitizes_html() -> None:
    """parse() exposes only sanitized HTML."""
    raw = mail(
        "Content-Type: text/html", b'<p onclick="x()">hi</p><iframe src="https://evil"></iframe>'
    )
    html = parse(raw).html
    assert html is not None and "onclick" not in html and "iframe" not in html


def test_nesting_deeper_than_the_cap_is_unwrapped_text_kept() -> None:
    """html5ever costs elements × depth: 1 MB of nested <ul> took minutes before the cap."""
    from madoguchi.mail.sanitize import MAX_DEPTH

    deep = "<ul>" * 250_000 + "本文" + "</ul>" * 250_000
    cleaned = sanitize_html(deep)
    assert "本文" in cleaned
    assert cleaned.count("<ul>") <= MAX_DEPTH


def test_unclosed_paragraphs_items_and_cells_are_not_nesting() -> None:
    from madoguchi.mail.sanitize import cap_depth

    for html in ["<p>a" * 1000, "<ul>" + "<li>x" * 1000 + "</ul>",
                 "<table>" + "<tr><td>a<td>b" * 1000 + "</table>"]:  # fmt: skip
        assert cap_depth(html) == html
