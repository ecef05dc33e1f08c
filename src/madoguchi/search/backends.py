"""The full-text queries, in each database's own language (the index: ``search.models``).

A ``Query``'s terms become an FTS5 ``MATCH`` expression on SQLite and a ``tsquery`` on
PostgreSQL: a term is the phrase of its words (adjacent, in order), the last one a prefix
when the term says so; ``subject:``, ``from:`` and ``to:`` ask one field (an FTS5 column,
a ``tsvector`` weight); all terms must match. Matching entries come newest first (the
entry id), in chunks, already limited to the agent's mailboxes and the date range.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection

from madoguchi.search.query import Query
from madoguchi.search.text import Term


class SearchUnavailable(Exception):
    """The database has no full-text index Madoguchi knows (neither SQLite nor PostgreSQL)."""


_WEIGHT = {"subject": "A", "sender": "B", "recipients": "C"}


def _fts5(term: Term) -> str:
    phrase = '"' + " ".join(term.words) + '"'
    return phrase + " *" if term.prefix else phrase


def _tsquery(term: Term, weight: str = "") -> str:
    last = len(term.words) - 1
    parts = []
    for i, word in enumerate(term.words):
        suffix = ("*" if term.prefix and i == last else "") + weight
        parts.append(f"'{word}'" + (f":{suffix}" if suffix else ""))
    return "(" + " <-> ".join(parts) + ")"


def match_expression(query: Query) -> str:
    """The database's full-text expression for the query's terms and field terms."""
    vendor = connection.vendor
    if vendor == "sqlite":
        parts = [_fts5(t) for t in query.terms]
        parts += [f"{column} : {_fts5(t)}" for column, t in query.fields]
        return " AND ".join(parts)
    if vendor == "postgresql":
        parts = [_tsquery(t) for t in query.terms]
        parts += [_tsquery(t, _WEIGHT[column]) for column, t in query.fields]
        return " & ".join(parts)
    raise SearchUnavailable(vendor)


def _where(
    match: str,
    mailboxes: list[int] | None,
    *,
    below: int | None = None,
    at_least: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    conversations: list[int] | None = None,
) -> tuple[str, list[Any]]:
    if connection.vendor == "sqlite":
        rowid = "search_fts.rowid"
        sql = ("FROM search_fts JOIN search_entry e ON e.id = search_fts.rowid "
               "WHERE search_fts MATCH %s")  # fmt: skip
    else:
        rowid = "e.id"
        sql = "FROM search_entry e WHERE e.tsv @@ to_tsquery('simple'::regconfig, %s)"
    params: list[Any] = [match]
    if mailboxes is not None:
        sql += f" AND e.mailbox_id IN ({', '.join(['%s'] * len(mailboxes))})"
        params += mailboxes
    if conversations is not None:
        sql += f" AND e.conversation_id IN ({', '.join(['%s'] * len(conversations))})"
        params += conversations
    for clause, value in (
        (f" AND {rowid} < %s", below),
        (f" AND {rowid} >= %s", at_least),
        (" AND e.at >= %s", start),
        (" AND e.at < %s", end),
    ):
        if value is not None:
            sql += clause
            params.append(value)
    return sql, params


def matching(
    match: str,
    mailboxes: list[int],
    *,
    below: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int,
) -> list[tuple[int, int]]:
    """(entry id, conversation id) of matching entries, newest first."""
    if not mailboxes:
        return []
    where, params = _where(match, mailboxes, below=below, start=start, end=end)
    order = "search_fts.rowid" if connection.vendor == "sqlite" else "e.id"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.id, e.conversation_id {where} ORDER BY {order} DESC LIMIT %s",
            [*params, limit],
        )
        return [(int(a), int(b)) for a, b in cursor.fetchall()]


def conversations_matching(
    match: str,
    conversations: list[int],
    *,
    at_least: int,
    start: datetime | None = None,
    end: datetime | None = None,
) -> set[int]:
    """Which of ``conversations`` have a matching entry at ``at_least`` or newer."""
    where, params = _where(
        match, None, at_least=at_least, start=start, end=end, conversations=conversations
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT e.conversation_id {where}", params)
        return {int(row[0]) for row in cursor.fetchall()}


def ranked(
    match: str,
    mailboxes: list[int],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int,
) -> list[tuple[int, int, float]]:
    """(entry id, conversation id, score: higher is better) of the newest ``limit``
    matching entries. The subject weighs most, then the sender, the recipients, the body."""
    if not mailboxes:
        return []
    where, params = _where(match, mailboxes, start=start, end=end)
    if connection.vendor == "sqlite":
        score, order = "-bm25(search_fts, 10.0, 4.0, 2.0, 1.0)", "search_fts.rowid"
    else:
        score = "ts_rank('{0.1, 0.2, 0.4, 1.0}', e.tsv, to_tsquery('simple'::regconfig, %s))"
        params = [match, *params]
        order = "e.id"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.id, e.conversation_id, {score} {where} ORDER BY {order} DESC LIMIT %s",
            [*params, limit],
        )
        return [(int(a), int(b), float(c)) for a, b, c in cursor.fetchall()]
