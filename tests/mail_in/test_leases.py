"""IMAP leases: one fetcher per mailbox however many processes run the IMAP role.

The first tests race holders in threads of this process (each thread its own database
connection); the last runs two real ``madoguchi run imap`` processes against a real
Dovecot, kills the one fetching with SIGKILL, and checks from the lease table, from
Dovecot's open sessions and from both processes' logs that each mailbox had one fetcher
at every moment, and that the other took over with nothing lost and nothing twice.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from madoguchi.cli import build_parser
from madoguchi.mail_in.models import ImapLease, ImapUid, RawMessage
from madoguchi.mail_in.watchers import LEASE_SECONDS, Leases, LeaseStop, Supervisor
from madoguchi.mailboxes.actions import create_mailbox, update_mailbox
from madoguchi.mailboxes.models import Mailbox
from tests.fixtures import server_env
from tests.mailmaker import make_mail
from tests.servers import free_port
from tests.servers.dovecot import Dovecot
from tests.waiting import wait_until

pytestmark = pytest.mark.usefixtures("transactional_db")


def in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """``work(i)`` in ``count`` threads released together; their results, in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # reported by the assertion on the results
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def unreachable_mailbox(address: str) -> Mailbox:
    """A mailbox whose IMAP server refuses connections (its watcher keeps retrying)."""
    return create_mailbox(
        address,
        imap_host="127.0.0.1",
        imap_port=free_port(),
        imap_user="nobody",
        imap_password="pw-nobody-1234",
        imap_security="none",
    )


def test_of_holders_racing_for_a_free_lease_exactly_one_gets_it():
    """Eight holders try at the same instant, twenty times over: each time one holds the
    lease and the seven others are told who does."""
    mailbox = unreachable_mailbox("support@example.jp")
    holders = [Leases(30) for _ in range(8)]
    for round_ in range(20):
        answers = in_threads(8, lambda i: holders[i].hold([mailbox.pk]))
        assert not [a for a in answers if isinstance(a, Exception)], answers
        winners = {a[mailbox.pk] for a in answers}
        assert len(winners) == 1, f"round {round_}: {winners}"
        (winner,) = winners
        assert winner in {h.holder for h in holders}
        next(h for h in holders if h.holder == winner).release([mailbox.pk])
    assert ImapLease.objects.get(mailbox=mailbox).generation == 20


def test_a_held_lease_is_renewed_and_an_expired_one_taken_over():
    """The holder renews (same taken_at, same generation); while it does, nobody else gets
    the lease; once it stops renewing, the lease expires and another holder takes it."""
    mailbox = unreachable_mailbox("support@example.jp")
    first, second = Leases(1.0), Leases(1.0)
    assert first.hold([mailbox.pk]) == {mailbox.pk: first.holder}
    taken = ImapLease.objects.get(mailbox=mailbox)
    for _ in range(4):  # 1.2 s of renewals: longer than the lease
        time.sleep(0.3)
        assert first.hold([mailbox.pk]) == {mailbox.pk: first.holder}
        assert second.hold([mailbox.pk]) == {mailbox.pk: first.holder}
    renewed = ImapLease.objects.get(mailbox=mailbox)
    assert (renewed.taken_at, renewed.generation) == (taken.taken_at, taken.generation)
    assert renewed.expires_at > taken.expires_at
    wait_until(
        lambda: second.hold([mailbox.pk]) == {mailbox.pk: second.holder},
        "the lease expires and the second holder takes it",
        timeout=5,
    )
    after = ImapLease.objects.get(mailbox=mailbox)
    assert after.taken_at >= renewed.expires_at
    assert after.generation == taken.generation + 1
    assert first.hold([mailbox.pk]) == {mailbox.pk: second.holder}


def test_release_frees_the_lease_at_once_and_only_the_holders_own():
    mailbox = unreachable_mailbox("support@example.jp")
    first, second = Leases(60), Leases(60)
    first.hold([mailbox.pk])
    second.release([mailbox.pk])  # not second's: nothing happens
    assert second.hold([mailbox.pk]) == {mailbox.pk: first.holder}
    first.release([mailbox.pk])
    assert second.hold([mailbox.pk]) == {mailbox.pk: second.holder}


def test_a_lease_row_of_a_deleted_mailbox_goes_with_it():
    mailbox = unreachable_mailbox("support@example.jp")
    gone = unreachable_mailbox("gone@example.jp")
    leases = Leases(60)
    leases.hold([mailbox.pk, gone.pk])
    Mailbox.objects.filter(pk=gone.pk).delete()
    assert leases.hold([mailbox.pk, gone.pk]) == {mailbox.pk: leases.holder}
    assert list(ImapLease.objects.values_list("mailbox_id", flat=True)) == [mailbox.pk]


def test_a_lease_stop_counts_as_set_once_its_deadline_passed():
    """A watcher waiting on its stop event wakes at the deadline, not at its own timeout."""
    stop = LeaseStop(time.monotonic() + 0.3)
    assert not stop.is_set()
    started = time.monotonic()
    assert stop.wait(30) is True
    assert 0.25 < time.monotonic() - started < 5
    assert stop.expired() and not stop.told()
    stop.deadline = time.monotonic() + 60
    assert not stop.is_set() and stop.wait(0.01) is False
    stop.set()
    assert stop.is_set() and stop.told()


def test_two_supervisors_watch_each_mailbox_once_and_hand_over_on_stop():
    """One supervisor takes both mailboxes; the other stands by and watches nothing until
    the first stops and releases them."""
    boxes = [unreachable_mailbox(f"box{n}@example.jp") for n in range(2)]
    first = Supervisor(threading.Event(), poll_seconds=300, rescan_seconds=60)
    second = Supervisor(threading.Event(), poll_seconds=300, rescan_seconds=60)
    try:
        first.scan()
        second.scan()
        assert set(first.watching()) == {b.pk for b in boxes}
        assert second.watching() == {}
        first.shutdown()
        assert set(ImapLease.objects.values_list("holder", flat=True)) == {""}
        second.scan()
        assert set(second.watching()) == {b.pk for b in boxes}
    finally:
        first.shutdown()
        second.shutdown()
    assert set(ImapLease.objects.values_list("holder", flat=True)) == {""}


def test_a_lost_lease_stops_the_watcher_and_a_lapsed_one_stops_it_by_itself():
    """A supervisor whose lease was taken stops its watcher on its next pass; a watcher
    whose lease was not renewed in time ends by itself, and is started again once the
    lease is renewed."""
    mailbox = unreachable_mailbox("support@example.jp")
    supervisor = Supervisor(threading.Event(), poll_seconds=300, rescan_seconds=60)
    try:
        supervisor.scan()
        (watcher,) = supervisor._watchers.values()
        watcher.stop.deadline = time.monotonic()  # as if the supervisor were stuck
        wait_until(lambda: not watcher.thread.is_alive(), "the watcher stops by itself")
        supervisor.scan()
        assert mailbox.pk in supervisor.watching()
        (again,) = supervisor._watchers.values()
        assert again is not watcher
        ImapLease.objects.filter(mailbox=mailbox).update(holder="elsewhere:1:x")
        supervisor.scan()
        assert supervisor.watching() == {} and not again.thread.is_alive()
    finally:
        supervisor.shutdown()
    assert ImapLease.objects.get(mailbox=mailbox).holder == "elsewhere:1:x"


def test_a_mailbox_without_imap_any_more_gives_its_lease_back():
    mailbox = unreachable_mailbox("support@example.jp")
    supervisor = Supervisor(threading.Event(), poll_seconds=300, rescan_seconds=60)
    try:
        supervisor.scan()
        assert ImapLease.objects.get(mailbox=mailbox).holder == supervisor.leases.holder
        update_mailbox(mailbox, imap_host="")
        supervisor.scan()
        assert supervisor.watching() == {}
        assert ImapLease.objects.get(mailbox=mailbox).holder == ""
    finally:
        supervisor.shutdown()


def test_the_lease_length_is_an_option_of_run():
    parser = build_parser()
    assert parser.parse_args(["run", "imap"]).imap_lease_seconds is None
    assert parser.parse_args(["run", "imap", "--imap-lease-seconds", "5"]).imap_lease_seconds == 5
    run = parser._subparsers._group_actions[0].choices["run"]  # type: ignore[union-attr]
    assert f"(default: {LEASE_SECONDS:g})" in " ".join(run.format_help().split())
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "imap", "--imap-lease-seconds", "0"])


# -- two real processes against a real Dovecot ------------------------------------------

LEASE = 3.0
USERS = {"alice": "pw-alice-1234", "bob": "pw-bob-12345", "carol": "pw-carol-1234"}
_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (?:[A-Z]+ )?madoguchi\.mail_in\.watchers: (.*)$"
)


@dataclass
class ImapProcess:
    """One ``madoguchi run imap`` with its log file."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def holder_mark(self) -> str:
        return f":{self.proc.pid}:"

    def holds(self, holder: str) -> bool:
        return self.holder_mark in holder

    def lines(self) -> list[tuple[float, str]]:
        """(epoch seconds, message) of each line of mail_in.watchers, once each."""
        found: dict[tuple[float, str], None] = {}
        for line in self.log.read_text(errors="replace").splitlines():
            if match := _LINE.match(line):
                stamp = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f").astimezone().timestamp()
                found[(stamp, match[2])] = None
        return list(found)

    def watching_spans(self, address: str, killed_at: float | None) -> list[tuple[float, float]]:
        """When this process had a watcher for ``address``: from "watching" to "ended"
        (or to the kill)."""
        spans, start = [], None
        for stamp, message in self.lines():
            if message == f"IMAP watching {address}":
                start = stamp
            elif message == f"IMAP {address}: watcher ended" and start is not None:
                spans.append((start, stamp))
                start = None
        if start is not None:
            spans.append((start, killed_at or time.time()))
        return spans


def start_imap(tmp_path: Path, name: str) -> ImapProcess:
    log = tmp_path / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "madoguchi.cli", "run", "imap"]
            + ["--imap-lease-seconds", str(LEASE)],
            env=server_env(MADOGUCHI_IMAP_RESCAN_SECONDS="0.2", MADOGUCHI_IMAP_POLL_SECONDS="2"),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return ImapProcess(name, proc, log)


@dataclass
class Sample:
    at: float
    #: user → (holder, expires_at, taken_at, generation)
    leases: dict[str, tuple[str, datetime, datetime | None, int]]
    #: user → IMAP sessions open on Dovecot
    sessions: dict[str, int]


@dataclass
class Sampler:
    """Reads the lease table and Dovecot's open sessions about 10 times a second."""

    dovecot: Dovecot
    samples: list[Sample] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="sampler", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.done.set()
        if self.thread is not None:
            self.thread.join(30)

    def _run(self) -> None:
        try:
            while not self.done.is_set():
                at = time.time()
                rows = ImapLease.objects.values_list(
                    "mailbox__imap_user", "holder", "expires_at", "taken_at", "generation"
                )
                leases = {user: tuple(rest) for user, *rest in rows}
                who = self.dovecot.doveadm("-f", "tab", "who", "-1").splitlines()[1:]
                sessions = dict.fromkeys(USERS, 0)
                for row in who:
                    user, service, *_ = row.split("\t")
                    if service == "imap" and user in sessions:
                        sessions[user] += 1
                self.samples.append(Sample(at, leases, sessions))  # type: ignore[arg-type]
                self.done.wait(0.05)
        finally:
            connection.close()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[list[ImapProcess]]:
    started: list[ImapProcess] = []
    yield started
    for running in started:
        if running.proc.poll() is None:
            running.proc.kill()
            running.proc.wait(30)


def deliver_round(dovecot: Dovecot, round_: str) -> int:
    for user in USERS:
        for n in range(2):
            dovecot.deliver(make_mail(message_id=f"{round_}-{user}-{n}@c.example"), user=user)
    return 2 * len(USERS)


def test_two_imap_processes_fetch_each_mailbox_once_and_take_over_from_a_killed_one(
    dovecot_factory, processes, tmp_path
):
    """Two `madoguchi run imap` share three mailboxes, the first holding alice's and the
    second bob's and carol's: each mailbox is fetched by one of them at every moment (lease
    table, Dovecot's sessions, both logs). SIGKILL to the first: after its lease expires the
    second takes alice's mailbox over and fetches the mail that came meanwhile; every
    message is stored once and flagged seen."""
    dovecot = dovecot_factory(USERS)

    def account(user: str) -> dict[str, object]:
        return {
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "imap_user": user,
            "imap_password": USERS[user],
            "imap_security": "none",
            "imap_after_fetch": "seen",
        }

    # only alice's mailbox has its IMAP account at first, so the first process takes it
    boxes = {
        user: create_mailbox(f"{user}@example.jp", **(account(user) if user == "alice" else {}))
        for user in USERS
    }
    delivered = deliver_round(dovecot, "before")
    sampler = Sampler(dovecot)
    sampler.start()

    def holders() -> dict[str, str]:
        rows = ImapLease.objects.values_list("mailbox__imap_user", "holder")
        return {user: holder for user, holder in rows if holder}

    def stored() -> int:
        return RawMessage.objects.count()

    try:
        first = start_imap(tmp_path, "first")
        processes.append(first)
        wait_until(lambda: first.holds(holders().get("alice", "")), "alice is held", timeout=90)
        wait_until(lambda: stored() == 2, "alice's first mail is taken")
        second = start_imap(tmp_path, "second")
        processes.append(second)
        wait_until(
            lambda: "alice@example.jp: lease held by" in second.log.read_text(errors="replace"),
            "the second process stands by for alice",
            timeout=90,
        )
        # bob's and carol's accounts appear while the first process is paused: the second
        # takes them (a pause shorter than the lease costs the first nothing)
        first.proc.send_signal(signal.SIGSTOP)
        try:
            for user in ("bob", "carol"):
                update_mailbox(boxes[user], **account(user))
            wait_until(
                lambda: all(second.holds(holders().get(u, "")) for u in ("bob", "carol")),
                "the second process takes bob and carol",
            )
        finally:
            first.proc.send_signal(signal.SIGCONT)
        wait_until(lambda: stored() == delivered, "the first round is taken")
        delivered += deliver_round(dovecot, "both-running")
        wait_until(lambda: stored() == delivered, "the second round is taken")
        shares = holders()
        assert first.holds(shares["alice"]), shares
        assert second.holds(shares["bob"]) and second.holds(shares["carol"]), shares

        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(30)
        killed_at = time.time()
        final = ImapLease.objects.get(mailbox=boxes["alice"])  # nobody renews it any more
        delivered += deliver_round(dovecot, "after-kill")
        wait_until(
            lambda: all(second.holds(h) for h in holders().values()),
            "the second process holds every mailbox",
            timeout=LEASE + 20,
        )
        wait_until(lambda: stored() == delivered, "the mail of the kill is taken")
        delivered += deliver_round(dovecot, "taken-over")
        wait_until(lambda: stored() == delivered, "the mail after it is taken")
        wait_until(
            lambda: not ImapUid.objects.filter(done_after_fetch=False).exists(),
            "every message is flagged seen",
        )
        seen = len(sampler.samples)  # a few more samples of the second process alone
        wait_until(lambda: len(sampler.samples) > seen + 5, "more samples")
    finally:
        sampler.stop()
    victim, survivor = first, second
    address = {user: box.address for user, box in boxes.items()}

    # Dovecot: never two IMAP sessions of one account at the same moment.
    assert sampler.samples, "the sampler took samples"
    most = {user: max(s.sessions[user] for s in sampler.samples) for user in USERS}
    assert most == dict.fromkeys(USERS, 1), most

    # The lease table: a new holder took each mailbox only after the old lease ended.
    for user in USERS:
        history = [s.leases[user] for s in sampler.samples if user in s.leases]
        for (holder, expires, _, generation), (new, _, taken, new_gen) in zip(
            history, history[1:], strict=False
        ):
            if new != holder and holder and new:
                assert taken is not None and taken >= expires, (user, holder, new)
                assert new_gen > generation
    after = ImapLease.objects.get(mailbox=boxes["alice"])
    assert survivor.holds(after.holder) and after.generation > final.generation
    assert after.taken_at is not None and after.taken_at >= final.expires_at
    took = after.taken_at.timestamp() - killed_at
    assert took <= LEASE + 3, f"taken over {took:.1f}s after the kill"

    # Both logs: the spans in which each process watched a mailbox never overlap.
    for user in USERS:
        spans = sorted(
            (start, end, p.name)
            for p in processes
            for start, end in p.watching_spans(address[user], killed_at if p is victim else None)
        )
        assert spans, f"{user} was watched"
        for (_, end, name), (start, _, other) in zip(spans, spans[1:], strict=False):
            assert name == other or start >= end, (user, spans)

    # The mail: every message stored once, with one ledger row, and flagged seen.
    assert RawMessage.objects.count() == delivered == 4 * 2 * len(USERS)
    origins = list(ImapUid.objects.values_list("folder__mailbox__imap_user", "uid"))
    assert len(origins) == len(set(origins)) == delivered
    for user in USERS:
        flags = dovecot.messages(user=user)
        assert len(flags) == 8 and all("\\Seen" in f for _, f in flags), (user, flags)
    for running in processes:
        text = running.log.read_text(errors="replace")
        assert "IntegrityError" not in text and "UNIQUE constraint" not in text, running.name

    # A clean stop gives the survivor's leases back at once.
    survivor.proc.send_signal(signal.SIGTERM)
    assert survivor.proc.wait(30) == 0
    assert set(ImapLease.objects.values_list("holder", flat=True)) == {""}
