"""`madoguchi tick`: the clock once, for cron and tests (a real subprocess)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from madoguchi.conversations import timers
from madoguchi.conversations.models import Conversation
from madoguchi.core.models import Event
from tests.factories import make_agent, make_conversation, make_mailbox


def test_tick_wakes_what_is_due_once_and_says_so(cli):
    """A snooze that ended a day ago (no worker ran): one tick wakes it, late; the next
    finds nothing."""
    mailbox = make_mailbox()
    sato = make_agent("sato", mailboxes=[mailbox]).user
    conv = make_conversation(mailbox)
    timers.snooze(conv, until=timezone.now() - timedelta(days=1), back_to="new", actor_id=sato.pk)
    first = cli("tick", check=True)
    assert "woken: 1" in first.stdout.splitlines()
    conv.refresh_from_db()
    assert conv.status == "new" and conv.snoozed_until is None
    woken = Event.objects.get(type="conversation.woken", conversation=conv)
    assert woken.data == {"reason": "time", "late": True}
    again = json.loads(cli("tick", "--json", check=True).stdout)
    assert again == {"woken": 0, "follow_ups": 0, "breaches": 0, "reoffered": 0}
    assert Conversation.objects.get(pk=conv.pk).status == "new"


def test_tick_on_an_empty_database(cli):
    proc = cli("tick", check=True)
    assert proc.stdout.splitlines() == ["woken: 0", "follow_ups: 0", "breaches: 0", "reoffered: 0"]


@pytest.mark.processes
def test_the_worker_runs_the_clock(transactional_db, tmp_path):
    """`madoguchi run worker` ticks at start (what came due while it was down happens at
    once) and then every MADOGUCHI_CLOCK_SECONDS."""
    import subprocess
    import sys

    from tests.fixtures import server_env
    from tests.waiting import wait_until

    mailbox = make_mailbox()
    sato = make_agent("sato", mailboxes=[mailbox]).user
    late = make_conversation(mailbox, message_id="late@x.example")
    soon = make_conversation(mailbox, message_id="soon@x.example", subject="次の件")
    timers.snooze(late, until=timezone.now() - timedelta(hours=8), back_to="new", actor_id=sato.pk)
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "madoguchi.cli", "run", "worker"],
        env=server_env(MADOGUCHI_CLOCK_SECONDS="1"), stdout=log, stderr=log,
    )  # fmt: skip
    try:
        wait_until(
            lambda: Conversation.objects.get(pk=late.pk).status == "new", "the late snooze woke"
        )
        timers.snooze(soon, until=timezone.now(), back_to="new", actor_id=sato.pk)
        wait_until(
            lambda: Conversation.objects.get(pk=soon.pk).status == "new", "the next tick came"
        )
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        log.close()
    assert Event.objects.filter(type="conversation.woken").count() == 2
