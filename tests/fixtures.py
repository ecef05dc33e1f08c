"""Fixtures shared by the Django-side tests (tests/conftest.py star-imports this module).

- ``mailbox``: one mailbox, support@example.jp.
- ``team``: the cast most tests share, made with ``tests.factories``: the mailboxes
  ``support`` and ``sales``, the agent ``sato`` (a member of support) and ``kato`` (of sales).
- ``suzuki``: a second member of support.
- ``cli``: the ``madoguchi`` command against the test database, run in this process
  (``run_cli_here``).
- ``server_env()``: the environment of any ``madoguchi`` subprocess (not a fixture).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.db import connection

from madoguchi.accounts.models import Agent
from madoguchi.mailboxes.models import Mailbox
from tests.factories import make_agent, make_mailbox

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def corpus(rel: str) -> Path:
    path = CORPUS / rel
    if not path.exists():
        pytest.skip(f"the shared corpus is not beside the project ({CORPUS})")
    return path


@pytest.fixture
def mailbox(db: None) -> Mailbox:
    return make_mailbox("support@example.jp", name="サポート")


@pytest.fixture
def team(db: None) -> dict[str, Any]:
    """A mailbox with a member agent (sato), and an agent of another mailbox (kato).

    Made in the test's transaction; a test whose server process or thread must see these
    rows asks for ``transactional_db`` (``web`` and ``cli`` do)."""
    support = make_mailbox("support@example.jp", name="サポート窓口")
    sales = make_mailbox("sales@example.jp", name="営業")
    sato = make_agent("sato", mailboxes=[support])
    kato = make_agent("kato", mailboxes=[sales])
    return {"support": support, "sales": sales, "sato": sato, "kato": kato}


@pytest.fixture
def suzuki(team: dict[str, Any]) -> Agent:
    """A second member of the support mailbox."""
    return make_agent("suzuki", mailboxes=[team["support"]])


def database_url() -> str:
    """A URL for the database the tests run on, for CLI subprocesses."""
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{connection.settings_dict['NAME']}"
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgresql://{user}@{host}:{port}/{connection.settings_dict['NAME']}"


def server_env(**extra: str) -> dict[str, str]:
    """The environment of a ``madoguchi`` subprocess: this run's data dir and test database,
    its own settings module, and Django's guard against database calls from an event loop
    left on (DJANGO_ALLOW_ASYNC_UNSAFE is for the browser tests' own process only)."""
    env = {**os.environ, "MADOGUCHI_DATABASE_URL": database_url(), **extra}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def run_cli_here(
    *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """``madoguchi ARGS`` run in this process, as ``python -m madoguchi.cli`` would run it:
    its exit status, what it printed (logging too), ``env`` added to the environment and
    ``stdin`` as standard input for the call. A fraction of a second less than a process
    each (Python and Django start once); the tests of what only a process shows (signals,
    exit codes of the entry point, a terminal) start one (``server_env``)."""
    from madoguchi import cli

    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            _stdin(stdin),
            _logging_to(err),
            mock.patch.object(cli, "setup_django", lambda: None),  # set up already
        ):
            try:
                code = cli.main(list(args))
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess(["madoguchi", *args], code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _stdin(text: str) -> Iterator[None]:
    saved = sys.stdin
    sys.stdin = io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved


@contextlib.contextmanager
def _logging_to(stream: io.StringIO) -> Iterator[None]:
    """The stream handlers of settings.LOGGING write to ``stream`` meanwhile (a process would
    print its log lines on standard error)."""
    loggers = [logging.getLogger(name) for name in ("", *settings.LOGGING["loggers"])]
    handlers = list({h for lg in loggers for h in lg.handlers if type(h) is logging.StreamHandler})
    saved = [h.stream for h in handlers]
    for handler in handlers:
        handler.stream = stream
    try:
        yield
    finally:
        for handler, old in zip(handlers, saved, strict=True):
            handler.stream = old


@pytest.fixture
def cli(transactional_db: None) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the `madoguchi` command against the test database (in this process:
    ``run_cli_here``); returns the finished run."""

    def run(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        proc = run_cli_here(*args)
        if check and proc.returncode:
            raise AssertionError(f"madoguchi {' '.join(args)} failed: {proc.stderr}")
        return proc

    return run
