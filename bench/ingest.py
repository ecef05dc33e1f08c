"""Ingest benchmark: messages per second and peak memory for import and IMAP fetch.

Generates N realistic mails (``bench.mailgen``: seeded, a third Japanese, replies,
attachments, HTML, auto-replies, newsletters, bounces), then, each in a fresh process with a
fresh database, measures:

- ``import``: ``madoguchi.mail_in.importer.import_paths`` over a folder of .eml files
  (accept in batches, then parse, thread and store each message; SQLite synchronous=FULL);
- ``imap``: ``fetch_once`` from a real Dovecot (started here) plus ingest of what it took;

on SQLite and on PostgreSQL, with peak RSS for N/4 and N (it must not grow with N), and
the rate at which the standard library alone parses the same mails (the limit we compare
against). It also checks the threading against the generator's expected threads.

``--search on,off`` runs each measurement with the search index kept and without it (its
observers not registered in the child), alternating, for the ingest rate with and without.

``--rules 0,20`` runs each measurement once per number of sorting rules set up on the
mailbox first (``bench_rules``: realistic rules, most of which match nothing, some on the
subject, the sender, a header, the kind, the customer; tags, an assignment, a status), and
``--repeat 2`` runs each twice, so the cost of the rules shows beside the run-to-run noise.

    python bench/ingest.py --n 2000 [--db sqlite,postgres] [--ways import,imap]
    python bench/ingest.py --n 3000 --db sqlite --ways import --rules 0,20 --repeat 2
    python bench/ingest.py --n 2000 --db sqlite --ways import --search on,off --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def write_corpus(n: int, seed: int, folder: Path) -> list[bytes]:
    from bench.mailgen import generate

    folder.mkdir(parents=True, exist_ok=True)
    mails = []
    for i, data in enumerate(generate(n, seed=seed)):
        (folder / f"{i:07}.eml").write_bytes(data)
        mails.append(data)
    return mails


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM; unlike ru_maxrss it restarts at exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def database_url(kind: str, tag: str, data_dir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{data_dir / 'bench.sqlite3'}"
    _pg(f"DROP DATABASE IF EXISTS bench_{tag}")
    _pg(f"CREATE DATABASE bench_{tag} ENCODING 'UTF8' TEMPLATE template0")
    return f"postgresql://postgres@127.0.0.1:5432/bench_{tag}"


def run_child(way: str, db: str, n: int, source: str, extra: list[str]) -> dict[str, float]:
    data_dir = Path(tempfile.mkdtemp(prefix="madoguchi-bench-"))
    tag = f"{way}_{n}_{os.getpid()}"
    url = database_url(db, tag, data_dir)
    env = {
        **os.environ,
        "MADOGUCHI_DATA_DIR": str(data_dir),
        "MADOGUCHI_DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "madoguchi.settings",
        "MADOGUCHI_LOG_LEVEL": "ERROR",
    }
    cmd = [sys.executable, __file__, "--child", way, "--source", source, "--n", str(n), *extra]
    try:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if out.returncode:
            raise SystemExit(f"{way}/{db} failed:\n{out.stderr[-3000:]}")
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if db == "postgres":
            _pg(f"DROP DATABASE IF EXISTS bench_{tag}")


def child(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from madoguchi.conversations.models import Message
    from madoguchi.mail_in import imap
    from madoguchi.mail_in.importer import import_paths
    from madoguchi.mailboxes.actions import create_mailbox

    call_command("migrate", verbosity=0)
    fields = {}
    if args.child == "imap":
        host, port, user, password = args.source.split(",")
        fields = {
            "imap_host": host,
            "imap_port": int(port),
            "imap_user": user,
            "imap_password": password,
            "imap_security": "none",
        }
    mailbox = create_mailbox("support@example.jp", **fields)
    add_rules(mailbox, args.rules_n, matching=args.matching)
    if args.no_search:
        without_search_index()
    probes = time_observers()
    base_rss = peak_rss_mb()
    cpu = time.process_time()
    start = time.perf_counter()
    if args.child == "import":
        import_paths(mailbox, [Path(args.source)])
    else:
        from madoguchi.mail_in.pipeline import Pipeline

        with Pipeline() as pipeline:
            imap.fetch_once(mailbox, schedule=False, on_chunk=pipeline.add)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    peak = peak_rss_mb()
    messages = Message.objects.count()
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "messages": messages,
                "rate": messages / elapsed,
                # This process's CPU per mail (threading, storing, rules; parsing runs in a
                # helper): steadier than the wall-clock rate on a busy machine.
                "cpu_ms": cpu * 1000 / max(messages, 1),
                # Of which automation at intake (rules, assignment, SLA, acknowledgement).
                "automation_ms": probes["automation"][0] * 1000 / max(messages, 1),
                # Of which indexing for search (the entries and the database's index).
                "search_ms": probes["search"][0] * 1000 / max(messages, 1),
                # Of which the reports' rollups.
                "reports_ms": probes["reports"][0] * 1000 / max(messages, 1),
                "peak_mb": peak,
                "growth_mb": peak - base_rss,
                "threading": threading_accuracy(args.n),
                "rules": args.rules_n,
                "matched": rule_matches(),
            }
        )
    )


def without_search_index() -> None:
    """Unregister the search index's observers: intake as it would be without search."""
    from madoguchi.core import events

    observers = events._observers  # noqa: SLF001 (a benchmark's probe)
    observers[:] = [(t, o) for t, o in observers if o.__module__ != "madoguchi.search.index"]


def time_observers() -> dict[str, list[float]]:
    """Wrap the intake observers of automation (rules, assignment, SLA, acknowledgement),
    of the search index and of the reports' rollups so that their CPU time adds up in the
    lists returned: their cost measured in the process, steadier than comparing two runs."""
    from madoguchi.automation import intake
    from madoguchi.core import events
    from madoguchi.reports import rollup
    from madoguchi.search import index

    spent: dict[str, list[float]] = {"automation": [0.0], "search": [0.0], "reports": [0.0]}
    probes = {intake.on_received: "automation", index._messages: "search",  # noqa: SLF001
              rollup.observe: "reports"}  # fmt: skip

    def timed(observer: Any, into: list[float]) -> Any:
        def run(items: list[Any]) -> None:
            start = time.process_time()
            try:
                observer(items)
            finally:
                into[0] += time.process_time() - start

        return run

    observers = events._observers  # noqa: SLF001 (a benchmark's probe)
    for i, (types, observer) in enumerate(observers):
        if observer in probes:
            observers[i] = (types, timed(observer, spent[probes[observer]]))
    return spent


#: Rules that match some of the generated mail: (name, match, conditions, actions).
MATCHING: list[tuple[str, str, list[dict[str, str]], list[dict[str, object]]]] = [
    ("請求書", "any", [{"field": "subject", "op": "contains", "value": "invoice"},
                     {"field": "subject", "op": "contains", "value": "請求"}],
     [{"type": "tag", "tag": "請求"}, {"type": "assign", "agent": 0}]),
    ("Hooli", "all", [{"field": "from", "op": "domain", "value": "hooli.net"}],
     [{"type": "tag", "tag": "Hooli"}]),
    ("自動返信", "all", [{"field": "header", "header": "Auto-Submitted", "op": "starts_with",
                       "value": "auto-"}], [{"type": "status", "status": "done"}]),
    ("メルマガ", "all", [{"field": "kind", "op": "is", "value": "bulk"}],
     [{"type": "status", "status": "done"}, {"type": "stop"}]),
    ("常連の返信", "all", [{"field": "customer", "op": "is", "value": "known"},
                        {"field": "conversation", "op": "is", "value": "reply"},
                        {"field": "subject", "op": "regex", "value": r"^(re|aw|sv):"}],
     [{"type": "tag", "tag": "常連"}]),
]  # fmt: skip


def _never(i: int) -> tuple[str, str, list[dict[str, str]], list[dict[str, object]]]:
    """A realistic rule that matches none of the generated mail."""
    conditions = [
        [{"field": "subject", "op": "contains", "value": f"解約のお願い{i}"}],
        [{"field": "from", "op": "domain", "value": f"partner{i}.example"}],
        [{"field": "body", "op": "contains", "value": f"PROMO-{i:04}"}],
        [{"field": "subject", "op": "regex", "value": rf"^\[CASE-{i}\d{{5}}\]"}],
        [{"field": "header", "header": "X-Customer-Id", "op": "equals", "value": f"C{i}"}],
        [{"field": "to", "op": "contains", "value": f"billing{i}@"},
         {"field": "attachment", "op": "is", "value": "yes"}],
        [{"field": "cc", "op": "domain", "value": f"audit{i}.example"}],
        [{"field": "hours", "op": "is", "value": "outside"},
         {"field": "subject", "op": "starts_with", "value": f"【至急{i}】"}],
    ][i % 8]  # fmt: skip
    return (f"rule {i}", "all", conditions, [{"type": "tag", "tag": f"t{i}"}])


def add_rules(mailbox: object, n: int, *, matching: int = -1) -> None:
    """``n`` rules on ``mailbox``: ``matching`` of them (-1: a quarter, at most the five of
    ``MATCHING``) match some mail, the rest nothing, mixed as a team would have them."""
    if n <= 0:
        return
    from madoguchi.accounts.actions import add_member, create_agent
    from madoguchi.automation import rule_admin

    agent = create_agent("bench-sato", password="bench-password-123", display_name="佐藤")
    add_member(mailbox, agent.user)  # type: ignore[arg-type]
    if matching < 0:
        matching = max(1, n // 4)
    matching = min(len(MATCHING), matching, n)
    specs = [_never(i) for i in range(n - matching)]
    for k, spec in enumerate(MATCHING[:matching]):
        specs.insert((k + 1) * len(specs) // (matching + 1), spec)
    for name, match, conditions, todo in specs:
        actions = [{**a, "agent": agent.user_id} if a.get("agent") == 0 else a for a in todo]
        data = {"name": name, "match": match, "conditions": conditions, "actions": actions}
        rule_admin.create_rule(mailbox, data, actor_id=None)  # type: ignore[arg-type]


def rule_matches() -> int:
    from django.db.models import Sum

    from madoguchi.automation.models import Rule

    return int(Rule.objects.aggregate(n=Sum("match_count"))["n"] or 0)


def threading_accuracy(n: int) -> float:
    """Share of messages whose conversation holds exactly their expected thread-mates."""
    from bench.mailgen import expected_threads

    from madoguchi.conversations.models import Message

    conv_of = dict(Message.objects.values_list("message_id", "conversation_id"))
    right = total = 0
    for members in expected_threads(n).values():
        convs = {conv_of.get(mid.strip("<>")) for mid in members}
        total += len(members)
        right += len(members) if len(convs) == 1 and None not in convs else 0
    return right / total if total else 0.0


def fill_dovecot(dovecot: object, folder: Path) -> None:
    """Deliver the .eml files into the Dovecot user's Maildir/new (a plain Maildir delivery)."""
    maildir = Path(dovecot.dir) / "users" / dovecot.user / "Maildir"  # type: ignore[attr-defined]
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    for i, path in enumerate(sorted(folder.iterdir())):
        shutil.copyfile(path, maildir / "new" / f"{1700000000 + i}.M{i}P1.bench")
    subprocess.run(["chown", "-R", "mail:mail", str(maildir.parent)], check=True)


def stdlib_rates(mails: list[bytes]) -> dict[str, float]:
    from bench.stdlib_rate import compat32_parse_rate, stdlib_parse_rate

    from madoguchi.mail import parse

    start = time.perf_counter()
    for raw in mails:
        parse(raw)
    ours = len(mails) / (time.perf_counter() - start)
    return {
        "stdlib_default": stdlib_parse_rate(mails),
        "stdlib_compat32": compat32_parse_rate(mails),
        "madoguchi_parse": ours,
    }


def measure(
    args: argparse.Namespace, work: Path, *, db: str, way: str, n: int, rules: int, search: str
) -> None:
    extra = ["--rules-n", str(rules), "--matching", str(args.matching)]
    extra += ["--no-search"] if search == "off" else []
    if way == "import":
        r = run_child("import", db, n, str(work / str(n)), ["--seed", str(args.seed), *extra])
    else:
        from tests.servers.dovecot import Dovecot

        with Dovecot() as dovecot:
            fill_dovecot(dovecot, work / str(n))
            source = f"{dovecot.host},{dovecot.port},{dovecot.user},{dovecot.password}"
            r = run_child("imap", db, n, source, extra)
    print(
        f"{way:<6} {db:<8} N={n:<7} rules={rules:<3} search={search:<3} {r['rate']:7.0f} msgs/s  "
        f"CPU {r['cpu_ms']:5.2f} ms/mail (automation {r['automation_ms']:4.2f}, "
        f"search index {r['search_ms']:4.2f}, reports {r['reports_ms']:4.2f})  "
        f"{r['seconds']:6.1f} s  peak RSS {r['peak_mb']:5.0f} MB "
        f"(+{r['growth_mb']:.0f} MB while ingesting)  threads right {r['threading']:.1%}  "
        f"messages {r['messages']:.0f}  rule matches {r['matched']:.0f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--ways", default="import,imap")
    parser.add_argument("--rules", default="0", help="numbers of rules to compare, e.g. 0,20")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--matching", type=int, default=-1, help="rules that match (-1: n/4)")
    parser.add_argument("--search", default="on", help="with and without the index: on,off")
    parser.add_argument("--rules-n", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--no-search", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child")
    parser.add_argument("--source")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    work = Path(tempfile.mkdtemp(prefix="madoguchi-bench-mails-"))
    sizes = sorted({max(args.n // 4, 1), args.n})
    print(f"generating {args.n} mails (seed {args.seed})...", flush=True)
    for n in sizes:
        mails = write_corpus(n, args.seed, work / str(n))
    print(f"{len(mails)} mails, {sum(map(len, mails)) / len(mails) / 1024:.1f} KiB average")
    for name, rate in stdlib_rates(mails).items():
        print(f"parse only  {name:<18} {rate:8.0f} msgs/s")
    for db in args.db.split(","):
        for way in args.ways.split(","):
            for n in sizes:
                for _ in range(args.repeat):  # alternating, so drift hits both alike
                    for rules in [int(r) for r in args.rules.split(",")]:
                        for search in args.search.split(","):
                            measure(args, work, db=db, way=way, n=n, rules=rules, search=search)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
