"""The first admin is made once, however many requests race for it."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from madoguchi.accounts.firstrun import AlreadySetUp, create_first_admin
from madoguchi.accounts.models import Agent, Role


@pytest.mark.django_db(transaction=True)
def test_two_submits_at_once_make_one_admin():
    """Of two first-admin requests at the same moment exactly one wins."""
    start = threading.Barrier(2)
    outcome: list[str] = []

    def submit(name: str) -> None:
        start.wait()
        try:
            create_first_admin(username=name, password="hinoki-no-ki-2026",
                               display_name=name, email="")  # fmt: skip
            outcome.append("created")
        except AlreadySetUp:
            outcome.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(n,)) for n in ("boss", "mallory")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcome) == ["created", "refused"]
    assert Agent.objects.filter(role=Role.ADMIN).count() == 1
