"""Prove the server fixtures against the real Dovecot and Postfix (no mocks)."""

from __future__ import annotations

import email
import imaplib
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.servers import ServerError, free_port, group_pids
from tests.servers.dovecot import Dovecot
from tests.servers.fixtures import *  # noqa: F403 - the fixtures, with or without a conftest
from tests.servers.fixtures import DovecotFactory, PostfixFactory
from tests.servers.postfix import Postfix


def make_mail(subject: str, to: str = "team@example.com") -> bytes:
    return (
        f"From: Sender <sender@example.org>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '-')}@example.org>\r\n\r\nHello {subject}\r\n"
    ).encode()


def imap_login(dc: Dovecot) -> imaplib.IMAP4:
    imap = imaplib.IMAP4(dc.host, dc.port)
    imap.login(dc.user, dc.password)
    return imap


# -- a tiny LMTP server (aiosmtpd) -------------------------------------------


@dataclass
class LmtpSink:
    """Records what it gets; answers 451 to the first ``fail_first`` DATA commands."""

    fail_first: int = 0
    received: list[Envelope] = field(default_factory=list)
    attempts: list[float] = field(default_factory=list)
    delivered: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.attempts.append(time.monotonic())
        n = len(envelope.rcpt_tos)
        if len(self.attempts) <= self.fail_first:
            return "\r\n".join(["451 4.3.0 try again later"] * n)  # one reply per recipient
        self.received.append(envelope)
        self.delivered.set()
        return "\r\n".join(["250 2.0.0 delivered"] * n)


class LmtpController(Controller):
    def factory(self) -> LMTP:
        return LMTP(self.handler)


@pytest.fixture
def lmtp_sink(request: pytest.FixtureRequest) -> Iterator[tuple[LmtpSink, int]]:
    sink = LmtpSink(fail_first=getattr(request, "param", 0))
    port = free_port()
    controller = LmtpController(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


# -- Dovecot -------------------------------------------------------------------


def test_imap_login(dovecot: Dovecot) -> None:
    imap = imap_login(dovecot)
    typ, _ = imap.select("INBOX")
    assert typ == "OK"
    imap.logout()
    bad = imaplib.IMAP4(dovecot.host, dovecot.port)
    with pytest.raises(imaplib.IMAP4.error):
        bad.login(dovecot.user, "wrong")
    with pytest.raises(imaplib.IMAP4.error):
        bad.login("nobody", "secret")
    bad.logout()


def test_add_user_works_without_restart(dovecot: Dovecot) -> None:
    imap_login(dovecot).logout()  # the passdb has been used once already
    dovecot.add_user("bob", "hunter2")
    imap = imaplib.IMAP4(dovecot.host, dovecot.port)
    assert imap.login("bob", "hunter2")[0] == "OK"
    imap.logout()
    uid = dovecot.deliver(make_mail("for bob"), user="bob")
    assert uid == 1 and dovecot.messages(user="bob") == [(1, frozenset())]
    assert dovecot.messages() == []  # alice's INBOX is separate


def test_delivered_message_has_uid(dovecot: Dovecot) -> None:
    assert dovecot.deliver(make_mail("one")) == 1
    assert dovecot.deliver(make_mail("two")) == 2
    dovecot.create_folder("Clients/Acme")
    assert "Clients/Acme" in dovecot.folders()
    assert dovecot.deliver(make_mail("three"), folder="Clients/Acme") == 1

    imap = imap_login(dovecot)
    imap.select("INBOX", readonly=True)
    typ, data = imap.uid("FETCH", "1:*", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK"
    got = {}
    for item in data:
        if isinstance(item, tuple):
            uid = re.search(rb"UID (\d+)", item[0])
            assert uid is not None
            got[int(uid.group(1))] = email.message_from_bytes(item[1])["Subject"]
    assert got == {1: "one", 2: "two"}
    imap.select('"Clients/Acme"', readonly=True)
    assert imap.uid("SEARCH", "ALL") == ("OK", [b"1"])
    imap.logout()


def test_uidvalidity_change(dovecot: Dovecot) -> None:
    dovecot.deliver(make_mail("kept"))
    imap = imap_login(dovecot)
    imap.select("INBOX")
    before = int(imap.response("UIDVALIDITY")[1][0])
    imap.logout()
    assert before == dovecot.uidvalidity()

    after = dovecot.change_uidvalidity()  # INBOX, messages stay
    assert after != before
    imap = imap_login(dovecot)
    imap.select("INBOX")
    assert int(imap.response("UIDVALIDITY")[1][0]) == after
    typ, data = imap.status("INBOX", "(UIDVALIDITY MESSAGES)")
    assert f"UIDVALIDITY {after}".encode() in data[0] and b"MESSAGES 1" in data[0]
    imap.logout()

    assert dovecot.change_uidvalidity(value=42) == 42  # any value, also lower ones

    dovecot.create_folder("Archive")
    dovecot.deliver(make_mail("old"), folder="Archive")
    old = dovecot.uidvalidity("Archive")
    new = dovecot.recreate_folder("Archive")  # delete + create: empty, new UIDVALIDITY
    assert new != old and dovecot.messages("Archive") == []


def test_flags(dovecot: Dovecot) -> None:
    dovecot.deliver(make_mail("a"))
    dovecot.deliver(make_mail("b"))
    assert dovecot.messages() == [(1, frozenset()), (2, frozenset())]

    imap = imap_login(dovecot)
    imap.select("INBOX")
    assert imap.uid("STORE", "2", "+FLAGS", r"(\Seen \Flagged $Assigned)")[0] == "OK"
    assert dovecot.messages() == [
        (1, frozenset()),
        (2, frozenset({"\\Seen", "\\Flagged", "$Assigned"})),
    ]

    dovecot.add_flags(1, "\\Answered", "$Label1")
    dovecot.remove_flags(2, "\\Flagged")
    imap.noop()
    typ, data = imap.uid("FETCH", "1:*", "(FLAGS)")
    flags = dict(
        (int(m.group(1)), set(m.group(2).decode().split()) - {"\\Recent"})
        for m in (re.search(rb"UID (\d+) FLAGS \(([^)]*)\)", d) for d in data)
        if m
    )
    assert flags == {1: {"\\Answered", "$Label1"}, 2: {"\\Seen", "$Assigned"}}

    dovecot.expunge(1)
    assert [uid for uid, _ in dovecot.messages()] == [2]
    imap.logout()


def test_instances_are_independent_and_cleaned_up(dovecot_factory: DovecotFactory) -> None:
    a = dovecot_factory()
    b = dovecot_factory({"carol": "pw"})
    assert a.port != b.port
    a.deliver(make_mail("only in a"))
    assert a.messages() and b.messages() == []
    pgid, workdir = b.master_pid, b.dir
    assert pgid and group_pids(pgid)  # master (log, config, auth, ... follow)
    b.stop()
    assert group_pids(pgid) == [] and not workdir.exists()
    assert a.running and a.messages()
    with pytest.raises(ServerError):
        a.deliver(b"x", folder="No/Such/Folder")


# -- Postfix ---------------------------------------------------------------------


def test_postfix_relays_to_lmtp(
    lmtp_sink: tuple[LmtpSink, int], postfix_factory: PostfixFactory
) -> None:
    sink, port = lmtp_sink
    pf = postfix_factory("127.0.0.1", port, domains=["example.com", "example.net"])
    rcpts = ["team@example.com", "x@example.net"]
    assert pf.send(make_mail("relay"), "sender@example.org", rcpts) == {}
    assert sink.delivered.wait(10), pf.log()
    env = sink.received[0]
    assert env.mail_from == "sender@example.org"
    assert sorted(env.rcpt_tos) == ["team@example.com", "x@example.net"]
    msg = email.message_from_bytes(env.original_content or b"")
    assert msg["Subject"] == "relay" and "Received" in msg  # it really went through Postfix
    pf.wait_empty(5)


def test_postfix_refuses_other_domains(
    lmtp_sink: tuple[LmtpSink, int], postfix_factory: PostfixFactory
) -> None:
    sink, port = lmtp_sink
    pf = postfix_factory("127.0.0.1", port, domains=["example.com"])
    refused = pf.send(make_mail("mixed"), "s@example.org", ["ok@example.com", "no@elsewhere.test"])
    assert list(refused) == ["no@elsewhere.test"] and refused["no@elsewhere.test"][0] == 554
    assert sink.delivered.wait(10)
    assert sink.received[0].rcpt_tos == ["ok@example.com"]


@pytest.mark.parametrize("lmtp_sink", [1], indirect=True)
def test_postfix_retries_after_451(
    lmtp_sink: tuple[LmtpSink, int], postfix_factory: PostfixFactory
) -> None:
    sink, port = lmtp_sink
    pf = postfix_factory("127.0.0.1", port)
    pf.send(make_mail("retry"), "sender@example.org", ["team@example.com"])
    deadline = time.monotonic() + 5
    while not sink.attempts and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sink.attempts and not sink.received
    reasons: list[str] = []
    while not reasons and time.monotonic() < deadline:  # the 451 is being recorded
        reasons = [
            r["delay_reason"] for q in pf.queue() for r in q["recipients"] if "delay_reason" in r
        ]
        time.sleep(0.05)
    assert reasons and "451 4.3.0" in reasons[0]
    # Retried by itself, no flush(). The backoff is 2 s (postfix.py), but on a loaded
    # machine the queue manager may take longer: wait generously, assert no wall time.
    assert sink.delivered.wait(60), pf.log()
    assert len(sink.attempts) == 2
    pf.wait_empty(5)


def test_postfix_flush_after_lmtp_comes_back(postfix_factory: PostfixFactory) -> None:
    port = free_port()
    pf = postfix_factory("127.0.0.1", port)  # nothing listens there yet
    pf.send(make_mail("later"), "sender@example.org", ["team@example.com"])
    deadline = time.monotonic() + 5
    # Deferred, and back in the deferred queue: while the delivery agent still holds it
    # (active queue), qmgr skips a flush ("skipped, still being delivered").
    while not any(
        q.get("queue_name") == "deferred" and "delay_reason" in r
        for q in pf.queue()
        for r in q["recipients"]
    ):
        assert time.monotonic() < deadline, pf.log()
        time.sleep(0.05)
    sink = LmtpSink()
    controller = LmtpController(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        pf.flush()
        assert sink.delivered.wait(10), pf.log()
        pf.wait_empty(5)
    finally:
        controller.stop()


def test_postfix_to_dovecot_to_imap(dovecot: Dovecot, postfix_factory: PostfixFactory) -> None:
    assert dovecot.lmtp_port is not None
    pf = postfix_factory(dovecot.host, dovecot.lmtp_port, domains=["example.com"])
    pf.send(make_mail("end to end", to="alice@example.com"), "s@example.org", ["alice@example.com"])
    dovecot.wait_for("INBOX", 1)
    imap = imap_login(dovecot)
    imap.select("INBOX", readonly=True)
    typ, data = imap.uid("FETCH", "1", "(BODY.PEEK[])")
    assert email.message_from_bytes(data[0][1])["Subject"] == "end to end"
    imap.logout()


def test_postfix_stop_leaves_nothing(lmtp_sink: tuple[LmtpSink, int]) -> None:
    t0 = time.monotonic()
    with Postfix("127.0.0.1", lmtp_sink[1]) as a, Postfix("127.0.0.1", lmtp_sink[1]) as b:
        startup = time.monotonic() - t0
        assert a.port != b.port and a.dir != b.dir
        pgids = [a.master_pid, b.master_pid]
        workdirs = [a.dir, b.dir]
        assert all(p and group_pids(p) for p in pgids)  # master (qmgr, pickup, ... follow)
    assert all(p is not None and group_pids(p) == [] for p in pgids)
    assert not any(d.exists() for d in workdirs)
    assert startup < 5


def test_leftovers_of_a_killed_run_are_reaped() -> None:
    """A test process killed with SIGKILL leaves servers behind; the next start reaps them."""
    script = (
        "import time\n"
        "from tests.servers.dovecot import Dovecot\n"
        "from tests.servers.postfix import Postfix\n"
        "d = Dovecot().start(); p = Postfix('127.0.0.1', 1).start()\n"
        "print(d.master_pid, p.master_pid, d.dir, p.dir, flush=True); time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        dpid, ppid, ddir, pdir = child.stdout.readline().split()
    finally:
        child.kill()
        child.wait()
    pgids = [int(dpid), int(ppid)]
    assert all(group_pids(p) for p in pgids)  # orphaned, still running
    with Dovecot(), Postfix("127.0.0.1", 1):
        pass
    assert all(group_pids(p) == [] for p in pgids)
    assert not Path(ddir).exists() and not Path(pdir).exists()
