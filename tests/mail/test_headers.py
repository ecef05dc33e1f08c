"""Header parsing: addresses, group syntax, message ids, dates and the header list."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from madoguchi.mail import Address, parse

from .conftest import mail


def test_unlisted_recipients_group() -> None:
    """A To: of 'unlisted-recipients:; (no To-header on input)' yields no addresses."""
    result = parse(mail("From: a@example.com\nTo: unlisted-recipients:; (no To-header on input)"))
    assert result.to == []
    assert ("To", "unlisted-recipients:; (no To-header on input)") in result.headers


def test_group_with_members() -> None:
    """Group syntax with members yields the members."""
    result = parse(mail("To: Team: a@example.com, b@example.com;"))
    assert [a.email for a in result.to] == ["a@example.com", "b@example.com"]


def test_address_domain_lowercased() -> None:
    """The domain is lower-cased, the local part kept as given."""
    result = parse(mail('From: "Yamada, Taro" <Taro.Yamada@EXAMPLE.CO.JP>'))
    assert result.sender == Address("Yamada, Taro", "Taro.Yamada@example.co.jp")


def test_encoded_display_name() -> None:
    """An RFC 2047 display name in Cc is decoded."""
    result = parse(mail("Cc: =?UTF-8?B?5bGx55Sw?= <yamada@example.jp>, b@example.com"))
    assert result.cc == [Address("山田", "yamada@example.jp"), Address("", "b@example.com")]


def test_address_str() -> None:
    """Address.__str__ quotes names with specials and omits an empty name."""
    assert str(Address("Yamada, Taro", "t@example.jp")) == '"Yamada, Taro" <t@example.jp>'
    assert str(Address("", "t@example.jp")) == "t@example.jp"


def test_message_ids() -> None:
    """Message-ID, In-Reply-To and References lose their <> and duplicates."""
    result = parse(
        mail(
            "Message-ID: <abc@example.com>\nIn-Reply-To: <p1@x> <p2@x>\n"
            "References: <r1@x>\n <r2@x> <r1@x>"
        )
    )
    assert result.message_id == "abc@example.com"
    assert result.in_reply_to == "p1@x"
    assert result.references == ["r1@x", "r2@x"]


def test_date_aware() -> None:
    """The Date header becomes an aware datetime."""
    result = parse(mail("Date: Mon, 01 Jan 2024 10:00:00 +0900"))
    assert result.date == datetime(2024, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=9)))


def test_bad_date_is_defect() -> None:
    """An unparseable Date gives None and a defect."""
    result = parse(mail("Date: sometime last week"))
    assert result.date is None
    assert any(d.where == "date" for d in result.defects)


def test_missing_headers_are_defects() -> None:
    """Missing From, Message-ID and Date are reported."""
    wheres = {d.where for d in parse(b"\r\nhello").defects}
    assert {"from", "message-id", "date"} <= wheres


def test_subject_whitespace_normalised() -> None:
    """A folded subject is unfolded and whitespace-normalised."""
    assert parse(mail("Subject: Hello\n   world\t again")).subject == "Hello world again"


def test_header_names_as_given() -> None:
    """The header list keeps names as written and decodes values."""
    result = parse(mail("X-Custom-HEADER: =?utf-8?q?caf=C3=A9?="))
    assert result.headers == [("X-Custom-HEADER", "café")]


def test_date_with_a_comment_before_the_zone() -> None:
    """'(EDT)' between the time and the zone is a comment: the zone still counts."""
    from madoguchi.mail.headers import parse_date

    date, problem = parse_date("Wed, 20 Sep 1995 00:19:00 (EDT) -0400")
    assert problem is None and date is not None
    assert date.isoformat() == "1995-09-20T00:19:00-04:00"
