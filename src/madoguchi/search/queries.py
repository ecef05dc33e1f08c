"""Run a search for an agent: only their mailboxes, newest first or by relevance, bounded.

Words go to the database's full-text index (``backends``), which returns matching entries
newest first in chunks. The operators that belong to the conversation (status, assignee,
tag, unread, attachment) go into that statement when they keep fewer than ``NARROW``
conversations (their ids, over a window of entries); a broader filter is checked on each
walked entry's conversation before its text on PostgreSQL, and on each chunk's
conversations in one query on SQLite, until a page is full. A search reads at most about
``MAX_SCAN`` of the words' matches a page (a narrow filter: ``FILTER_SCOPE`` entries): a
filter that leaves almost nothing of a common word ends with "search further"
(``Results.more``), never with an unbounded scan. A query of operators alone is a filtered
list of conversations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from madoguchi.accounts.models import Agent
from madoguchi.conversations.models import Attachment, Conversation, Status
from madoguchi.conversations.queries import UNLISTED
from madoguchi.mailboxes.queries import visible_mailboxes
from madoguchi.search import backends
from madoguchi.search.models import Entry
from madoguchi.search.query import Query, parse
from madoguchi.search.text import fold

PAGE = 50
#: Matching entries read by the first statement; each next one reads ``GROWTH`` times more
#: (up to ``MAX_CHUNK``), so a filter that keeps few conversations costs a few statements.
CHUNK = 200
GROWTH = 4
MAX_CHUNK = 5_000
MAX_SCAN = 5_000
#: Conversation operators that keep fewer than ``NARROW`` conversations:
#: the filter goes into the full-text statement, over this many entries (not matches) a
#: page; a broader filter is cheaper checked on each chunk's conversations.
FILTER_SCOPE = 100_000
NARROW = 10_000
#: A filter the planner expects to keep more conversations than this is taken as broad
#: without reading its ids (a wrong guess costs time, never results).
BROAD = 5 * NARROW
#: Relevance ranks the newest matches only (a common word has hundreds of thousands).
RELEVANCE_POOL = 2_000
ORDERS = ("newest", "relevance")

_STATUS_WORDS = {
    **{s.value: s.value for s in Status},
    **{fold(s.label): s.value for s in Status},
    "in progress": Status.OPEN.value,
    "on hold": Status.HOLD.value,
    "未対応": Status.NEW.value,
}


@dataclass
class Hit:
    conversation: Conversation
    #: The newest matching entry of the conversation (None: an operators-only search).
    entry: Entry | None = None


@dataclass
class Results:
    query: Query
    hits: list[Hit] = field(default_factory=list)
    #: Where the next page starts (``?after=``), None on the last page.
    next_cursor: int | None = None
    #: The page stopped at ``MAX_SCAN`` entries read: there may be more further back.
    more: bool = False
    errors: list[tuple[str, str]] = field(default_factory=list)


def search(agent: Agent, raw: str, *, cursor: int | None = None, order: str = "newest") -> Results:
    query = parse(raw)
    results = Results(query, errors=list(query.errors))
    if query.empty:
        return results
    boxes = _mailboxes(agent, query, results)
    if not boxes:
        return results
    if not query.has_text:
        return _operators_only(agent, query, boxes, cursor, results)
    if order == "relevance":
        return _by_relevance(agent, query, boxes, results)
    return _newest(agent, query, boxes, cursor, results)


def _mailboxes(agent: Agent, query: Query, results: Results) -> list[int]:
    boxes = list(visible_mailboxes(agent).values_list("pk", "name", "address"))
    if query.mailbox:
        wanted = [fold(m) for m in query.mailbox]
        boxes = [b for b in boxes if any(w in fold(b[1]) or w in fold(b[2]) for w in wanted)]
        if not boxes:
            results.errors.append(("mailbox", ", ".join(query.mailbox)))
    return [pk for pk, _, _ in boxes]


def _conversation_filter(agent: Agent, query: Query, results: Results) -> Q:
    where = Q()
    if query.status:
        known = [_STATUS_WORDS.get(fold(s)) for s in query.status]
        for word, value in zip(query.status, known, strict=True):
            if value is None:
                results.errors.append(("status", word))
        where &= Q(status__in=[v for v in known if v])
    if query.assignee:
        where &= _assignee(agent, query.assignee, results)
    for tag in query.tag:
        where &= _tagged(tag)
    if query.unread:
        where &= Q(unread=True)
    if query.has_attachment:
        files = Attachment.objects.filter(message__conversation=OuterRef("pk"), inline=False)
        where &= Q(Exists(files))
    return where


def _tagged(tag: str) -> Q:
    return Q(tags__name__iexact=tag)


def _assignee(agent: Agent, words: list[str], results: Results) -> Q:
    either = Q()
    for word in words:
        folded = fold(word)
        if folded in ("me", "自分", "私"):
            either |= Q(assignee_id=agent.user_id)
        elif folded in ("none", "nobody", "なし", "未割り当て", "担当者なし"):
            either |= Q(assignee__isnull=True)
        else:
            users = Agent.objects.filter(
                Q(user__username__iexact=word) | Q(display_name__icontains=word)
            ).values_list("user_id", flat=True)
            found = list(users[:20])
            if not found:
                results.errors.append(("assignee", word))
            either |= Q(assignee_id__in=found)
    return either


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _at_range(query: Query) -> tuple[datetime | None, datetime | None]:
    """``after:`` the day itself counts; ``before:`` the day itself does not."""
    start = _day_start(query.after) if query.after else None
    end = _day_start(query.before) if query.before else None
    return start, end


def _newest(
    agent: Agent, query: Query, boxes: list[int], cursor: int | None, results: Results
) -> Results:
    where = _conversation_filter(agent, query, results)
    if where:
        within, tag_alone = _within(query, where, boxes)
        if tag_alone or backends.estimated_rows(within) <= BROAD:
            ids = backends.ids_of(within[:NARROW])
            if len(ids) < NARROW:  # a narrow filter: into the statement
                return _newest_within(query, boxes, cursor, results, ids)
        if backends.filters_in_walk():
            return _newest_kept(query, where, boxes, cursor, results)
    start, end = _at_range(query)
    match = backends.match_expression(query)
    first: dict[int, int] = {}  # conversation -> its newest matching entry on this page
    scanned, below, chunk = 0, cursor, CHUNK
    more_at = None
    while len(first) <= PAGE:
        if scanned >= MAX_SCAN:
            more_at = below
            break
        limit = min(chunk, MAX_SCAN - scanned)
        rows = backends.matching(match, boxes, below=below, start=start, end=end, limit=limit)
        if not rows:
            break
        scanned += len(rows)
        chunk = min(chunk * GROWTH, MAX_CHUNK)
        below = rows[-1][0]
        fresh = _unseen(rows, first, match, cursor, start=start, end=end)
        kept = _filtered(fresh, where)
        first.update((c, e) for c, e in fresh.items() if c in kept)
        if len(rows) < limit:
            break
    return _page(results, first, more_at)


def _within(query: Query, where: Q, boxes: list[int]) -> tuple[QuerySet[Any], bool]:
    """The ids of the conversations the operators keep, and whether they are one tag's.
    One tag alone is read from the tag table alone: the statement checks the mailboxes on
    the entries (at a million conversations, the join to the conversations took 17-21 ms
    for a tag's 4,500 where the tag table took 0.5-2 ms), and its first ``NARROW`` come
    from the tag's index, so nothing is guessed first."""
    if len(query.tag) == 1 and where == _tagged(query.tag[0]):  # the tag and nothing else
        tagged = Conversation.tags.through.objects.filter(tag__name__iexact=query.tag[0])
        return tagged.values_list("conversation_id"), True
    return Conversation.objects.filter(where, mailbox_id__in=boxes).values_list("pk"), False


def _newest_kept(
    query: Query, where: Q, boxes: list[int], cursor: int | None, results: Results
) -> Results:  # fmt: skip
    """Newest first with a broad conversation filter on PostgreSQL: the filter is checked
    on each entry's conversation in the walk, before its text (``backends.matching_kept``),
    and the page reads at most about ``MAX_SCAN`` of the words' matches."""
    start, end = _at_range(query)
    match = backends.match_expression(query)
    keep = backends.correlated(Conversation.objects.filter(where))
    first: dict[int, int] = {}
    if keep is None:  # status: of nothing known
        return _page(results, first, None)
    scanned, below, more_at = 0, cursor, None
    while len(first) <= PAGE:
        if scanned >= MAX_SCAN:
            more_at = below
            break
        rows, used, below = backends.matching_kept(
            match, boxes, keep, below=below, start=start, end=end,
            limit=2 * (PAGE + 1 - len(first)), scan=MAX_SCAN - scanned,
        )  # fmt: skip
        scanned += used
        first.update(_unseen(rows, first, match, cursor, start=start, end=end))
        if not below:
            break
    return _page(results, first, more_at)


def _newest_within(
    query: Query, boxes: list[int], cursor: int | None, results: Results, within: list[int]
) -> Results:  # fmt: skip
    """Newest first with conversation operators: the conversations they keep
    (``within``, read once: fewer than ``NARROW``) go into the statement
    (``backends.matching_within``), over the newest ``FILTER_SCOPE`` entries below the
    cursor; a page not full by then offers to search further back."""
    start, end = _at_range(query)
    match = backends.match_expression(query)
    top = cursor if cursor is not None else backends.newest_id() + 1
    floor = max(0, top - FILTER_SCOPE)
    first: dict[int, int] = {}
    below = top
    while len(first) <= PAGE:
        # about what could fill the page (twice: a conversation often matches more than
        # once): the statement stops there, not at the window's end
        limit = 2 * (PAGE + 1 - len(first))
        rows = backends.matching_within(match, boxes, within, below=below, floor=floor,
                                        start=start, end=end, limit=limit)  # fmt: skip
        first.update(_unseen(rows, first, match, cursor, start=start, end=end))
        if len(rows) < limit:
            break
        below = rows[-1][0]
    return _page(results, first, floor or None)


def _unseen(
    rows: list[tuple[int, int]], first: dict[int, int], match: str, cursor: int | None, *,
    start: datetime | None, end: datetime | None,
) -> dict[int, int]:  # fmt: skip
    """The newest entry of each conversation in ``rows`` that this page has not got yet and
    no earlier page showed (one with a newer matching entry than ``cursor`` was shown)."""
    fresh: dict[int, int] = {}
    for entry_id, conv_id in rows:
        if conv_id not in first and conv_id not in fresh:
            fresh[conv_id] = entry_id
    if cursor is not None and fresh:
        shown = backends.conversations_matching(
            match, list(fresh), at_least=cursor, start=start, end=end
        )
        for conv_id in shown:
            fresh.pop(conv_id, None)
    return fresh


def _page(results: Results, first: dict[int, int], more_at: int | None) -> Results:
    """The page's hits, newest first; where the next page starts: after the page's last
    hit when there are more, or ``more_at`` when the scan stopped at its bound."""
    ordered = sorted(first.items(), key=lambda item: -item[1])
    if len(ordered) > PAGE:
        results.next_cursor = ordered[PAGE - 1][1]
        ordered = ordered[:PAGE]
    elif more_at is not None:
        results.more, results.next_cursor = True, more_at
    results.hits = _hits(ordered)
    return results


def _filtered(fresh: dict[int, int], where: Q) -> set[int]:
    if not fresh:
        return set()
    if not where:
        return set(fresh)
    rows = Conversation.objects.filter(where, pk__in=list(fresh)).values_list("pk", flat=True)
    return set(rows.distinct())


def _hits(ordered: list[tuple[int, int]]) -> list[Hit]:
    # The row reads the assignee's agent; the mailbox's secrets are never needed.
    convs = (
        Conversation.objects.select_related("mailbox", "assignee__agent", "contact")
        .defer(*UNLISTED)
        .in_bulk([c for c, _ in ordered])
    )
    # The snippet reads the message's or the note's text, nothing else of either.
    entries = (
        Entry.objects.select_related("message", "note")
        .only("id", "kind", "conversation_id", "message__text", "note__text")
        .in_bulk([e for _, e in ordered])
    )
    return [Hit(convs[c], entries.get(e)) for c, e in ordered if c in convs]


def _by_relevance(agent: Agent, query: Query, boxes: list[int], results: Results) -> Results:
    where = _conversation_filter(agent, query, results)
    start, end = _at_range(query)
    ranked = backends.ranked(
        backends.match_expression(query), boxes, start=start, end=end, limit=RELEVANCE_POOL
    )
    best: dict[int, tuple[float, int]] = {}
    for entry_id, conv_id, score in ranked:
        if conv_id not in best or score > best[conv_id][0]:
            best[conv_id] = (score, entry_id)
    kept = _filtered({c: e for c, (_, e) in best.items()}, where)
    ordered = sorted(
        ((c, e) for c, (s, e) in best.items() if c in kept),
        key=lambda item: (-best[item[0]][0], -item[1]),
    )
    results.hits = _hits(ordered[:PAGE])
    results.more = len(ranked) >= RELEVANCE_POOL
    return results


def _operators_only(
    agent: Agent, query: Query, boxes: list[int], cursor: int | None, results: Results
) -> Results:
    rows: QuerySet[Conversation] = Conversation.objects.filter(
        _conversation_filter(agent, query, results), mailbox_id__in=boxes
    )
    start, end = _at_range(query)
    if start:
        rows = rows.filter(last_activity_at__gte=start)
    if end:
        rows = rows.filter(last_activity_at__lt=end)
    if cursor is not None:
        rows = rows.filter(pk__lt=cursor)
    page = list(
        rows.select_related("mailbox", "assignee__agent", "contact")
        .defer(*UNLISTED)
        .distinct()
        .order_by("-pk")[: PAGE + 1]
    )
    if len(page) > PAGE:
        page = page[:PAGE]
        results.next_cursor = page[-1].pk
    results.hits = [Hit(conv) for conv in page]
    return results
