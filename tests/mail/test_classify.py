"""Classification into normal / auto_reply / bulk / bounce, and the bounced Message-ID."""

from __future__ import annotations

from pathlib import Path

import pytest

from madoguchi.mail import parse

from .conftest import CORPUS, corpus_file, mail


def test_normal() -> None:
    """A plain personal mail is normal."""
    assert parse(mail("From: a@example.com\nSubject: Question about my order")).kind == "normal"


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated",
        "X-Autoreply: yes",
        "X-Autorespond: on",
        "Precedence: auto_reply",
    ],
)
def test_auto_reply_headers(header: str) -> None:
    """RFC 3834 and vendor auto-reply headers mark auto replies."""
    assert parse(mail(f"From: a@example.com\nSubject: Hello\n{header}")).kind == "auto_reply"


def test_auto_submitted_no_is_normal() -> None:
    """Auto-Submitted: no is a normal mail."""
    assert parse(mail("From: a@example.com\nAuto-Submitted: no")).kind == "normal"


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Re: invoice",
        "Automatic reply: meeting",
        "=?UTF-8?B?44CQ6Ieq5YuV6L+U5L+h44CR?=",
        "=?UTF-8?B?5LiN5Zyo44Gu44GK55+l44KJ44Gb?=",
    ],
)
def test_auto_reply_subjects(subject: str) -> None:
    """Out-of-office, Automatic reply, 【自動返信】 and 不在 subjects mark auto replies."""
    assert parse(mail(f"From: a@example.com\nSubject: {subject}")).kind == "auto_reply"


@pytest.mark.parametrize(
    "header",
    [
        "List-Id: <news.example.com>",
        "List-Unsubscribe: <mailto:u@example.com>",
        "Precedence: bulk",
        "Precedence: list",
        "Precedence: junk",
    ],
)
def test_bulk(header: str) -> None:
    """List headers and Precedence bulk/list/junk mark bulk mail."""
    assert parse(mail(f"From: news@example.com\nSubject: News\n{header}")).kind == "bulk"


def test_auto_reply_beats_bulk() -> None:
    """An auto reply from a list is auto_reply."""
    raw = mail("From: a@example.com\nAuto-Submitted: auto-replied\nList-Id: <l.example.com>")
    assert parse(raw).kind == "auto_reply"


def test_dsn_bounce_with_original_id() -> None:
    """A multipart/report delivery-status bounce yields the original Message-ID."""
    body = (
        b"--R\r\nContent-Type: text/plain\r\n\r\nYour mail could not be delivered.\r\n"
        b"--R\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.com\r\n\r\n"
        b"Final-Recipient: rfc822; x@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"--R\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"Message-ID: <orig-1@madoguchi.example>\r\n"
        b"Subject: hi\r\n--R--\r\n"
    )
    raw = mail(
        "From: a@example.com\nSubject: Report\nAuto-Submitted: auto-replied\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=R",
        body,
    )
    result = parse(raw)
    assert (result.kind, result.bounce_message_id) == ("bounce", "orig-1@madoguchi.example")


def test_bounce_from_mailer_daemon_subject() -> None:
    """A mailer-daemon sender with a Japanese subject is a bounce, id found in the text."""
    body = (
        "配信できませんでした。\n\n--- 元のメッセージ ---\nMessage-ID: <abc@example.jp>\n".encode()
    )
    raw = mail(
        "From: MAILER-DAEMON@mx.example.jp\nSubject: =?UTF-8?B?44Ko44Op44O844Oh44O844Or?=\n"
        "Message-ID: <bounce-self@mx.example.jp>\nContent-Type: text/plain; charset=utf-8",
        body,
    )
    result = parse(raw)
    assert (result.kind, result.bounce_message_id) == ("bounce", "abc@example.jp")


def test_bounce_by_subject() -> None:
    """A typical non-delivery subject marks a bounce even from an ordinary address."""
    raw = mail("From: system@example.com\nSubject: Undelivered Mail Returned to Sender")
    assert parse(raw).kind == "bounce"


def test_reply_about_returned_mail_is_not_bounce() -> None:
    """A person's reply mentioning returned mail stays normal."""
    raw = mail("From: a@example.com\nSubject: Re: Returned mail from your shop")
    assert parse(raw).kind == "normal"


def test_corpus_postfix_bounce() -> None:
    """A Postfix DSN from sisimai is a bounce with its original Message-ID."""
    result = parse(corpus_file("sisimai/maildir/bsd/lhost-postfix-03.eml"))
    assert result.kind == "bounce"
    assert result.bounce_message_id == "20140701000000.000000000000@e1.example.ne.jp"


def test_corpus_rfc3834_auto_reply() -> None:
    """sisimai's RFC 3834 vacation sample is an auto reply."""
    assert parse(corpus_file("sisimai/maildir/bsd/rfc3834-01.eml")).kind == "auto_reply"


def _sisimai_bounces() -> list[Path]:
    """sisimai's vendor bounce samples (lhost-*) from the BSD folder."""
    return sorted((CORPUS / "sisimai" / "maildir" / "bsd").glob("lhost-*.eml"))


def test_corpus_sisimai_bounce_rate() -> None:
    """At least 95% of sisimai's vendor bounces are classified as bounce."""
    files = _sisimai_bounces()
    if not files:
        pytest.skip("sisimai corpus not available at ../shared/corpus")
    hits = sum(parse(p.read_bytes()).kind == "bounce" for p in files)
    assert hits / len(files) >= 0.95
