"""The first run: the first admin, created once (the page is ``web.setup``).

A new installation has no accounts and no default password. Until someone can sign in,
``/`` and ``/login/`` lead to ``/setup/``, which creates the first admin. Anyone who can
reach that page owns the installation, so it answers only to a browser on the server
itself (loopback address, loopback host name, no proxy headers); others are told to run
``madoguchi createadmin`` on the server. Once an active admin exists ``/setup/`` is a 404.
"""

from __future__ import annotations

from django.db import connection, transaction

from madoguchi.accounts.actions import create_agent
from madoguchi.accounts.models import Agent, Role

#: pg_advisory_xact_lock key that serializes creating the first admin ("mdgsetup").
_LOCK_KEY = 0x6D64677365747570


class AlreadySetUp(Exception):
    """An admin exists: the first-run page is closed."""


def has_admin() -> bool:
    return Agent.objects.filter(role=Role.ADMIN, user__is_active=True).exists()


def anyone_can_sign_in() -> bool:
    return Agent.objects.filter(user__is_active=True).exists()


def create_first_admin(*, username: str, password: str, display_name: str, email: str) -> Agent:
    """The first admin, or ``AlreadySetUp``: of two submits at once, exactly one wins."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        # SQLite: the transaction is IMMEDIATE (settings), so it holds the write lock here
        if has_admin():
            raise AlreadySetUp
        return create_agent(
            username, password=password, role=Role.ADMIN, display_name=display_name, email=email
        )
