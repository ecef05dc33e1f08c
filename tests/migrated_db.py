"""SQLite test databases made from one migrated copy, kept between runs.

Every pytest-xdist worker makes its own test database, and migrating one took 5-7 seconds
on 2 cores: a tenth of the fast run's CPU. The first run migrates as usual and keeps a copy
of the result beside the system's temporary files, named by a digest of every app's
migration files, Django's version and SQLite's; later runs copy that file into place
instead of migrating. A changed migration, a new one or another Django gives another
name, so a stale copy is never used. PostgreSQL test databases are made as Django makes
them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import django
from django.apps import apps
from django.conf import settings
from django.db.backends.sqlite3.creation import DatabaseCreation


def migrated_copy() -> Path:
    """Where the migrated database of these migrations is kept."""
    digest = hashlib.sha256(f"{django.__version__} {sqlite3.sqlite_version}".encode())
    for app in sorted(apps.get_app_configs(), key=lambda a: a.label):
        folder = Path(app.path) / "migrations"
        for path in sorted(folder.glob("*.py")) if folder.is_dir() else []:
            digest.update(f"{app.label}/{path.name}".encode())
            digest.update(path.read_bytes())
    return Path(tempfile.gettempdir()) / f"madoguchi-test-db-{digest.hexdigest()[:16]}.sqlite3"


def _keep(connection: Any, copy: Path) -> None:
    """Write the migrated database to ``copy`` (atomically: workers may race)."""
    connection.ensure_connection()
    partial = copy.with_name(f"{copy.name}.{os.getpid()}.partial")
    with sqlite3.connect(partial) as target:
        connection.connection.backup(target)
    target.close()
    os.replace(partial, copy)


_create = DatabaseCreation.create_test_db


def create_test_db(
    self: DatabaseCreation,
    verbosity: int = 1,
    autoclobber: bool = False,
    serialize: bool = True,
    keepdb: bool = False,
) -> str:
    """Django's ``create_test_db`` for a file database, from the kept copy when there is
    one (Django's own otherwise, keeping a copy of what it made)."""
    name = self._get_test_db_name()
    if keepdb or self.is_in_memory_db(name):
        return str(_create(self, verbosity, autoclobber, serialize, keepdb))
    copy = migrated_copy()
    if not copy.is_file():
        made = str(_create(self, verbosity, autoclobber, serialize, keepdb))
        _keep(self.connection, copy)
        return made
    self._create_test_db(verbosity, autoclobber, keepdb)  # removes an old file of that name
    self.connection.close()
    settings.DATABASES[self.connection.alias]["NAME"] = name
    self.connection.settings_dict["NAME"] = name
    shutil.copyfile(copy, name)
    if serialize:
        self.connection._test_serialized_contents = self.serialize_db_to_string()
    self.connection.ensure_connection()
    return str(name)


def install() -> None:
    DatabaseCreation.create_test_db = create_test_db  # type: ignore[method-assign]
