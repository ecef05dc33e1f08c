"""`madoguchi backup`, `restore` and `migrate-to` as operators use them (docs/backup.md).

Every installation here is a data dir of its own with its SQLite database, driven by real
`madoguchi` processes; the test database of the run is not involved. A new installation
starts from a copy of one database migrated once per module (a migration takes seconds).
The move to PostgreSQL runs where the suite runs on PostgreSQL (CI's second pass), into a
database it creates and drops itself.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tests.fixtures import server_env
from tests.waiting import wait_until

pytestmark = pytest.mark.processes

ROOT = Path(__file__).resolve().parents[2]

#: Seeds a new installation through the real actions: an admin, mail with attachments
#: (through intake), notes, a tag, a reply template with a file. Prints a conversation id.
SEED = """
import django
django.setup()
from email import message_from_bytes
from email.policy import default
from madoguchi.accounts.models import Role
from madoguchi.conversations import actions
from madoguchi.reply_templates import actions as templates
from tests.factories import make_agent, make_mailbox
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

support = make_mailbox("support@example.jp")
sato = make_agent("sato", role=Role.ADMIN, mailboxes=[support])
for i in range(3):
    mail = message_from_bytes(make_mail(subject=f"請求書 {i}", message_id=f"s{i}@c.example"),
                              policy=default)
    mail.add_attachment(f"%PDF {i}".encode(), maintype="application", subtype="pdf",
                        filename=f"請求書{i}.pdf")
    conv = deliver(support, mail.as_bytes()).conversation
    actions.add_note(conv, author_id=sato.user_id, text=f"確認中 {i}")
actions.tag_conversation(conv, "請求", actor_id=sato.user_id)
template = templates.create_template(name="お礼", body="ありがとうございます", actor_id=None)
templates.add_attachment(template, filename="案内.pdf", content_type="application/pdf",
                         data=b"%PDF guide", actor_id=None)
print(conv.pk)
"""

#: Delivers mail with a new attachment each, until the file named by argv[1] exists.
INGEST = """
import sys
from pathlib import Path
import django
django.setup()
from email import message_from_bytes
from email.policy import default
from madoguchi.mailboxes.models import Mailbox
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

support = Mailbox.objects.get(address="support@example.jp")
stop, i = Path(sys.argv[1]), 0
while not stop.exists():
    mail = message_from_bytes(make_mail(message_id=f"live{i}@c.example"), policy=default)
    mail.add_attachment(f"file {i}".encode(), maintype="application", subtype="octet-stream",
                        filename=f"{i}.bin")
    deliver(support, mail.as_bytes())
    i += 1
"""

#: Renders a conversation page (argv[1]) as sato, through the real views.
RENDER = """
import sys
import django
django.setup()
from madoguchi.accounts.models import Agent
from tests.factories import client_for

page = client_for(Agent.objects.get(user__username="sato"), HTTP_HOST="localhost")
response = page.get(f"/c/{sys.argv[1]}/")
print(response.status_code, "請求書" in response.content.decode())
"""


class Install:
    """One installation: its data dir, and the `madoguchi` command on it."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.database = data_dir / "madoguchi.sqlite3"
        own = {"MADOGUCHI_DATA_DIR": str(data_dir), "MADOGUCHI_DATABASE_URL": "", **env}
        self.env = server_env(**own)
        self.env["PYTHONPATH"] = os.pathsep.join([str(ROOT), self.env.get("PYTHONPATH", "")])
        self.env["DJANGO_SETTINGS_MODULE"] = "madoguchi.settings"
        for name in [n for n in self.env if n.startswith("MADOGUCHI_ATTACHMENTS_")]:
            del self.env[name]  # attachments in <data dir>/blobs, this installation's own

    def __call__(self, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        return self._run([sys.executable, "-m", "madoguchi.cli", *args], check)

    def python(self, code: str, *args: str) -> str:
        return self._run([sys.executable, "-c", code, *args], check=True).stdout

    def _run(self, command: list[str], check: bool) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(command, env=self.env, cwd=ROOT, capture_output=True, text=True,
                              timeout=120, check=False)  # fmt: skip
        if check and proc.returncode:
            raise AssertionError(f"{command[1:3]} failed: {proc.stderr}")
        return proc

    def tables(self) -> list[str]:
        """Django's tables and search's word list (SQLite's own and the full-text index's
        left out)."""
        listed = self.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        own = ("sqlite_", "search_fts", "search_vocab")
        return [t for (t,) in listed if not t.startswith(own)]

    def counts(self) -> dict[str, int]:
        return {t: self.query(f'SELECT count(*) FROM "{t}"')[0][0] for t in self.tables()}

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        return {t: sorted(self.query(f'SELECT * FROM "{t}"'), key=repr) for t in self.tables()}

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)) as db:
            return db.execute(sql).fetchall()

    def blob(self, sha: str) -> Path:
        return self.data_dir / "blobs" / sha[:2] / sha[2:]


@pytest.fixture(scope="session")
def empty_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database migrated to this version, without data: new installations copy it.
    (These fixtures are the session's, not the module's: in a parallel run a worker may
    take this module's tests between others', and would make them again each time.)"""
    install = Install(tmp_path_factory.mktemp("template"))
    install("init", check=True)
    return install.database


@pytest.fixture(scope="session")
def new_install(
    empty_database: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Install]:
    def make(name: str) -> Install:
        install = Install(tmp_path_factory.mktemp(name))
        shutil.copyfile(empty_database, install.database)
        return install

    return make


@pytest.fixture(scope="session")
def seeded(new_install: Callable[..., Install]) -> tuple[Install, int]:
    """An installation with mail, attachments, notes, a tag and a template file."""
    install = new_install("seeded")
    conversation = int(install.python(SEED).strip())
    return install, conversation


@pytest.fixture(scope="session")
def backup(seeded: tuple[Install, int], tmp_path_factory: pytest.TempPathFactory) -> Path:
    install, _ = seeded
    path = tmp_path_factory.mktemp("backups") / "monday"
    proc = install("backup", str(path), check=True)
    assert "3 messages, 4 attachment files" in proc.stdout
    return path


#: The tests on SQLite installations do not use the suite's database: CI's PostgreSQL pass
#: (MADOGUCHI_DATABASE_URL set, tests/conftest.py) would only run them a second time.
sqlite_pass = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="independent of the suite's database: ran on SQLite"
)


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("madoguchi: error: "), proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    return proc.stderr


@sqlite_pass
def test_backup_then_restore_gives_the_same_installation(seeded, backup, new_install):
    """Every row comes back as it was, id included (mail, notes, tags, events, templates),
    and every attachment file; the restored installation takes new mail and shows it."""
    source, conversation = seeded
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["counts"]["conversations_note"] == 3
    assert manifest["source"]["vendor"] == "sqlite" and manifest["missing_blobs"] == []
    target = new_install("restored")
    proc = target("restore", str(backup), check=True)
    assert "3 messages, 4 attachment files" in proc.stdout and not proc.stderr
    assert target.rows() == source.rows()  # every value of every row of every table
    restored = target.counts()
    assert {table: restored[table] for table in manifest["counts"]} == manifest["counts"]
    assert target.query("PRAGMA integrity_check") == [("ok",)]
    for table in ("conversations_attachment", "reply_templates_templateattachment"):
        for (sha,) in source.query(f"SELECT sha256 FROM {table}"):
            assert target.blob(sha).read_bytes() == source.blob(sha).read_bytes()
    mail = target.data_dir / "new.eml"
    mail.write_bytes(b"From: a@c.example\r\nSubject: after\r\nMessage-ID: <n@c>\r\n\r\nhi\r\n")
    target("import", "--mailbox", "support@example.jp", "--quiet", str(mail), check=True)
    assert target.query("SELECT count(*) FROM conversations_message") == [(4,)]
    assert target.python(RENDER, str(conversation)).split() == ["200", "True"]


@sqlite_pass
def test_backup_while_mail_arrives_is_consistent(new_install, tmp_path):
    """A backup taken while another process ingests mail opens, passes SQLite's integrity
    check, and holds every attachment file its rows name; the ingesting went on."""
    source = new_install("busy")
    source.python(SEED)
    stop = tmp_path / "stop"
    command = [sys.executable, "-c", INGEST, str(stop)]
    ingest = subprocess.Popen(command, env=source.env, cwd=ROOT, stderr=subprocess.PIPE, text=True)

    def messages() -> int:
        return int(source.query("SELECT count(*) FROM conversations_message")[0][0])

    try:
        wait_until(lambda: messages() >= 8, "the ingesting process delivers mail", timeout=60)
        before = messages()
        source("backup", str(tmp_path / "busy"), check=True)
        during = messages()
    finally:
        stop.touch()
        _, errors = ingest.communicate(timeout=60)
    assert ingest.returncode == 0, errors
    assert during > before, "mail kept arriving while the backup ran"
    target = new_install("busy-restored")
    target("restore", str(tmp_path / "busy"), check=True)
    assert target.query("PRAGMA integrity_check") == [("ok",)]
    restored = target.query("SELECT count(*) FROM conversations_message")[0][0]
    assert before <= restored <= during
    named = target.query("SELECT DISTINCT sha256 FROM conversations_attachment")
    assert len(named) == restored  # each mail brought a file of its own
    assert all(target.blob(sha).is_file() for (sha,) in named)


@sqlite_pass
def test_restore_refuses_an_installation_with_data(seeded, backup, new_install):
    """Restoring over data is refused in one line naming --force; --force replaces it."""
    other = new_install("other")
    other("mailbox", "add", "sales@example.jp", check=True)
    error = one_line_error(other("restore", str(backup)))
    assert "already holds data" in error and "--force" in error
    assert other.query("SELECT address FROM mailboxes_mailbox") == [("sales@example.jp",)]
    other("restore", "--force", str(backup), check=True)
    assert other.counts() == seeded[0].counts()


def _drop_manifest(b: Path) -> None:
    (b / "manifest.json").unlink()


def _garble_manifest(b: Path) -> None:
    (b / "manifest.json").write_text('{"format": "madoguchi-backup", "vers')


def _foreign_manifest(b: Path) -> None:
    (b / "manifest.json").write_text('{"format": "something else"}')


def _hostile_manifest(b: Path) -> None:
    manifest = json.loads((b / "manifest.json").read_text())
    manifest["blobs"].append("../../etc/passwd")
    (b / "manifest.json").write_text(json.dumps(manifest))


def _damage_database(b: Path) -> None:
    with (b / "database.sqlite3").open("r+b") as fh:
        fh.seek(5000)
        fh.write(b"\xff" * 16)


def _damage_blob(b: Path) -> None:
    blob = next(p for p in (b / "blobs").rglob("*") if p.is_file())
    blob.write_bytes(blob.read_bytes() + b"!")


def _remove_blob(b: Path) -> None:
    next(p for p in (b / "blobs").rglob("*") if p.is_file()).unlink()


@sqlite_pass
@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (_drop_manifest, "no manifest.json"),
        (_garble_manifest, "manifest.json is damaged"),
        (_foreign_manifest, "not a Madoguchi backup manifest"),
        (_hostile_manifest, "manifest.json is damaged"),
        (_damage_database, "database.sqlite3 is damaged"),
        (_damage_blob, "is damaged"),
        (_remove_blob, "is missing from the backup"),
    ],
)
def test_damaged_backup_is_one_clear_line(backup, new_install, tmp_path, damage, said):
    """A damaged or incomplete backup is named in one line and nothing is restored."""
    copy = tmp_path / "copy"
    shutil.copytree(backup, copy)
    damage(copy)
    target = new_install("damaged")
    assert said in one_line_error(target("restore", str(copy)))
    assert target.query("SELECT count(*) FROM conversations_message") == [(0,)]
    assert not any((target.data_dir / "blobs").rglob("*"))


@sqlite_pass
def test_missing_backup_and_taken_folder_are_one_clear_line(seeded, tmp_path):
    """No backup at the path, or a backup into a folder that holds files: one line."""
    source, _ = seeded
    assert "no backup at" in one_line_error(source("restore", str(tmp_path / "nothing")))
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("mine")
    assert "already exists" in one_line_error(source("backup", str(tmp_path / "taken")))
    assert (tmp_path / "taken" / "file").read_text() == "mine"


# -- PostgreSQL -------------------------------------------------------------------------------

#: The suite runs on PostgreSQL when MADOGUCHI_DATABASE_URL names one (tests/conftest.py):
#: CI's second pass. Its server is where the move goes.
needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (MADOGUCHI_DATABASE_URL=postgresql://..., as in CI's second pass)",
)


@pytest.fixture
def empty_postgresql() -> Iterator[str]:
    """The URL of a new, empty database on the suite's PostgreSQL server, dropped after."""
    import psycopg

    db = settings.DATABASES["default"]
    server = {
        "host": db.get("HOST") or "127.0.0.1",
        "port": db.get("PORT") or 5432,
        "user": db.get("USER") or "postgres",
        "password": db.get("PASSWORD") or None,
    }
    name = f"madoguchi_migrate_test_{os.getpid()}"
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    password = f":{server['password']}" if server["password"] else ""
    try:
        yield f"postgresql://{server['user']}{password}@{server['host']}:{server['port']}/{name}"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgresql_counts(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as db:
        listed = db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [table for (table,) in listed]
        return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


@needs_postgresql
def test_migrate_to_postgresql_and_back(seeded, new_install, empty_postgresql, tmp_path):
    """`migrate-to` copies every row (same counts per table), pages render from the copy,
    new rows get fresh ids; a non-empty target is refused; a backup of the PostgreSQL
    installation restores into SQLite with the same rows."""
    source, conversation = seeded
    proc = source("migrate-to", empty_postgresql, check=True)
    assert "conversations_message" in proc.stdout and "copied" in proc.stdout
    assert not proc.stderr  # nothing changed during the copy
    copied = _postgresql_counts(empty_postgresql)
    # search_term is SQLite's word list for prefixes (PostgreSQL's index serves them itself)
    skip = ("django_migrations", "search_term")
    assert {t: n for t, n in copied.items() if t not in skip} == {
        t: n for t, n in source.counts().items() if t not in skip
    }
    assert "already holds data" in one_line_error(source("migrate-to", empty_postgresql))
    moved = Install(source.data_dir, MADOGUCHI_DATABASE_URL=empty_postgresql)
    assert moved.python(RENDER, str(conversation)).split() == ["200", "True"]
    mail = tmp_path / "new.eml"
    mail.write_bytes(b"From: a@c.example\r\nSubject: moved\r\nMessage-ID: <pg@c>\r\n\r\nhi\r\n")
    moved("import", "--mailbox", "support@example.jp", "--quiet", str(mail), check=True)
    moved("backup", str(tmp_path / "from-pg"), check=True)
    back = new_install("from-pg")
    back("restore", str(tmp_path / "from-pg"), check=True)
    assert back.query("SELECT count(*) FROM conversations_message") == [(4,)]
    assert back.query("PRAGMA integrity_check") == [("ok",)]
