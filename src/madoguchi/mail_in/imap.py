"""Fetch mail from a mailbox's IMAP account (RFC 3501), exactly once per message.

The ledger (``ImapFolder``, ``ImapUid``) records every (UIDVALIDITY, UID) taken, so every
message in the folder is taken once whether it is read or not, after an outage, or after a
UIDVALIDITY change (then everything is fetched again and ``accept`` recognises the bytes it
already has). Flags and moves happen only after the raw bytes are committed. IDLE (RFC 2177)
wakes the watcher early when the server supports it; polling is the fallback.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db import close_old_connections, transaction
from django.utils import timezone
from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.mailbox import BaseMailBox

from madoguchi.mail_in import actions
from madoguchi.mail_in.models import ImapFolder, ImapUid, RawMessage
from madoguchi.mail_in.types import RawInbound
from madoguchi.mailboxes.models import AfterFetch, Mailbox, Security

log = logging.getLogger(__name__)
CHUNK = 100
OnChunk = Callable[[list[RawMessage]], object]
_UID = re.compile(rb"UID (\d+)")


@dataclass
class FetchResult:
    fetched: int = 0
    already_had: int = 0
    errors: list[str] = field(default_factory=list)
    raw_ids: list[int] = field(default_factory=list)


def connect(mailbox: Mailbox, *, timeout: float = 30) -> BaseMailBox:
    """Log in to the mailbox's IMAP account; raises with the server's answer on failure."""
    security = mailbox.imap_security
    box: BaseMailBox
    if security == Security.SSL:
        box = MailBox(mailbox.imap_host, mailbox.imap_port or 993, timeout=timeout)
    elif security == Security.STARTTLS:
        box = MailBoxStartTls(mailbox.imap_host, mailbox.imap_port or 143, timeout=timeout)
    else:
        box = MailBoxUnencrypted(mailbox.imap_host, mailbox.imap_port or 143, timeout=timeout)
    return box.login(mailbox.imap_user, mailbox.imap_password, initial_folder=None)


def _uidvalidity(box: BaseMailBox, folder: str) -> int:
    status = box.folder.status(folder, ["UIDVALIDITY"])
    return int(status["UIDVALIDITY"])


def _ledger(mailbox: Mailbox, folder: str, uidvalidity: int) -> ImapFolder:
    state, _ = ImapFolder.objects.get_or_create(
        mailbox=mailbox, name=folder, defaults={"uidvalidity": uidvalidity}
    )
    if state.uidvalidity != uidvalidity:
        log.warning(
            "%s/%s: UIDVALIDITY changed %s -> %s; taking the folder again",
            mailbox.address,
            folder,
            state.uidvalidity,
            uidvalidity,
        )
        state.uidvalidity = uidvalidity
        state.save(update_fields=["uidvalidity"])
    return state


def _fetch_raw(box: BaseMailBox, uids: list[str]) -> Iterator[tuple[int, bytes]]:
    """(uid, bytes) for each message; BODY.PEEK leaves the \\Seen flag alone."""
    typ, data = box.client.uid("FETCH", ",".join(uids), "(UID BODY.PEEK[])")
    if typ != "OK":
        raise OSError(f"FETCH failed: {data!r}")
    for item in data:
        if isinstance(item, tuple) and (match := _UID.search(item[0])):
            yield int(match[1]), item[1]


def fetch_folder(
    mailbox: Mailbox,
    box: BaseMailBox,
    *,
    folder: str | None = None,
    schedule: bool = True,
    on_chunk: OnChunk | None = None,
) -> FetchResult:
    """Take every message of ``folder`` not yet in the ledger.

    ``on_chunk`` receives the raw rows of each committed chunk (``fetch --once`` ingests
    them there, so memory stays flat however large the folder is).
    """
    folder = folder or mailbox.imap_folder
    box.folder.set(folder)
    uidvalidity = _uidvalidity(box, folder)
    state = _ledger(mailbox, folder, uidvalidity)
    known = set(
        ImapUid.objects.filter(folder=state, uidvalidity=uidvalidity).values_list("uid", flat=True)
    )
    todo = [u for u in box.uids("ALL") if int(u) not in known]
    result = FetchResult()
    for start in range(0, len(todo), CHUNK):
        chunk = todo[start : start + CHUNK]
        _take_chunk(mailbox, box, state, chunk, result, schedule=schedule, on_chunk=on_chunk)
    ImapFolder.objects.filter(pk=state.pk).update(
        last_fetch_at=timezone.now(), last_error="; ".join(result.errors)[-2000:]
    )
    return result


def _take_chunk(
    mailbox: Mailbox,
    box: BaseMailBox,
    state: ImapFolder,
    uids: list[str],
    result: FetchResult,
    *,
    schedule: bool,
    on_chunk: OnChunk | None,
) -> None:
    try:
        fetched = list(_fetch_raw(box, uids))
    except Exception as exc:
        if len(uids) == 1:
            result.errors.append(f"UID {uids[0]}: {exc}")
            log.warning("%s: cannot fetch UID %s: %s", mailbox.address, uids[0], exc)
            return
        for uid in uids:  # one bad message never stops the rest
            _take_chunk(mailbox, box, state, [uid], result, schedule=schedule, on_chunk=on_chunk)
        return
    inbound = [
        RawInbound(data=data, source="imap", origin=f"imap:{state.name}/{state.uidvalidity}/{uid}")
        for uid, data in fetched
    ]
    with transaction.atomic():
        accepted = actions.accept_many(mailbox, inbound, schedule=schedule)
        ImapUid.objects.bulk_create(
            ImapUid(folder=state, uidvalidity=state.uidvalidity, uid=uid, raw=raw)
            for (uid, _), (raw, _) in zip(fetched, accepted, strict=True)
        )
    for raw, created in accepted:
        result.fetched += created
        result.already_had += not created
        result.raw_ids.append(raw.pk)
    if on_chunk is not None:
        on_chunk([raw for raw, _ in accepted])
    taken = [str(uid) for uid, _ in fetched]
    _after_fetch(mailbox, box, state, taken)


def _after_fetch(mailbox: Mailbox, box: BaseMailBox, state: ImapFolder, uids: list[str]) -> None:
    """Mark seen or move, as configured; only ever after the bytes are committed."""
    if not uids or mailbox.imap_after_fetch == AfterFetch.LEAVE:
        return
    if mailbox.imap_after_fetch == AfterFetch.SEEN:
        box.flag(uids, "\\Seen", True)
    elif mailbox.imap_after_fetch == AfterFetch.MOVE and mailbox.imap_move_to:
        box.move(uids, mailbox.imap_move_to)
    ImapUid.objects.filter(
        folder=state, uidvalidity=state.uidvalidity, uid__in=[int(u) for u in uids]
    ).update(done_after_fetch=True)


def fetch_once(
    mailbox: Mailbox, *, schedule: bool = True, on_chunk: OnChunk | None = None
) -> FetchResult:
    with connect(mailbox) as box:
        return fetch_folder(mailbox, box, schedule=schedule, on_chunk=on_chunk)


def watch(mailbox_id: int, stop: threading.Event, *, poll_seconds: float) -> None:
    """Keep one mailbox's folder taken: fetch, then IDLE (or sleep) until new mail or timeout."""
    backoff = 1.0
    while not stop.is_set():
        close_old_connections()
        try:
            mailbox = Mailbox.objects.get(pk=mailbox_id)
            with connect(mailbox) as box:
                idle = "IDLE" in box.client.capabilities
                while not stop.is_set():
                    fetch_folder(mailbox, box)
                    backoff = 1.0
                    if idle:
                        box.idle.wait(timeout=min(poll_seconds, 29 * 60))
                    else:
                        stop.wait(poll_seconds)
        except Exception as exc:
            log.warning("IMAP %s: %s; retrying in %.0fs", mailbox_id, exc, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, 300)
