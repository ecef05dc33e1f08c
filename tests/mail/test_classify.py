"""Classification into normal / auto_reply / bulk / bounce, and the bounced Message-ID."""

from __future__ import annotations

from email.header import Header
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
def test_auto_reply_subjects_are_only_a_hint(subject: str) -> None:
    """Out-of-office, 【自動返信】 and 不在 subjects alone keep a mail normal, with a hint."""
    result = parse(mail(f"From: a@example.com\nSubject: {subject}"))
    assert (result.kind, result.kind_hint) == ("normal", "auto_reply")


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


def test_bounce_subject_from_an_ordinary_address_is_a_hint() -> None:
    """A non-delivery subject from an ordinary address is a person's mail with a hint."""
    raw = mail("From: system@example.com\nSubject: Undelivered Mail Returned to Sender")
    result = parse(raw)
    assert (result.kind, result.kind_hint) == ("normal", "bounce")


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
    """At least 93% of sisimai's vendor bounces are bounces on structure (454 of 483)."""
    files = _sisimai_bounces()
    if not files:
        pytest.skip("sisimai corpus not available at ../shared/corpus")
    hits = sum(parse(p.read_bytes()).kind == "bounce" for p in files)
    assert hits / len(files) >= 0.93


@pytest.mark.parametrize(
    "subject",
    [
        "返品の返送先を教えてください",
        "不在連絡票が入っていました",
        "配送エラーと表示されます",
        "確認メールが届いていません",
        "自動返信が来ないのですが",
        "Order 8812 was not delivered",
        "Problem with the delivery of my order",
        "Out of office until Monday? Please reply before",
    ],
)
def test_customers_words_never_move_mail(subject: str) -> None:
    """The issue's customer subjects stay normal; at most a hint is shown."""
    encoded = Header(subject, "utf-8").encode()
    raw = mail(
        f"From: taro@example.jp\nSubject: {encoded}\nContent-Type: text/plain; charset=utf-8"
    )
    result = parse(raw)
    assert (result.kind, result.subject) == ("normal", subject)


@pytest.mark.parametrize(
    ("headers", "kind", "reason"),
    [
        ("X-Autoreply: yes", "auto_reply", "X-Autoreply"),
        ("Auto-Submitted: auto-replied (vacation)", "auto_reply", "Auto-Submitted: auto-replied"),
        ("Precedence: list", "bulk", "Precedence: list"),
        ("X-Failed-Recipients: x@example.org", "bounce", "X-Failed-Recipients"),
    ],
)
def test_verdict_names_its_evidence(headers: str, kind: str, reason: str) -> None:
    """Each automated verdict carries the structural evidence shown to agents."""
    result = parse(mail(f"From: a@example.com\nSubject: Hello\n{headers}"))
    assert (result.kind, result.kind_reason) == (kind, reason)


def test_exchange_suppress_header_alone_is_a_person() -> None:
    """Outlook puts X-Auto-Response-Suppress on people's mail: alone it moves nothing."""
    subject = Header("不在時の対応について", "utf-8").encode()
    raw = mail(f"From: a@example.com\nSubject: {subject}\nX-Auto-Response-Suppress: All")
    assert parse(raw).kind == "normal"


def test_exchange_suppress_header_with_ooo_subject() -> None:
    """X-Auto-Response-Suppress together with an out-of-office subject is an auto reply."""
    raw = mail(
        "From: a@example.com\nSubject: Automatic reply: invoice\nX-Auto-Response-Suppress: All"
    )
    assert parse(raw).kind == "auto_reply"


def test_null_return_path_with_daemon_sender_is_bounce() -> None:
    """Return-Path: <> with a mail-system sender is a bounce, whatever the subject."""
    raw = mail("Return-Path: <>\nFrom: MAILER-DAEMON@mx.example.jp\nSubject: hi")
    assert parse(raw).kind == "bounce"


def test_postmaster_person_is_normal() -> None:
    """A person writing from postmaster@ (an IT admin) about a bounce stays normal."""
    raw = mail("Return-Path: <postmaster@example.jp>\nFrom: postmaster@example.jp\n"
               "Subject: Undeliverable mail from your shop")  # fmt: skip
    assert parse(raw).kind == "normal"


def test_forwarded_bounce_from_a_person_is_normal() -> None:
    """A customer forwarding a bounce to ask for help is a person."""
    body = b"Help, my mail came back.\n\nMessage-ID: <x@example.jp>\nSubject: order\n"
    raw = mail("From: taro@example.jp\nSubject: Fwd: Returned mail: see transcript", body)
    assert parse(raw).kind == "normal"


def test_with_envelope_null_sender_from_listener() -> None:
    """MAIL FROM:<> seen by our listener plus a postmaster sender makes a bounce."""
    from madoguchi.mail.classify import with_envelope

    raw = mail("From: postmaster@mx.example.jp\nSubject: Undeliverable: order")
    parsed = parse(raw)
    assert parsed.kind == "normal"
    assert with_envelope(parsed, null_envelope=True).kind == "bounce"
    assert with_envelope(parsed, null_envelope=False).kind == "normal"


def test_is_listed_matches_address_and_domains() -> None:
    """The person list takes addresses, @domain and parent domains."""
    from madoguchi.mail.classify import is_listed

    assert is_listed("Taro@Example.jp", ["taro@example.jp"])
    assert is_listed("taro@mail.example.jp", ["@example.jp"])
    assert is_listed("taro@example.jp", ["example.jp"])
    assert not is_listed("taro@example.jp.evil.com", ["example.jp"])
    assert not is_listed("hanako@example.jp", ["taro@example.jp"])
