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
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import django  # noqa: E402

django.setup()

from tests.fixtures import *  # noqa: E402,F403
from tests.servers.fixtures import *  # noqa: E402,F403
from tests.smtp_capture import smtp_capture  # noqa: E402,F401


def pytest_collection_modifyitems(items):
    """Browser tests last: Playwright keeps an event loop in the main thread (RECIPES.md)."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
