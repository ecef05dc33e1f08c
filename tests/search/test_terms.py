"""SQLite's word list for prefixes (``search.terms``): it holds every word FTS5 indexed,
prefixes are asked as the ``OR`` of their words, and a prefix of too many words still
finds everything."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from madoguchi.conversations import actions
from madoguchi.mailboxes.models import Mailbox
from madoguchi.search import backends, terms
from madoguchi.search.query import parse
from tests.factories import make_agent, make_conversation, make_mailbox


@pytest.fixture(autouse=True)
def _sqlite_only() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's GIN index serves prefixes itself")


@pytest.fixture
def support() -> Mailbox:
    return make_mailbox("support@example.jp")


def _vocabulary() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT term FROM search_vocab")
        return {row[0] for row in cursor.fetchall()}


def _listed() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT term FROM search_term")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_every_indexed_word_is_listed(support: Mailbox) -> None:
    sato = make_agent("sato", mailboxes=[support])
    c = make_conversation(support, subject="Invoice 2026-11 東京都", body="Ｉｎｖｅｎｔｏｒｙ ｶﾅ\n")
    make_conversation(support, subject="Re: order", sender="Zoë <zoe@example.org>", body="x\n")
    actions.tag_conversation(c, "billing請求", actor_id=None)
    actions.add_note(c, author_id=sato.user_id, text="Quarterly 見直し")
    assert _vocabulary() <= _listed()
    assert {"invoice", "inventory", "東京", "zoë", "quarterly", "見直"} <= _listed()


@pytest.mark.django_db
def test_fts5_indexes_the_tokens_as_they_are(support: Mailbox) -> None:
    """FTS5 splits the stored tokens at the spaces only (its ``ascii`` tokenizer, migration
    0009): ``unicode61`` split again where it saw punctuation (the ・ of a kana run)."""
    make_conversation(support, subject="ア・イの件", body="カタ・カナ\n")
    assert {"ア・", "・イ", "タ・", "・カ"} <= _vocabulary()
    assert {"ア・", "・イ", "タ・", "・カ"} <= _listed()


@pytest.mark.django_db
def test_a_prefix_is_asked_as_its_words(support: Mailbox) -> None:
    make_conversation(support, subject="Invoice and inventory", body="invalid\n")
    assert terms.expand("inv") == ["invalid", "inventory", "invoice"]
    assert backends.match_expression(parse("subject:inv")) == (
        'subject : ("invalid" OR "inventory" OR "invoice")'
    )
    assert backends.match_expression(parse("zzz")) == '"zzz" *'  # no such word


@pytest.mark.django_db
def test_a_prefix_of_too_many_words_is_asked_as_a_prefix(
    support: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from madoguchi.search import queries

    sato = make_agent("sato", mailboxes=[support])
    make_conversation(support, subject="Invoice", message_id="a@x")
    make_conversation(support, subject="Inventory", message_id="b@x")
    monkeypatch.setattr(terms, "MAX_EXPANSION", 1)
    assert terms.expand("inv") is None
    assert backends.match_expression(parse("inv")) == '"inv" *'
    hits = queries.search(sato, "inv").hits
    assert sorted(h.conversation.subject for h in hits) == ["Inventory", "Invoice"]


@pytest.mark.django_db(transaction=True)
def test_the_words_of_a_rolled_back_batch_are_written_again(support: Mailbox) -> None:
    terms.forget()
    with pytest.raises(RuntimeError), transaction.atomic():
        make_conversation(support, subject="Zebra crossing", message_id="a@x")
        raise RuntimeError("the batch fails after indexing")
    assert "zebra" not in _listed()
    make_conversation(support, subject="Zebra again", message_id="b@x")
    assert terms.expand("zeb") == ["zebra"]
    make_conversation(support, subject="Zebra thrice", message_id="c@x")  # known: not written
    assert terms.expand("zeb") == ["zebra"]
