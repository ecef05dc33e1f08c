"""Browser and server fixtures: the real ASGI server (`madoguchi run web`) and Debian's
Chromium. The shared cast (``team``, ``suzuki``) is in tests/fixtures.py, the browser steps
(``login``, ``shot``) in tests/web/browser.py."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.db import connection

from tests.web.server import SHARED, SharedWebProcess, web_process

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"],
    }  # fmt: skip


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "ja-JP", "timezone_id": "Asia/Tokyo",
            "viewport": {"width": 1280, "height": 800}}  # fmt: skip


def _one_per_test() -> bool:
    """MADOGUCHI_TEST_WEB=test gives each test a web process of its own, =shared lets
    consecutive tests share one. The default: shared on SQLite, one per test on PostgreSQL,
    where the flush after each test (TRUNCATE) waits for the server's open transactions
    and sharing has not been tried yet."""
    chosen = os.environ.get("MADOGUCHI_TEST_WEB", "")
    if chosen not in ("", "test", "shared"):
        raise pytest.UsageError(f"MADOGUCHI_TEST_WEB={chosen!r}: say test or shared")
    return chosen == "test" or (not chosen and connection.vendor != "sqlite")


@pytest.fixture(scope="session")
def shared_web(django_db_setup: None) -> Iterator[SharedWebProcess]:
    """The shared web process, stopped at the latest before the test database is dropped."""
    yield SHARED
    SHARED.stop()


@pytest.fixture
def web(request: pytest.FixtureRequest, transactional_db: None) -> Iterator[str]:
    """Base URL of a `madoguchi run web worker` process on the test database.

    Consecutive tests share one process (starting one costs about a second), because
    nothing it keeps in memory outlives a test's rows, which ``transactional_db`` deletes
    after it:

    - ids only grow (SQLite AUTOINCREMENT; a flush resets no sequence), so the live hub's
      cursor stays right and a tab left from an earlier test (its page closes after the
      flush) belongs to an agent and mailboxes no later test has;
    - sessions, lockouts (django-axes), presence (``Pulse``) and the task queue are rows;
      a task of an earlier test is deleted before the worker takes it, or fails on rows
      that are gone;
    - the one in-memory count, the forgot-password limit per address (10 in 10 minutes,
      LocMem cache), is far from reached by the one browser test that asks.

    A test that needs other settings or roles, or a process to stop, starts its own with
    ``web_process`` (tests/web/server.py).
    """
    if _one_per_test():
        with web_process("web", "worker") as base:
            yield base
        return
    shared: SharedWebProcess = request.getfixturevalue("shared_web")
    yield shared.url()


@pytest.fixture
def two(browser, browser_context_args):
    """Two pages in two browser contexts: two agents signed in side by side."""
    contexts = [browser.new_context(**browser_context_args) for _ in range(2)]
    yield [c.new_page() for c in contexts]
    for c in contexts:
        c.close()
