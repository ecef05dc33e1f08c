"""reply_text: the new text without quoted history, footers and signature.

The public fixture sets and the Japanese cases are in test_reply_fixtures.py;
these are the rules one by one, and the cost on hostile input.
"""

from __future__ import annotations

import pytest

from madoguchi.mail import parse
from madoguchi.mail.html2text import html_to_text
from madoguchi.mail.quotes import is_forward, reply_text

from .conftest import CORPUS, mail


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


@pytest.mark.parametrize(
    "attribution",
    [
        "On Mon, Jan 1, 2024 at 10:00 AM Bob Example\n<bob@example.com>\nwrote:",
        "---- On Wed, 24 Feb 2021 14:02:50 +0530 bob@example.com wrote ----",
        "--- On Wed, 4/4/12, Bob <bob@example.com> wrote:",
        "Am 25.06.2015 um 10:55 schrieb Bob Example <bob@example.com>:",
        "Le 19 mars 2014 à 10:37, Bob Example <bob@example.com> a écrit :",
        "El 19/03/2014 11:34, Bob Example <bob@example.com> escribió:",
        "Em 10 de julho de 2017 às 16:32, Bob Example (\nbob@example.com) escreveu:",
        "Op 12 december 2016 19:05 schreef Bob Example <\nbob@example.com>:",
        "Den 24. nov. 2025 kl. 10.00 skrev Bob Example <bob@example.com>:",
        "W dniu 7 stycznia 2015 15:24 użytkownik Bob <bob@example.com> napisał:",
        "ср, 30 апр. 2025 г. в 15:19, Bob Example <bob@example.com>:",
        "2026/12/02 10:00、山田様のメッセージ:",
        "2026年12月2日(水) 10:00 山田太郎 <a@b>:",
        "2026年12月2日(水) 10:00 山田太郎 <\na@b>:",
    ],
)
def test_attributions(attribution: str) -> None:
    """Attributions of many clients and languages, also wrapped, start the history."""
    assert reply_text(f"New text.\n\n{attribution}\n\nOld text.\n") == "New text."


@pytest.mark.parametrize(
    "separator",
    [
        "-----Original Message-----",
        "----- Original Message -----",
        "----- 元のメッセージ -----",
        "-----Ursprüngliche Nachricht-----",
        "-------- Message d'origine --------",
    ],
)
def test_original_message_rules(separator: str) -> None:
    """'-----Original Message-----' rules in several languages start the history."""
    assert reply_text(f"OK\n\n{separator}\nFrom: Bob\n\nold") == "OK"


def test_header_block_after_rule_with_bold_names() -> None:
    """Outlook's '*From:*' block after a rule is removed together with the rule."""
    text = (
        "Outlook with a reply\n\n\n ------------------------------\n\n"
        "*From:* Bob [mailto:b@x.com]\n*Sent:* Thursday\n*To:* a@x.com\n*Subject:* Hi\n\nold"
    )
    assert reply_text(text) == "Outlook with a reply"


@pytest.mark.parametrize(
    "footer",
    [
        "Sent from my iPhone",
        "Sent from my Android",
        "Sent from my Verizon Wireless BlackBerry",
        "Get Outlook for iOS<https://aka.ms/o0ukef>",
        "Gesendet von Outlook für Android<https://aka.ms/AAb9ysg>",
        "iPhoneから送信",
        "docomoのスマートフォンから送信",
        "au携帯から",
    ],
)
def test_mobile_footers(footer: str) -> None:
    """Mobile footers end the new text; what follows them is the older mail."""
    assert reply_text(f"Yes.\n\n{footer}\n\nOld text below the footer.") == "Yes."


def test_sentence_starting_like_a_footer_is_kept() -> None:
    """'Sent from my desk, …' is a sentence, not a footer."""
    text = "Here\n\nSent from my desk, is much easier then my mobile phone."
    assert reply_text(text) == text


def test_form_notice_is_not_a_footer() -> None:
    """A web form's 「…フォームから送信されました。」 is text, not a mobile footer."""
    notice = "このメールはお問い合わせフォームから送信されました。"
    text = f"お問い合わせがありました。\n\n{notice}\n\n内容: 見積"
    assert reply_text(text) == text


def test_mailing_list_footer() -> None:
    """A mailing-list footer after a rule is not new text."""
    text = "Hi\n\n-Bob\n\n____\nriak-users mailing list\nriak-users@lists.example.com"
    assert reply_text(text) == "Hi\n\n-Bob"


def test_forward_keeps_the_forwarded_mail() -> None:
    """A forward's only new text is 'FYI': the forwarded mail is the content."""
    text = (
        "FYI\n\n---------- Forwarded message ---------\nFrom: Bob <b@x.com>\n"
        "Date: Mon, Jan 1, 2024\nSubject: Plan\nTo: <a@x.com>\n\nThe plan."
    )
    assert reply_text(text) == text
    assert is_forward(text)


def test_japanese_forward_keeps_the_forwarded_mail() -> None:
    """転送メッセージ keeps the forwarded part too."""
    text = "確認お願いします。\n\n-------- 転送メッセージ --------\n件名: 見積\n\n本文"
    assert reply_text(text) == text


def test_outlook_forward_by_subject() -> None:
    """An Outlook block whose subject is 'FW: …' is a forward, not history."""
    text = "See below.\n\nFrom: Bob\nSent: Monday\nTo: Alice\nSubject: FW: Plan\n\nThe plan."
    assert reply_text(text) == text


def test_reply_above_embedded_older_mail() -> None:
    """New text above an unquoted older mail (iOS, Outlook) is the reply."""
    text = (
        "No problem.\n\nOn May 30, 2020, at 4:24 PM, XYZ <xyz@example.com> wrote:\n\n"
        "Hi XYZ,\n\nWe cannot add items.\n\nOn May 30, 2020, 4:15 PM XYZ wrote:\n\nolder"
    )
    assert reply_text(text) == "No problem."


def test_interleaved_reply_drops_only_the_trailing_quote() -> None:
    """Answers between quotes are kept whole; the quote after the last answer goes."""
    text = "> q1\na1\n> q2\na2\n\n> the rest of the old mail\n\n-- \nsig"
    assert reply_text(text) == "> q1\na1\n> q2\na2"


def test_wrapped_quote_lines_are_not_answers() -> None:
    """A quoted line wrapped by a client without its '>' is still the quote."""
    text = (
        "Thanks!\n\nOn Mon, Jan 1, 2024 at 10:00 AM Bob <b@x.com> wrote:\n"
        "> Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod\n"
        "tempor incididunt.\n> more\n"
    )
    assert reply_text(text) == "Thanks!"


def test_phrase_with_colon_is_not_an_attribution() -> None:
    """'On your remote host you can run:' and 'X wrote:' without a quote are text."""
    text = "On your remote host you can run:\n\n  telnet\n\nSomething wrote:\nmore text"
    assert reply_text(text) == text


def test_never_empty() -> None:
    """A mail that is only history falls back to the whole text."""
    text = "-----Original Message-----\nFrom: Bob\n\nold"
    assert reply_text(text) == text


def test_html_interleaved_gmail_answer_kept() -> None:
    """In Gmail HTML, an answer typed between two quotes is new text."""
    raw = mail(
        "Content-Type: text/html; charset=utf-8",
        b"<div class='gmail_quote'><div class='gmail_attr'>On Mon, Jan 1, 2024 at 10:00 AM "
        b"Bob &lt;b@x.com&gt; wrote:</div><blockquote class='gmail_quote'>Q1?</blockquote>"
        b"<div>A1.</div><blockquote class='gmail_quote'>Q2?</blockquote><div>A2.</div></div>",
    )
    reply = parse(raw).reply_text
    assert "A1." in reply
    assert "A2." in reply


def test_html_forward_keeps_forwarded_text() -> None:
    """An HTML-only forward behind Outlook's divRplyFwdMsg keeps the forwarded mail."""
    raw = mail(
        "Content-Type: text/html; charset=utf-8",
        b"<div>FYI</div><hr><div id='divRplyFwdMsg'><b>From:</b> Bob<br><b>Sent:</b> Monday"
        b"<br><b>To:</b> Alice<br><b>Subject:</b> FW: Plan</div><div>The plan.</div>",
    )
    reply = parse(raw).reply_text
    assert reply.startswith("FYI")
    assert reply.endswith("The plan.")


def test_html_reply_with_nothing_new_falls_back() -> None:
    """An HTML mail that starts with Outlook's history marker is not an empty reply."""
    raw = mail(
        "Content-Type: text/html; charset=utf-8",
        b"<div id='divRplyFwdMsg'>Only the older mail.</div>",
    )
    assert parse(raw).reply_text == "Only the older mail."


def test_html_outlook_border_top_separator() -> None:
    """Outlook desktop's border-top header separator cuts the HTML reply."""
    raw = mail(
        "Content-Type: text/html; charset=utf-8",
        b"<p>Done.</p><div style='border:none;border-top:solid #E1E1E1 1.0pt'>"
        b"<p><b>From:</b> Bob</p></div><p>old</p>",
    )
    assert parse(raw).reply_text == "Done."


def test_html_moz_cite_and_yahoo_quoted() -> None:
    """Thunderbird's moz-cite-prefix and Yahoo's yahoo_quoted are history."""
    for html in (
        b"<p>Yes</p><div class='moz-cite-prefix'>Bob wrote:</div><blockquote type='cite'>old"
        b"</blockquote>",
        b"<div>Yes</div><div class='yahoo_quoted'>On Monday, Bob wrote:<div>old</div></div>",
    ):
        assert parse(mail("Content-Type: text/html; charset=utf-8", html)).reply_text == "Yes"


def test_html_gmail_signature_stripped() -> None:
    """Gmail's HTML signature is stripped like the '-- ' signature of its text part."""
    raw = mail(
        "Content-Type: text/html; charset=utf-8",
        b"<div>Thanks</div><div><br></div><span class='gmail_signature_prefix'>-- </span><br>"
        b"<div class='gmail_signature'>Bob<br>ACME</div>",
    )
    assert parse(raw).reply_text == "Thanks"


def test_html_text_mode_unchanged_by_quotes() -> None:
    """Without reply_only, quotes are plain text (no '>' marks)."""
    assert html_to_text("<p>a</p><blockquote>b</blockquote>") == "a\n\nb"


def test_html_script_style_and_entities() -> None:
    """Script and style text is hidden, even with markup inside; entities are decoded."""
    html = '<p>a &amp; b</p><script>if (a<b) x = "<div>";</script><STYLE>p {}</STYLE>c'
    assert html_to_text(html) == "a & b\n\nc"


def test_html_quoted_attribute_with_angle_bracket() -> None:
    """A '>' inside a quoted attribute value does not end the tag."""
    html = '<div style="x;<!--[if mso]>y<![endif]-->">text</div>'
    assert html_to_text(html) == "text"


HOSTILE_SIZE = 200_000

HOSTILE_TEXT = [
    " " * HOSTILE_SIZE,
    "On " + " " * HOSTILE_SIZE + "wrote:",
    ("On" + " " * 200 + "\n") * (HOSTILE_SIZE // 203),
    "\n" * HOSTILE_SIZE,
    (" " * 498 + "x\n") * (HOSTILE_SIZE // 500),
    ("\t" * 498 + "*x:\n") * (HOSTILE_SIZE // 502),
    ("On " + " " * 495 + "x\n") * (HOSTILE_SIZE // 500),
    "> a\nb\n" * (HOSTILE_SIZE // 6),
    "Bob wrote:\n" * (HOSTILE_SIZE // 11),
    "From: a\nTo: b\n" * (HOSTILE_SIZE // 14),
    "a@" * (HOSTILE_SIZE // 2),
    "2024-01-01 10:00 " * (HOSTILE_SIZE // 17),
    ">" * HOSTILE_SIZE,
    "-" * HOSTILE_SIZE,
    "__\n" * (HOSTILE_SIZE // 3),
]

HOSTILE_HTML = [
    "<div>" * (HOSTILE_SIZE // 5),
    "<b>" * (HOSTILE_SIZE // 3),
    "<blockquote>x<br>" * (HOSTILE_SIZE // 17),
    "<div class=gmail_quote>" * (HOSTILE_SIZE // 23),
    "<" * HOSTILE_SIZE,
    "<!--" * (HOSTILE_SIZE // 4),
    "<a" * (HOSTILE_SIZE // 2),
    '<a b="' * (HOSTILE_SIZE // 6) + ">",
    '<a b="x>"' * (HOSTILE_SIZE // 9),
    '"\'<a href="<span class=gmail_signature>' * (HOSTILE_SIZE // 40),
    "&" * HOSTILE_SIZE,
    "<p>" * 20_000 + "</span>" * 20_000,
]


@pytest.mark.parametrize("text", HOSTILE_TEXT, ids=range(len(HOSTILE_TEXT)))
def test_hostile_text_finishes(text: str) -> None:
    """200 KB of hostile text is read in linear time (quadratic input would hang here)."""
    assert len(reply_text(text)) <= len(text)


@pytest.mark.parametrize("html", HOSTILE_HTML, ids=range(len(HOSTILE_HTML)))
def test_hostile_html_finishes(html: str) -> None:
    """200 KB of unclosed tags, comments and quotes convert in linear time."""
    for reply_only in (False, True):
        assert len(html_to_text(html, reply_only=reply_only)) <= 2 * len(html)
