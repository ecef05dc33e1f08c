"""reply_text: the new text without quoted history and signature."""

from __future__ import annotations

from pathlib import Path

import pytest

from madoguchi.mail import parse
from madoguchi.mail.html2text import html_to_text
from madoguchi.mail.quotes import reply_text

from .conftest import CORPUS, mail

TALON = CORPUS / "talon" / "tests" / "fixtures"
# Known misses, with the reason (talon keeps signatures, we strip them by design).
KNOWN_MISSES = {
    "sparrow.eml": "talon's expected reply keeps the '-- ' signature; Madoguchi strips signatures",
}


def _norm(text: str) -> str:
    """Whitespace-insensitive form for comparing with talon's expectations."""
    return " ".join(text.split())


def _talon_cases() -> list[tuple[Path, Path]]:
    """(input, expected reply) pairs shipped with talon."""
    cases = []
    for eml in sorted((TALON / "standard_replies").glob("*.eml")):
        for cand in (eml.with_suffix(".expected_reply.txt"), eml.parent / f"{eml.stem}_reply_text"):
            if cand.exists():
                cases.append((eml, cand))
    for html in sorted((TALON / "html_replies").glob("*.html")):
        cases.append((html, html.with_suffix(".expected_reply.txt")))
    return cases


CASES = _talon_cases()


@pytest.mark.skipif(not CASES, reason="talon corpus not available at ../shared/corpus")
@pytest.mark.parametrize("source,expected", CASES, ids=lambda p: p.name)
def test_talon_expected_reply(source: Path, expected: Path) -> None:
    """The reply extracted from talon's fixture matches its expected reply."""
    if source.name in KNOWN_MISSES:
        pytest.xfail(KNOWN_MISSES[source.name])
    if source.suffix == ".html":
        got = reply_text(html_to_text(source.read_text(encoding="utf-8"), reply_only=True))
    else:
        got = parse(source.read_bytes()).reply_text
    assert _norm(got) == _norm(expected.read_text(encoding="utf-8"))


def test_gt_quoting() -> None:
    """'>' quoted lines and their attribution are removed."""
    assert (
        reply_text("Thanks!\n\nOn Mon, Jan 1, 2024 at 10:00 AM Bob <b@x.com> wrote:\n> hi\n")
        == "Thanks!"
    )


def test_wrapped_on_wrote() -> None:
    """An 'On ... wrote:' attribution wrapped over two lines is removed."""
    text = "Sure.\n\nOn Mon, Jan 1, 2024 at 10:00 AM Bob Example <\nbob@example.com> wrote:\n> hi\n"
    assert reply_text(text) == "Sure."


def test_original_message() -> None:
    """'-----Original Message-----' and what follows are removed."""
    assert reply_text("OK\n\n-----Original Message-----\nFrom: x\nhello") == "OK"


def test_outlook_header_block() -> None:
    """An Outlook From:/Sent:/To:/Subject: block starts the history."""
    text = (
        "Done.\n\n________________________________\n"
        "From: Bob\nSent: Monday\nTo: Alice\nSubject: Q\n\nold"
    )
    assert reply_text(text) == "Done."


def test_outlook_japanese_header_block() -> None:
    """Japanese Outlook's 差出人:/送信日時:/宛先:/件名: block starts the history."""
    text = (
        "承知しました。\n\n差出人: 山田 <y@example.jp>\n"
        "送信日時: 2024年1月1日 10:00\n宛先: 佐藤\n件名: 見積もり\n\n旧本文"
    )
    assert reply_text(text) == "承知しました。"


def test_gmail_japanese_attribution() -> None:
    """Gmail-JP '2024年1月1日(月) 10:00 山田 <…>:' starts the history."""
    text = (
        "ありがとうございます。\n\n2024年1月1日(月) 10:00 山田太郎 <taro@example.jp>:\n> 元の本文\n"
    )
    assert reply_text(text) == "ありがとうございます。"


def test_gmail_japanese_wrapped_attribution() -> None:
    """A wrapped Gmail-JP attribution (address on the next line) is removed."""
    text = "了解です。\n\n2024年1月1日(月) 10:00 山田太郎 <\ntaro@example.jp>:\n\n> 元の本文\n"
    assert reply_text(text) == "了解です。"


def test_thunderbird_japanese_attribution() -> None:
    """Thunderbird-JP '… さんは書きました:' starts the history."""
    text = "確認しました。\n\n山田 さんは書きました:\n> 元の本文\n"
    assert reply_text(text) == "確認しました。"


def test_signature_removed() -> None:
    """Everything after the '-- ' signature delimiter is removed."""
    assert reply_text("Hello\n\n-- \nBob\nACME Inc.\n") == "Hello"


def test_inline_reply_kept() -> None:
    """Interleaved (inline) replies are kept whole."""
    text = "> question one?\nanswer one\n> question two?\nanswer two"
    assert reply_text(text) == text


def test_bottom_posting() -> None:
    """A reply written below the quote is found."""
    assert reply_text("On Mon, Bob wrote:\n> hi\n\nHello back") == "Hello back"


def test_html_blockquote_removed() -> None:
    """For HTML-only mail, a blockquote is dropped before conversion."""
    raw = mail(
        "Content-Type: text/html; charset=utf-8",
        b"<div>New text</div><blockquote type='cite'>old text</blockquote>",
    )
    assert parse(raw).reply_text == "New text"


def test_html_gmail_quote_removed() -> None:
    """For HTML-only mail, Gmail's gmail_quote block is dropped."""
    raw = mail(
        "Content-Type: text/html; charset=utf-8",
        b"<div>Yes</div><div class='gmail_quote'>On Mon Bob wrote:<br>old</div>",
    )
    assert parse(raw).reply_text == "Yes"


def test_html_divrplyfwdmsg_cut() -> None:
    """For HTML-only mail, Outlook's divRplyFwdMsg and everything after it are dropped."""
    raw = mail(
        "Content-Type: text/html; charset=utf-8",
        b"<div>Agreed</div><hr><div id='divRplyFwdMsg'>From: Bob</div><div>old body</div>",
    )
    assert parse(raw).reply_text == "Agreed"


def test_no_quote_whole_text() -> None:
    """A mail without any history is returned whole."""
    assert reply_text("Just one line.\n") == "Just one line."


REPLY_DIRS = [
    "github_email_reply_parser",
    "zapier_email_reply_parser",
    "mail_parser_reply",
    "crisp_email_reply_parser",
    "willdurand_email_reply_parser",
]


@pytest.mark.parametrize("folder", REPLY_DIRS)
def test_reply_corpora_never_longer(folder: str) -> None:
    """Reply bodies of the other reply-parser corpora reduce without crashing."""
    root = CORPUS / folder
    if not root.is_dir():
        pytest.skip(f"{root} not available")
    for path in (p for p in root.rglob("*") if p.is_file() and "_meta" not in p.parts):
        text = path.read_bytes().decode("utf-8", "replace")
        assert len(reply_text(text)) <= len(text.strip()) + 1
