"""Template variables. Stub: helper "templates" writes it."""

from __future__ import annotations

from collections.abc import Mapping


def render(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each ``{{name}}`` replaced by its value; unknown names stay as written."""
    raise NotImplementedError


def values_for(
    conversation_id: int | None, *, mailbox_id: int, agent_user_id: int | None
) -> dict[str, str]:
    """The variables' values for a reply in that conversation (or a new one) by that agent."""
    raise NotImplementedError
