"""`madoguchi createadmin`: the first admin without a default password, from a terminal,
a file, standard input or the environment; never from the command line."""

from __future__ import annotations

import os
import pty
import select
import sys
import time

import pytest

from madoguchi.accounts.models import Agent, Role
from tests.fixtures import run_cli_here, server_env

GOOD = "hinoki-no-ki-2026"


def run_cli(*args: str, env: dict[str, str] | None = None, stdin: str = ""):
    assert "MADOGUCHI_ADMIN_PASSWORD" not in os.environ
    return run_cli_here("createadmin", *args, env=env, stdin=stdin)


def admin(username: str) -> Agent:
    return Agent.objects.select_related("user").get(user__username=username)


@pytest.fixture
def password_file(tmp_path):
    path = tmp_path / "pw"
    path.write_text(GOOD + "\n")
    return path


def test_password_from_a_file_creates_an_admin(transactional_db, password_file):
    """--password-file: an active admin with that password and address; nothing echoed."""
    proc = run_cli("--username", "boss", "--email", "Boss@Example.jp",
                   "--name", "社長", "--password-file", str(password_file))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "admin boss created" in proc.stdout and "/login/" in proc.stdout
    assert GOOD not in proc.stdout + proc.stderr
    agent = admin("boss")
    assert agent.role == Role.ADMIN and agent.user.is_active and agent.display_name == "社長"
    assert agent.user.email == "boss@example.jp"
    assert agent.user.check_password(GOOD)


def test_password_from_the_environment(transactional_db):
    """MADOGUCHI_ADMIN_PASSWORD is read when no file is given."""
    proc = run_cli("--username", "boss", env={"MADOGUCHI_ADMIN_PASSWORD": GOOD})
    assert proc.returncode == 0, proc.stderr
    assert admin("boss").user.check_password(GOOD)


def test_password_from_standard_input(transactional_db):
    """--password-file - reads the first line of standard input."""
    proc = run_cli("--username", "boss", "--password-file", "-", stdin=GOOD + "\nignored\n")
    assert proc.returncode == 0, proc.stderr
    assert admin("boss").user.check_password(GOOD)


def test_password_is_never_a_command_line_argument(transactional_db):
    """`--password SECRET` is refused (not taken as an abbreviation of --password-file)."""
    proc = run_cli("--username", "boss", "--password", GOOD)
    assert proc.returncode == 2
    assert "unrecognized arguments" in proc.stderr
    assert not Agent.objects.exists()


def test_weak_password_is_refused_with_the_validators_reason(transactional_db, tmp_path):
    """Django's validators apply: a short or user-name-like password creates nobody."""
    (tmp_path / "pw").write_text("boss12\n")
    proc = run_cli("--username", "boss", "--password-file", str(tmp_path / "pw"),
                   env={"LANG": "C.UTF-8"})  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0
    assert "too short" in proc.stderr
    assert not Agent.objects.exists()


def test_no_password_and_no_terminal_says_how(transactional_db):
    """Without a terminal, a file or the variable, it fails with one line naming the ways."""
    proc = run_cli("--username", "boss")
    assert proc.returncode == 1
    assert "--password-file" in proc.stderr and "MADOGUCHI_ADMIN_PASSWORD" in proc.stderr
    assert not Agent.objects.exists()


def test_taken_user_name_is_refused(transactional_db, password_file):
    """A user name that exists (any case) is refused, the existing account unchanged."""
    assert run_cli("--username", "boss", "--password-file", str(password_file)).returncode == 0
    proc = run_cli("--username", "BOSS", "--password-file", str(password_file))
    assert proc.returncode == 1 and "taken" in proc.stderr
    assert Agent.objects.count() == 1


def test_bad_mail_address_is_refused(transactional_db, password_file):
    proc = run_cli("--username", "boss", "--email", "not-an-address",
                   "--password-file", str(password_file))  # fmt: skip
    assert proc.returncode == 1
    assert not Agent.objects.exists()


class Terminal:
    """The parent's side of a pseudo-terminal: wait for a prompt, answer it."""

    def __init__(self, fd: int) -> None:
        self.fd, self.seen, self.mark = fd, bytearray(), 0

    def expect(self, text: bytes, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.seen[self.mark :]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"waited for {text!r}, got {bytes(self.seen)!r}")
            if select.select([self.fd], [], [], left)[0]:
                try:
                    chunk = os.read(self.fd, 1024)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"ended before {text!r}: {bytes(self.seen)!r}")
                self.seen += chunk
        self.mark += self.seen[self.mark :].index(text) + len(text)

    def answer(self, text: bytes) -> None:
        os.write(self.fd, text + b"\n")


@pytest.mark.processes
def test_interactive_asks_twice_and_again_after_a_weak_password(transactional_db):
    """On a terminal: user name, address, then the password twice, not echoed; a weak one
    is refused with the reason and asked again."""
    env = server_env(LANG="C.UTF-8")
    env.pop("MADOGUCHI_ADMIN_PASSWORD", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI on the new terminal
        os.execvpe(sys.executable, [sys.executable, "-m", "madoguchi.cli", "createadmin"], env)
    term = Terminal(fd)
    try:
        term.expect(b"User name: ")
        term.answer(b"boss")
        term.expect(b"Mail address")
        term.answer(b"boss@example.jp")
        for password in (b"1234567890", GOOD.encode()):
            term.expect(b"Password: ")
            term.answer(password)
            term.expect(b"Password again: ")
            term.answer(password)
            if password != GOOD.encode():
                term.expect(b"entirely numeric")
        term.expect(b"admin boss created")
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    assert GOOD.encode() not in term.seen  # getpass did not echo it
    assert admin("boss").user.check_password(GOOD)
