"""Shared helpers for the mail-core tests: corpus location and mail builders."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = (REPO / ".." / "shared" / "corpus").resolve()


def corpus_file(rel: str) -> bytes:
    """Read one corpus file, skipping the test when the corpus is absent."""
    path = CORPUS / rel
    if not path.exists():
        pytest.skip(f"corpus file {path} not available (expected ../shared/corpus)")
    return path.read_bytes()


def corpus_files() -> list[Path]:
    """Every corpus file except _meta folders and the top-level index files."""
    if not CORPUS.is_dir():
        return []
    return sorted(
        p
        for p in CORPUS.rglob("*")
        if p.is_file() and "_meta" not in p.parts and p.parent != CORPUS
    )


def mail(headers: str, body: bytes = b"Hello\n") -> bytes:
    """Build a raw mail from a header block (str) and a body (bytes)."""
    head = headers.strip("\n").replace("\n", "\r\n").encode("ascii", "surrogateescape")
    return head + b"\r\n\r\n" + body
