"""parse() must survive every real-world file of the shared corpus.

One test per corpus folder (the project the files come from), checking every file in it and
naming every failing file in its assertion: a test per file spent more time in pytest's
per-test set-up than in ``parse``.
"""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest

from madoguchi.mail import ParsedMail, parse

from .conftest import CORPUS, corpus_files

FILES = corpus_files()


#: The files by corpus folder (its first path part: the project they come from).
FOLDERS: dict[str, list[Path]] = {}
for _path in FILES:
    FOLDERS.setdefault(_path.relative_to(CORPUS).parts[0], []).append(_path)


def problems(path: Path) -> list[str]:
    """What is wrong with ``parse`` of one file: an exception, or an insane field."""
    try:
        result = parse(path.read_bytes())
    except Exception as exc:  # reported with the file's name, beside the others that fail
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return [f"raised {exc!r} at {where.filename}:{where.lineno}"]
    if not isinstance(result, ParsedMail):
        return [f"not a ParsedMail: {type(result).__name__}"]
    checks = {
        "subject is str": isinstance(result.subject, str),
        "text is str": isinstance(result.text, str),
        "reply_text is str": isinstance(result.reply_text, str),
        "kind is known": result.kind in ("normal", "auto_reply", "bulk", "bounce"),
        "html is None or str": result.html is None or isinstance(result.html, str),
        "attachments are bytes of their size": all(
            isinstance(a.data, bytes) and a.size == len(a.data) for a in result.attachments
        ),
        "headers are str pairs": all(
            isinstance(n, str) and isinstance(v, str) for n, v in result.headers
        ),
        "date is aware": result.date is None or result.date.tzinfo is not None,
    }
    return [f"not {name}" for name, ok in checks.items() if not ok]


@pytest.mark.skipif(not FILES, reason="corpus not available at ../shared/corpus")
@pytest.mark.parametrize("folder", sorted(FOLDERS) or ["-"])
def test_corpus_files_parse(folder: str) -> None:
    """Every corpus file of ``folder`` (messages, mbox, reply bodies) parses to a sane
    ParsedMail; the failure lists every file that does not, with what is wrong."""
    failed = {}
    for path in FOLDERS[folder]:
        found = problems(path)
        if found:
            failed[str(path.relative_to(CORPUS))] = found
    assert not failed, f"{len(failed)} of {len(FOLDERS[folder])} files:\n" + "\n".join(
        f"{name}: {'; '.join(found)}" for name, found in failed.items()
    )


def test_corpus_is_walked() -> None:
    """The corpus walk finds the expected large number of files (or skips cleanly)."""
    if not FILES:
        pytest.skip("corpus not available at ../shared/corpus")
    assert len(FILES) > 1500
