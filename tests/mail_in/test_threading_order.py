"""Threading does not depend on the order mail arrives in (docs/mail/threading.md).

Each test builds one or more true threads (trees of Message-IDs), writes their mails with
In-Reply-To only, References only, both, or a mix, delivers them in many orders through the
real intake path (``accept_many`` + ``ingest``) one per ingest, as one batch, or split across
two batches, and compares the conversations (a partition of the mails) with the true threads.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Iterable, Iterator, Sequence

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from madoguchi.conversations.models import Conversation, Message, Note, Tag
from madoguchi.core.models import Event
from madoguchi.mail_in import actions
from madoguchi.mail_in.models import RawMessage
from madoguchi.mail_in.types import RawInbound
from madoguchi.mail_out.models import Draft
from madoguchi.mailboxes.actions import create_mailbox
from madoguchi.mailboxes.models import Mailbox
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db

#: Message-ID → its parent's Message-ID (None for the root).
Tree = dict[str, str | None]
STYLES = ("in_reply_to", "references", "both")
#: How a delivery order is cut into ingest calls.
MODES = ("one_by_one", "one_batch", "two_batches")


def delivered(mailbox: Mailbox, data: bytes) -> Message:
    """``deliver`` one mail that must become a message."""
    message = deliver(mailbox, data)
    assert message is not None
    return message


def mid(tree: str, name: str) -> str:
    return f"{tree}.{name}@c.example"


def tree_of(name: str, edges: str) -> Tree:
    """``tree_of("t", "a b:a c:b")``: a root ``a``, ``b`` replying to ``a``, ``c`` to ``b``."""
    tree: Tree = {}
    for node in edges.split():
        child, _, parent = node.partition(":")
        tree[mid(name, child)] = mid(name, parent) if parent else None
    return tree


def random_tree(name: str, size: int, rng: random.Random) -> Tree:
    """A thread of ``size`` mails, each replying to a random earlier one."""
    ids = [mid(name, str(i)) for i in range(size)]
    return {m: (rng.choice(ids[:i]) if i else None) for i, m in enumerate(ids)}


def ancestry(tree: Tree, message_id: str) -> list[str]:
    """The ancestors of ``message_id``, root first."""
    path: list[str] = []
    parent = tree[message_id]
    while parent is not None:
        path.insert(0, parent)
        parent = tree[parent]
    return path


def build(tree: Tree, message_id: str, style: str) -> bytes:
    """The mail ``message_id`` as a mail program would write it in ``style``."""
    path = ancestry(tree, message_id)
    parent = path[-1] if path else None
    if style == "trimmed":  # RFC 5322 3.6.4: keep the first id when References is cut short
        path = path[:1] + path[-2:] if len(path) > 3 else path
    return make_mail(
        message_id=message_id,
        in_reply_to=parent if style in ("in_reply_to", "both", "trimmed") else None,
        references=path if style in ("references", "both", "trimmed") and path else None,
    )


def mails(trees: Sequence[Tree], style: str, rng: random.Random | None = None) -> dict[str, bytes]:
    """Every mail of ``trees``; style ``mixed`` picks one per mail with ``rng``."""
    styles = (*STYLES, "trimmed")
    return {
        m: build(tree, m, rng.choice(styles) if style == "mixed" and rng else style)
        for tree in trees
        for m in tree
    }


def true_threads(trees: Sequence[Tree]) -> set[frozenset[str]]:
    return {frozenset(tree) for tree in trees}


def chunks(order: Sequence[str], mode: str) -> list[Sequence[str]]:
    if mode == "one_by_one":
        return [[m] for m in order]
    if mode == "one_batch":
        return [order]
    half = len(order) // 2
    return [order[:half], order[half:]]


def accept(mailbox: Mailbox, datas: Sequence[bytes]) -> list[RawMessage]:
    """Commit the raw mails, as import and IMAP do before any ingest."""
    raws = [RawInbound(data=data, source="import") for data in datas]
    return [row for row, _ in actions.accept_many(mailbox, raws, schedule=False)]


def ingest(mailbox: Mailbox, datas: Sequence[bytes]) -> None:
    """Accept ``datas``, then ingest them as one batch."""
    actions.ingest(accept(mailbox, datas))


def conversations_of(mailbox: Mailbox) -> set[frozenset[str]]:
    """The stored conversations as sets of Message-IDs, checked for consistency."""
    groups: dict[int, set[str]] = {}
    for conv, message_id in Message.objects.filter(mailbox=mailbox).values_list(
        "conversation_id", "message_id"
    ):
        groups.setdefault(conv, set()).add(message_id)
    convs = Conversation.objects.filter(mailbox=mailbox)
    assert {c.pk: c.message_count for c in convs} == {k: len(v) for k, v in groups.items()}
    events = Event.objects.filter(mailbox=mailbox)
    created = events.filter(type="conversation.created").count()
    merged = events.filter(type="conversation.merged").count()
    assert created - merged == len(groups), "every conversation that went away was merged"
    return {frozenset(g) for g in groups.values()}


def arrive(mailbox: Mailbox, data: dict[str, bytes], order: Sequence[str], mode: str) -> None:
    """Accept the mails in ``order``, then ingest them cut into batches as ``mode`` says."""
    rows = dict(zip(order, accept(mailbox, [data[m] for m in order]), strict=True))
    for part in chunks(order, mode):
        actions.ingest([rows[m] for m in part])


def check(
    mailbox: Mailbox,
    trees: Sequence[Tree],
    data: dict[str, bytes],
    orders: Iterable[Sequence[str]],
    modes: Sequence[str] = MODES,
) -> None:
    """Every order in every mode gives the true threads (each run rolled back after)."""
    expected = true_threads(trees)
    for order in orders:
        for mode in modes:
            with transaction.atomic():
                arrive(mailbox, data, order, mode)
                assert conversations_of(mailbox) == expected, (mode, order)
                transaction.set_rollback(True)


def sample(items: Sequence[str], count: int, seed: int) -> Iterator[list[str]]:
    """All permutations of ``items`` when few, else ``count`` of them drawn with ``seed``."""
    perms = list(itertools.permutations(items))
    if len(perms) > count:
        perms = random.Random(seed).sample(perms, count)
    return (list(p) for p in perms)


CHAIN_3 = tree_of("c", "a b:a c:b")
CHAIN_4 = tree_of("c", "a b:a c:b d:c")
FORK_4 = tree_of("f", "a b:a c:a d:b")
TREE_5 = tree_of("t", "a b:a c:a d:b e:c")
BUSH_5 = tree_of("t", "a b:a c:a d:a e:b")
BATCHED = ("one_batch", "two_batches")
#: The sweeps over many orders; the fast run keeps the chain of 3 and the named cases below.
EVERY = pytest.mark.exhaustive


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "tree", [pytest.param(CHAIN_3, id="chain3"), pytest.param(CHAIN_4, id="chain4", marks=EVERY)]
)
def test_every_order_of_a_chain(mailbox: Mailbox, tree: Tree, style: str) -> None:
    """All 6 orders of a chain of 3 and 12 of the 24 of a chain of 4, in every mode."""
    check(mailbox, [tree], mails([tree], style), sample(list(tree), 12, seed=1))


@EVERY
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    ("tree", "orders"), [(FORK_4, 12), (TREE_5, 12), (BUSH_5, 12)], ids=["fork4", "tree5", "bush5"]
)
def test_many_orders_of_a_branching_thread(
    mailbox: Mailbox, tree: Tree, orders: int, style: str
) -> None:
    """A fork of 4 (12 of 24 orders) and trees of 5 (12 of 120): in batches, and a third of
    those orders one mail per ingest."""
    data = mails([tree], style)
    chosen = list(sample(list(tree), orders, seed=len(style)))
    check(mailbox, [tree], data, chosen, BATCHED)
    check(mailbox, [tree], data, chosen[::3], ["one_by_one"])


@EVERY
def test_two_threads_interleaved_stay_two(mailbox: Mailbox) -> None:
    """Two chains delivered interleaved never join each other, nor split."""
    one, two = tree_of("x", "a b:a c:b"), tree_of("y", "a b:a c:b")
    data = mails([one, two], "both")
    orders = list(sample([*one, *two], 10, seed=2))
    check(mailbox, [one, two], data, orders, BATCHED)
    check(mailbox, [one, two], data, orders[::3], ["one_by_one"])


@EVERY
@pytest.mark.parametrize(("style", "seed"), [(s, i) for i, s in enumerate([*STYLES, "mixed"])])
def test_large_tree_shuffled_and_reversed(mailbox: Mailbox, style: str, seed: int) -> None:
    """A 20-mail tree beside an 8-mail one: newest first and shuffled, in every mode, and
    three more shuffles in batches. (20 mails make trees 5 to 6 replies deep with up to 5
    replies to one mail, deep enough for the trimmed References of ``mixed``; 30 took twice
    the time to prove the same.)"""
    rng = random.Random(seed)
    trees = [random_tree("big", 20, rng), random_tree("small", 8, rng)]
    data = mails(trees, style, rng)
    ordered = [m for tree in trees for m in tree]
    shuffles = [rng.sample(ordered, len(ordered)) for _ in range(4)]
    check(mailbox, trees, data, [ordered[::-1], shuffles[0]])
    check(mailbox, trees, data, shuffles[1:], BATCHED)


def test_newest_first_chain_is_one_conversation(mailbox: Mailbox) -> None:
    """C (reply to B), then B (reply to A), then A, each alone: one conversation."""
    data = mails([CHAIN_3], "both")
    for m in reversed(list(CHAIN_3)):
        ingest(mailbox, [data[m]])
    assert conversations_of(mailbox) == true_threads([CHAIN_3])
    rules = dict(Message.objects.values_list("message_id", "thread_rule"))
    assert rules == {
        mid("c", "c"): "new",
        mid("c", "b"): "late_parent",
        mid("c", "a"): "late_parent",
    }


def test_late_root_merges_the_conversations_of_its_branches(mailbox: Mailbox) -> None:
    """Replies on two branches arrive first; their common root merges both, with events."""
    data = mails([TREE_5], "in_reply_to")
    for m in (mid("t", "d"), mid("t", "e"), mid("t", "b"), mid("t", "c")):
        ingest(mailbox, [data[m]])
    assert len(conversations_of(mailbox)) == 2
    ingest(mailbox, [data[mid("t", "a")]])
    assert conversations_of(mailbox) == true_threads([TREE_5])
    merged = Event.objects.get(type="conversation.merged")
    assert merged.data["via"] == mid("t", "a")
    rules = dict(Message.objects.values_list("message_id", "thread_rule"))
    assert rules[mid("t", "a")] == "late_parent"
    assert {rules[mid("t", "b")], rules[mid("t", "c")]} == {"late_parent", "in_reply_to"}


def test_late_parent_that_threads_elsewhere_pulls_a_deep_chain(mailbox: Mailbox) -> None:
    """D, C, B arrive newest first; B replies to a stored root: all of it joins the root."""
    root = delivered(mailbox, make_mail(message_id="root@c.example"))
    tree: Tree = {
        "root@c.example": None,
        mid("d", "b"): "root@c.example",
        mid("d", "c"): mid("d", "b"),
        mid("d", "d"): mid("d", "c"),
    }
    data = mails([tree], "in_reply_to")
    for m in (mid("d", "d"), mid("d", "c"), mid("d", "b")):
        ingest(mailbox, [data[m]])
    assert conversations_of(mailbox) == true_threads([tree])
    assert Message.objects.filter(conversation=root.conversation_id).count() == 4


def test_a_mail_naming_two_conversations_merges_them(mailbox: Mailbox) -> None:
    """Mails it names in two conversations: the first by the rules takes the other in."""
    first = delivered(mailbox, make_mail(message_id="p@c.example"))
    other = delivered(mailbox, make_mail(message_id="q@c.example", sender="b@other.example"))
    both = delivered(
        mailbox,
        make_mail(message_id="r@c.example", in_reply_to="p@c.example", references=["q@c.example"]),
    )
    assert both.conversation_id == first.conversation_id
    assert both.thread_rule == "in_reply_to"
    assert not Conversation.objects.filter(pk=other.conversation_id).exists()
    assert Message.objects.get(message_id="q@c.example").conversation_id == first.conversation_id
    assert Event.objects.filter(type="conversation.merged").count() == 1


def test_a_merge_keeps_notes_and_tags_and_drafts(mailbox: Mailbox) -> None:
    """What agents wrote on an early reply's conversation survives its merge."""
    user = User.objects.create_user("sato")
    early = delivered(mailbox, make_mail(message_id="b@c.example", in_reply_to="a@c.example"))
    Note.objects.create(conversation_id=early.conversation_id, author=user, text="見ました")
    Draft.objects.create(conversation_id=early.conversation_id, author=user, text="下書き")
    early.conversation.tags.add(Tag.objects.create(name="請求"))
    root = delivered(mailbox, make_mail(message_id="root@c.example"))
    delivered(mailbox, make_mail(message_id="a@c.example", in_reply_to="root@c.example"))
    assert Note.objects.get().conversation_id == root.conversation_id
    assert Draft.objects.get().conversation_id == root.conversation_id
    assert list(root.conversation.tags.values_list("name", flat=True)) == ["請求"]
    assert Conversation.objects.get().message_count == 3


def test_a_shuffled_batch_costs_the_same_queries_as_a_small_one(mailbox: Mailbox) -> None:
    """Placing and merging a batch in memory: no query per mail."""
    rng = random.Random(5)

    def queries(size: int) -> int:
        tree = random_tree(f"q{size}", size, rng)
        data = mails([tree], "mixed", rng)
        order = rng.sample(list(tree), size)
        raws = [RawInbound(data=data[m], source="import") for m in order]
        rows = [row for row, _ in actions.accept_many(mailbox, raws, schedule=False)]
        with CaptureQueriesContext(connection) as ctx:
            actions.ingest(rows)
        return len(ctx.captured_queries)

    queries(3)  # the first batch also creates the customer's contact
    assert queries(40) <= queries(5) + 2  # (SQLite may split a bulk insert in two)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_see_each_other() -> None:
    """A reply and its parent ingested side by side by two workers still make one thread:
    the second waits for the first's commit (the mailbox lock) instead of missing it."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite writes one transaction at a time")
    mailbox = create_mailbox("support@example.jp")
    reply = make_mail(message_id="r@c.example", in_reply_to="p@c.example", sender="a@one.example")
    parent = make_mail(message_id="p@c.example", sender="b@two.example")
    rows = accept(mailbox, [reply, parent])
    holding = threading.Event()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (second,) = cursor.fetchone()

    def waiting_for_a_lock() -> bool:
        """The second worker's connection waits for a lock this transaction holds."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted", [second])
            return cursor.fetchone() is not None

    failed: list[BaseException] = []

    def first_worker() -> None:
        try:
            with transaction.atomic():
                actions.ingest([rows[0]])
                holding.set()
                # commit only once the other worker is ingesting and blocked by this one
                wait_until(waiting_for_a_lock, "the second worker waits for the mailbox lock")
        except BaseException as exc:
            failed.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=first_worker)
    worker.start()
    assert holding.wait(10)
    actions.ingest([rows[1]])
    worker.join()
    assert not failed, failed
    assert conversations_of(mailbox) == {frozenset(["r@c.example", "p@c.example"])}
