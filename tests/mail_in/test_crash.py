"""Nothing lost, nothing twice: an import killed with SIGKILL and run again.

And nothing left behind: the parser helper process of the killed import exits too.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from bench.mailgen import generate

from madoguchi.conversations.models import Message
from tests.fixtures import server_env
from tests.waiting import wait_until

pytestmark = pytest.mark.processes

COUNT = 1000


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()  # noqa: PTH123, SIM115
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry))
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` that still run (zombies count as gone)."""
    out = set()
    for pid in pids:
        try:
            state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]  # noqa: PTH123, SIM115
        except OSError:
            continue
        if state != "Z":
            out.add(pid)
    return out


def test_sigkill_mid_import_then_restart_gives_exactly_all_messages(cli, tmp_path):
    """Killing the importer mid-way and running it again ends with exactly 1,000 messages.

    The killed importer's helper processes exit within seconds (none is left behind).
    """
    folder = tmp_path / "mails"
    folder.mkdir()
    for i, data in enumerate(generate(COUNT, seed=7)):
        (folder / f"{i:05}.eml").write_bytes(data)
    cli("mailbox", "add", "support@example.jp", check=True)
    command = [
        sys.executable,
        "-m",
        "madoguchi.cli",
        "import",
        "--quiet",
        "--mailbox",
        "support@example.jp",
        str(folder),
    ]
    proc = subprocess.Popen(
        command, env=server_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )

    def a_third_is_in() -> bool:
        assert proc.poll() is None, "the import finished before it could be killed"
        return Message.objects.count() >= COUNT // 3

    wait_until(a_third_is_in, "a third of the mails are imported", timeout=120)
    helpers = children(proc.pid)
    assert helpers, "the import runs a parser helper process"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    wait_until(lambda: not alive(helpers), "the killed import's helper processes end", 10)
    killed_at = Message.objects.count()
    assert 0 < killed_at < COUNT
    again = cli("import", "--quiet", "--mailbox", "support@example.jp", str(folder))
    assert again.returncode == 0, again.stderr
    stats = json.loads(cli("stats", "--json", check=True).stdout)
    assert stats["messages"] == COUNT
    assert stats["pending"] == 0 and stats["failed"] == 0
    assert Message.objects.values("dedupe_key").distinct().count() == COUNT
