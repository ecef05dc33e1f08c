"""List latency at scale: one mailbox with N conversations (default 1,000,000).

Fills a fresh database with N conversations (statuses, assignees and ages spread like a
busy shared address), then measures, in this process, the server time of:

- ``queries.inbox`` for each tab, first page and a deep keyset page;
- the whole inbox page (view + template) through Django's test client, signed in;
- ``queries.tab_counts`` (the live tab counts).

It prints p50 and p95 over repeated calls. Run on SQLite and on PostgreSQL:

    python bench/list.py --n 1000000 [--db sqlite,postgres] [--repeat 200]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
STATUSES = ["new"] * 10 + ["open"] * 20 + ["hold"] * 5 + ["done"] * 63 + ["spam", "trash"]


def fill(n: int, mailbox_id: int, agents: list[int], contacts: list[int]) -> None:
    from django.db import connection, transaction

    rng = random.Random(1)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    sql = (
        "INSERT INTO conversations_conversation (mailbox_id, contact_id, subject, status, "
        "assignee_id, kind, kind_hint, unread, snippet, message_count, created_at, "
        "last_activity_at, waiting_since) VALUES (%s, %s, %s, %s, %s, %s, '', FALSE, %s, %s, %s, "
        "%s, %s)"
    )
    batch = []
    with transaction.atomic(), connection.cursor() as cur:
        for i in range(n):
            status = rng.choice(STATUSES)
            at = start + timedelta(seconds=i * 60 + rng.randrange(60))
            assignee = None if status == "new" or rng.random() < 0.1 else rng.choice(agents)
            kind = "normal" if rng.random() < 0.93 else rng.choice(["auto_reply", "bulk", "bounce"])
            # the customer wrote last in most new and open ones, and in none that are done
            waiting = at if status in ("new", "open", "hold") and rng.random() < 0.7 else None
            batch.append(
                (
                    mailbox_id,
                    rng.choice(contacts),
                    f"お問い合わせ {i} 納期について",
                    status,
                    assignee,
                    kind,
                    "いつもお世話になっております。",
                    2,
                    at,
                    at,
                    waiting,
                )
            )
            if len(batch) == 5000:
                cur.executemany(sql, batch)
                batch = []
        cur.executemany(sql, batch)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE conversations_conversation")
    else:
        with connection.cursor() as cur:
            cur.execute("ANALYZE")


def timed(fn, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def child(n: int, repeat: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from madoguchi.accounts.actions import add_member, create_agent
    from madoguchi.conversations import queries
    from madoguchi.conversations.models import Contact
    from madoguchi.mailboxes.actions import create_mailbox

    call_command("migrate", verbosity=0)
    mailbox = create_mailbox("support@example.jp", name="サポート窓口")
    agents = [create_agent(f"agent{i}", password="pw").user for i in range(20)]
    for user in agents:
        add_member(mailbox, user)
    contacts = [
        c.pk for c in Contact.objects.bulk_create(Contact(name=f"顧客 {i}") for i in range(10000))
    ]
    t = time.perf_counter()
    fill(n, mailbox.pk, [u.pk for u in agents], contacts)
    print(f"  filled {n:,} conversations in {time.perf_counter() - t:.0f} s", flush=True)
    me = agents[0]
    agent = me.agent  # the queries take the signed-in Agent (the pages load it once)
    for tab in ("new", "open", "done", "auto"):
        p50, p95 = timed(
            lambda tab=tab: queries.inbox(agent, mailbox=mailbox, view=None, tab=tab), repeat
        )
        print(f"  inbox query  tab={tab:<5} first page   p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")
    rows, cursor = queries.inbox(agent, mailbox=mailbox, view=None, tab="done")
    for _ in range(200):  # 10,000 rows deep
        rows, cursor = queries.inbox(agent, mailbox=mailbox, view=None, tab="done", after=cursor)
    p50, p95 = timed(
        lambda: queries.inbox(agent, mailbox=mailbox, view=None, tab="done", after=cursor), repeat
    )
    print(f"  inbox query  tab=done  page 200     p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")
    p50, p95 = timed(
        lambda: queries.inbox(agent, mailbox=mailbox, view=None, tab="open", sort="waiting"), repeat
    )
    print(f"  inbox query  tab=open  waiting sort p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")
    p50, p95 = timed(lambda: queries.inbox(agent, mailbox=None, view="mine", tab="open"), repeat)
    print(f"  view mine    tab=open  first page   p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")
    client = Client()
    client.force_login(me)
    url = f"/m/{mailbox.pk}/new/"
    assert client.get(url).status_code == 200
    p50, p95 = timed(lambda: client.get(url), max(repeat // 4, 10))
    print(f"  whole page   {url:<22} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  (incl. tab counts)")
    # what one live change costs a tab on that page (web/fragments.py)
    fresh, _ = queries.inbox(agent, mailbox=mailbox, view=None, tab="new")
    ids = "&".join(f"c={conv.pk}" for conv in fresh[:3])
    for name, path in (("counts", f"/f/counts?mailbox={mailbox.pk}&tab=new"),
                       ("rows", f"/f/rows?mailbox={mailbox.pk}&tab=new&{ids}")):  # fmt: skip
        assert client.get(path, headers={"X-Live": "1"}).status_code == 200
        p50, p95 = timed(
            lambda p=path: client.get(p, headers={"X-Live": "1"}), max(repeat // 4, 10)
        )
        print(f"  fragment     {name:<22} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(lambda: [client.get(url) for _ in range(20)])
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    p50, p95 = timed(lambda: queries.tab_counts(mailbox.conversations.all()), max(repeat // 10, 5))
    print(f"  tab counts   (7 tabs, GROUP BY)    p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.n, args.repeat)
        return
    for db in args.db.split(","):
        data = Path(tempfile.mkdtemp(prefix="madoguchi-bench-list-"))
        env = {
            **os.environ,
            "MADOGUCHI_DATA_DIR": str(data),
            "DJANGO_SETTINGS_MODULE": "madoguchi.settings",
            "MADOGUCHI_LOG_LEVEL": "ERROR",
            "MADOGUCHI_ALLOWED_HOSTS": "testserver",
        }
        if db == "postgres":
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS bench_list")
                conn.execute("CREATE DATABASE bench_list ENCODING 'UTF8' TEMPLATE template0")
            env["MADOGUCHI_DATABASE_URL"] = "postgresql://postgres@127.0.0.1:5432/bench_list"
        print(f"{db}: N = {args.n:,}", flush=True)
        cmd = [
            sys.executable,
            __file__,
            "--child",
            "--n",
            str(args.n),
            "--repeat",
            str(args.repeat),
        ]
        subprocess.run(cmd, env=env, check=True)
        shutil.rmtree(data, ignore_errors=True)
        if db == "postgres":
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS bench_list")


if __name__ == "__main__":
    main()
