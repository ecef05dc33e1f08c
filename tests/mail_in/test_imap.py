"""IMAP intake against a real Dovecot: every message exactly once."""

from __future__ import annotations

import threading

import pytest
from imap_tools.idle import IdleManager

from madoguchi.conversations.models import Message
from madoguchi.mail_in import actions, imap
from madoguchi.mail_in.models import ImapFolder, ImapUid, RawMessage
from madoguchi.mail_in.types import RawInbound
from madoguchi.mailboxes.actions import create_mailbox, update_mailbox
from tests.mailmaker import make_mail
from tests.waiting import wait_until

pytestmark = pytest.mark.usefixtures("transactional_db")


def imap_mailbox(dovecot, **extra):
    return create_mailbox(
        "support@example.jp",
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_user=dovecot.user,
        imap_password=dovecot.password,
        imap_security="none",
        **extra,
    )


def fetch(mailbox) -> imap.FetchResult:
    return imap.fetch_once(mailbox, schedule=False, on_chunk=actions.ingest_safely)


def test_takes_read_and_unread_mail_once(dovecot):
    """Seen or not, each message is taken once; a second fetch takes nothing."""
    uids = [dovecot.deliver(make_mail(message_id=f"{i}@c.example")) for i in range(3)]
    dovecot.add_flags(uids[0], "\\Seen")
    mailbox = imap_mailbox(dovecot)
    assert fetch(mailbox).fetched == 3
    assert fetch(mailbox).fetched == 0
    assert Message.objects.count() == 3
    assert ImapUid.objects.count() == 3
    flags = dict(dovecot.messages())
    assert "\\Seen" not in flags[uids[1]]  # left as it was: BODY.PEEK


def test_marks_seen_after_storing_when_configured(dovecot):
    """With after-fetch 'seen' the server's copy is flagged once stored."""
    uid = dovecot.deliver(make_mail())
    fetch(imap_mailbox(dovecot, imap_after_fetch="seen"))
    assert "\\Seen" in dict(dovecot.messages())[uid]


def test_moves_after_storing_when_configured(dovecot):
    """With after-fetch 'move' the message leaves INBOX for the chosen folder."""
    dovecot.create_folder("Archive")
    dovecot.deliver(make_mail())
    fetch(imap_mailbox(dovecot, imap_after_fetch="move", imap_move_to="Archive"))
    assert dovecot.messages("INBOX") == []
    assert len(dovecot.messages("Archive")) == 1
    assert Message.objects.count() == 1


def test_uidvalidity_change_refetches_without_duplicates(dovecot):
    """After a UIDVALIDITY change everything is taken again but no message is doubled."""
    for i in range(2):
        dovecot.deliver(make_mail(message_id=f"{i}@c.example"))
    mailbox = imap_mailbox(dovecot)
    fetch(mailbox)
    dovecot.change_uidvalidity()
    dovecot.deliver(make_mail(message_id="new@c.example"))
    result = fetch(mailbox)
    assert (result.fetched, result.already_had) == (1, 2)
    assert Message.objects.count() == 3
    assert RawMessage.objects.count() == 3


def test_mail_arriving_while_away_is_taken_later(dovecot):
    """Mail delivered between fetches (an outage) is taken on the next one, nothing else."""
    mailbox = imap_mailbox(dovecot)
    dovecot.deliver(make_mail(message_id="a@c.example"))
    fetch(mailbox)
    for i in range(3):
        dovecot.deliver(make_mail(message_id=f"later{i}@c.example"))
    assert fetch(mailbox).fetched == 3
    assert Message.objects.count() == 4


def test_poison_message_does_not_stop_the_rest(dovecot):
    """Broken bytes between good mails are kept and shown; the good mails all arrive."""
    dovecot.deliver(make_mail(message_id="good1@c.example"))
    dovecot.deliver(b"\x00\xff\xfe not a mail at all \x80\x81\r\n\r\n\xff")
    dovecot.deliver(b'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\n--x--\r\n--')
    dovecot.deliver(make_mail(message_id="good2@c.example"))
    assert fetch(imap_mailbox(dovecot)).fetched == 4
    assert RawMessage.objects.count() == 4
    assert RawMessage.objects.filter(status="pending").count() == 0
    assert Message.objects.filter(message_id__startswith="good").count() == 2


def test_fetch_once_on_the_command_line(dovecot, cli):
    """`madoguchi fetch --once` takes the mail and reports the counts."""
    dovecot.deliver(make_mail())
    imap_mailbox(dovecot)
    proc = cli("fetch", "--once", check=True)
    assert "support@example.jp: 1 new" in proc.stdout
    assert Message.objects.count() == 1


def test_watcher_is_woken_by_idle(dovecot, monkeypatch):
    """The watcher takes new mail within seconds though its poll interval is long (IDLE)."""
    mailbox = imap_mailbox(dovecot)
    idling = threading.Event()
    start_idle = IdleManager.start

    def start_and_tell(manager: IdleManager) -> object:
        """The real IDLE command; then the test may deliver (the server said "idling")."""
        started = start_idle(manager)
        idling.set()
        return started

    monkeypatch.setattr(IdleManager, "start", start_and_tell)
    stop = threading.Event()
    thread = threading.Thread(
        target=imap.watch, args=(mailbox.pk, stop), kwargs={"poll_seconds": 300}, daemon=True
    )
    thread.start()
    try:
        assert idling.wait(15), "the watcher did not start IDLE"
        dovecot.deliver(make_mail())
        wait_until(RawMessage.objects.exists, "the mail is taken while idling", timeout=15)
        assert RawMessage.objects.count() == 1
    finally:
        stop.set()


def test_message_over_the_size_limit_is_recorded_not_taken(dovecot, cli):
    """A message over the mailbox limit is listed as failed with why; the others arrive.

    Its header is kept (sender and subject are in the reason), it stays on the server
    unflagged, and neither the next fetch nor `mail retry` takes it up again.
    """
    dovecot.deliver(make_mail(message_id="small1@c.example"))
    big = make_mail(message_id="big@c.example", subject="Huge scan", body="x" * 20_000 + "\n")
    big_uid = dovecot.deliver(big)
    dovecot.deliver(make_mail(message_id="small2@c.example"))
    mailbox = imap_mailbox(dovecot, imap_after_fetch="seen", max_message_bytes=10_000)
    result = fetch(mailbox)
    assert result.fetched == 2 and len(result.errors) == 1
    assert set(Message.objects.values_list("message_id", flat=True)) == {
        "small1@c.example",
        "small2@c.example",
    }
    failed = RawMessage.objects.get(status="failed")
    assert failed.error.startswith("too big") and "Huge scan" in failed.error
    assert b"big@c.example" in bytes(failed.data) and b"xxxx" not in bytes(failed.data)
    assert "\\Seen" not in dict(dovecot.messages())[big_uid]
    assert fetch(mailbox).fetched == 0 and ImapUid.objects.count() == 3
    assert "\\Seen" not in dict(dovecot.messages())[big_uid]  # not a step left undone
    assert actions.retry(None) == 0
    out = cli("mail", "failed", check=True).stdout
    assert f"{failed.pk}\timap" in out and "too big" in out
    retried = cli("mail", "retry", "--all", check=True).stdout
    assert "0 still failed; 1 too big to take" in retried


def test_fetch_holds_a_bounded_number_of_bytes(dovecot, monkeypatch):
    """Chunks are cut by bytes as well as by count (RFC822.SIZE is asked first)."""
    for i in range(5):
        dovecot.deliver(make_mail(message_id=f"{i}@c.example", body="y" * 3000 + "\n"))
    monkeypatch.setattr(imap, "CHUNK_BYTES", 7000)
    chunks: list[int] = []

    def on_chunk(rows):
        chunks.append(sum(row.size for row in rows))
        actions.ingest_safely(rows)

    imap.fetch_once(imap_mailbox(dovecot), schedule=False, on_chunk=on_chunk)
    assert len(chunks) == 3 and max(chunks) <= 7000
    assert Message.objects.count() == 5


def test_a_refused_move_is_finished_on_the_next_pass(dovecot):
    """The server refuses the move (no such folder yet): the mail is stored, the refusal
    reported, intake goes on, and once the folder exists the next pass moves it all."""
    dovecot.deliver(make_mail(message_id="m@c.example"))
    mailbox = imap_mailbox(dovecot, imap_after_fetch="move", imap_move_to="Archive")
    first = fetch(mailbox)
    assert first.fetched == 1 and "Archive" in first.errors[0]
    assert ImapUid.objects.get().done_after_fetch is False
    assert len(dovecot.messages("INBOX")) == 1
    dovecot.deliver(make_mail(message_id="n@c.example"))
    assert fetch(mailbox).fetched == 1  # a refused step does not block new mail
    assert not ImapUid.objects.filter(done_after_fetch=True).exists()
    dovecot.create_folder("Archive")
    again = fetch(mailbox)
    assert again.fetched == 0 and again.errors == []
    assert dovecot.messages("INBOX") == [] and len(dovecot.messages("Archive")) == 2
    assert not ImapUid.objects.filter(done_after_fetch=False).exists()
    assert RawMessage.objects.count() == 2


def test_an_interrupted_flag_is_finished_in_bounded_batches(dovecot, monkeypatch):
    """Mail stored and recorded, then a crash before \\Seen: the next passes flag it, a
    bounded number per pass, and mark the rows done; nothing is fetched again."""
    uids = [dovecot.deliver(make_mail(message_id=f"{i}@c.example")) for i in range(3)]
    mailbox = imap_mailbox(dovecot, imap_after_fetch="seen")
    folder = ImapFolder.objects.create(
        mailbox=mailbox, name="INBOX", uidvalidity=dovecot.uidvalidity()
    )
    for i, uid in enumerate(uids):  # what _take_chunk commits before the flag step
        inbound = RawInbound(
            data=make_mail(message_id=f"{i}@c.example"), source="imap", origin=f"imap:INBOX/{uid}"
        )
        raw, _ = actions.accept(mailbox, inbound, schedule=False)
        ImapUid.objects.create(folder=folder, uidvalidity=folder.uidvalidity, uid=uid, raw=raw)
    monkeypatch.setattr(imap, "UNFINISHED_PER_PASS", 2)

    assert fetch(mailbox).fetched == 0
    seen = {uid for uid, flags in dovecot.messages() if "\\Seen" in flags}
    assert seen == set(uids[:2])
    assert ImapUid.objects.filter(done_after_fetch=True).count() == 2
    assert fetch(mailbox).fetched == 0
    assert all("\\Seen" in flags for _, flags in dovecot.messages())
    assert not ImapUid.objects.filter(done_after_fetch=False).exists()
    assert RawMessage.objects.count() == 3


def test_a_step_left_undone_follows_the_current_setting(dovecot):
    """A move left undone, then the admin switches to "leave as it is": nothing is moved
    and the row is done (the setting of the moment decides)."""
    dovecot.deliver(make_mail())
    mailbox = imap_mailbox(dovecot, imap_after_fetch="move", imap_move_to="Nowhere")
    assert fetch(mailbox).errors
    mailbox = update_mailbox(mailbox, imap_after_fetch="leave", imap_move_to="")
    fetch(mailbox)
    assert len(dovecot.messages("INBOX")) == 1
    assert ImapUid.objects.get().done_after_fetch is True
