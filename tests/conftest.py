"""Test set-up: a fresh data dir per run, Django configured, and shared fixtures.

The suite runs on SQLite by default and on PostgreSQL when MADOGUCHI_DATABASE_URL names
one (``.ci/run`` does both). Real servers (Dovecot, Postfix) come from tests/servers.
"""

from __future__ import annotations

import os
import tempfile

_DATA = tempfile.mkdtemp(prefix="madoguchi-test-", dir="/tmp")
os.environ["MADOGUCHI_DATA_DIR"] = _DATA
os.environ.setdefault("MADOGUCHI_SECRET_KEY", "test-secret-key-" + "x" * 40)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")

import django  # noqa: E402
import pytest  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

# Cheap Argon2 parameters in this process (tests/hashers.py); servers keep the defaults.
settings.PASSWORD_HASHERS = ["tests.hashers.CheapArgon2PasswordHasher", *settings.PASSWORD_HASHERS]

from tests.fixtures import *  # noqa: E402,F403
from tests.servers.fixtures import *  # noqa: E402,F403
from tests.smtp_capture import smtp_capture  # noqa: E402,F401
from tests.web.server import SHARED  # noqa: E402

#: Fixtures that start a real server (Dovecot, Postfix, an SMTP peer, the web server): a test
#: that uses one is marked ``servers`` and left out of the fast run (README, "Tests").
SERVER_FIXTURES = frozenset(
    {"dovecot", "dovecot_factory", "postfix", "postfix_factory", "smtp_capture", "web", "two"}
)


def pytest_collection_modifyitems(items):
    """Mark tests that start servers. Browser tests last: Playwright keeps an event loop in
    the main thread (RECIPES.md). Before them and among them, the tests that use the shared
    web process (``web``, tests/web/conftest.py) together, so it starts twice a run. Within
    each of these groups, tests marked ``slow`` first: in a parallel run (scripts/test) a
    worker left without tests takes queued ones from the other, never the one it runs, so a
    long test last would keep one worker busy alone."""
    for item in items:
        if SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.servers)
    items.sort(
        key=lambda item: (
            item.get_closest_marker("browser") is not None,
            "web" in getattr(item, "fixturenames", ()),
            item.get_closest_marker("slow") is None,
        )
    )


def pytest_runtest_setup(item):
    """Django refuses database calls while an event loop runs in the thread, and Playwright's
    sync API keeps one running in the main thread from the first browser test on (RECIPES.md).
    So the guard stays on for every other test — they run first — and is lifted only when
    the browser tests begin.

    A test that does not use the shared web process stops it: its worker must not take
    this test's tasks."""
    if item.get_closest_marker("browser") is not None:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    if "web" not in getattr(item, "fixturenames", ()):
        SHARED.stop()
