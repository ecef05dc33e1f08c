"""Measure parse() throughput on corpus messages of 5-25 KB (one core)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from madoguchi.mail import parse  # noqa: E402

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


def main() -> None:
    """Parse every 5-25 KB corpus message several times and print msgs/s."""
    mails = []
    for dirpath, _dirs, files in os.walk(CORPUS):
        if "_meta" in dirpath:
            continue
        for name in files:
            path = Path(dirpath) / name
            if 5_000 <= path.stat().st_size <= 25_000:
                mails.append(path.read_bytes())
    rounds = 5
    start = time.perf_counter()
    for _ in range(rounds):
        for raw in mails:
            parse(raw)
    elapsed = time.perf_counter() - start
    count = rounds * len(mails)
    print(f"{count} parses of {len(mails)} mails in {elapsed:.2f}s: {count / elapsed:.0f} msgs/s")


if __name__ == "__main__":
    main()
