"""parse() must survive every real-world file of the shared corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from madoguchi.mail import ParsedMail, parse

from .conftest import CORPUS, corpus_files

FILES = corpus_files()


@pytest.mark.skipif(not FILES, reason="corpus not available at ../shared/corpus")
@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_file_parses(path: Path) -> None:
    """Every corpus file (messages, mbox, reply bodies) parses to a sane ParsedMail."""
    result = parse(path.read_bytes())
    assert isinstance(result, ParsedMail)
    assert isinstance(result.subject, str)
    assert isinstance(result.text, str)
    assert isinstance(result.reply_text, str)
    assert result.kind in ("normal", "auto_reply", "bulk", "bounce")
    assert result.html is None or isinstance(result.html, str)
    assert all(isinstance(a.data, bytes) and a.size == len(a.data) for a in result.attachments)
    assert all(isinstance(n, str) and isinstance(v, str) for n, v in result.headers)
    assert result.date is None or result.date.tzinfo is not None


def test_corpus_is_walked() -> None:
    """The corpus walk finds the expected large number of files (or skips cleanly)."""
    if not FILES:
        pytest.skip("corpus not available at ../shared/corpus")
    assert len(FILES) > 1500
