"""One IMAP watcher per mailbox with an IMAP account, following the admin's changes.

``madoguchi run imap`` (and ``run all``, ``fetch``) runs a :class:`Supervisor`. Every
``MADOGUCHI_IMAP_RESCAN_SECONDS`` it reads the IMAP settings of all mailboxes in one query
and compares them with the watchers it runs: a mailbox that got an IMAP account gets a
watcher, one whose account was cleared or that was deleted loses it, and one whose
settings changed (server, user, password, folder, what to do after fetching, size limit)
gets a new one that connects with them. Nothing needs a restart of the process.

Any number of processes may run the IMAP role; each mailbox is fetched by one of them.
A supervisor starts a watcher only for a mailbox whose lease (``ImapLease``) it holds, and
keeps trying the others on every pass (:class:`Leases`). It renews what it holds on every
pass, at least every third of the lease's length; it releases a lease when it stops a
watcher for good and when it stops. A process that crashed holds its leases until they
expire (``lease_seconds``, ``madoguchi run --imap-lease-seconds``), then another takes
them over. A watcher whose lease was not renewed in time stops by itself
(:class:`LeaseStop`) a quarter of the lease before it runs out, even if its supervisor is
stuck; should it still be fetching (a slow server), the ledger's unique (UIDVALIDITY, UID)
keeps every message stored once.

A watcher (``imap.watch``) is a named thread with its own stop event; it notices the event
within ``imap.IDLE_SLICE`` seconds, so a replaced watcher is normally gone before its
successor connects (two connections never take the same folder at once).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import secrets
import socket
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from madoguchi.mail_in import imap
from madoguchi.mail_in.models import ImapLease
from madoguchi.mailboxes.models import Mailbox

log = logging.getLogger(__name__)

#: The columns a watcher depends on; a change to any of them restarts it.
FIELDS = (
    "address",
    "imap_host",
    "imap_port",
    "imap_user",
    "imap_password",
    "imap_security",
    "imap_folder",
    "imap_after_fetch",
    "imap_move_to",
    "max_message_bytes",
)
_ADDRESS = FIELDS.index("address")
_SECRET = FIELDS.index("imap_password")
#: Seconds to wait for a stopped watcher before going on without it.
RETIRE_SECONDS = imap.IDLE_SLICE + 2
#: Seconds to wait for all watchers at shutdown.
SHUTDOWN_SECONDS = 10.0
#: Default length of a lease: how long a crashed process keeps its mailboxes from the others.
LEASE_SECONDS = 30.0
#: A held lease is renewed at least this often, as a fraction of its length.
RENEW_FRACTION = 1 / 3
#: A watcher stops by itself when its lease was not renewed for this fraction of its length.
SAFE_FRACTION = 3 / 4

#: What a watcher was started with: the FIELDS values, the password only as a digest.
Fingerprint = tuple[object, ...]


def wanted(only: int | None = None) -> dict[int, Fingerprint]:
    """The fingerprint of each mailbox that should be watched, by id (one query).

    A mailbox is watched when it has an IMAP host and user. The password is decrypted
    (a stored password is re-encrypted, with a new ciphertext, whenever its mailbox is
    saved, so the ciphertext would restart watchers on unrelated edits) and kept only as
    a digest.
    """
    rows = Mailbox.objects.exclude(imap_host="").exclude(imap_user="")
    if only is not None:
        rows = rows.filter(pk=only)
    found: dict[int, Fingerprint] = {}
    for pk, *values in rows.values_list("pk", *FIELDS):
        values[_SECRET] = hashlib.sha256(str(values[_SECRET]).encode()).hexdigest()
        found[pk] = tuple(values)
    return found


def holder_id() -> str:
    """``host:pid:random``: who holds a lease (random, as pids repeat across restarts)."""
    return f"{socket.gethostname()[:200]}:{os.getpid()}:{secrets.token_hex(4)}"


def database_now() -> datetime:
    """The database's clock, which every process agrees on whatever its host's clock says.

    PostgreSQL is asked; SQLite is a file on this machine, so every process that shares it
    shares this clock too.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT STATEMENT_TIMESTAMP()")
            (now,) = cursor.fetchone()
        return now  # type: ignore[no-any-return]
    return timezone.now()


class Leases:
    """The IMAP leases of one holder: one ``ImapLease`` row per mailbox.

    :meth:`hold` renews the leases this holder has and takes the free or expired ones in one
    conditional UPDATE. PostgreSQL re-checks the condition on a row another transaction
    has just changed (READ COMMITTED), and SQLite runs one writer at a time, so of two
    processes that try at once exactly one gets the row.
    """

    def __init__(self, seconds: float = LEASE_SECONDS, *, holder: str | None = None) -> None:
        if not seconds > 0:
            raise ValueError(f"a lease must last more than 0 seconds, not {seconds}")
        self.seconds = seconds
        self.holder = holder or holder_id()
        #: Monotonic time until which the leases :meth:`hold` last returned are surely ours
        #: (with a margin for a watcher to notice and stop).
        self.deadline = -math.inf
        #: Mailboxes known to have a lease row.
        self._rows: set[int] = set()

    def hold(self, mailbox_ids: Collection[int]) -> dict[int, str]:
        """Renew or take the leases of ``mailbox_ids``; the holder of each, by mailbox id.

        Three queries whatever the number of mailboxes (four when rows are missing).
        """
        if not mailbox_ids:
            return {}
        started = time.monotonic()
        now = database_now()
        if missing := [pk for pk in mailbox_ids if pk not in self._rows]:
            self._add_rows(missing, now)
        mine = Q(holder=self.holder)
        ImapLease.objects.filter(mailbox_id__in=mailbox_ids).filter(
            mine | Q(holder="") | Q(expires_at__lt=now)
        ).update(
            holder=self.holder,
            expires_at=now + timedelta(seconds=self.seconds),
            taken_at=Case(When(mine, then=F("taken_at")), default=Value(now)),
            generation=Case(When(mine, then=F("generation")), default=F("generation") + 1),
        )
        holders = dict(
            ImapLease.objects.filter(mailbox_id__in=mailbox_ids).values_list("mailbox_id", "holder")
        )
        self._rows.intersection_update(holders)
        self._rows.update(holders)
        self.deadline = started + self.seconds * SAFE_FRACTION
        return holders

    def _add_rows(self, mailbox_ids: list[int], now: datetime) -> None:
        """Create free lease rows; a row another process made first is left as it is."""
        rows = [ImapLease(mailbox_id=pk, holder="", expires_at=now) for pk in mailbox_ids]
        try:
            with transaction.atomic():
                ImapLease.objects.bulk_create(rows, ignore_conflicts=True)
        except IntegrityError:  # a mailbox deleted meanwhile: the others one by one
            for row in rows:
                with contextlib.suppress(IntegrityError), transaction.atomic():
                    ImapLease.objects.bulk_create([row], ignore_conflicts=True)

    def release(self, mailbox_ids: Collection[int]) -> None:
        """Give up the leases of ``mailbox_ids`` that this holder has; another may take them."""
        if mailbox_ids:
            ImapLease.objects.filter(mailbox_id__in=mailbox_ids, holder=self.holder).update(
                holder="", expires_at=database_now()
            )


class LeaseStop(threading.Event):
    """A watcher's stop event that also counts as set once ``deadline`` (monotonic) passed.

    The supervisor moves the deadline forward each time it renews the lease; a watcher
    whose supervisor could not renew (the database away, the thread stuck) stops in time.
    """

    def __init__(self, deadline: float = math.inf) -> None:
        super().__init__()
        self.deadline = deadline

    def expired(self) -> bool:
        """The deadline passed (whether or not the event was also set)."""
        return time.monotonic() >= self.deadline

    def told(self) -> bool:
        """The event itself was set (the watcher was told to stop)."""
        return super().is_set()

    def is_set(self) -> bool:
        return super().is_set() or self.expired()

    def wait(self, timeout: float | None = None) -> bool:
        left = self.deadline - time.monotonic()
        if timeout is not None:
            left = min(left, timeout)
        super().wait(None if left == math.inf else max(0.0, left))
        return self.is_set()


@dataclass
class Watcher:
    """One running ``imap.watch`` thread and what it was started with."""

    mailbox_id: int
    fingerprint: Fingerprint
    stop: LeaseStop
    thread: threading.Thread

    @property
    def address(self) -> object:
        return self.fingerprint[_ADDRESS]


class Supervisor:
    """Starts, restarts and stops watchers as the mailboxes' IMAP settings and leases change.

    ``stop`` ends everything: :meth:`run` returns after the watchers have been told to
    stop and joined, and their leases released. ``only`` limits it to one mailbox
    (``madoguchi fetch --mailbox``). ``lease_seconds``: how long a lease lasts unrenewed.
    """

    def __init__(
        self,
        stop: threading.Event,
        *,
        poll_seconds: float,
        rescan_seconds: float,
        only: int | None = None,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.stop = stop
        self.poll_seconds = poll_seconds
        self.rescan_seconds = rescan_seconds
        self.only = only
        self.leases = Leases(lease_seconds)
        self._watchers: dict[int, Watcher] = {}
        #: Stopped watchers that had not ended yet; their mailbox waits for them.
        self._retiring: dict[int, Watcher] = {}
        #: The holder of each mailbox's lease at the last pass (to log changes once).
        self._holders: dict[int, str] = {}
        self._thread: threading.Thread | None = None

    @property
    def pass_seconds(self) -> float:
        """Time between passes: the rescan interval, or less to renew leases in time."""
        return min(self.rescan_seconds, self.leases.seconds * RENEW_FRACTION)

    def start(self) -> threading.Thread:
        """Run :meth:`run` in a thread named ``imap-supervisor``."""
        self._thread = threading.Thread(target=self.run, name="imap-supervisor", daemon=True)
        self._thread.start()
        return self._thread

    def join(self, timeout: float | None = None) -> None:
        """Wait for :meth:`run` to return (after ``stop`` was set)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        log.info("IMAP supervisor %s: leases of %gs", self.leases.holder, self.leases.seconds)
        try:
            while not self.stop.is_set():
                try:
                    self.scan()
                except Exception:
                    log.exception("IMAP supervisor: cannot read the mailboxes or leases")
                finally:
                    close_old_connections()
                self.stop.wait(self.pass_seconds)
        finally:
            self.shutdown()
            connection.close()

    def scan(self) -> None:
        """Bring the running watchers in line with the mailboxes' settings and leases, once."""
        target = wanted(self.only)
        self._retiring = {pk: w for pk, w in self._retiring.items() if w.thread.is_alive()}
        running = {pk for pk, w in self._watchers.items() if w.thread.is_alive()}
        holders = self.leases.hold(target.keys() | running | self._retiring.keys())
        held = {pk for pk, holder in holders.items() if holder == self.leases.holder}
        self._log_holders(holders, target)
        for pk, watcher in list(self._watchers.items()):
            fingerprint = target.get(pk)
            if not watcher.thread.is_alive():  # ended by an error or a lapsed lease: again
                del self._watchers[pk]
            elif fingerprint != watcher.fingerprint:
                why = "its IMAP settings changed" if fingerprint else "it has no IMAP account"
                log.info("IMAP %s: stopping the watcher, %s", watcher.address, why)
                self._retire(self._watchers.pop(pk))
            elif pk not in held:
                log.warning("IMAP %s: lease lost, stopping the watcher", watcher.address)
                self._retire(self._watchers.pop(pk))
            else:
                watcher.stop.deadline = self.leases.deadline
        for pk, fingerprint in target.items():
            idle = pk not in self._watchers and pk not in self._retiring
            if pk in held and idle and not self.stop.is_set():
                self._watchers[pk] = self._start(pk, fingerprint)
        unused = held - self._watchers.keys() - self._retiring.keys()
        self.leases.release(unused)

    def watching(self) -> dict[int, Fingerprint]:
        """The mailboxes with a running watcher, and the settings it was started with."""
        return {pk: w.fingerprint for pk, w in self._watchers.items() if w.thread.is_alive()}

    def shutdown(self) -> None:
        """Tell every watcher to stop, join them (bounded by :data:`SHUTDOWN_SECONDS`) and
        release the leases of those that ended; the others' leases run out by themselves."""
        everyone = [*self._watchers.values(), *self._retiring.values()]
        self._watchers, self._retiring = {}, {}
        for watcher in everyone:
            watcher.stop.set()
        deadline = time.monotonic() + SHUTDOWN_SECONDS
        ended = []
        for watcher in everyone:
            watcher.thread.join(max(0.0, deadline - time.monotonic()))
            if watcher.thread.is_alive():
                log.warning("IMAP %s: the watcher did not stop in time", watcher.address)
            else:
                ended.append(watcher.mailbox_id)
        try:
            self.leases.release(ended)
        except Exception:
            log.exception("IMAP supervisor: cannot release the leases; they will expire")

    def _log_holders(self, holders: dict[int, str], target: dict[int, Fingerprint]) -> None:
        """Log each mailbox whose lease changed hands since the last pass."""
        me = self.leases.holder
        for pk, holder in holders.items():
            before = self._holders.get(pk)
            if holder == before or pk not in target:
                continue
            address = target[pk][_ADDRESS]
            if holder == me:
                log.info("IMAP %s: lease taken by %s", address, me)
            elif holder:
                log.info("IMAP %s: lease held by %s; standing by", address, holder)
        self._holders = holders

    def _start(self, pk: int, fingerprint: Fingerprint) -> Watcher:
        stop = LeaseStop(self.leases.deadline)
        address = fingerprint[_ADDRESS]
        thread = threading.Thread(
            target=_watch,
            args=(pk, address, stop, self.poll_seconds),
            name=f"imap-{address}",
            daemon=True,
        )
        watcher = Watcher(pk, fingerprint, stop, thread)
        log.info("IMAP watching %s", address)
        thread.start()
        return watcher

    def _retire(self, watcher: Watcher) -> None:
        """Stop a watcher; one that does not end in time is waited for on later scans."""
        watcher.stop.set()
        watcher.thread.join(RETIRE_SECONDS)
        if watcher.thread.is_alive():
            self._retiring[watcher.mailbox_id] = watcher


def _watch(pk: int, address: object, stop: LeaseStop, poll_seconds: float) -> None:
    """``imap.watch``, saying when it ended and whether a lapsed lease ended it."""
    try:
        imap.watch(pk, stop, poll_seconds=poll_seconds)
    finally:
        if stop.expired() and not stop.told():
            log.warning("IMAP %s: lease not renewed in time, stopped fetching", address)
        log.info("IMAP %s: watcher ended", address)
