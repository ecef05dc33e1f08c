"""Ceiling parse rate of the standard library ``email`` package on the same mails.

``stdlib_parse_rate(mails)`` returns messages/second for
``email.message_from_bytes(raw, policy=email.policy.default)`` followed by walking all
parts and calling ``get_content()`` on every text part — the ceiling Madoguchi's own
ingest pipeline is compared against.  ``compat32_parse_rate`` does the same with the
legacy compat32 policy (``get_payload(decode=True)`` + charset decode).

Script: ``python bench/stdlib_rate.py --n 2000 --seed 1`` (mails from ``bench.mailgen``)
or ``python bench/stdlib_rate.py DIR_OR_FILES...`` for existing .eml files.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import sys
import time
from collections.abc import Callable, Sequence
from email.message import Message


def _parse_default(raw: bytes) -> int:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    chars = 0
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            chars += len(part.get_content())
    return chars


def _parse_compat32(raw: bytes) -> int:
    msg: Message = email.message_from_bytes(raw)
    chars = 0
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                charset = part.get_content_charset() or "us-ascii"
                try:
                    chars += len(payload.decode(charset, "replace"))
                except LookupError:
                    chars += len(payload.decode("utf-8", "replace"))
    return chars


def _rate(fn: Callable[[bytes], int], mails: Sequence[bytes], repeat: int) -> float:
    if not mails:
        return 0.0
    best = float("inf")
    for _ in range(max(repeat, 1)):
        t0 = time.perf_counter()
        for raw in mails:
            fn(raw)
        best = min(best, time.perf_counter() - t0)
    return len(mails) / best


def stdlib_parse_rate(mails: Sequence[bytes], repeat: int = 1) -> float:
    """Messages/second with policy=default, walking parts and get_content() of text parts."""
    return _rate(_parse_default, mails, repeat)


def compat32_parse_rate(mails: Sequence[bytes], repeat: int = 1) -> float:
    """Messages/second with the compat32 policy (get_payload(decode=True) + decode)."""
    return _rate(_parse_compat32, mails, repeat)


def _load(paths: list[str]) -> list[bytes]:
    files: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(".eml"))
        else:
            files.append(p)
    out = []
    for f in files:
        with open(f, "rb") as fh:
            out.append(fh.read())
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="stdlib email parse rate (messages/s)")
    ap.add_argument("paths", nargs="*", help=".eml files or directories (default: generate)")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs")
    a = ap.parse_args(argv)
    if a.paths:
        mails = _load(a.paths)
    else:
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        from bench.mailgen import generate

        mails = list(generate(a.n, a.seed))
    size = sum(map(len, mails))
    print(f"mails: {len(mails)}  bytes: {size:,}  avg: {size / max(len(mails), 1) / 1024:.1f} KiB")
    d = stdlib_parse_rate(mails, a.repeat)
    c = compat32_parse_rate(mails, a.repeat)
    mib = size / len(mails) / 2**20
    print(f"policy=default + get_content(): {d:,.0f} msg/s ({d * mib:.1f} MiB/s)")
    print(f"compat32 + get_payload(decode): {c:,.0f} msg/s ({c * mib:.1f} MiB/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
