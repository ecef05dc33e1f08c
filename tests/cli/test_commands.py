"""The `madoguchi` command as operators use it: real subprocesses on the test database."""

from __future__ import annotations

import json
import mailbox as stdlib_mailbox
from pathlib import Path

import pytest

from tests.mailmaker import make_mail


def write_mails(folder: Path, count: int, prefix: str = "m") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{prefix}{i}.eml"
        path.write_bytes(make_mail(subject=f"件名 {i}", message_id=f"{prefix}{i}@c.example"))
        paths.append(path)
    return paths


def test_mailbox_add_and_stats(cli):
    """A mailbox added on the command line shows in `stats --json`."""
    cli("mailbox", "add", "support@example.jp", "--name", "サポート", check=True)
    stats = json.loads(cli("stats", "--json", check=True).stdout)
    assert stats["mailboxes"] == 1
    assert set(stats) >= {"mailboxes", "conversations", "messages", "failed", "raw"}


def test_bad_address_is_one_clear_line(cli):
    """An invalid address fails with one line naming the field and a non-zero exit."""
    proc = cli("mailbox", "add", "not-an-address")
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0
    assert "address" in proc.stderr


def test_unknown_mailbox_for_import_fails_clearly(cli, tmp_path):
    """Importing into a mailbox that does not exist says so."""
    proc = cli("import", "--mailbox", "nobody@example.jp", str(tmp_path))
    assert proc.returncode == 1 and "no mailbox" in proc.stderr


@pytest.mark.processes
def test_bad_database_url_names_the_variable(cli, monkeypatch):
    """A wrong MADOGUCHI_DATABASE_URL stops the command with a message naming it."""
    import subprocess
    import sys

    from tests.fixtures import server_env

    proc = subprocess.run(
        [sys.executable, "-m", "madoguchi.cli", "stats"],
        env=server_env(MADOGUCHI_DATABASE_URL="mysql://x/y"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "MADOGUCHI_DATABASE_URL" in proc.stderr


@pytest.mark.processes
@pytest.mark.parametrize("command", [["mailbox", "list"], ["stats"], ["mail", "failed"]])
def test_a_command_before_init_says_to_run_init(tmp_path, command):
    """A command on a database nobody set up: one line saying to run init, no traceback
    (it printed Django's traceback for "no such table")."""
    import subprocess
    import sys

    from tests.fixtures import server_env

    env = server_env(MADOGUCHI_DATA_DIR=str(tmp_path), MADOGUCHI_DATABASE_URL="")
    proc = subprocess.run([sys.executable, "-m", "madoguchi.cli", *command], env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert (
        proc.stderr
        == "madoguchi: error: the database is not set up yet: run `madoguchi init` first\n"
    )


def test_import_folder_mbox_and_maildir_with_summary(cli, tmp_path):
    """Folders, mbox and Maildir import; non-mail files are reported and skipped."""
    cli("mailbox", "add", "support@example.jp", check=True)
    write_mails(tmp_path / "eml", 3)
    (tmp_path / "eml" / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    mbox = stdlib_mailbox.mbox(str(tmp_path / "takeout.mbox"))
    for i in range(2):
        mbox.add(make_mail(message_id=f"mbox{i}@c.example"))
    mbox.close()
    maildir = stdlib_mailbox.Maildir(str(tmp_path / "Maildir"))
    maildir.add(make_mail(message_id="md0@c.example"))
    proc = cli(
        "import",
        "--mailbox",
        "support@example.jp",
        "--quiet",
        str(tmp_path / "eml"),
        str(tmp_path / "takeout.mbox"),
        str(tmp_path / "Maildir"),
    )
    assert proc.returncode == 0, proc.stderr
    assert "read 6 mails: 6 new" in proc.stdout
    assert "photo.png: not a mail file" in proc.stdout
    again = cli("import", "--mailbox", "support@example.jp", "--quiet", str(tmp_path / "eml"))
    assert "0 new, 3 already imported" in again.stdout
    assert json.loads(cli("stats", "--json").stdout)["messages"] == 6


def test_export_jsonl_and_mbox(cli, tmp_path):
    """Export writes one JSON object per message, and an mbox of the original bytes."""
    cli("mailbox", "add", "support@example.jp", check=True)
    write_mails(tmp_path / "in", 2)
    cli("import", "--mailbox", "support@example.jp", "--quiet", str(tmp_path / "in"), check=True)
    out = cli("export", "--mailbox", "support@example.jp", "--format", "jsonl", check=True).stdout
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 2
    assert set(records[0]) >= {
        "conversation",
        "message_id",
        "direction",
        "subject",
        "from",
        "date",
        "kind",
        "thread_rule",
        "attachments",
    }
    assert records[0]["subject"].startswith("件名")
    cli(
        "export",
        "--mailbox",
        "support@example.jp",
        "--format",
        "mbox",
        "-o",
        str(tmp_path / "out.mbox"),
        check=True,
    )
    assert len(stdlib_mailbox.mbox(str(tmp_path / "out.mbox"))) == 2


def test_retry_without_ids_is_refused(cli):
    """`mail retry` needs IDs or --all."""
    proc = cli("mail", "retry")
    assert proc.returncode == 1 and "--all" in proc.stderr


def test_reindex_rebuilds_the_search_index(cli, tmp_path):
    cli("mailbox", "add", "support@example.jp", check=True)
    write_mails(tmp_path / "in", 3)
    cli("import", "--mailbox", "support@example.jp", "--quiet", str(tmp_path / "in"), check=True)
    out = cli("reindex", check=True).stdout
    assert "search index rebuilt: 3 messages" in out


def test_reports_rebuild_counts_the_event_history_again(cli, tmp_path):
    cli("mailbox", "add", "support@example.jp", check=True)
    write_mails(tmp_path / "in", 3)
    cli("import", "--mailbox", "support@example.jp", "--quiet", str(tmp_path / "in"), check=True)
    out = cli("reports", "rebuild", check=True).stdout
    assert "reports rebuilt from" in out
    from madoguchi.reports.models import HourTotals

    assert sum(HourTotals.objects.filter(agent=0, tag="").values_list("conversations", flat=True)) \
        == 3  # fmt: skip
