"""Each condition of a sorting rule, and each of its ops, on mail taken in by real intake.

A condition is checked the way intake checks it (``rules.Facts`` over the stored message),
so the values are what the parser stored: names and addresses, the decoded subject, the
plain text, the raw mail's headers.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

import pytest
from django.utils import translation

from madoguchi.automation import rules
from madoguchi.conversations.models import Conversation, Message
from madoguchi.core.business_time import DAYS
from madoguchi.mailboxes.models import Mailbox
from tests.factories import make_conversation
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db

SENDER = "田中 一郎 <tanaka@mail.tokyo-shoji.example>"


def mail_in(mailbox: Mailbox, **kwargs: Any) -> Message:
    """A mail from the customer, through intake."""
    kwargs.setdefault("sender", SENDER)
    message = deliver(mailbox, make_mail(**kwargs))
    assert message is not None
    return message


def check(message: Message, field: str, op: str, value: str, **extra: Any) -> bool:
    """Does the condition match ``message`` (as a new conversation unless ``new`` says)?"""
    new = extra.pop("new", True)
    matcher = rules.compile_rule("all", [{"field": field, "op": op, "value": value, **extra}])
    conv = Conversation.objects.select_related("mailbox").get(pk=message.conversation_id)
    mail = rules.Mail(message, conv, new)
    return matcher.matches(rules.Facts([mail]), mail)


@pytest.fixture
def invoice(mailbox: Mailbox) -> Message:
    return mail_in(
        mailbox,
        subject="【請求書】ＡＢＣ商事 ｾｰﾙ のご案内",
        body="いつもお世話になっております。\n請求書番号 INV-2026-001 をお送りします。\n",
        to="サポート窓口 <support@example.jp>",
        headers={
            "Cc": "経理 <keiri@Tokyo-Shoji.example>, boss@other.example",
            "X-Mailer": "Becky! ver. 2.75",
            "X-Priority": "=?UTF-8?B?5oCl44GO?=",  # 急ぎ, RFC 2047
            "Reply-To": "請求担当 <billing@billing.tokyo-shoji.example>",
        },
    )


# from


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("contains", "田中", True),  # the display name
        ("contains", "TANAKA@", True),  # the address, any case
        ("contains", "鈴木", False),
        ("not_contains", "鈴木", True),
        ("not_contains", "tanaka", False),
        ("equals", "Tanaka@Mail.Tokyo-Shoji.example", True),
        ("equals", "tanaka", False),
        ("starts_with", "tanaka@", True),
        ("starts_with", "mail.", False),
        ("ends_with", ".example", True),
        ("ends_with", "一郎", True),
        ("ends_with", "田中", False),
        ("regex", r"^tanaka@.+\.example$", True),
        ("regex", r"^sato@", False),
        ("domain", "tokyo-shoji.example", True),  # a domain under it
        ("domain", "@mail.tokyo-shoji.example", True),
        ("domain", "shoji.example", False),  # not a domain boundary
    ],
)
def test_from(invoice: Message, op: str, value: str, expected: bool) -> None:
    assert check(invoice, "from", op, value) is expected


# to and cc


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("to", "equals", "support@example.jp", True),
        ("to", "contains", "サポート", True),
        ("to", "domain", "example.jp", True),
        ("to", "not_contains", "sales@", True),
        ("cc", "contains", "keiri@tokyo", True),  # stored as written, compared folded
        ("cc", "equals", "boss@other.example", True),
        ("cc", "domain", "tokyo-shoji.example", True),
        ("cc", "domain", "example.jp", False),
        ("cc", "starts_with", "経理", True),
        ("cc", "ends_with", "@other.example", True),
        ("cc", "regex", r"^keiri@", True),
    ],
)
def test_to_and_cc(invoice: Message, field: str, op: str, value: str, expected: bool) -> None:
    assert check(invoice, field, op, value) is expected


# subject and body, Japanese-aware


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("contains", "請求", True),
        ("contains", "abc商事", True),  # ＡＢＣ (全角) in the subject
        ("contains", "ＡＢＣ", True),
        ("contains", "セール", True),  # ｾｰﾙ (半角カナ) in the subject
        ("contains", "見積", False),
        ("not_contains", "見積", True),
        ("equals", "【請求書】abc商事 セール のご案内", True),
        ("starts_with", "【請求書】", True),
        ("starts_with", "[請求書]", False),
        ("ends_with", "ご案内", True),
        ("regex", r"請求|見積", True),
        ("regex", r"^見積", False),
        ("regex", r"ａｂｃ", True),  # a 全角 pattern means its 半角 form
    ],
)
def test_subject(invoice: Message, op: str, value: str, expected: bool) -> None:
    assert check(invoice, "subject", op, value) is expected


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("contains", "inv-2026", True),
        ("contains", "ＩＮＶ－２０２６", True),  # 全角 value, 半角 text
        ("not_contains", "解約", True),
        ("equals", "請求書番号", False),  # equals is the whole text
        ("starts_with", "いつもお世話に", True),
        ("ends_with", "お送りします。", True),
        ("regex", r"INV-\d{4}-\d{3}", True),
        ("regex", r"ORD-\d+", False),
    ],
)
def test_body(invoice: Message, op: str, value: str, expected: bool) -> None:
    assert check(invoice, "body", op, value) is expected


# any header, read from the raw mail


@pytest.mark.parametrize(
    ("header", "op", "value", "expected"),
    [
        ("X-Mailer", "contains", "becky", True),
        ("x-mailer", "starts_with", "Becky!", True),  # the name in any case
        ("X-Mailer", "equals", "becky! ver. 2.75", True),
        ("X-Mailer", "ends_with", "2.75", True),
        ("X-Mailer", "regex", r"ver\. 2\.\d+", True),
        ("X-Mailer", "not_contains", "Outlook", True),
        ("X-Priority", "equals", "急ぎ", True),  # decoded from RFC 2047
        ("Reply-To", "domain", "tokyo-shoji.example", True),
        ("Reply-To", "domain", "example.jp", False),
        ("X-Missing", "contains", "x", False),  # a header the mail lacks
        ("X-Missing", "not_contains", "x", True),
    ],
)
def test_header(invoice: Message, header: str, op: str, value: str, expected: bool) -> None:
    assert check(invoice, "header", op, value, header=header) is expected


def test_header_below_the_body_is_not_a_header(mailbox: Mailbox) -> None:
    """Only the header part counts: a line in the body that looks like one does not."""
    message = mail_in(mailbox, body="X-Mailer: Outlook\n")
    assert not check(message, "header", "contains", "outlook", header="X-Mailer")


# has attachment


def _with_attachment(inline: bool = False) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = SENDER, "support@example.jp", "見積書"
    msg["Message-ID"] = "<att@tokyo-shoji.example>" if not inline else "<inl@tokyo-shoji.example>"
    msg.set_content("添付をご確認ください。\n")
    msg.add_attachment(
        b"%PDF-1.4 ...", maintype="application", subtype="pdf", filename="見積書.pdf"
    )
    return msg.as_bytes(policy=SMTP)


@pytest.mark.parametrize(("op", "value"), [("is", "yes"), ("is_not", "no")])
def test_attachment(mailbox: Mailbox, invoice: Message, op: str, value: str) -> None:
    attached = deliver(mailbox, _with_attachment())
    assert attached is not None
    assert check(attached, "attachment", op, value)
    assert not check(invoice, "attachment", op, value)


# kind


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ({}, "normal"),
        ({"Auto-Submitted": "auto-replied"}, "auto_reply"),
        ({"List-Unsubscribe": "<mailto:leave@news.example>"}, "bulk"),
        ({"X-Failed-Recipients": "gone@example.com"}, "bounce"),
    ],
)
def test_kind(mailbox: Mailbox, headers: dict[str, str], kind: str) -> None:
    message = mail_in(mailbox, headers=headers)
    assert message.kind == kind
    assert check(message, "kind", "is", kind)
    assert not check(message, "kind", "is_not", kind)
    other = "normal" if kind != "normal" else "bulk"
    assert check(message, "kind", "is_not", other)


# business hours


def _hours(mailbox: Mailbox, hours: dict[str, list[list[str]]]) -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(business_hours=hours, holiday_country="")


def test_inside_business_hours(mailbox: Mailbox) -> None:
    _hours(mailbox, {d: [["00:00", "24:00"]] for d in DAYS})
    message = mail_in(mailbox)
    assert check(message, "hours", "is", "inside")
    assert not check(message, "hours", "is", "outside")


def test_outside_business_hours(mailbox: Mailbox) -> None:
    _hours(mailbox, {})  # never open
    message = mail_in(mailbox)
    assert check(message, "hours", "is", "outside")
    assert check(message, "hours", "is_not", "inside")


# customer new or known


def test_customer_new_then_known(mailbox: Mailbox) -> None:
    """Their first conversation: a new customer; their next one: known (any mailbox)."""
    first = mail_in(mailbox, subject="はじめまして")
    assert check(first, "customer", "is", "new")
    second = mail_in(mailbox, subject="別件です")
    assert second.conversation_id != first.conversation_id
    assert check(second, "customer", "is", "known")
    assert check(second, "customer", "is_not", "new")


# conversation new or a reply


def test_conversation_new_or_reply(mailbox: Mailbox) -> None:
    first = mail_in(mailbox, message_id="q1@tokyo-shoji.example")
    reply = mail_in(mailbox, subject="Re: Question", in_reply_to="q1@tokyo-shoji.example")
    assert reply.conversation_id == first.conversation_id
    assert check(first, "conversation", "is", "new", new=True)
    assert check(reply, "conversation", "is", "reply", new=False)
    assert not check(reply, "conversation", "is", "new", new=False)


# all / any


def test_all_and_any(invoice: Message) -> None:
    conditions = [
        {"field": "subject", "op": "contains", "value": "請求"},
        {"field": "from", "op": "domain", "value": "nowhere.example"},
    ]
    conv = Conversation.objects.select_related("mailbox").get(pk=invoice.conversation_id)
    mail = rules.Mail(invoice, conv, True)
    facts = rules.Facts([mail])
    assert not rules.compile_rule("all", conditions).matches(facts, mail)
    assert rules.compile_rule("any", conditions).matches(facts, mail)
    assert rules.compile_rule("all", []).matches(facts, mail)  # no conditions: every mail


def test_cheap_conditions_first_spare_the_header_query(
    invoice: Message, django_assert_num_queries: Any
) -> None:
    """An "all" rule whose subject condition fails never reads the raw mail's headers."""
    matcher = rules.compile_rule(
        "all",
        [
            {"field": "header", "header": "X-Mailer", "op": "contains", "value": "Becky"},
            {"field": "subject", "op": "contains", "value": "見積"},
        ],
    )
    conv = Conversation.objects.select_related("mailbox").get(pk=invoice.conversation_id)
    mail = rules.Mail(invoice, conv, True)
    with django_assert_num_queries(0):
        assert not matcher.matches(rules.Facts([mail]), mail)


# regex limits


def test_catastrophic_regex_times_out_as_no_match(
    invoice: Message, caplog: pytest.LogCaptureFixture
) -> None:
    """``(a|a)+$`` on 40 a's needs 2**40 steps: the time limit ends it as no match (this
    test returning at all is the proof), logged once however many mails it runs on."""
    message = mail_in(invoice.mailbox, subject="a" * 40 + "!")
    conv = Conversation.objects.select_related("mailbox").get(pk=message.conversation_id)
    matcher = rules.compile_rule("all", [{"field": "subject", "op": "regex", "value": "(a|a)+$"}])
    mails = [rules.Mail(message, conv, True)] * 5
    facts = rules.Facts(mails)
    with caplog.at_level(logging.WARNING, logger="madoguchi.automation.rules"):
        assert not any(matcher.matches(facts, m) for m in mails)
    assert facts.guard.timed_out == rules.TRIPS  # tripped: not tried again in this batch
    assert len([r for r in caplog.records if "ran longer than" in r.message]) == 1


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        ({"field": "subject", "op": "regex", "value": "(unclosed"}, "not valid"),
        ({"field": "subject", "op": "regex", "value": "a" * 301}, "longer than 300"),
        ({"field": "subject", "op": "contains", "value": "  "}, "needs a value"),
        ({"field": "subject", "op": "domain", "value": "x.example"}, "address field"),
        ({"field": "nope", "op": "contains", "value": "x"}, "Unknown condition field"),
        ({"field": "subject", "op": "is", "value": "x"}, "no operator"),
        ({"field": "kind", "op": "is", "value": "spam"}, "not a choice"),
        ({"field": "header", "op": "contains", "value": "x"}, "header's name"),
        ({"field": "header", "header": "X Bad", "op": "contains", "value": "x"}, "header name"),
        ({"field": "subject", "op": "contains", "value": 3}, "must be text"),
    ],
)
def test_bad_conditions_say_what_is_wrong(condition: dict[str, Any], problem: str) -> None:
    with translation.override("en"), pytest.raises(ValueError, match=problem):
        rules.compile_condition(condition)


def test_make_conversation_uses_the_same_matching(mailbox: Mailbox) -> None:
    """The factory's default conversation (請求書の件 from 田中) matches a 請求 rule."""
    conv = make_conversation(mailbox)
    message = conv.messages.get()
    assert check(message, "subject", "contains", "請求")
    assert check(message, "from", "domain", "tokyo-shoji.example")
