"""`madoguchi run`: the started processes accept mail and the worker ingests it."""

from __future__ import annotations

import signal
import smtplib
import subprocess
import sys

import pytest

from madoguchi.conversations.models import Message
from tests.fixtures import server_env
from tests.mailmaker import lmtp_send, make_mail
from tests.servers import free_port, wait_for_port
from tests.waiting import wait_until

pytestmark = pytest.mark.processes


def test_run_accepts_smtp_and_lmtp_and_ingests(cli):
    """SMTP and LMTP listeners plus the worker, as one process: mail becomes messages."""
    cli("mailbox", "add", "support@example.jp", check=True)
    smtp_port, lmtp_port, web_port = free_port(), free_port(), free_port()
    env = server_env(
        MADOGUCHI_SMTP_BIND=f"127.0.0.1:{smtp_port}",
        MADOGUCHI_LMTP_BIND=f"127.0.0.1:{lmtp_port}",
        MADOGUCHI_WEB_BIND=f"127.0.0.1:{web_port}",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "madoguchi.cli", "run", "smtp", "lmtp", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port("127.0.0.1", smtp_port, timeout=60)
        wait_for_port("127.0.0.1", lmtp_port, timeout=60)
        with smtplib.SMTP("127.0.0.1", smtp_port) as peer:
            peer.sendmail("a@c.example", ["support@example.jp"], make_mail(message_id="s@c"))
        replies = lmtp_send(
            "127.0.0.1",
            lmtp_port,
            "b@c.example",
            ["support@example.jp"],
            make_mail(message_id="l@c", sender="b@c.example"),
        )
        assert [code for code, _ in replies] == [250]
        wait_until(lambda: Message.objects.count() >= 2, "both mails are ingested", timeout=30)
        assert set(Message.objects.values_list("message_id", flat=True)) == {"s@c", "l@c"}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    assert err.count(": taking tasks") == 1, err  # each line once, not once per handler


def _run_env(web_bind: str) -> dict[str, str]:
    return server_env(MADOGUCHI_WEB_BIND=web_bind)


def _start_web(*args: str, web_bind: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "madoguchi.cli", "run", "web", *args],
        env=_run_env(web_bind),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()


def test_demo_refuses_a_network_bind_and_creates_nothing(transactional_db):
    """`run --demo` on 0.0.0.0 stops before the demo accounts exist, saying how to go on."""
    from django.contrib.auth.models import User

    proc = _start_web("--demo", web_bind=f"0.0.0.0:{free_port()}")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "refusing to listen on 0.0.0.0" in err and "--allow-demo-on-network" in err
    assert "createadmin" in err
    assert not User.objects.exists()


def test_demo_says_so_loudly_at_start(transactional_db):
    """On loopback the demo starts, and the first thing it prints is the demo warning."""
    port = free_port()
    proc = _start_web("--demo", web_bind=f"127.0.0.1:{port}")
    try:
        wait_for_port("127.0.0.1", port, timeout=120, proc=proc)  # type: ignore[arg-type]
    finally:
        out, _err = _stop(proc)
    assert out.lstrip("*\n ").startswith("DEMO MODE: demo/demo passwords, do not expose")


def test_demo_passwords_left_in_the_database_block_a_network_bind(transactional_db):
    """Without --demo, demo accounts that still have their demo passwords are named, and a
    network bind is refused unless forced; forced, it starts (and still warns)."""
    from madoguchi.accounts.actions import create_agent
    from madoguchi.accounts.models import Role

    create_agent("demo", password="demo", role=Role.ADMIN)
    port = free_port()
    refused = _start_web(web_bind=f"0.0.0.0:{port}")
    _, err = refused.communicate(timeout=120)
    assert refused.returncode == 1
    assert "demo accounts demo still have their demo passwords" in err
    forced = _start_web("--allow-demo-on-network", web_bind=f"0.0.0.0:{port}")
    try:
        wait_for_port("127.0.0.1", port, timeout=120, proc=forced)  # type: ignore[arg-type]
    finally:
        _, err = _stop(forced)
    assert "WARNING: the demo accounts demo still have their demo passwords" in err


def test_no_demo_no_default_account(transactional_db):
    """A plain start on an empty database creates no account at all, and says how to make
    the first admin."""
    from django.contrib.auth.models import User

    port = free_port()
    proc = _start_web(web_bind=f"127.0.0.1:{port}")
    try:
        wait_for_port("127.0.0.1", port, timeout=120, proc=proc)  # type: ignore[arg-type]
    finally:
        out, _err = _stop(proc)
    assert not User.objects.exists()
    assert "madoguchi createadmin" in out and f"http://127.0.0.1:{port}/setup/" in out
