"""Test set-up: a fresh data dir per run, Django configured, and shared fixtures.

The suite runs on SQLite by default and on PostgreSQL when MADOGUCHI_DATABASE_URL names
one (``.ci/run`` does both). Real servers (Dovecot, Postfix) come from tests/servers.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, NoReturn

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

from django.core.management.commands import flush  # noqa: E402
from django.core.management.sql import emit_post_migrate_signal  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Model  # noqa: E402
from django.db.models.signals import post_migrate  # noqa: E402
from django.template.base import Template  # noqa: E402
from django.test import AsyncClient, Client  # noqa: E402
from django.test.utils import _TestState  # noqa: E402

from tests import migrated_db  # noqa: E402
from tests.fixtures import *  # noqa: E402,F403
from tests.servers.fixtures import *  # noqa: E402,F403
from tests.smtp_capture import smtp_capture  # noqa: E402,F401
from tests.web.server import SHARED  # noqa: E402

#: Fixtures that start a real server (Dovecot, Postfix, an SMTP peer, the web server): a test
#: that uses one is marked ``servers`` and left out of the fast run (README, "Tests").
SERVER_FIXTURES = frozenset(
    {"dovecot", "dovecot_factory", "postfix", "postfix_factory", "smtp_capture", "web", "two"}
)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database as migrated, and the rows a flush takes away that Django makes
    again after it (``_restore_after_flush``)."""
    with django_db_blocker.unblock():
        _AFTER_MIGRATE.update(_made_after_migrate())
    yield


#: The content types and permissions of the migrated test database, by model.
_AFTER_MIGRATE: dict[type[Model], list[dict[str, object]]] = {}


def _made_after_migrate() -> dict[type[Model], list[dict[str, object]]]:
    """The rows ``post_migrate`` makes, as the migrated database holds them; nothing (a
    flush then sends the signal as usual) when a receiver other than Django's two listens,
    or on PostgreSQL (not tried there)."""
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.management import create_contenttypes
    from django.contrib.contenttypes.models import ContentType

    receivers = {ref() for _, ref, *_ in post_migrate.receivers}
    if receivers != {create_permissions, create_contenttypes} or connection.vendor != "sqlite":
        return {}
    return {
        model: list(model.objects.order_by("pk").values()) for model in (ContentType, Permission)
    }


def _restore_after_flush(verbosity: int, interactive: bool, db: str, **kwargs: object) -> None:
    """What ``post_migrate`` does after a flush (the teardown of every ``transactional_db``
    test), in two inserts: the content types and permissions of the migrated database, the
    rows it would make again, field for field but for their ids (it takes new ones; these
    keep theirs, so a server process's cached content types stay right). Its receivers ask
    every app in turn, a tenth to a quarter of a second a test on this machine."""
    if not _AFTER_MIGRATE:
        emit_post_migrate_signal(verbosity, interactive, db, **kwargs)
        return
    from django.contrib.contenttypes.models import ContentType

    with transaction.atomic(using=db):
        for model, rows in _AFTER_MIGRATE.items():
            model.objects.using(db).bulk_create([model(**row) for row in rows])
    ContentType.objects.clear_cache()


flush.emit_post_migrate_signal = _restore_after_flush
migrated_db.install()  # SQLite test databases copied from one migrated once (tests/migrated_db.py)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "template_context: the test reads response.context or response.templates, which "
        "Django's test instrumentation of template rendering records (off for other tests)",
    )


class _Unrecorded:
    """``response.context`` or ``response.templates`` of a test that did not ask for them:
    any use fails, so that no test reads an empty record for a real one."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise AssertionError(
            f"response.{self.name} is not recorded: mark the test template_context "
            "(tests/conftest.py)"
        )

    __getitem__ = __iter__ = __len__ = __contains__ = __bool__ = __eq__ = _refuse
    get = keys = values = items = flatten = _refuse
    __hash__ = None  # type: ignore[assignment]


def _unrecorded(response: Any) -> Any:
    if response is not None:
        response.context = _Unrecorded("context")
        response.templates = _Unrecorded("templates")
    return response


@pytest.fixture(autouse=True)
def unrecorded_templates(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Templates render as outside tests unless the test is marked ``template_context``.

    Django's test set-up wraps every template render (every include and form widget too) to
    send a signal with a copy of its context, for the test client's ``response.context``
    and ``response.templates``. Nothing else reads them, a few tests do, and the wrapping
    took about a tenth of the time of the page tests. The pages render the same either way.
    """
    saved = getattr(_TestState, "saved_data", None)
    if saved is None or request.node.get_closest_marker("template_context") is not None:
        return
    monkeypatch.setattr(Template, "_render", saved.template_render)
    sync_request = Client.request
    async_request = AsyncClient.request

    def client_request(self: Client, **kwargs: Any) -> Any:
        return _unrecorded(sync_request(self, **kwargs))

    async def async_client_request(self: AsyncClient, **kwargs: Any) -> Any:
        return _unrecorded(await async_request(self, **kwargs))

    monkeypatch.setattr(Client, "request", client_request)
    monkeypatch.setattr(AsyncClient, "request", async_client_request)


def pytest_collection_modifyitems(items):
    """Mark tests that start servers. Browser tests last: Playwright keeps an event loop in
    the main thread (RECIPES.md). Before them and among them, the tests that use the shared
    web process (``web``, tests/web/conftest.py) together, so it starts twice a run. Within
    each of these groups, tests marked ``exhaustive`` first: in a parallel run (scripts/test) a
    worker left without tests takes queued ones from the other, never the one it runs, so a
    long test last would keep one worker busy alone."""
    for item in items:
        if SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.servers)
    items.sort(
        key=lambda item: (
            item.get_closest_marker("browser") is not None,
            "web" in getattr(item, "fixturenames", ()),
            item.get_closest_marker("exhaustive") is None,
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
