"""The IMAP supervisor follows the admin: watchers start, reconnect and stop without a restart.

Against a real Dovecot; ``doveadm who`` shows which IMAP sessions are open, so a stopped
watcher is seen to have logged out, not only to have ended its thread.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from madoguchi.mail_in.models import ImapFolder, RawMessage
from madoguchi.mail_in.watchers import FIELDS, Supervisor
from madoguchi.mailboxes.actions import create_mailbox, update_mailbox
from madoguchi.mailboxes.models import Mailbox
from tests.fixtures import server_env
from tests.mailmaker import make_mail
from tests.servers.dovecot import Dovecot
from tests.waiting import wait_until

pytestmark = pytest.mark.usefixtures("transactional_db")

ADDRESS = "support@example.jp"


def imap_settings(dovecot: Dovecot, user: str | None = None) -> dict[str, object]:
    user = user or dovecot.user
    return {
        "imap_host": dovecot.host,
        "imap_port": dovecot.port,
        "imap_user": user,
        "imap_password": dovecot.users[user],
        "imap_security": "none",
    }


def sessions(dovecot: Dovecot, user: str) -> int:
    """IMAP sessions ``user`` has open on the server now."""
    rows = dovecot.doveadm("-f", "tab", "who", "-1").splitlines()[1:]
    return sum(1 for row in rows if row.split("\t")[:2] == [user, "imap"])


def taken(origin_prefix: str) -> bool:
    return RawMessage.objects.filter(origin__startswith=origin_prefix).exists()


def watcher_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"imap-{ADDRESS}"]


@pytest.fixture
def supervisor() -> Iterator[Supervisor]:
    """A running supervisor that looks at the mailboxes every 0.2 s; stopped after the test."""
    stop = threading.Event()
    running = Supervisor(stop, poll_seconds=300, rescan_seconds=0.2)
    running.start()
    yield running
    stop.set()
    running.join(timeout=20)
    assert not watcher_threads()


def test_a_mailbox_given_imap_settings_is_watched(dovecot, supervisor):
    """A mailbox without IMAP is not watched; once an admin adds an account, its mail comes."""
    dovecot.deliver(make_mail(message_id="waiting@c.example"))
    mailbox = create_mailbox(ADDRESS)
    assert mailbox.pk not in supervisor.watching()
    update_mailbox(mailbox, **imap_settings(dovecot))
    wait_until(lambda: taken("imap:INBOX/"), "the waiting mail is taken")
    assert mailbox.pk in supervisor.watching()
    assert len(watcher_threads()) == 1


def test_a_new_mailbox_is_watched(dovecot, supervisor):
    """A mailbox created with an IMAP account while running is fetched at once."""
    dovecot.deliver(make_mail())
    create_mailbox(ADDRESS, **imap_settings(dovecot))
    wait_until(RawMessage.objects.exists, "the mail is taken")


def test_a_changed_folder_reconnects(dovecot, supervisor):
    """Pointing the mailbox at another folder makes the watcher take that folder instead."""
    dovecot.create_folder("Support")
    dovecot.deliver(make_mail(message_id="in-support@c.example"), folder="Support")
    mailbox = create_mailbox(ADDRESS, **imap_settings(dovecot))
    wait_until(lambda: sessions(dovecot, "alice") == 1, "the watcher logs in")
    assert not taken("imap:Support/")
    update_mailbox(mailbox, imap_folder="Support")
    wait_until(lambda: taken("imap:Support/"), "mail of the new folder is taken")
    assert supervisor.watching()[mailbox.pk][FIELDS.index("imap_folder")] == "Support"
    wait_until(lambda: sessions(dovecot, "alice") == 1, "one session, the old one closed")
    assert len(watcher_threads()) == 1


def test_a_changed_user_reconnects_as_that_user(dovecot, supervisor):
    """A new user and password: the old session ends and the new account's mail is taken."""
    dovecot.add_user("bob", "pw-bob-1234")
    dovecot.deliver(make_mail(message_id="for-bob@c.example"), user="bob")
    mailbox = create_mailbox(ADDRESS, **imap_settings(dovecot))
    wait_until(lambda: sessions(dovecot, "alice") == 1, "the watcher logs in as alice")
    update_mailbox(mailbox, **imap_settings(dovecot, user="bob"))
    wait_until(lambda: taken("imap:INBOX/"), "bob's mail is taken")
    wait_until(lambda: sessions(dovecot, "alice") == 0, "alice's session is closed")
    assert sessions(dovecot, "bob") == 1
    assert len(watcher_threads()) == 1


def test_a_cleared_imap_account_stops_the_watcher(dovecot, supervisor):
    """Clearing the IMAP host ends the watcher and its session; mail stays on the server."""
    mailbox = create_mailbox(ADDRESS, **imap_settings(dovecot))
    wait_until(lambda: sessions(dovecot, "alice") == 1, "the watcher logs in")
    update_mailbox(mailbox, imap_host="")
    wait_until(lambda: sessions(dovecot, "alice") == 0, "the session is closed")
    wait_until(lambda: not watcher_threads(), "the watcher thread ends")
    assert supervisor.watching() == {}


def test_a_deleted_mailbox_stops_the_watcher(dovecot, supervisor):
    """A mailbox removed from the database is no longer watched."""
    mailbox = create_mailbox(ADDRESS, **imap_settings(dovecot))
    wait_until(lambda: sessions(dovecot, "alice") == 1, "the watcher logs in")
    # Its first pass writes the folder's ledger row: deleting while that insert is under
    # way would race Django's cascade (it reads the rows to delete, then deletes them).
    ledger = ImapFolder.objects.filter(mailbox=mailbox)
    wait_until(ledger.exists, "the watcher's first pass wrote its ledger")
    Mailbox.objects.filter(pk=mailbox.pk).delete()
    wait_until(lambda: sessions(dovecot, "alice") == 0, "the session is closed")
    wait_until(lambda: not watcher_threads(), "the watcher thread ends")


def test_an_unrelated_edit_keeps_the_watcher(dovecot):
    """Saving the mailbox (the password is encrypted again) without IMAP changes restarts
    nothing: the same watcher thread keeps its session."""
    stop = threading.Event()
    supervisor = Supervisor(stop, poll_seconds=300, rescan_seconds=60)
    mailbox = create_mailbox(ADDRESS, **imap_settings(dovecot))
    supervisor.scan()
    try:
        (before,) = watcher_threads()
        update_mailbox(mailbox, signature="窓口チーム")
        supervisor.scan()
        assert watcher_threads() == [before] and before.is_alive()
    finally:
        supervisor.shutdown()
    assert not before.is_alive()


def test_stopping_ends_idling_watchers_promptly(dovecot_factory):
    """Stop: watchers in a long IDLE end within seconds, and the supervisor thread with them."""
    servers = [dovecot_factory(), dovecot_factory()]
    for n, server in enumerate(servers):
        create_mailbox(f"box{n}@example.jp", **imap_settings(server))
    stop = threading.Event()
    supervisor = Supervisor(stop, poll_seconds=300, rescan_seconds=0.2)
    supervisor.start()
    for server in servers:
        wait_until(lambda s=server: sessions(s, "alice") == 1, "both watchers idle")
    assert len(supervisor.watching()) == 2
    started = time.monotonic()
    stop.set()
    supervisor.join(timeout=20)
    assert time.monotonic() - started < 5
    assert not [t for t in threading.enumerate() if t.name.startswith(("imap-box", "imap-sup"))]


def test_fetch_with_a_mailbox_watches_only_that_mailbox(dovecot, cli):
    """`madoguchi fetch --mailbox A` keeps watching A (mail arriving later comes too) and
    never logs in to the other mailbox's account."""
    dovecot.add_user("bob", "pw-bob-1234")
    dovecot.deliver(make_mail(message_id="for-bob@c.example"), user="bob")
    dovecot.deliver(make_mail(message_id="first@c.example"))
    create_mailbox(ADDRESS, **imap_settings(dovecot))
    create_mailbox("sales@example.jp", **imap_settings(dovecot, user="bob"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "madoguchi.cli", "fetch", "--mailbox", ADDRESS],
        env=server_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: taken("imap:INBOX/"), "the first mail is taken", timeout=60)
        dovecot.deliver(make_mail(message_id="later@c.example"))
        wait_until(lambda: RawMessage.objects.count() == 2, "the later mail is taken")
        assert sessions(dovecot, "alice") == 1 and sessions(dovecot, "bob") == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert f"IMAP watching {ADDRESS}" in err and "sales@example.jp" not in err
    assert not RawMessage.objects.filter(mailbox__address="sales@example.jp").exists()
    failed = cli("fetch", "--mailbox", "nobody@example.jp")
    assert failed.returncode == 1 and "nobody@example.jp" in failed.stderr
