"""`madoguchi mailbox add` takes passwords from a file, standard input or the environment,
so they do not show in `ps`; the old flags still work, with a warning."""

from __future__ import annotations

import subprocess

import pytest

from madoguchi.mailboxes.models import Mailbox
from tests.fixtures import run_cli_here

pytestmark = pytest.mark.usefixtures("transactional_db")


def _add(*args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli_here(
        "mailbox", "add", "info@example.jp", "--imap-host", "imap.example.jp",
        "--imap-user", "info", "--smtp-host", "smtp.example.jp", "--smtp-user", "info", *args,
        env=env, stdin=stdin,
    )  # fmt: skip


def _stored() -> tuple[str, str]:
    mailbox = Mailbox.objects.get(address="info@example.jp")
    return mailbox.imap_password, mailbox.smtp_password


def test_passwords_from_a_file_and_standard_input(tmp_path):
    secret = tmp_path / "imap-password"
    secret.write_text("imap pass with spaces \n")
    done = _add("--imap-password-file", str(secret), "--smtp-password-file", "-",
                stdin="smtp-パス\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _stored() == ("imap pass with spaces ", "smtp-パス")
    assert "warning" not in done.stderr


def test_passwords_from_the_environment():
    done = _add(MADOGUCHI_IMAP_PASSWORD="from-env-1", MADOGUCHI_SMTP_PASSWORD="from-env-2")
    assert done.returncode == 0, done.stderr
    assert _stored() == ("from-env-1", "from-env-2")


def test_the_old_flag_still_works_but_warns():
    done = _add("--imap-password", "visible-in-ps")
    assert done.returncode == 0, done.stderr
    assert _stored()[0] == "visible-in-ps"
    assert "visible to other users" in done.stderr and "--imap-password-file" in done.stderr


def test_a_missing_or_empty_file_is_one_clear_line(tmp_path):
    done = _add("--imap-password-file", str(tmp_path / "nope"))
    assert done.returncode != 0 and "nope" in done.stderr
    empty = tmp_path / "empty"
    empty.write_text("")
    done = _add("--imap-password-file", str(empty))
    assert done.returncode != 0 and "no password" in done.stderr
    assert not Mailbox.objects.filter(address="info@example.jp").exists()
