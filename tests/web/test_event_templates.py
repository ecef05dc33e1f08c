"""Every event the timeline shows has its own line, drawn from its own template.

The types come from the registry (``core.event_types``), so a type declared without a
template, or without a sample here, fails this file rather than reaching a reader as a
raw type name. The lines are read off the real conversation page, in English and in
Japanese (the msgids of the old ``_event.html`` are kept, so the catalogue still applies).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.template.loader import get_template

from madoguchi.conversations.models import Conversation, Message
from madoguchi.core import events
from madoguchi.core.event_types import SPECS, EventType
from madoguchi.core.models import Event
from madoguchi.web.templatetags.events import FALLBACK, event_templates, template_name
from tests.factories import client_for, make_conversation

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "src/madoguchi/web/templates/conversations/events"

#: What the timeline shows: the registry's types in a conversation that are not quiet.
TIMELINE = sorted(t for t, s in SPECS.items() if s.in_conversation and not s.quiet)


@dataclass(frozen=True)
class Scene:
    conv: Conversation
    message: Message
    sato: int


Payload = Callable[[Scene], dict[str, Any]]

#: For each timeline type: realistic payloads (one per branch of its template) and the
#: English line each must show.
SAMPLES: dict[EventType, list[tuple[Payload, str]]] = {
    EventType.CONVERSATION_STARTED: [(lambda s: {}, "started this conversation")],
    EventType.CONVERSATION_ASSIGNED: [
        (
            lambda s: {"before": None, "after": s.sato, "after_name": "佐藤 花子"},
            "assigned it to 佐藤 花子",
        ),
        (lambda s: {"before": s.sato, "after": None, "after_name": ""}, "unassigned it"),
    ],
    EventType.CONVERSATION_STATUS: [
        (
            lambda s: {"before": "new", "after": "open", "reason": "claimed"},
            "changed the status from New to In progress",
        ),
        (
            lambda s: {"before": "done", "after": "new", "reason": "customer replied"},
            "changed the status from Done to New (the customer replied)",
        ),
    ],
    EventType.CONVERSATION_KIND: [
        (
            lambda s: {"before": "bulk", "after": "normal", "reason": "marked"},
            "marked it as a person's mail (not automated)",
        ),
        (
            lambda s: {
                "before": "bulk",
                "after": "normal",
                "reason": "marked",
                "always": "example.com",
            },
            "marked it as a person's mail (not automated) · mail from example.com is always a "
            "person's",
        ),
        (
            lambda s: {"before": "auto_reply", "after": "normal", "reason": "person"},
            "a person wrote: moved it back to New",
        ),
        (
            lambda s: {"before": "bulk", "after": "normal", "reason": "reclassified"},
            "moved it back to New (classification corrected)",
        ),
        (
            lambda s: {"before": "normal", "after": "bulk", "reason": "classified"},
            "classified it as bulk or list mail",
        ),
    ],
    EventType.CONVERSATION_MERGED: [
        (lambda s: {"merged": 41, "messages": 2, "via": s.message.pk}, "joined conversation #41"),
    ],
    EventType.CONVERSATION_TAGGED: [(lambda s: {"tag": "VIP"}, "tagged it VIP")],
    EventType.CONVERSATION_UNTAGGED: [(lambda s: {"tag": "VIP"}, "removed the tag VIP")],
    EventType.MESSAGE_QUEUED: [(lambda s: {"message": s.message.pk}, "wrote a reply")],
    EventType.MESSAGE_SENT: [
        (lambda s: {"message": s.message.pk}, "the reply was sent"),
        (
            lambda s: {"message": s.message.pk, "kept_locally": True},
            "kept the reply here (demo: not really sent)",
        ),
    ],
    EventType.MESSAGE_CANCELLED: [(lambda s: {"message": s.message.pk}, "took the reply back")],
    EventType.MESSAGE_RETRYING: [
        (
            lambda s: {
                "message": s.message.pk,
                "error": "421 4.7.0 Try again later",
                "reason": "refused",
                "attempt": 2,
            },
            "sending failed for now; trying again",
        ),
    ],
    EventType.MESSAGE_FAILED: [
        (
            lambda s: {
                "message": s.message.pk,
                "error": "550 5.1.1 User unknown",
                "reason": "refused",
            },
            "the reply could not be sent",
        ),
    ],
    EventType.APPROVAL_REQUESTED: [
        (lambda s: {"message": s.message.pk}, "asked for approval of a reply"),
    ],
    EventType.APPROVAL_APPROVED: [
        (lambda s: {"message": s.message.pk, "edited": False}, "approved the reply"),
        (lambda s: {"message": s.message.pk, "edited": True}, "edited and approved the reply"),
    ],
    EventType.APPROVAL_RETURNED: [
        (lambda s: {"message": s.message.pk, "note": 7}, "sent the reply back to its author"),
    ],
    EventType.CONVERSATION_SNOOZED: [
        (
            lambda s: {"until": "2026-12-03T09:00:00+09:00", "back_to": "new"},
            "snoozed it until Dec 3, 2026 09:00 · then back to New",
        ),
        (
            lambda s: {"until": "2026-12-03T00:00:00+00:00", "back_to": "owner"},
            "snoozed it until Dec 3, 2026 09:00 · then back to its assignee",
        ),
    ],
    EventType.CONVERSATION_WOKEN: [
        (lambda s: {"reason": "time"}, "the snooze ended: it is back"),
        (
            lambda s: {"reason": "time", "late": True},
            "the snooze ended: it is back (late: the clock was not running at that time)",
        ),
        (lambda s: {"reason": "customer"}, "the customer wrote: back from snooze"),
        (lambda s: {"reason": "manual"}, "took it out of snooze"),
    ],
    EventType.FOLLOW_UP_SET: [
        (
            lambda s: {"at": "2026-12-07T15:00:00+09:00", "to": s.sato, "message": s.message.pk},
            "asked for a reminder on Dec 7, 2026 15:00 if the customer does not answer",
        ),
    ],
    EventType.FOLLOW_UP_DUE: [
        (
            lambda s: {"to": s.sato, "at": "2026-12-07T15:00:00+09:00"},
            "no answer from the customer: time to follow up",
        ),
    ],
    EventType.SLA_BREACHED: [
        (
            lambda s: {"target": "first_response", "due": "2026-12-03T10:00:00+09:00"},
            "missed the first-response target (due Dec 3, 2026 10:00)",
        ),
        (
            lambda s: {"target": "resolution", "due": "2026-12-04T18:00:00+09:00"},
            "missed the resolution target (due Dec 4, 2026 18:00)",
        ),
    ],
    EventType.AUTO_REPLY_SKIPPED: [
        (lambda s: {"reason": "automated"}, "sent no acknowledgement: the mail was automated"),
        (
            lambda s: {"reason": "own_address"},
            "sent no acknowledgement: it came from one of our own addresses",
        ),
        (
            lambda s: {"reason": "recently_answered"},
            "sent no acknowledgement: this sender was answered recently",
        ),
        (
            lambda s: {"reason": "in_hours"},
            "sent no acknowledgement: it arrived during business hours",
        ),
        (
            lambda s: {"reason": "loop"},
            "sent no acknowledgement: it looked like a loop of automatic replies",
        ),
        (lambda s: {"reason": "no_template"}, "sent no acknowledgement: no template is chosen"),
    ],
}


def _scene(team) -> Scene:
    conv = make_conversation(team["support"], subject="見積もり", message_id="ev@x.example")
    return Scene(conv, conv.messages.get(), team["sato"].user_id)


def _record(scene: Scene, type: EventType | str, **data: Any) -> Event:
    """Write the row an action would: validated by ``build``, saved without observers (the
    line depends only on the row)."""
    event = events.build(
        type,
        mailbox_id=scene.conv.mailbox_id,
        conversation_id=scene.conv.pk,
        actor_id=scene.sato,
        **data,
    )
    event.save()
    return event


def _lines(conv: Conversation, language: str) -> dict[int, str]:
    """The visible text of each event line of the conversation page, by event id, without
    the actor and the time (as sato, a member of its mailbox)."""
    response = client_for(User.objects.get(username="sato")).get(
        f"/c/{conv.pk}/", HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200
    page = response.content.decode()
    lines = {}
    for pk, inner in re.findall(r'<li[^>]*\bid="e(\d+)"[^>]*>(.*?)</li>', page, re.S):
        what = re.sub(r'<span class="who">.*?</span>|<time\b.*?</time>', "", inner, flags=re.S)
        lines[int(pk)] = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", what)).split())
    return lines


def test_every_timeline_type_has_samples():
    assert set(SAMPLES) == set(TIMELINE)


@pytest.mark.parametrize("type", TIMELINE, ids=str)
def test_each_timeline_type_renders_its_own_line(team, type: EventType):
    scene = _scene(team)
    recorded = [(_record(scene, type, **payload(scene)), text) for payload, text in SAMPLES[type]]
    english, japanese = _lines(scene.conv, "en"), _lines(scene.conv, "ja")
    for event, text in recorded:
        assert event.pk in english, f"{type} {event.data}: no line on the page"
        line = english[event.pk]
        assert text in line, f"{type} {event.data}: {line!r}"
        assert type.value not in line  # not the generic line
        assert japanese[event.pk] and japanese[event.pk] != line  # the catalogue applies


def test_a_tag_line_reads_as_before_in_japanese(team):
    scene = _scene(team)
    event = _record(scene, EventType.CONVERSATION_TAGGED, tag="VIP")
    assert _lines(scene.conv, "ja")[event.pk] == "タグ「VIP」を付けました"


@pytest.mark.parametrize("type", TIMELINE, ids=str)
def test_each_timeline_type_has_a_template_file(type: EventType):
    name = template_name(type)
    assert name == f"conversations/events/{type.value}.html" != FALLBACK
    assert (TEMPLATES / f"{type.value}.html").is_file()
    get_template(name)  # loads and parses


def test_no_template_is_left_for_a_type_the_timeline_does_not_show():
    names = {p.name for p in TEMPLATES.glob("*.html")} - {Path(FALLBACK).name}
    assert names == {f"{t.value}.html" for t in TIMELINE}


def test_unknown_and_quiet_types_take_the_generic_line():
    assert event_templates("conversation.assigned") == (
        "conversations/events/conversation.assigned.html",
        FALLBACK,
    )
    for value in ("conversation.postponed", "../../base", "", EventType.NOTE_ADDED):
        assert event_templates(value) == (FALLBACK,)


@pytest.mark.parametrize("stored", ["conversation.postponed", "../base", "<b>x</b>"])
def test_a_stale_type_in_the_database_renders_the_generic_line(team, stored: str):
    """A row written before a type was renamed or removed: the page still opens."""
    scene = _scene(team)
    event = Event.objects.create(
        type=stored, mailbox_id=scene.conv.mailbox_id, conversation_id=scene.conv.pk, data={}
    )
    assert _lines(scene.conv, "en")[event.pk] == stored
