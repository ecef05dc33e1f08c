"""The registry of event types: one spec per type, payloads checked, and the readers' lists
taken from its flags."""

from __future__ import annotations

import pytest

from madoguchi.conversations import queries
from madoguchi.core import event_types, events
from madoguchi.core.event_types import SPECS, EventType, spec
from madoguchi.live import hub
from madoguchi.web.templatetags.events import TIMELINE_TYPES

ALL = sorted(EventType)


def _payload(type: EventType) -> dict[str, object]:
    return dict.fromkeys(SPECS[type].required, 1)


def test_every_type_has_a_spec_and_every_spec_a_type():
    assert set(SPECS) == set(EventType)
    assert all(isinstance(t, EventType) for t in SPECS)


def test_stored_values_are_unique_and_dotted():
    values = [t.value for t in EventType]
    assert len(values) == len(set(values))
    assert all(v.count(".") == 1 and v == v.lower() for v in values)


def test_a_field_is_required_or_optional_never_both():
    for type, s in SPECS.items():
        assert not s.required & s.optional, type


@pytest.mark.parametrize("type", ALL, ids=str)
def test_build_takes_the_required_and_optional_fields(type: EventType):
    data = {**_payload(type), **dict.fromkeys(SPECS[type].optional, 2)}
    event = events.build(type, mailbox_id=None, conversation_id=None, **data)
    assert event.type == type.value and event.data == data and event.pk is None


@pytest.mark.parametrize("type", ALL, ids=str)
def test_build_refuses_an_undeclared_field(type: EventType):
    with pytest.raises(TypeError, match=f"{type.value} event with undeclared surprise"):
        events.build(type, **_payload(type), surprise=1)


@pytest.mark.parametrize(
    ("type", "field"),
    [(t, f) for t in ALL for f in sorted(SPECS[t].required)],
    ids=str,
)
def test_build_refuses_a_missing_required_field(type: EventType, field: str):
    data = _payload(type)
    del data[field]
    with pytest.raises(TypeError, match=f"{type.value} event without {field}"):
        events.build(type, **data)


def test_build_refuses_an_undeclared_type():
    with pytest.raises(ValueError, match="conversation.postponed"):
        events.build("conversation.postponed")
    with pytest.raises(ValueError, match="conversation.postponed"):
        spec("conversation.postponed")


def test_build_accepts_the_stored_value_as_well_as_the_member():
    assert events.build("conversation.tagged", tag="VIP").type == "conversation.tagged"
    assert spec("conversation.tagged") is SPECS[EventType.CONVERSATION_TAGGED]


def test_flag_sets_hold_stored_values():
    for name, flag in [("ACCESS_CHANGING", "changes_access"), ("QUIET", "quiet"),
                       ("NOTIFYING", "notifies"), ("PERSONAL", "personal")]:  # fmt: skip
        values = getattr(event_types, name)
        assert values == {t.value for t, s in SPECS.items() if getattr(s, flag)}, name
        assert all(type(v) is str for v in values), name


def test_the_hub_recomputes_access_after_the_access_changing_types():
    assert hub.ACCESS_EVENTS == event_types.ACCESS_CHANGING
    assert {
        EventType.MAILBOX_CREATED,
        EventType.MAILBOX_MEMBER_ADDED,
        EventType.MAILBOX_MEMBER_REMOVED,
        EventType.AGENT_CREATED,
        EventType.AGENT_JOINED,
        EventType.AGENT_ROLE,
        EventType.AGENT_ACTIVE,
    } == event_types.ACCESS_CHANGING


def test_the_hub_sends_the_personal_types_to_their_agent_only():
    """The hub addresses ``notification.created`` to ``data["to"]``: that must be every
    personal type, and each carries ``to``."""
    assert {hub.NOTIFICATION} == event_types.PERSONAL
    for value in event_types.PERSONAL:
        assert "to" in spec(value).required


def test_the_timeline_leaves_out_the_quiet_types_and_draws_the_others():
    assert sorted(event_types.QUIET) == queries.QUIET_EVENTS
    in_conversation = {t.value for t, s in SPECS.items() if s.in_conversation}
    assert in_conversation - event_types.QUIET == TIMELINE_TYPES


def test_notifications_observe_every_notifying_type():
    """Each type that ``notifies`` has an observer (``notifications`` registers them in its
    ``ready()``); other observers may follow more types (a merge moves notifications)."""
    assert {
        EventType.CONVERSATION_ASSIGNED,
        EventType.MESSAGE_RECEIVED,
        EventType.NOTE_ADDED,
        EventType.APPROVAL_REQUESTED,
        EventType.APPROVAL_APPROVED,
        EventType.APPROVAL_RETURNED,
        EventType.CONVERSATION_WOKEN,
        EventType.FOLLOW_UP_DUE,
        EventType.SLA_BREACHED,
    } == event_types.NOTIFYING
    observed = {t for types, _ in events._observers for t in types}
    assert observed >= event_types.NOTIFYING
