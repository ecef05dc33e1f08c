"""The index's words, kept apart so a prefix can be expanded into the words it stands for
(SQLite only).

FTS5 answers ``"order" *`` by merging the postings of every word that starts with "order"
into one list before it returns a row, however few rows are asked for: ~90 ms for a common
English word at a million conversations, for every statement. ``"order" OR "orders"`` (the
same rows) is read lazily, newest first, and stops at the ``LIMIT``: 0.3 ms. So the words
of every entry are kept in ``search_term``, and ``expand`` turns a prefix into that ``OR``
when it stands for at most ``MAX_EXPANSION`` words (else the prefix query stays as it is).

The words are added where entries are written (``remember``, in the same transaction), each
process remembering which it has added since it started (up to ``KNOWN_LIMIT``) so that the
hot path writes only new ones; rows copied in another way (a restore, the search
benchmark's generator) are followed by ``refill``, which reads them from FTS5's own
vocabulary. A word is never removed: a word whose entries are gone only adds an ``OR``
branch that matches nothing. PostgreSQL's GIN index serves prefixes itself (``'order':*``).

A trigger on ``search_entry`` would keep the table in step by itself, but measured it
doubles the cost of writing an entry (FTS5 145 µs, with the trigger 280 µs for 180 tokens);
this costs a set difference once the common words are known.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from django.db import DEFAULT_DB_ALIAS, connections, transaction

#: A prefix standing for more words than this is queried as a prefix.
MAX_EXPANSION = 256
#: The most words a process remembers having added (then it starts again: more writes).
KNOWN_LIMIT = 500_000
#: Above any character a word can hold (words are letters and digits).
_TOP = "\U0010ffff"

#: Per database file: the words this process has added to it (a test run may use several).
_known: dict[str, set[str]] = {}


def _sqlite(using: str) -> bool:
    return connections[using].vendor == "sqlite"


def _known_in(using: str) -> set[str]:
    return _known.setdefault(str(connections[using].settings_dict["NAME"]), set())


class _Texts(Protocol):
    """An entry's token fields (an ``Entry`` or a ``search.index.EntryRow``)."""

    @property
    def subject(self) -> str: ...
    @property
    def sender(self) -> str: ...
    @property
    def recipients(self) -> str: ...
    @property
    def body(self) -> str: ...


def words_of(entries: Iterable[_Texts]) -> set[str]:
    words: set[str] = set()
    for e in entries:
        words.update(f"{e.subject} {e.sender} {e.recipients} {e.body}".split())
    return words


def remember(entries: Iterable[_Texts], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Add the entries' words that this process has not added yet (call it in the
    transaction that writes the entries)."""
    if not _sqlite(using):
        return
    known = _known_in(using)
    new = words_of(entries) - known
    if not new:
        return
    with connections[using].cursor() as cursor:
        cursor.executemany(
            "INSERT OR IGNORE INTO search_term (term) VALUES (%s)", [(w,) for w in new]
        )
    # Known only once committed: a rolled-back batch's words must be written again.
    transaction.on_commit(lambda: _learn(known, new), using=using)


def _learn(known: set[str], words: set[str]) -> None:
    if len(known) + len(words) > KNOWN_LIMIT:
        known.clear()
    known.update(words)


def forget() -> None:
    """Forget what this process added (a table was emptied or replaced)."""
    _known.clear()


def refill(*, using: str = DEFAULT_DB_ALIAS) -> int:
    """Add every word of the full-text index (after rows were copied in without
    ``remember``); how many words the table has."""
    if not _sqlite(using):
        return 0
    with connections[using].cursor() as cursor:
        cursor.execute("INSERT OR IGNORE INTO search_term (term) SELECT term FROM search_vocab")
        cursor.execute("SELECT count(*) FROM search_term")
        (count,) = cursor.fetchone()
    return int(count)


def expand(prefix: str, *, using: str = DEFAULT_DB_ALIAS) -> list[str] | None:
    """The words starting with ``prefix``, or None when there are more than
    ``MAX_EXPANSION`` (then ask the index for the prefix)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT term FROM search_term WHERE term >= %s AND term < %s LIMIT %s",
            [prefix, prefix + _TOP, MAX_EXPANSION + 1],
        )
        words = [row[0] for row in cursor.fetchall()]
    return words if len(words) <= MAX_EXPANSION else None
