"""A flooded conversation renders a bounded page: the newest messages, the first one, and
a link to the older ones."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from madoguchi.conversations.models import Message
from madoguchi.conversations.queries import TIMELINE_PAGE
from tests.factories import client_for
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db

FLOOD = 2000


def flood(mailbox, count: int = FLOOD) -> Message:
    """A conversation of ``count`` messages: the first delivered, the rest written at once
    (delivering 2,000 mails one by one would only make the test slow)."""
    first = deliver(mailbox, make_mail(subject="洪水", message_id="f0@x.example", body="最初\n"))
    assert first is not None
    start = timezone.now()
    Message.objects.bulk_create(
        Message(mailbox=mailbox, conversation_id=first.conversation_id, direction="in",
                dedupe_key=f"flood{n}", message_id=f"f{n}@x.example", from_email="a@x.example",
                subject="Re: 洪水", text=f"本文 {n}", received_at=start + timedelta(seconds=n),
                thread_rule="in_reply_to")
        for n in range(1, count)
    )  # fmt: skip
    return first


def _shown(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<li class="card message in" id="m(\d+)"', page)]


def test_a_flooded_conversation_shows_a_bounded_page(team):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = flood(team["support"])
    client = client_for(team["sato"])
    newest = list(Message.objects.order_by("-pk").values_list("pk", flat=True)[:TIMELINE_PAGE])
    client.get(f"/c/{first.conversation_id}/")  # the first look marks it read: one write more
    with CaptureQueriesContext(connection) as flooded:
        page = client.get(f"/c/{first.conversation_id}/").content.decode()
    small = flood(team["sales"], 60)
    kato = client_for(team["kato"])
    kato.get(f"/c/{small.conversation_id}/")
    with CaptureQueriesContext(connection) as short:
        kato.get(f"/c/{small.conversation_id}/")
    assert len(flooded) == len(short)  # as many queries for 2,000 messages as for 60
    shown = _shown(page)
    assert len(shown) == TIMELINE_PAGE + 1
    assert shown[0] == first.pk and shown[1:] == sorted(newest)
    older = re.search(r'href="\?before=(\d+)#older"', page)
    assert older and int(older[1]) == shown[1]
    assert f"{FLOOD - 1 - TIMELINE_PAGE} " in page  # how many are left out


def test_older_messages_are_reachable_page_by_page(team):
    first = flood(team["support"], 130)
    client = client_for(team["sato"])
    url = f"/c/{first.conversation_id}/"
    seen: set[int] = set()
    page = client.get(url).content.decode()
    for _ in range(10):
        seen |= set(_shown(page))
        older = re.search(r'href="\?before=(\d+)#older"', page)
        if older is None:
            break
        page = client.get(url, {"before": older[1]}).content.decode()
        assert 'id="newer"' in page  # the way back to the newest messages
    assert seen == set(Message.objects.values_list("pk", flat=True))


def test_a_short_conversation_shows_everything_without_a_link(team):
    first = flood(team["support"], 10)
    client = client_for(team["sato"])
    page = client.get(f"/c/{first.conversation_id}/").content.decode()
    assert len(_shown(page)) == 10 and "?before=" not in page
