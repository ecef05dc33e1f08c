"""Query-count baselines (NetBox's ``query_counts.json``): pages and live fragments.

Each page or fragment is requested for a few rows, then again after more rows (and
messages, notes, events) were added: the number of queries must be the same, and no more
than the committed baseline in ``query_counts.json``. Fewer passes with a warning that
says to lower the baseline; ``UPDATE_QUERY_COUNTS=1`` rewrites the file with what was
measured. A failure lists the queries, so the one that came in is easy to find.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from madoguchi.accounts.actions import add_member, create_agent
from madoguchi.accounts.models import Role
from madoguchi.conversations import actions
from madoguchi.conversations.models import Conversation
from madoguchi.conversations.queries import TIMELINE_PAGE
from madoguchi.mailboxes.actions import create_mailbox
from madoguchi.mailboxes.models import Mailbox
from tests.factories import client_for
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db

BASELINES = Path(__file__).with_name("query_counts.json")
FEW, MANY = 5, 50


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
        mail = make_mail(subject=f"問い合わせ {n}", to=box.address,
                         message_id=f"q{n}.{box.pk}@customer.example")  # fmt: skip
        message = deliver(box, mail)
        assert message is not None
        return message.conversation

    def grow(self, to: int) -> None:
        """``to`` conversations in each visible mailbox and ``to`` items in the thread."""
        user = self.agent.user.pk
        for n in range(self.count, to):
            for box in (self.support, self.sales, self.other):
                conv = self._conversation(box, n + 1)
                actions.tag_conversation(conv, f"タグ{n % 3}", actor_id=user)
                if n % 2:
                    actions.assign_conversation(conv, assignee_id=user, actor_id=user)
                self.rows.append(conv)
            actions.add_note(self.thread, author_id=user, text=f"メモ {n}")
            actions.tag_conversation(self.thread, f"経過{n}", actor_id=user)
        self.count = to
        while self.thread.messages.count() < to + TIMELINE_PAGE:  # always a paged timeline
            n = self.thread.messages.count()
            reply = make_mail(subject="Re: 問い合わせ 0", message_id=f"t{n}@customer.example",
                              in_reply_to=f"q0.{self.support.pk}@customer.example")  # fmt: skip
            deliver(self.support, reply)

    def visible_ids(self) -> str:
        ids = [c.pk for c in self.rows if c.mailbox_id == self.support.pk]
        return "&".join(f"c={pk}" for pk in ids[:100])


PAGES: dict[str, Callable[[Fixture], str]] = {
    "inbox_page": lambda f: f"/m/{f.support.pk}/new/",
    "view_page": lambda f: "/v/all/new/",
    "conversation_page": lambda f: f"/c/{f.thread.pk}/",
    "fragment_counts": lambda f: f"/f/counts?mailbox={f.support.pk}&tab=new",
    "fragment_counts_view": lambda f: "/f/counts?view=mine&tab=open",
    "fragment_rows": lambda f: f"/f/rows?mailbox={f.support.pk}&tab=new&{f.visible_ids()}",
    "fragment_items": lambda f: f"/f/c/{f.thread.pk}/items?m=0&n=0&e=0",
}


def _measure(client: Client, url: str) -> CaptureQueriesContext:
    # a fragment is asked for by the page's script, which says so (no live cursor to read)
    headers = {"X-Live": "1"} if url.startswith("/f/") else {}
    client.get(url, headers=headers)  # warm: the session's first touch, per-process caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    if os.environ.get("SHOW_QUERIES") == "1":
        print(f"\n{url}\n{_listing(queries)}")
    return queries


def _listing(queries: CaptureQueriesContext) -> str:
    return "\n".join(f"{n}. {q['sql']}" for n, q in enumerate(queries.captured_queries, 1))


@pytest.mark.parametrize("name", sorted(PAGES))
def test_queries_stay_within_the_baseline_whatever_the_rows(name: str) -> None:
    """The same number of queries for 5 and 50 rows, and no more than the baseline."""
    fixture = Fixture()
    client = client_for(fixture.agent)
    fixture.grow(FEW)
    few = _measure(client, PAGES[name](fixture))
    fixture.grow(MANY)
    many = _measure(client, PAGES[name](fixture))
    assert len(many) == len(few), (
        f"{name}: {len(few)} queries for {FEW} rows, {len(many)} for {MANY}:\n{_listing(many)}"
    )
    baselines = json.loads(BASELINES.read_text()) if BASELINES.exists() else {}
    if os.environ.get("UPDATE_QUERY_COUNTS") == "1":
        baselines[name] = len(many)
        BASELINES.write_text(json.dumps(dict(sorted(baselines.items())), indent=2) + "\n")
        return
    baseline = baselines.get(name)
    assert baseline is not None, f"no baseline for {name}: run with UPDATE_QUERY_COUNTS=1"
    assert len(many) <= baseline, (
        f"{name}: {len(many)} queries, the baseline is {baseline}:\n{_listing(many)}"
    )
    if len(many) < baseline:
        warnings.warn(
            f"{name}: {len(many)} queries, fewer than the baseline {baseline}: lower it in "
            f"{BASELINES.name} (UPDATE_QUERY_COUNTS=1)",
            stacklevel=1,
        )
