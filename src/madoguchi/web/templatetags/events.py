"""Which template draws one entry of the conversation timeline.

Each type of ``core.event_types`` that the timeline shows (in a conversation, not quiet) has
its own ``conversations/events/<value>.html``. Anything else that reaches the timeline (a
type renamed or removed since its rows were written, or one declared without a template)
is drawn by the generic line instead of failing the page.
"""

from __future__ import annotations

from django import template

from madoguchi.core.event_types import SPECS, EventType

register = template.Library()

#: The line drawn for a type without a template of its own.
FALLBACK = "conversations/events/_other.html"

#: The stored value of every type the timeline shows.
TIMELINE_TYPES: frozenset[str] = frozenset(
    t.value for t, s in SPECS.items() if s.in_conversation and not s.quiet
)


def template_name(type: EventType | str) -> str:
    """The template of a timeline type (an unknown value never reaches the file system)."""
    return f"conversations/events/{type}.html" if type in TIMELINE_TYPES else FALLBACK


@register.filter
def event_templates(type: str) -> tuple[str, ...]:
    """The templates ``{% include %}`` tries for an event of ``type``, the generic line last."""
    name = template_name(type)
    return (name,) if name == FALLBACK else (name, FALLBACK)
