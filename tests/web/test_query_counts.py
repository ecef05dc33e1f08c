"""Query-count baselines (NetBox's ``query_counts.json``): pages and live fragments.

Each page or fragment is requested for a few rows, then again after more rows (and
messages, notes, events) were added: the number of queries must be the same, and no more
than the committed baseline in ``query_counts.json``. Fewer passes with a warning that
says to lower the baseline; ``UPDATE_QUERY_COUNTS=1`` rewrites the file with what was
measured. A failure lists the queries, so the one that came in is easy to find.

The rows are made once (``measured``: a few, every page measured, more,
every page measured again, in one transaction rolled back at the end), not once per page.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoDbBlocker

from madoguchi.accounts.actions import add_member, create_agent
from madoguchi.accounts.models import Role
from madoguchi.conversations import actions
from madoguchi.conversations.models import Conversation, Message
from madoguchi.conversations.queries import TIMELINE_PAGE
from madoguchi.mail_in import actions as intake
from madoguchi.mail_in.types import RawInbound
from madoguchi.mailboxes.actions import create_mailbox
from madoguchi.mailboxes.models import Mailbox
from tests.factories import client_for
from tests.mailmaker import make_mail

#: The tests read what ``measured`` found; the mark has the test database made for it.
pytestmark = pytest.mark.django_db

BASELINES = Path(__file__).with_name("query_counts.json")
FEW, MANY = 5, 25


class Fixture:
    """Three mailboxes (the agent sees two), conversations with tags and assignees, and one
    conversation that grows: messages (always more than a timeline page), notes, events."""

    def __init__(self) -> None:
        self.support = create_mailbox("support@example.jp", name="サポート窓口")
        self.sales = create_mailbox("sales@example.jp", name="営業")
        self.other = create_mailbox("other@example.jp", name="別部署")
        self.agent = create_agent("sato", password="pw-sato-123", display_name="佐藤 花子")
        self.boss = create_agent("boss", password="pw-boss-123", role=Role.MANAGER)
        for box in (self.support, self.sales):
            add_member(box, self.agent.user)
            add_member(box, self.boss.user)
        self.rows: list[Conversation] = []
        self.thread = self._conversation(self.support, 0)
        self.count = 0

    def _conversation(self, box: Mailbox, n: int) -> Conversation:
        return self._conversations(box, [n])[0]

    def _conversations(self, box: Mailbox, numbers: Sequence[int]) -> list[Conversation]:
        """A conversation per number, each started by a customer's mail (intake in one batch)."""
        ids = [f"q{n}.{box.pk}@customer.example" for n in numbers]
        mails = [make_mail(subject=f"問い合わせ {n}", to=box.address, message_id=message_id)
                 for n, message_id in zip(numbers, ids, strict=True)]  # fmt: skip
        started = {m.message_id: m.conversation_id for m in _deliver_all(box, mails)}
        found = Conversation.objects.in_bulk([started[message_id] for message_id in ids])
        return [found[started[message_id]] for message_id in ids]

    def grow(self, to: int) -> None:
        """``to`` conversations in each visible mailbox and ``to`` items in the thread."""
        user = self.agent.user.pk
        numbers = range(self.count, to)
        boxes = (self.support, self.sales, self.other)
        made = [self._conversations(box, [n + 1 for n in numbers]) for box in boxes]
        for i, n in enumerate(numbers):
            for conv in (convs[i] for convs in made):
                actions.tag_conversation(conv, f"タグ{n % 3}", actor_id=user)
                if n % 2:
                    actions.assign_conversation(conv, assignee_id=user, actor_id=user)
                self.rows.append(conv)
            actions.add_note(self.thread, author_id=user, text=f"メモ {n}")
            actions.tag_conversation(self.thread, f"経過{n}", actor_id=user)
        self.count = to
        have = self.thread.messages.count()  # always a paged timeline:
        replies = [make_mail(subject="Re: 問い合わせ 0", message_id=f"t{n}@customer.example",
                             in_reply_to=f"q0.{self.support.pk}@customer.example")
                   for n in range(have, to + TIMELINE_PAGE)]  # fmt: skip
        if replies:
            _deliver_all(self.support, replies)

    def visible_ids(self) -> str:
        ids = [c.pk for c in self.rows if c.mailbox_id == self.support.pk]
        return "&".join(f"c={pk}" for pk in ids[:100])


def _deliver_all(box: Mailbox, mails: list[bytes]) -> list[Message]:
    """The real intake for several mails at once: accepted, then ingested as one batch (a
    mail at a time took most of the module's time)."""
    raws = [RawInbound(data=mail, source="lmtp") for mail in mails]
    rows = [row for row, _ in intake.accept_many(box, raws, schedule=False)]
    return intake.ingest(rows)


PAGES: dict[str, Callable[[Fixture], str]] = {
    "inbox_page": lambda f: f"/m/{f.support.pk}/new/",
    "view_page": lambda f: "/v/all/new/",
    "conversation_page": lambda f: f"/c/{f.thread.pk}/",
    "fragment_counts": lambda f: f"/f/counts?mailbox={f.support.pk}&tab=new",
    "fragment_counts_view": lambda f: "/f/counts?view=mine&tab=open",
    "fragment_rows": lambda f: f"/f/rows?mailbox={f.support.pk}&tab=new&{f.visible_ids()}",
    "fragment_items": lambda f: f"/f/c/{f.thread.pk}/items?m=0&n=0&e=0",
    "search_page": lambda f: "/search/?q=問い合わせ",
}


class Measure(NamedTuple):
    url: str
    status: int
    #: The SQL of each query (read at once: the context reads the connection's log, which
    #: the next request empties).
    queries: list[str]


def _measure(client: Client, url: str) -> Measure:
    # a fragment is asked for by the page's script, which says so (no live cursor to read)
    headers = {"X-Live": "1"} if url.startswith("/f/") else {}
    client.get(url, headers=headers)  # warm: the session's first touch, per-process caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    sqls = [query["sql"] for query in queries.captured_queries]
    if os.environ.get("SHOW_QUERIES") == "1":
        print(f"\n{url}\n{_listing(sqls)}")
    return Measure(url, response.status_code, sqls)


def _listing(queries: list[str]) -> str:
    return "\n".join(f"{n}. {sql}" for n, sql in enumerate(queries, 1))


@pytest.fixture(scope="module")
def measured(
    django_db_setup: None, django_db_blocker: DjangoDbBlocker
) -> dict[str, tuple[Measure, Measure]]:
    """The queries of every page for FEW rows and for MANY, by page name. Each page has its
    own signed-in client, as a test of its own would."""
    with django_db_blocker.unblock(), transaction.atomic():
        fixture = Fixture()
        clients = {name: client_for(fixture.agent) for name in sorted(PAGES)}
        fixture.grow(FEW)
        few = {name: _measure(client, PAGES[name](fixture)) for name, client in clients.items()}
        fixture.grow(MANY)
        many = {name: _measure(client, PAGES[name](fixture)) for name, client in clients.items()}
        transaction.set_rollback(True)
    return {name: (few[name], many[name]) for name in PAGES}


def test_every_page_keeps_its_queries_whatever_the_rows(
    measured: dict[str, tuple[Measure, Measure]],
) -> None:
    """The same number of queries for 5 and 25 rows, and no more than the baseline, for
    every page and fragment. (One test, not one per page: a parallel run would make the rows
    again on each worker that ran one.)"""
    baselines = json.loads(BASELINES.read_text()) if BASELINES.exists() else {}
    failed: list[str] = []
    for name in sorted(PAGES):
        for measure in measured[name]:
            assert measure.status == 200, (measure.url, measure.status)
        few, many = (measure.queries for measure in measured[name])
        if len(many) != len(few):
            failed.append(f"{name}: {len(few)} queries for {FEW} rows, {len(many)} for "
                          f"{MANY}:\n{_listing(many)}")  # fmt: skip
            continue
        if os.environ.get("UPDATE_QUERY_COUNTS") == "1":
            baselines[name] = len(many)
            continue
        baseline = baselines.get(name)
        if baseline is None:
            failed.append(f"no baseline for {name}: run with UPDATE_QUERY_COUNTS=1")
        elif len(many) > baseline:
            failed.append(f"{name}: {len(many)} queries, the baseline is {baseline}:\n"
                          f"{_listing(many)}")  # fmt: skip
        elif len(many) < baseline:
            warnings.warn(
                f"{name}: {len(many)} queries, fewer than the baseline {baseline}: lower it "
                f"in {BASELINES.name} (UPDATE_QUERY_COUNTS=1)",
                stacklevel=1,
            )
    if os.environ.get("UPDATE_QUERY_COUNTS") == "1":
        BASELINES.write_text(json.dumps(dict(sorted(baselines.items())), indent=2) + "\n")
    assert not failed, "\n\n".join(failed)
