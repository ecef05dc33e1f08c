"""Several `madoguchi run worker` processes share one task queue: every task runs once.

The task below exists for this test: it appends one line per run to a file (an effect that
a second run cannot hide, unlike our own tasks, which are idempotent on purpose). The
worker processes import it from this module (``tests`` is importable from the project
root, which the subprocesses get on their path). django-tasks-db claims a task in one
transaction: ``SELECT ... FOR UPDATE SKIP LOCKED`` then ``UPDATE status = RUNNING`` on
PostgreSQL; on SQLite, which has no row locks, the same two statements in a ``BEGIN
EXCLUSIVE`` transaction, so claims are serialized by the database's single write lock.
With the row lock left out (PostgreSQL) or the claim taken outside that transaction
(SQLite), this test sees tasks run twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

try:  # Django 6 ships the tasks framework; 5.2 uses the django-tasks backport.
    from django.tasks import task  # type: ignore[import-not-found,unused-ignore]
except ImportError:
    from django_tasks import task  # type: ignore[no-redef,unused-ignore]
from django_tasks_db.models import DBTaskResult

from tests.fixtures import server_env
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
TASKS = 400


@task()
def record_run(number: int, path: str) -> int:
    """Append "<number> <pid>" to ``path``: one line per run of this task."""
    time.sleep(0.002)  # long enough for the other worker to try to claim meanwhile
    with open(path, "a", encoding="ascii") as out:  # one write(): O_APPEND keeps it whole
        out.write(f"{number} {os.getpid()}\n")
    return number


def start_worker(log: Path) -> subprocess.Popen[bytes]:
    env = server_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "madoguchi.cli", "run", "worker"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(30)


@pytest.mark.servers  # two worker processes
def test_two_workers_run_each_task_exactly_once(transactional_db, tmp_path):
    """400 tasks, half queued before two worker processes start and half while they run:
    each task's effect happens once, both workers take a share, every result is
    successful and names one worker."""
    effects = tmp_path / "effects.txt"
    effects.touch()
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    for n in range(TASKS // 2):
        record_run.enqueue(n, str(effects))
    workers = [start_worker(log) for log in logs]
    try:
        for proc, log in zip(workers, logs, strict=True):
            wait_until(
                lambda log=log: ": taking tasks" in log.read_text(errors="replace"),
                f"worker {proc.pid} takes tasks",
                timeout=90,
            )
        for n in range(TASKS // 2, TASKS):
            record_run.enqueue(n, str(effects))
        wait_until(
            lambda: not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists(),
            "every task has run",
            timeout=120,
        )
    finally:
        codes = [stop(proc) for proc in workers]
    assert codes == [0, 0], [log.read_text(errors="replace")[-3000:] for log in logs]

    lines = [line.split() for line in effects.read_text().splitlines()]
    runs = Counter(int(number) for number, _ in lines)
    assert sorted(runs) == list(range(TASKS))
    assert [n for n, count in runs.items() if count != 1] == []
    by_worker = Counter(pid for _, pid in lines)
    assert set(by_worker) == {str(proc.pid) for proc in workers}, by_worker

    results = DBTaskResult.objects.filter(task_path=f"{__name__}.record_run")
    assert results.count() == TASKS
    assert set(results.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert all(len(ids) == 1 for ids in results.values_list("worker_ids", flat=True))
