"""``mailboxes.queries``: which mailboxes an agent sees."""

from __future__ import annotations

import pytest

from madoguchi.mailboxes.queries import visible_mailboxes

pytestmark = pytest.mark.django_db


def test_visible_mailboxes_takes_an_agent_or_a_user(team):
    """``notifications`` still pass a User; pages pass the Agent."""
    sato = team["sato"]
    assert list(visible_mailboxes(sato)) == list(visible_mailboxes(sato.user))
    assert list(visible_mailboxes(sato)) == [team["support"]]
