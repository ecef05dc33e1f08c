"""A mail that takes too long to parse is set aside as failed; intake goes on (issue 10).

The limit is lowered to half a second and the slow mail is a plain 20 MB text (linear, a few
seconds to parse): the point is the limit, not a particular hostile input.
"""

from __future__ import annotations

import pytest

from madoguchi.conversations.models import Message
from madoguchi.core.models import Event
from madoguchi.mail_in import actions, parser
from madoguchi.mail_in.models import RawMessage, RawStatus
from madoguchi.mail_in.pipeline import Pipeline
from madoguchi.mail_in.types import RawInbound
from madoguchi.mailboxes.actions import create_mailbox
from tests.mailmaker import make_mail

# Each test starts parse helper processes (and waits out their time limit).
pytestmark = pytest.mark.processes

SLOW = b"From: a@example.com\r\nSubject: big\r\n\r\n" + b"lorem ipsum dolor sit amet\n" * 800_000


@pytest.fixture
def short_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parser, "PARSE_SECONDS", 0.5)


def accepted(mailbox, *datas: bytes) -> list[RawMessage]:
    inbound = [RawInbound(data=d, source="lmtp") for d in datas]
    rows = actions.accept_many(mailbox, inbound, schedule=False)
    return list(RawMessage.objects.select_related("mailbox").filter(pk__in=[r.pk for r, _ in rows]))


def check_set_aside(slow: RawMessage) -> None:
    slow.refresh_from_db()
    assert slow.status == RawStatus.FAILED
    assert "parsing took longer than 0.5 s" in slow.error
    assert Event.objects.filter(type="ingest.failed", data__raw=slow.pk).exists()
    assert set(Message.objects.values_list("message_id", flat=True)) == {
        "a@c.example",
        "b@c.example",
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("short_limit")
def test_slow_mail_is_failed_with_the_reason_and_the_others_arrive(mailbox):
    """Between two good mails, the one over the time limit is failed; both good ones arrive."""
    rows = accepted(
        mailbox, make_mail(message_id="a@c.example"), SLOW, make_mail(message_id="b@c.example")
    )
    actions.ingest_safely(rows)
    check_set_aside(next(r for r in rows if r.size == len(SLOW)))


@pytest.mark.django_db
@pytest.mark.usefixtures("short_limit")
def test_bulk_pipeline_sets_the_slow_mail_aside(mailbox):
    """The import/fetch pipeline holds each mail to the same limit."""
    rows = accepted(
        mailbox, make_mail(message_id="a@c.example"), SLOW, make_mail(message_id="b@c.example")
    )
    with Pipeline() as pipeline:
        pipeline.add(rows)
    check_set_aside(next(r for r in rows if r.size == len(SLOW)))


@pytest.mark.django_db
@pytest.mark.usefixtures("short_limit")
def test_failed_slow_mail_is_not_parsed_again_at_start(mailbox):
    """ingest_pending (run at every start) leaves a mail that ran out of time alone."""
    (slow,) = accepted(mailbox, SLOW)
    actions.ingest_safely([slow])
    assert actions.ingest_pending() == 0
    slow.refresh_from_db()
    assert slow.status == RawStatus.FAILED and slow.attempts == 1


@pytest.mark.usefixtures("short_limit")
def test_mail_failed_shows_why(cli):
    """`madoguchi mail failed` lists the mail with the reason."""
    mailbox = create_mailbox("support@example.jp")
    (slow,) = accepted(mailbox, SLOW)
    actions.ingest_safely([slow])
    out = cli("mail", "failed", check=True).stdout
    assert f"{slow.pk}\tlmtp" in out and "parsing took longer than 0.5 s" in out


def test_a_killed_helper_is_replaced():
    """After the time limit kills the helper, the next mail is parsed by a fresh one."""
    helper = parser.Helper(limit=0.5)
    try:
        first, second = helper.parse([SLOW, make_mail(message_id="x@c.example")])
        assert isinstance(first, parser.ParseFailure)
        assert not isinstance(second, parser.ParseFailure) and second.message_id == "x@c.example"
    finally:
        helper.stop()


def test_a_helper_out_of_memory_fails_only_that_mail(monkeypatch):
    """Past its memory limit the helper degrades or dies on that mail alone; the next is parsed."""
    monkeypatch.setattr(parser, "PARSE_MEMORY_BYTES", 400 * 1024 * 1024)
    hog = b"Content-Type: text/plain\r\n\r\n" + b"ab\n" * 60_000_000
    helper = parser.Helper()
    try:
        first, second = helper.parse([hog, make_mail(message_id="y@c.example")])
        assert isinstance(first, parser.ParseFailure) and "died" in first.reason
        assert not isinstance(second, parser.ParseFailure) and second.message_id == "y@c.example"
    finally:
        helper.stop()
