"""Live updates over /live against a real `madoguchi run web` process (or two)."""

from __future__ import annotations

import pytest
from websockets.exceptions import InvalidStatus

from madoguchi.accounts.actions import add_member, set_members
from madoguchi.conversations import actions
from madoguchi.conversations.models import Conversation
from madoguchi.core import events
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event
from madoguchi.live.models import Pulse
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail
from tests.waiting import wait_until
from tests.web.live_client import Browserless, Live
from tests.web.server import web_process


def _conv(mailbox, n: int = 1) -> Conversation:
    mail = make_mail(subject=f"件名 {n}", message_id=f"live{n}.{mailbox.pk}@x.example")
    return deliver(mailbox, mail).conversation


def _event(kind: str, conv: Conversation):
    return lambda m: m["type"] == "event" and m["event"] == kind and m["conversation"] == conv.pk


def _presence(conv: Conversation, agents):
    return lambda m: (
        m["type"] == "presence" and m["conversation"] == conv.pk and agents(m["agents"])
    )


def test_an_agent_gets_events_of_their_mailboxes_only(web, team):
    support, sales = _conv(team["support"]), _conv(team["sales"], 2)
    with Live(web, team["sato"].user) as sato, Live(web, team["kato"].user) as kato:
        actions.add_note(support, author_id=team["sato"].user.pk, text="support only")
        actions.add_note(sales, author_id=team["kato"].user.pk, text="sales only")
        got = sato.wait_for(_event("note.added", support))
        assert got["mailbox"] == team["support"].pk and got["actor_name"] == "佐藤 花子"
        kato.wait_for(_event("note.added", sales))  # later than the support note
        assert all(m["mailbox"] == team["sales"].pk for m in kato.events())
        assert "support only" not in str(sato.got)  # events carry ids, never content


def test_a_change_made_through_the_pages_reaches_the_others_at_once(web, team, suzuki):
    conv = _conv(team["support"])
    with Live(web, suzuki.user) as watcher:
        watcher.wait_for(lambda m: m["type"] == "presence_all")
        response = Browserless(web, team["sato"].user).post(
            f"/c/{conv.pk}/assign", {"assignee": "me"}
        )
        assert response.status_code == 302
        got = watcher.wait_for(_event("conversation.assigned", conv))
        assert got["data"]["after"] == team["sato"].user.pk


def test_a_reconnecting_tab_gets_what_it_missed(web, team):
    conv = _conv(team["support"])
    after = Event.objects.order_by("-pk").values_list("pk", flat=True).first()
    actions.add_note(conv, author_id=team["sato"].user.pk, text="while offline")
    actions.change_status(conv, "hold", actor_id=team["sato"].user.pk)
    with Live(web, team["sato"].user, after=after) as tab:
        first = tab.wait_for(_event("note.added", conv))
        second = tab.wait_for(_event("conversation.status", conv))
        assert first["id"] < second["id"]


def test_a_tab_too_far_behind_is_told_to_reload(web, team):
    conv = _conv(team["support"])
    after = Event.objects.order_by("-pk").values_list("pk", flat=True).first()
    events.record_many(
        [
            events.build(EventType.MAILBOX_UPDATED, mailbox_id=conv.mailbox_id, fields=[])
            for _ in range(301)
        ]
    )
    with Live(web, team["sato"].user, after=after) as tab:
        tab.wait_for(lambda m: m["type"] == "resync")
        assert not tab.events()


def test_a_removed_member_stops_receiving_the_mailbox(web, team):
    support, sales = _conv(team["support"]), _conv(team["sales"], 2)
    add_member(team["sales"], team["sato"].user)
    with Live(web, team["sato"].user) as tab:
        tab.wait_for(lambda m: m["type"] == "presence_all")
        set_members(team["support"], [])
        tab.wait_for(lambda m: m["type"] == "access")
        actions.add_note(support, author_id=team["kato"].user.pk, text="after removal")
        actions.add_note(sales, author_id=team["kato"].user.pk, text="still a member here")
        tab.wait_for(_event("note.added", sales))
        assert not [m for m in tab.events() if m["conversation"] == support.pk]


def test_presence_shows_viewing_then_replying_and_goes_when_the_tab_closes(web, team, suzuki):
    conv = _conv(team["support"])
    sato_id = team["sato"].user.pk
    with Live(web, suzuki.user) as watcher:
        watcher.wait_for(lambda m: m["type"] == "presence_all")
        tab = Live(web, team["sato"].user)
        tab.send(conversation=conv.pk, state="viewing")
        got = watcher.wait_for(_presence(conv, lambda agents: agents))
        assert got["agents"] == [{"agent": sato_id, "name": "佐藤 花子", "state": "viewing"}]
        tab.send(conversation=conv.pk, state="replying")
        watcher.wait_for(_presence(conv, lambda a: a and a[0]["state"] == "replying"))
        tab.close()  # gone at once, not when some timeout expires
        watcher.wait_for(_presence(conv, lambda agents: agents == []))
    with Live(web, suzuki.user) as late:  # a tab that comes later sees who is there now
        assert late.wait_for(lambda m: m["type"] == "presence_all")["items"] == {}


def test_presence_on_a_conversation_one_may_not_see_is_ignored(web, team, suzuki):
    conv = _conv(team["support"])
    with Live(web, team["sato"].user) as sato, Live(web, team["kato"].user) as kato:
        sato.wait_for(lambda m: m["type"] == "presence_all")
        kato.send(conversation=conv.pk, state="replying")  # kato is not in support
        with Live(web, suzuki.user) as other:
            other.send(conversation=conv.pk, state="viewing")
            got = sato.wait_for(_presence(conv, lambda agents: agents))
            assert [a["agent"] for a in got["agents"]] == [suzuki.user.pk]


def test_bad_messages_change_nothing(web, team):
    conv = _conv(team["support"])
    with Live(web, team["sato"].user) as tab:
        tab.ws.send("not json")
        tab.ws.send("[1, 2]")
        tab.send(conversation="12", state="viewing")
        tab.send(conversation=conv.pk, state="dancing")
        tab.send(conversation=10**9, state="viewing")
        actions.add_note(conv, author_id=team["sato"].user.pk, text="still here")
        tab.wait_for(_event("note.added", conv))


def test_signed_out_tabs_are_refused(web, team):
    with pytest.raises(InvalidStatus):
        Live(web, None)


def test_events_and_presence_cross_web_processes(web, team, suzuki):
    conv = _conv(team["support"])
    with web_process("web") as other, Live(other, suzuki.user) as watcher:
        watcher.wait_for(lambda m: m["type"] == "presence_all")
        Browserless(web, team["sato"].user).post(f"/c/{conv.pk}/status", {"status": "hold"})
        watcher.wait_for(_event("conversation.status", conv))
        with Live(web, team["sato"].user) as tab:
            tab.send(conversation=conv.pk, state="viewing")
            watcher.wait_for(_presence(conv, lambda agents: agents))
        watcher.wait_for(_presence(conv, lambda agents: agents == []))


def test_a_web_process_that_starts_later_knows_who_is_already_there(web, team, suzuki):
    conv = _conv(team["support"])
    with Live(web, team["sato"].user) as tab:
        tab.send(conversation=conv.pk, state="replying")
        wait_until(Pulse.objects.filter(conversation_id=conv.pk).exists,
                   "the first process announces the tab", timeout=10)  # fmt: skip
        with web_process("web") as other, Live(other, suzuki.user) as late:
            items = late.wait_for(lambda m: m["type"] == "presence_all")["items"]
            assert items == {str(conv.pk): [{"agent": team["sato"].user.pk, "name": "佐藤 花子",
                                             "state": "replying"}]}  # fmt: skip
