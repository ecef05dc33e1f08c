"""The full-text queries, in each database's own language (the index: ``search.models``).

A ``Query``'s terms become an FTS5 ``MATCH`` expression on SQLite and a ``tsquery`` on
PostgreSQL: a term is the phrase of its words (adjacent, in order), the last one a prefix
when the term says so; ``subject:``, ``from:`` and ``to:`` ask one field (an FTS5 column,
a ``tsvector`` weight); all terms must match. Matching entries come newest first (the
entry id), in chunks, already limited to the agent's mailboxes and the date range. On
PostgreSQL a query of ``from:`` and ``to:`` terms alone is asked of the people fields' own
column, ``tsv_people`` (``Match.column``; migration 0007), one of ``subject:`` terms alone of
``tsv_subject`` (migration 0010), the others of ``tsv``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from madoguchi.search import terms
from madoguchi.search.query import Query
from madoguchi.search.text import Term


class SearchUnavailable(Exception):
    """The database has no full-text index Madoguchi knows (neither SQLite nor PostgreSQL)."""


class Match(str):
    """A full-text expression (``match_expression``), with the PostgreSQL column it is asked
    of: ``tsv`` (every field), ``tsv_people`` (sender and recipients) or ``tsv_subject``: a
    few dozen bytes a row where ``tsv`` holds the whole mail, so each check of a weighted
    term costs a fraction."""

    column: str

    def __new__(cls, text: str, column: str = "tsv") -> Match:
        made = super().__new__(cls, text)
        made.column = column
        return made


def _column(match: str) -> str:
    return getattr(match, "column", "tsv")


_WEIGHT = {"subject": "A", "sender": "B", "recipients": "C"}
#: Entries' ids with their conversation, mailbox and time (migrations 0008 and 0011).
WALK_INDEX = "search_entry_walk"
#: The fields in ``tsv_people`` (PostgreSQL).
PEOPLE = frozenset({"sender", "recipients"})


def _pg_column(query: Query) -> str:
    """The smallest ``tsvector`` that holds every field the query asks."""
    fields = {column for column, _ in query.fields}
    if query.terms or not fields:
        return "tsv"
    if fields <= PEOPLE:
        return "tsv_people"
    return "tsv_subject" if fields == {"subject"} else "tsv"


def _fts5(term: Term) -> str:
    """A phrase; a prefix as the ``OR`` of the words it stands for when they are few
    (``search.terms``: FTS5 merges all of a prefix's postings before the first row)."""
    phrase = '"' + " ".join(term.words) + '"'
    if not term.prefix:
        return phrase
    words = terms.expand(term.words[-1])
    if not words:  # none (nothing matches: as fast either way) or too many
        return phrase + " *"
    head = "".join(w + " " for w in term.words[:-1])
    return "(" + " OR ".join(f'"{head}{w}"' for w in words) + ")"


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
        return Match(" & ".join(parts), _pg_column(query))
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
    text: bool = True,
) -> tuple[str, list[Any]]:
    """The ``FROM … WHERE …`` of entries matching ``match`` (any entry: not ``text``)."""
    params: list[Any] = [match]
    # SQLite reads each match's conversation, mailbox and time from the walk index
    # (migration 0011: the table's rows hold the whole mail's tokens) and must not use its
    # later columns to look a list up value by value (``+``: a match × a list's lookups).
    col = "e."
    if not text:
        rowid, sql, params = "e.id", "FROM search_entry e WHERE TRUE", []
    elif connection.vendor == "sqlite":
        rowid, col = "search_fts.rowid", "+e."
        sql = (f"FROM search_fts JOIN search_entry e INDEXED BY {WALK_INDEX} "
               "ON e.id = search_fts.rowid WHERE search_fts MATCH %s")  # fmt: skip
    else:
        rowid = "e.id"
        sql = f"FROM search_entry e WHERE e.{_column(match)} @@ to_tsquery('simple'::regconfig, %s)"
    if mailboxes is not None:
        sql += f" AND {col}mailbox_id IN ({', '.join(['%s'] * len(mailboxes))})"
        params += mailboxes
    if conversations is not None:
        sql += f" AND {col}conversation_id IN ({', '.join(['%s'] * len(conversations))})"
        params += conversations
    for clause, value in (
        (f" AND {rowid} < %s", below),
        (f" AND {rowid} >= %s", at_least),
        (f" AND {col}at >= %s", start),
        (f" AND {col}at < %s", end),
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
    if connection.vendor == "postgresql":
        return _pg_matching(match, mailboxes, below=below, start=start, end=end, limit=limit)
    where, params = _where(match, mailboxes, below=below, start=start, end=end)
    order = "search_fts.rowid" if connection.vendor == "sqlite" else "e.id"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.id, e.conversation_id {where} ORDER BY {order} DESC LIMIT %s",
            [*params, limit],
        )
        return [(int(a), int(b)) for a, b in cursor.fetchall()]


#: PostgreSQL: the newest entries read one by one before anything is guessed
#: (``_pg_matching``), and the most read by one statement after that.
WALK = 2_000
MAX_WALK = 50_000
#: Reading an entry the index found (at random, checked, sorted) costs about this many
#: entries read in order.
BITMAP_COST = 3


def _pg_matching(
    match: str,
    mailboxes: list[int],
    *,
    below: int | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
) -> list[tuple[int, int]]:
    """PostgreSQL's planner guesses how many entries match from statistics that cannot
    know: a phrase of bigrams (パスワード) as if its bigrams were independent (24 rows
    guessed, 173,534 found at a million conversations: it reads and rechecks them all, 3 s),
    a word outside its sample as 10,954 (862 found for 柏崎: it walks 650,000 entries
    backwards, 1.4 s). So the plan is chosen here, from what it sees: the newest ``WALK``
    entries are read in order and checked; at the rate they matched, reading on costs
    ``need / rate`` entries, and asking the GIN index for every older match costs about
    ``rate × older entries`` (× ``BITMAP_COST``): it reads on while that is cheaper (a
    common term), else asks the index (a rare one).
    """
    found: list[tuple[int, int]] = []
    walked, budget = 0, WALK
    while True:
        rows, edge, seen, _ = _pg_walk(match, mailboxes, below=below, start=start, end=end,
                                       budget=budget, limit=limit - len(found))  # fmt: skip
        found += rows
        walked += seen
        if len(found) >= limit or seen < budget:  # full, or nothing older
            return found
        below = edge
        rate = len(found) / walked
        if not rate:
            break
        reading_on = (limit - len(found)) / rate * 1.5
        if reading_on > BITMAP_COST * rate * edge:
            break
        budget = min(MAX_WALK, int(reading_on) + 1)
    where, params = _where(match, mailboxes, below=below, start=start, end=end)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH m AS MATERIALIZED (SELECT e.id, e.conversation_id {where}) "
            "SELECT id, conversation_id FROM m ORDER BY id DESC LIMIT %s",
            [*params, limit - len(found)],
        )
        return found + [(int(a), int(b)) for a, b in cursor.fetchall()]


def _pg_walk(
    match: str,
    mailboxes: list[int],
    *,
    below: int | None,
    start: datetime | None,
    end: datetime | None,
    budget: int,
    limit: int,
    keep: tuple[str, Any] | None = None,
) -> tuple[list[tuple[int, int]], int, int, int]:
    """The newest ``limit`` matches among the newest ``budget`` entries below ``below``;
    the oldest entry read, how many were read and how many of those ``keep`` kept (a
    correlated ``EXISTS`` over the entry's conversation, checked before the text: each
    check of the text decompresses the whole mail's vector; one statement)."""
    where, params = _where("", mailboxes, below=below, start=start, end=end, text=False)
    test = f"e.{_column(match)} @@ to_tsquery('simple'::regconfig, %s)"
    head: list[Any] = [match]
    if keep is not None:
        # OFFSET 0: else the planner may hash every conversation the filter keeps
        test = f"CASE WHEN EXISTS ({keep[0]} OFFSET 0) THEN {test} END"
        head = [*keep[1], match]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH w AS MATERIALIZED (SELECT e.id, e.conversation_id, {test} AS hit {where} "
            "ORDER BY e.id DESC LIMIT %s) "
            "(SELECT id, conversation_id, 1, 0 FROM w WHERE hit ORDER BY id DESC LIMIT %s) "
            "UNION ALL (SELECT min(id), count(*), 0, count(hit) FROM w)",
            [*head, *params, budget, limit],
        )
        rows = cursor.fetchall()
    edge, seen, kept = next((a, b, k) for a, b, hit, k in rows if not hit)
    found = [(int(a), int(b)) for a, b, hit, _ in rows if hit]
    return found, int(edge or 0), int(seen), int(kept)


def correlated(conversations: QuerySet[Any]) -> tuple[str, Any] | None:
    """``conversations`` (a filtered queryset) as the subquery ``matching_kept``'s walk
    checks for each entry: the entry's own conversation if the filter keeps it; None for a
    filter no conversation can pass."""
    rows = conversations.filter(pk=RawSQL("e.conversation_id", [])).order_by().values("pk")
    return _statement(rows)


def matching_kept(
    match: str,
    mailboxes: list[int],
    keep: tuple[str, Any],
    *,
    below: int | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    scan: int,
) -> tuple[list[tuple[int, int]], int, int]:
    """PostgreSQL, with a broad conversation filter (``keep``, ``correlated``): the newest
    ``limit`` matching entries whose conversation the filter keeps, the filter checked
    before the text. Bounded as ``queries`` bounds a page, by the word's matches: the
    walks stop once they have read about ``scan`` of them (estimated from the entries the
    filter kept: the others' text is not checked); the GIN index is asked only for a word
    whose older matches should all fit in what is left of ``scan``.

    Returns the entries, the word's matches read (estimated) and where the next call
    starts (0: nothing older)."""
    found: list[tuple[int, int]] = []
    walked = kept = 0
    budget = WALK
    while True:
        rows, edge, seen, kept_now = _pg_walk(
            match, mailboxes, below=below, start=start, end=end, budget=budget,
            limit=limit - len(found), keep=keep,
        )  # fmt: skip
        found += rows
        walked += seen
        kept += kept_now
        # the word's rate among the entries whose text was checked, leaning high while
        # they are few (none checked: every entry a match)
        rate = (len(found) + 1) / (kept + 1)
        used = round(walked * rate)
        if len(found) >= limit:
            return found, used, found[-1][0]
        if seen < budget:  # nothing older
            return found, used, 0
        below = edge
        if used >= scan:
            return found, used, edge
        older = rate * edge  # the word's matches below the edge, at this rate
        kept_rate = len(found) / walked
        reading_on = (limit - len(found)) / kept_rate * 1.5 if kept_rate else float("inf")
        if older <= scan - used and BITMAP_COST * older < reading_on:
            break
        budget = min(MAX_WALK, int(min(reading_on, (scan - used) / rate)) + 1)
    where, params = _where(match, mailboxes, below=below, start=start, end=end)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH m AS MATERIALIZED (SELECT e.id, e.conversation_id {where}) "
            f"SELECT id, conversation_id FROM m e WHERE EXISTS ({keep[0]} OFFSET 0) "
            "ORDER BY id DESC LIMIT %s",
            [*params, *keep[1], limit - len(found)],
        )
        rows = [(int(a), int(b)) for a, b in cursor.fetchall()]
    found += rows
    return found, used + round(older), found[-1][0] if len(found) >= limit else 0


def filters_in_walk() -> bool:
    """Whether a broad conversation filter is checked in the walk (``matching_kept``)."""
    return connection.vendor == "postgresql"


def newest_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM search_entry")
        (top,) = cursor.fetchone()
    return int(top or 0)


def _statement(rows: QuerySet[Any]) -> tuple[str, Any] | None:
    """The SQL of ``rows`` and its parameters; None for a filter no row can pass (status:
    of nothing known), which Django does not send."""
    try:
        return rows.query.sql_with_params()
    except EmptyResultSet:
        return None


def ids_of(rows: QuerySet[Any]) -> list[int]:
    """The first column of a ``values_list`` query, read by the cursor (thousands of
    conversation ids for ``matching_within``: Django's row iteration cost more than the
    query)."""
    if (statement := _statement(rows)) is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(*statement)
        return [int(row[0]) for row in cursor.fetchall()]


#: SQLite: how many of the newest rows ``estimated_rows`` checks.
SAMPLE = 1_000


def estimated_rows(rows: QuerySet[Any]) -> int:
    """How many rows ``rows`` should give, without reading them: PostgreSQL's planner's
    guess (its statistics: a fraction of a millisecond, where counting the unread
    conversations of a million took 23 ms); on SQLite, which keeps no such statistics, the
    share of the newest ``SAMPLE`` rows (by key) that pass, times the newest key (reading
    10,000 ids of unread conversations to learn the filter was broad took 14 ms)."""
    if connection.vendor == "sqlite":
        # the keys themselves: given a range, SQLite walked the status index instead
        keys = rows.model._base_manager.order_by("-pk").values_list("pk", flat=True)
        newest: list[int] = list(keys[:SAMPLE])
        if len(newest) < SAMPLE:
            return 0
        return rows.filter(pk__in=newest).count() * int(newest[0]) // SAMPLE
    if (statement := _statement(rows)) is None:
        return 0
    sql, params = statement
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


#: ``matching_within``: up to this many conversations, their entries are found through the
#: conversation index (a few lookups each); more, by walking the window's entries in the
#: walk index (~100,000 index entries, 10-15 ms at a million conversations).
DRIVE = 500


def matching_within(
    match: str,
    mailboxes: list[int],
    within: list[int],
    *,
    below: int,
    floor: int,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int,
) -> list[tuple[int, int]]:
    """PostgreSQL, with conversation operators: the matching entries of the conversations
    ``within`` (their ids), newest first, among the entries from ``floor`` to below
    ``below``.

    The entries are read in id order from an index that holds each one's conversation,
    mailbox and time (``search_entry_walk``, migration 0008: no table page for an entry
    of another conversation) and kept only when their conversation is one of ``within``
    (constants: PostgreSQL hashes the array); only those are looked up in the table, one by
    one, to check their ``tsv`` (a subquery per entry, newest first, until ``limit``
    matched). The ids are read once by the caller, not a subquery here: at a million
    conversations the tag's 4,500 conversations cost 25 ms to find, once. A filter
    that leaves few conversations costs a walk over the index, not a check of every
    matching entry (``OFFSET 0`` keeps the planner from merging the steps)."""
    if not within:
        return []
    if connection.vendor == "sqlite":
        return _sqlite_within(match, mailboxes, within, below=below, floor=floor, start=start,
                              end=end, limit=limit)  # fmt: skip
    where, params = _where("", mailboxes, below=below, at_least=floor, start=start, end=end,
                           text=False)  # fmt: skip
    # ``+ 0``: not the conversation index, the walk (the planner guesses the entries of
    # many conversations within the window far too few: 570 for 18,000 at a million).
    # ``bigint[]``: psycopg sends small ids as ``integer[]``, which PostgreSQL compares to
    # a bigint one element after another (913 ms for 4,500 ids over 100,000 entries)
    # where it hashes an array of its own type (25 ms).
    walk = " + 0" if len(within) > DRIVE else ""
    sql = (
        f"SELECT w.id, w.conversation_id FROM (SELECT e.id, e.conversation_id {where} "
        f"AND e.conversation_id{walk} = ANY(%s::bigint[]) ORDER BY e.id DESC OFFSET 0) w "
        f"WHERE (SELECT t.{_column(match)} @@ to_tsquery('simple'::regconfig, %s) "
        "FROM search_entry t WHERE t.id = w.id) ORDER BY w.id DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        # the array as PostgreSQL writes it: psycopg adapts a list element by element
        array = "{" + ",".join(map(str, within)) + "}"
        cursor.execute(sql, [*params, array, match, limit])
        return [(int(a), int(b)) for a, b in cursor.fetchall()]


def _sqlite_within(
    match: str,
    mailboxes: list[int],
    within: list[int],
    *,
    below: int,
    floor: int,
    start: datetime | None,
    end: datetime | None,
    limit: int,
) -> list[tuple[int, int]]:
    """SQLite: FTS5 gives the window's matching entries newest first (it seeks to
    ``below`` in each word's list) and each is kept when its conversation, read from the
    walk index, is one of ``within`` (a temporary index SQLite builds once from the JSON
    array). At a million conversations, ``invoice`` has 34,666 matches in a window of
    100,000 entries: 43 ms to read them all from the table, 19 from the index."""
    where, params = _where(match, mailboxes, below=below, at_least=floor, start=start, end=end)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.id, e.conversation_id {where} AND +e.conversation_id IN "
            "(SELECT value FROM json_each(%s)) ORDER BY search_fts.rowid DESC LIMIT %s",
            [*params, json.dumps(within), limit],
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
    if connection.vendor == "postgresql":
        return _pg_ranked(match, mailboxes, start=start, end=end, limit=limit)
    where, params = _where(match, mailboxes, start=start, end=end)
    score = "-bm25(search_fts, 10.0, 4.0, 2.0, 1.0)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.id, e.conversation_id, {score} {where} "
            "ORDER BY search_fts.rowid DESC LIMIT %s",
            [*params, limit],
        )
        return [(int(a), int(b), float(c)) for a, b, c in cursor.fetchall()]


def _pg_ranked(
    match: str,
    mailboxes: list[int],
    *,
    start: datetime | None,
    end: datetime | None,
    limit: int,
) -> list[tuple[int, int, float]]:
    """The newest matches as ``_pg_matching`` finds them, then their ranks."""
    ids = [entry for entry, _ in _pg_matching(
        match, mailboxes, below=None, start=start, end=end, limit=limit
    )]  # fmt: skip
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, conversation_id, ts_rank('{{0.1, 0.2, 0.4, 1.0}}', {_column(match)}, "
            "to_tsquery('simple'::regconfig, %s)) FROM search_entry WHERE id = ANY(%s) "
            "ORDER BY id DESC",
            [match, ids],
        )
        return [(int(a), int(b), float(c)) for a, b, c in cursor.fetchall()]
