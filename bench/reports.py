"""Reports at scale: a year of history of a mailbox with 1,000,000 conversations.

The rollups are made by the production code (``reports.rollup.Tally``) from a generated
event stream held in memory (no event rows: the rollups are what reports read): each
conversation is started by a customer's mail at a time drawn from office-hour weighted
arrivals over the year, gets a first reply by one of 20 agents after a log-normal delay,
tags from a list of 30 (Zipf), notes, and is closed (some reopened and closed again, some
still open at the end of the year); SLA breaches and template uses follow. Then, on SQLite
and PostgreSQL (a throwaway database), it prints p50 / p95 of each report query for a
month and for the year, whole mailbox and one agent, and of the whole report page, plus the
row counts. With ``--ingest`` it also runs ``bench/ingest.py`` and prints the rollups' share
of a mail's CPU (target: within 10 % of ingest without them).

    python bench/reports.py --n 1000000 --db sqlite,postgres --ingest
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
YEAR_START = datetime(2025, 12, 1, tzinfo=UTC)
AGENTS = 20
TAGS = [f"タグ{i:02d}" for i in range(30)]
TEMPLATES = [f"定型文 {i}" for i in range(40)]
REPEAT = 20


def percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def timed(fn: Any, repeat: int = REPEAT) -> tuple[float, float]:
    fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return percentiles(samples)


# --- generation (in the child, Django set up) -----------------------------------------------


class _Event:
    """What ``Tally.add`` reads of an event."""

    __slots__ = ("actor_id", "created_at", "data", "mailbox_id", "type")

    def __init__(self, kind: str, box: int, at: datetime, actor: int | None = None,
                 **data: Any) -> None:  # fmt: skip
        self.type, self.mailbox_id, self.created_at = kind, box, at
        self.actor_id, self.data = actor, data


def _arrival(rng: random.Random) -> datetime:
    """A moment of the year, busier on weekdays 9–18 (Tokyo) as real inboxes are."""
    while True:
        at = YEAR_START + timedelta(seconds=rng.random() * 365 * 86400)
        local = at + timedelta(hours=9)
        weekday, hour = local.weekday(), local.hour
        weight = (1.0 if weekday < 5 else 0.25) * (1.0 if 9 <= hour < 18 else 0.2)
        if rng.random() < weight:
            return at


def generate(n: int, box: int, agents: list[int], seed: int = 1) -> dict[str, int]:
    from madoguchi.reports.rollup import ConvState, Tally

    rng = random.Random(seed)
    tally = Tally()
    zipf = [1 / (i + 1) for i in range(len(TAGS))]
    end = YEAR_START + timedelta(days=365)
    counts = {"conversations": n, "events": 0}
    started = time.perf_counter()
    for i in range(n):
        state = ConvState()
        at = _arrival(rng)
        stream = [_Event("conversation.created", box, at), _Event("message.received", box, at)]
        agent = rng.choice(agents)
        if rng.random() < 0.4:
            tag = rng.choices(TAGS, zipf)[0]
            stream.append(_Event("conversation.tagged", box, at + timedelta(minutes=1), tag=tag))
        reply = at + timedelta(minutes=math.exp(rng.gauss(4.0, 1.3)))
        if reply < end:
            kind = "template.used" if rng.random() < 0.3 else None
            if kind:
                stream.append(_Event(kind, box, reply, agent, template=1,
                                     name=rng.choice(TEMPLATES)))  # fmt: skip
            stream.append(_Event("message.queued", box, reply, agent, message=i))
            if rng.random() < 0.05:
                stream.append(_Event("sla.breached", box, reply, target="first_response",
                                     due=reply.isoformat()))  # fmt: skip
            if rng.random() < 0.1:
                stream.append(_Event("note.added", box, reply, agent, note=i))
            close = reply + timedelta(minutes=math.exp(rng.gauss(5.0, 1.5)))
            if close < end and rng.random() < 0.95:
                stream.append(_Event("conversation.status", box, close, agent, before="open",
                                     after="done"))  # fmt: skip
                if rng.random() < 0.08:
                    again = close + timedelta(days=rng.random() * 5)
                    if again < end:
                        stream += [
                            _Event("message.received", box, again, message=-i),
                            _Event("conversation.status", box, again, before="done",
                                   after="open"),
                            _Event("conversation.status", box,
                                   again + timedelta(hours=2), agent, before="open",
                                   after="done"),
                        ]  # fmt: skip
        for event in stream:
            tally.add(event, state)  # type: ignore[arg-type]
        counts["events"] += len(stream)
        if i % 20000 == 19999:
            tally.flush()
            print(f"    {i + 1:,} conversations, {time.perf_counter() - started:.0f} s",
                  flush=True)  # fmt: skip
    tally.flush()
    return counts


# --- measuring (child) ------------------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client

    from madoguchi.accounts.actions import add_member, create_agent
    from madoguchi.accounts.models import Role
    from madoguchi.mailboxes.actions import create_mailbox
    from madoguchi.reports import queries
    from madoguchi.reports.models import DayTimes, HourTotals, Metric, TemplateDay

    call_command("migrate", verbosity=0)
    box = create_mailbox("support@example.jp", name="サポート")
    boss = create_agent("boss", password="bench-boss-pw-1", role=Role.MANAGER)
    add_member(box, boss.user)
    agents = []
    for k in range(AGENTS):
        agent = create_agent(f"agent{k}", password="bench-agent-pw-1")
        add_member(box, agent.user)
        agents.append(agent.user_id)
    t = time.perf_counter()
    with transaction.atomic():
        counts = generate(args.n, box.pk, agents)
    counts["generate_s"] = round(time.perf_counter() - t)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("reports_hour", "reports_day", "reports_times", "reports_templates"):
                cursor.execute(f"VACUUM ANALYZE {table}")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    counts["hour_rows"] = HourTotals.objects.count()
    counts["time_rows"] = DayTimes.objects.count()
    counts["template_rows"] = TemplateDay.objects.count()
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Tokyo")
    month = queries.period_for("month", date(2026, 6, 15), zone)
    year = queries.period_for("custom", date(2025, 12, 1), zone, date(2025, 12, 1),
                              date(2026, 11, 30))  # fmt: skip
    ids, who = [box.pk], agents[0]
    probes = {
        "totals": lambda p, a: queries.totals(ids, p, agent=a),
        "first response p50/p90": lambda p, a: queries.times(ids, p, Metric.FIRST_RESPONSE,
                                                             agent=a),
        "resolution p50/p90": lambda p, a: queries.times(ids, p, Metric.RESOLUTION, agent=a),
        "by day": lambda p, a: queries.daily(ids, p, agent=a),
        "heat map": lambda p, a: queries.heatmap(ids, p),
        "by agent": lambda p, a: queries.per_agent(ids, p),
        "by tag": lambda p, a: queries.per_tag(ids, p),
        "templates": lambda p, a: queries.template_usage(ids, p),
    }  # fmt: skip
    results: dict[str, Any] = {"counts": counts, "queries": {}, "pages": {}}
    for name, fn in probes.items():
        for label, period in (("month", month), ("year", year)):
            for scope, agent in (("mailbox", 0), ("agent", who)):
                if scope == "agent" and name in ("heat map", "by agent", "by tag", "templates"):
                    continue
                key = f"{name} · {label} · {scope}"
                results["queries"][key] = timed(lambda fn=fn, p=period, a=agent: fn(p, a))
    client = Client()
    client.force_login(boss.user)
    for label, params in (
        ("month", {"period": "month", "start": "2026-06-01"}),
        ("year", {"period": "custom", "start": "2025-12-01", "end": "2026-11-30"}),
        ("year · one agent", {"period": "custom", "start": "2025-12-01", "end": "2026-11-30",
                              "agent": str(who)}),
    ):  # fmt: skip

        def page(params: dict[str, str] = params) -> None:
            response = client.get("/reports/", params)
            assert response.status_code == 200, response.status_code

        results["pages"][label] = timed(page, repeat=10)
    Path(args.out).write_text(json.dumps(results))


def run(n: int, db: str, args: argparse.Namespace) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="madoguchi-bench-reports-"))
    name = f"bench_reports_{os.getpid()}"
    if db == "postgres":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    else:
        url = f"sqlite:///{data / 'bench.sqlite3'}"
    env = {**os.environ, "MADOGUCHI_DATA_DIR": str(data), "MADOGUCHI_DATABASE_URL": url,
           "DJANGO_SETTINGS_MODULE": "madoguchi.settings", "MADOGUCHI_LOG_LEVEL": "ERROR",
           "MADOGUCHI_ALLOWED_HOSTS": "testserver"}  # fmt: skip
    out = data / "out.json"
    try:
        subprocess.run([sys.executable, __file__, "--child", "--n", str(n), "--out", str(out)],
                       env=env, check=True)  # fmt: skip
        return dict(json.loads(out.read_text()))
    finally:
        shutil.rmtree(data, ignore_errors=True)
        if db == "postgres":
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name}")


def show(db: str, got: dict[str, Any]) -> None:
    c = got["counts"]
    print(f"{db}: {c['conversations']:,} conversations, {c['events']:,} events counted in "
          f"{c['generate_s']} s; rollup rows: {c['hour_rows']:,} hours, {c['time_rows']:,} "
          f"histogram, {c['template_rows']:,} template")  # fmt: skip
    worst = 0.0
    for key, (p50, p95) in got["queries"].items():
        print(f"  {key:<46} {p50:7.1f} / {p95:7.1f} ms")
        if "year" in key:
            worst = max(worst, p95)
    for key, (p50, p95) in got["pages"].items():
        print(f"  page · {key:<39} {p50:7.1f} / {p95:7.1f} ms")
        if "year" in key:
            worst = max(worst, p95)
    print(f"  worst p95 for a year: {worst:.0f} ms (target 200)")


INGEST = re.compile(r"import (\w+)\s+N=(\d+).*CPU\s+([\d.]+) ms/mail.*reports ([\d.]+)\)")


def ingest() -> None:
    cmd = [sys.executable, str(ROOT / "bench" / "ingest.py"), "--n", "2000", "--db",
           "sqlite,postgres", "--ways", "import"]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        found = INGEST.search(line)
        if found:
            db, n, cpu, reports = found.groups()
            share = float(reports) / (float(cpu) - float(reports))
            print(f"  ingest {db} N={n}: rollups {float(reports):.2f} of {float(cpu):.2f} ms a "
                  f"mail = +{share:.1%} (target within 10 %)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--ingest", action="store_true")
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    for db in args.db.split(","):
        show(db, run(args.n, db, args))
    if args.ingest:
        ingest()


if __name__ == "__main__":
    main()
