"""Fixtures shared by the Django-side tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from madoguchi.mailboxes.actions import create_mailbox
from madoguchi.mailboxes.models import Mailbox

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def corpus(rel: str) -> Path:
    path = CORPUS / rel
    if not path.exists():
        pytest.skip(f"the shared corpus is not beside the project ({CORPUS})")
    return path


@pytest.fixture
def mailbox(db: None) -> Mailbox:
    return create_mailbox("support@example.jp", name="サポート")


def database_url() -> str:
    """A URL for the database the tests run on, for CLI subprocesses."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{connection.settings_dict['NAME']}"
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgresql://{user}@{host}:{port}/{connection.settings_dict['NAME']}"


@pytest.fixture
def cli(transactional_db: None) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the `madoguchi` command against the test database; returns the finished process."""

    def run(
        *args: str, timeout: float = 120, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "MADOGUCHI_DATABASE_URL": database_url()}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # servers run with the guard on
        proc = subprocess.run(
            [sys.executable, "-m", "madoguchi.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode:
            raise AssertionError(f"madoguchi {' '.join(args)} failed: {proc.stderr}")
        return proc

    return run
