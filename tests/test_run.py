"""`madoguchi run`: the started processes accept mail and the worker ingests it."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import time

from madoguchi.conversations.models import Message
from tests.fixtures import database_url
from tests.mailmaker import lmtp_send, make_mail
from tests.servers import free_port, wait_for_port


def test_run_accepts_smtp_and_lmtp_and_ingests(cli):
    """SMTP and LMTP listeners plus the worker, as one process: mail becomes messages."""
    cli("mailbox", "add", "support@example.jp", check=True)
    smtp_port, lmtp_port, web_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "MADOGUCHI_DATABASE_URL": database_url(),
        "MADOGUCHI_SMTP_BIND": f"127.0.0.1:{smtp_port}",
        "MADOGUCHI_LMTP_BIND": f"127.0.0.1:{lmtp_port}",
        "MADOGUCHI_WEB_BIND": f"127.0.0.1:{web_port}",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
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
        deadline = time.monotonic() + 30
        while Message.objects.count() < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert set(Message.objects.values_list("message_id", flat=True)) == {"s@c", "l@c"}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
