"""Fetch mail from a mailbox's IMAP account (RFC 3501), exactly once per message.

The ledger (``ImapFolder``, ``ImapUid``) records every (UIDVALIDITY, UID) taken, so every
message in the folder is taken once whether it is read or not, after an outage, or after a
UIDVALIDITY change (then everything is fetched again and ``accept`` recognises the bytes it
already has). Flags and moves happen only after the raw bytes are committed; one that did not
happen (a crash or a refused MOVE in between) is done at the start of a later pass, from the
ledger's ``done_after_fetch``. IDLE (RFC 2177) wakes the watcher early when the server
supports it; polling is the fallback. Either wait ends within :data:`IDLE_SLICE` seconds of
the watcher being told to stop (``mail_in.watchers`` stops and restarts watchers as the
admin changes mailboxes).

Sizes first (RFC822.SIZE): a message over the mailbox's size limit is not taken. Its header
is kept as a failed raw mail saying why (``madoguchi mail failed`` lists it, with sender and
subject) and it stays on the server untouched; the ledger remembers it, so it is not looked at
again. The rest is fetched in chunks of at most :data:`CHUNK` messages and
:data:`CHUNK_BYTES` bytes, so memory stays bounded by bytes, not only by count.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import UnexpectedCommandStatusError
from imap_tools.mailbox import BaseMailBox

from madoguchi import mail
from madoguchi.mail_in import actions
from madoguchi.mail_in.models import ImapFolder, ImapUid, RawMessage
from madoguchi.mail_in.types import RawInbound
from madoguchi.mailboxes.models import AfterFetch, Mailbox, Security

log = logging.getLogger(__name__)
CHUNK = 100
#: Bytes of mail held at once while fetching (a larger single message comes alone).
CHUNK_BYTES = 32 * 1024 * 1024
#: Bytes of the header of an oversized message kept to show what it was.
HEADER_BYTES = 64 * 1024
SIZES_PER_FETCH = 1000
#: Ledger rows whose flag or move is finished per pass (the rest on the next ones).
UNFINISHED_PER_PASS = 500
#: Longest a watcher waits (IDLE or poll) without looking at its stop event, in seconds.
IDLE_SLICE = 1.0
#: RFC 2177: re-issue IDLE at least every 29 minutes.
IDLE_MAX = 29 * 60
OnChunk = Callable[[list[RawMessage]], object]
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


@dataclass
class FetchResult:
    fetched: int = 0
    already_had: int = 0
    errors: list[str] = field(default_factory=list)
    raw_ids: list[int] = field(default_factory=list)


def connect(mailbox: Mailbox, *, timeout: float = 30) -> BaseMailBox:
    """Log in to the mailbox's IMAP account; raises with the server's answer on failure."""
    if lost := mailbox.lost_password_error("imap"):
        raise PermissionError(lost)
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


def _sizes(box: BaseMailBox, uids: list[str]) -> dict[int, int]:
    """RFC822.SIZE of each message, without fetching any body."""
    sizes: dict[int, int] = {}
    for start in range(0, len(uids), SIZES_PER_FETCH):
        part = ",".join(uids[start : start + SIZES_PER_FETCH])
        typ, data = box.client.uid("FETCH", part, "(UID RFC822.SIZE)")
        if typ != "OK":
            raise OSError(f"FETCH RFC822.SIZE failed: {data!r}")
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            if isinstance(line, bytes) and (uid := _UID.search(line)):
                size = _SIZE.search(line)
                sizes[int(uid[1])] = int(size[1]) if size else 0
    return sizes


def _chunks(uids: list[str], sizes: dict[int, int]) -> Iterator[list[str]]:
    """UIDs in chunks of at most CHUNK messages and CHUNK_BYTES bytes (one big one alone)."""
    chunk: list[str] = []
    held = 0
    for uid in uids:
        size = sizes.get(int(uid), 0)
        if chunk and (len(chunk) == CHUNK or held + size > CHUNK_BYTES):
            yield chunk
            chunk, held = [], 0
        chunk.append(uid)
        held += size
    if chunk:
        yield chunk


def _refuse(
    mailbox: Mailbox,
    box: BaseMailBox,
    state: ImapFolder,
    uid: str,
    *,
    size: int,
    result: FetchResult,
) -> None:
    """Record a message over the size limit: its header as a failed raw mail, left on the server."""
    typ, data = box.client.uid("FETCH", uid, f"(UID BODY.PEEK[HEADER]<0.{HEADER_BYTES}>)")
    header = next(
        (item[1] for item in data if isinstance(item, tuple) and isinstance(item[1], bytes)), b""
    )
    reason = (
        f"{actions.TOO_BIG}: {size} bytes, over this mailbox's limit of "
        f"{mailbox.max_message_bytes} bytes; left on the IMAP server"
        f"{_who(header)}"
    )
    origin = f"imap:{state.name}/{state.uidvalidity}/{uid}"
    raw = actions.refuse(mailbox, RawInbound(data=header, source="imap", origin=origin), reason)
    ImapUid.objects.get_or_create(
        folder=state,
        uidvalidity=state.uidvalidity,
        uid=int(uid),
        defaults={"raw": raw, "error": reason[:2000]},
    )
    result.errors.append(f"UID {uid}: {reason}")
    result.raw_ids.append(raw.pk)
    log.warning("%s: UID %s not taken: %s", mailbox.address, uid, reason)


def _who(header: bytes) -> str:
    """'(from X, subject Y)' of a header, for the reason a person reads."""
    parsed = mail.parse(header + b"\r\n\r\n")
    sender = str(parsed.sender) if parsed.sender else "?"
    return f" (from {sender[:200]}, subject {parsed.subject[:200]!r})"


def fetch_folder(
    mailbox: Mailbox,
    box: BaseMailBox,
    *,
    folder: str | None = None,
    schedule: bool = True,
    on_chunk: OnChunk | None = None,
    stop: threading.Event | None = None,
) -> FetchResult:
    """Finish the flags and moves left undone, then take every message not yet in the ledger.

    ``on_chunk`` receives the raw rows of each committed chunk (``fetch --once`` ingests
    them there, so memory stays flat however large the folder is). ``stop`` ends the pass
    between chunks; the rest is taken on the next one.
    """
    folder = folder or mailbox.imap_folder
    box.folder.set(folder)
    uidvalidity = _uidvalidity(box, folder)
    state = _ledger(mailbox, folder, uidvalidity)
    result = FetchResult()
    on_server = [int(u) for u in box.uids("ALL")]
    finish_after_fetch(mailbox, box, state, on_server, result)
    known = set(
        ImapUid.objects.filter(folder=state, uidvalidity=uidvalidity).values_list("uid", flat=True)
    )
    todo = [str(u) for u in on_server if u not in known]
    sizes = _sizes(box, todo) if todo else {}
    limit = mailbox.max_message_bytes
    for uid in todo:
        if sizes.get(int(uid), 0) > limit:
            _refuse(mailbox, box, state, uid, size=sizes[int(uid)], result=result)
    fits = [u for u in todo if sizes.get(int(u), 0) <= limit]
    for chunk in _chunks(fits, sizes):
        if stop is not None and stop.is_set():
            break
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
    _after_fetch(mailbox, box, state, taken, result)


def _after_fetch(
    mailbox: Mailbox, box: BaseMailBox, state: ImapFolder, uids: list[str], result: FetchResult
) -> None:
    """Mark seen or move, as configured; only ever after the bytes are committed.

    The ledger rows are marked done only after the server said OK, so a step that fails
    (or a crash before it) is finished by :func:`finish_after_fetch` on a later pass. A
    refusal (say, a move to a folder that does not exist) is reported in ``result`` and
    does not stop intake: the mail is stored, only the step waits.
    """
    if not uids:
        return
    try:
        if mailbox.imap_after_fetch == AfterFetch.SEEN:
            box.flag(uids, "\\Seen", True)
        elif mailbox.imap_after_fetch == AfterFetch.MOVE and mailbox.imap_move_to:
            box.move(uids, mailbox.imap_move_to)
    except UnexpectedCommandStatusError as exc:
        why = f"{mailbox.imap_after_fetch} after fetch of {len(uids)} messages refused: {exc}"
        result.errors.append(why)
        log.warning("%s: %s; trying again on the next pass", mailbox.address, why)
        return
    _mark_done(state, [int(u) for u in uids])


def _mark_done(state: ImapFolder, uids: list[int]) -> None:
    ImapUid.objects.filter(folder=state, uidvalidity=state.uidvalidity, uid__in=uids).update(
        done_after_fetch=True
    )


def finish_after_fetch(
    mailbox: Mailbox,
    box: BaseMailBox,
    state: ImapFolder,
    on_server: list[int],
    result: FetchResult,
) -> int:
    """Do the flag or move that an earlier pass stored the mail for but did not finish.

    Only rows of the current UIDVALIDITY whose mail was taken (a message refused for its
    size stays on the server untouched); at most :data:`UNFINISHED_PER_PASS` per pass.
    A UID no longer in the folder (moved before the crash, or by someone else) has nothing
    left to do. Returns how many rows were looked at.
    """
    pending = list(
        ImapUid.objects.filter(
            folder=state,
            uidvalidity=state.uidvalidity,
            done_after_fetch=False,
            error="",
            raw__isnull=False,
        )
        .order_by("uid")
        .values_list("uid", flat=True)[:UNFINISHED_PER_PASS]
    )
    if not pending:
        return 0
    present = set(on_server)
    gone = [uid for uid in pending if uid not in present]
    if gone:
        _mark_done(state, gone)
    here = [str(uid) for uid in pending if uid in present]
    if here:
        log.info("%s: finishing after-fetch of %d messages", mailbox.address, len(here))
        _after_fetch(mailbox, box, state, here, result)
    return len(pending)


def fetch_once(
    mailbox: Mailbox, *, schedule: bool = True, on_chunk: OnChunk | None = None
) -> FetchResult:
    with connect(mailbox) as box:
        return fetch_folder(mailbox, box, schedule=schedule, on_chunk=on_chunk)


def watch(mailbox_id: int, stop: threading.Event, *, poll_seconds: float) -> None:
    """Keep one mailbox's folder taken: fetch, then IDLE (or poll) until new mail or timeout.

    Returns within about :data:`IDLE_SLICE` seconds of ``stop`` being set (longer only
    while a connection is being made or a chunk fetched). The mailbox row is read at each
    (re)connection; ``mail_in.watchers`` restarts the watcher when its settings change.
    """
    backoff = 1.0
    try:
        while not stop.is_set():
            close_old_connections()
            try:
                mailbox = Mailbox.objects.get(pk=mailbox_id)
                with connect(mailbox) as box:
                    idle = "IDLE" in box.client.capabilities
                    while not stop.is_set():
                        fetch_folder(mailbox, box, stop=stop)
                        backoff = 1.0
                        close_old_connections()  # hold no database connection while waiting
                        if idle:
                            _idle(box, stop, min(poll_seconds, IDLE_MAX))
                        else:
                            stop.wait(poll_seconds)
            except Exception as exc:
                if stop.is_set():
                    break
                log.warning("IMAP %s: %s; retrying in %.0fs", mailbox_id, exc, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 300)
    finally:
        connection.close()


def _idle(box: BaseMailBox, stop: threading.Event, seconds: float) -> None:
    """IDLE until the server reports a change, ``seconds`` pass, or ``stop`` is set.

    One IDLE command, polled in slices of :data:`IDLE_SLICE` seconds so that a stop is
    noticed at once (a plain ``idle.wait`` would block for the whole interval).
    """
    deadline = time.monotonic() + seconds
    with box.idle as idle:
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or idle.poll(timeout=min(IDLE_SLICE, left)):
                return
