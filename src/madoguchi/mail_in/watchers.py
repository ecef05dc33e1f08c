"""One IMAP watcher per mailbox with an IMAP account, following the admin's changes.

``madoguchi run imap`` (and ``run all``, ``fetch``) runs a :class:`Supervisor`. Every
``MADOGUCHI_IMAP_RESCAN_SECONDS`` it reads the IMAP settings of all mailboxes in one query
and compares them with the watchers it runs: a mailbox that got an IMAP account gets a
watcher, one whose account was cleared or that was deleted loses it, and one whose
settings changed (server, user, password, folder, what to do after fetching, size limit)
gets a new one that connects with them. Nothing needs a restart of the process.

A watcher (``imap.watch``) is a named thread with its own stop event; it notices the event
within ``imap.IDLE_SLICE`` seconds, so a replaced watcher is normally gone before its
successor connects (two connections never take the same folder at once).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass

from django.db import close_old_connections, connection

from madoguchi.mail_in import imap
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


@dataclass
class Watcher:
    """One running ``imap.watch`` thread and what it was started with."""

    mailbox_id: int
    fingerprint: Fingerprint
    stop: threading.Event
    thread: threading.Thread

    @property
    def address(self) -> object:
        return self.fingerprint[_ADDRESS]


class Supervisor:
    """Starts, restarts and stops watchers as the mailboxes' IMAP settings change.

    ``stop`` ends everything: :meth:`run` returns after the watchers have been told to
    stop and joined. ``only`` limits it to one mailbox (``madoguchi fetch --mailbox``).
    """

    def __init__(
        self,
        stop: threading.Event,
        *,
        poll_seconds: float,
        rescan_seconds: float,
        only: int | None = None,
    ) -> None:
        self.stop = stop
        self.poll_seconds = poll_seconds
        self.rescan_seconds = rescan_seconds
        self.only = only
        self._watchers: dict[int, Watcher] = {}
        #: Stopped watchers that had not ended yet; their mailbox waits for them.
        self._retiring: dict[int, Watcher] = {}
        self._thread: threading.Thread | None = None

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
        try:
            while not self.stop.is_set():
                try:
                    self.scan()
                except Exception:
                    log.exception("IMAP supervisor: cannot read the mailboxes")
                finally:
                    close_old_connections()
                self.stop.wait(self.rescan_seconds)
        finally:
            self.shutdown()
            connection.close()

    def scan(self) -> None:
        """Bring the running watchers in line with the mailboxes' settings, once."""
        target = wanted(self.only)
        for pk, watcher in list(self._watchers.items()):
            fingerprint = target.get(pk)
            if not watcher.thread.is_alive():  # ended by an unexpected error: start again
                del self._watchers[pk]
            elif fingerprint != watcher.fingerprint:
                why = "its IMAP settings changed" if fingerprint else "it has no IMAP account"
                log.info("IMAP %s: stopping the watcher, %s", watcher.address, why)
                self._retire(self._watchers.pop(pk))
        self._retiring = {pk: w for pk, w in self._retiring.items() if w.thread.is_alive()}
        for pk, fingerprint in target.items():
            if pk not in self._watchers and pk not in self._retiring and not self.stop.is_set():
                self._watchers[pk] = self._start(pk, fingerprint)

    def watching(self) -> dict[int, Fingerprint]:
        """The mailboxes with a running watcher, and the settings it was started with."""
        return {pk: w.fingerprint for pk, w in self._watchers.items() if w.thread.is_alive()}

    def shutdown(self) -> None:
        """Tell every watcher to stop and join them (bounded by :data:`SHUTDOWN_SECONDS`)."""
        everyone = [*self._watchers.values(), *self._retiring.values()]
        self._watchers, self._retiring = {}, {}
        for watcher in everyone:
            watcher.stop.set()
        deadline = time.monotonic() + SHUTDOWN_SECONDS
        for watcher in everyone:
            watcher.thread.join(max(0.0, deadline - time.monotonic()))
            if watcher.thread.is_alive():
                log.warning("IMAP %s: the watcher did not stop in time", watcher.address)

    def _start(self, pk: int, fingerprint: Fingerprint) -> Watcher:
        stop = threading.Event()
        thread = threading.Thread(
            target=imap.watch,
            args=(pk, stop),
            kwargs={"poll_seconds": self.poll_seconds},
            name=f"imap-{fingerprint[_ADDRESS]}",
            daemon=True,
        )
        watcher = Watcher(pk, fingerprint, stop, thread)
        thread.start()
        log.info("IMAP watching %s", watcher.address)
        return watcher

    def _retire(self, watcher: Watcher) -> None:
        """Stop a watcher; one that does not end in time is waited for on later scans."""
        watcher.stop.set()
        watcher.thread.join(RETIRE_SECONDS)
        if watcher.thread.is_alive():
            self._retiring[watcher.mailbox_id] = watcher
