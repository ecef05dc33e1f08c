"""Search through real intake on the database under test (SQLite FTS5 or PostgreSQL):
Japanese terms of one, two and three characters, folding, the operators, permissions,
paging, notes, tags and merges."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import pytest
from django.db import connection

from madoguchi.accounts.models import Agent, Role
from madoguchi.conversations import actions
from madoguchi.conversations.models import Conversation, Status
from madoguchi.mailboxes.models import Mailbox
from madoguchi.search import queries
from madoguchi.search.index import rebuild
from madoguchi.search.models import Entry
from tests.factories import make_agent, make_conversation, make_mailbox
from tests.mail_in.helpers import deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def support() -> Mailbox:
    return make_mailbox("support@example.jp", name="サポート窓口")


@pytest.fixture
def sales() -> Mailbox:
    return make_mailbox("sales@example.jp", name="営業")


@pytest.fixture
def sato(support: Mailbox) -> Agent:
    return make_agent("sato", mailboxes=[support], display_name="佐藤 花子")


def conv(mailbox: Mailbox, subject: str, body: str = "本文です。\n", **mail: Any) -> Conversation:
    return make_conversation(mailbox, subject=subject, body=body, **mail)


def found(agent: Agent, q: str, **kw: Any) -> list[str]:
    return [hit.conversation.subject for hit in queries.search(agent, q, **kw).hits]


def test_japanese_terms_of_one_two_and_three_characters(support: Mailbox, sato: Agent) -> None:
    conv(support, "東京都庁への納品", message_id="a@x")
    conv(support, "京都の展示会", message_id="b@x")
    conv(support, "大阪の件", body="東の倉庫から出荷します。\n", message_id="c@x")
    assert found(sato, "東京") == ["東京都庁への納品"]
    assert sorted(found(sato, "京都")) == ["京都の展示会", "東京都庁への納品"]
    assert found(sato, "東京都") == ["東京都庁への納品"]
    assert found(sato, "納期") == []
    assert sorted(found(sato, "東")) == ["大阪の件", "東京都庁への納品"]
    assert found(sato, "庁") == ["東京都庁への納品"]  # the last character of a run


def test_english_words_match_by_prefix_and_case(support: Mailbox, sato: Agent) -> None:
    conv(support, "Invoice for November", message_id="a@x")
    conv(support, "Inventory check", message_id="b@x")
    assert found(sato, "invoice") == ["Invoice for November"]
    assert sorted(found(sato, "INV")) == ["Inventory check", "Invoice for November"]
    assert found(sato, '"inv"') == []  # quoted: the whole word


def test_width_and_kana_forms_fold(support: Mailbox, sato: Agent) -> None:
    conv(support, "ｶﾀｶﾅの件名 ＡＢＣ商事", message_id="a@x")
    assert found(sato, "カタカナ") == ["ｶﾀｶﾅの件名 ＡＢＣ商事"]
    assert found(sato, "abc商事") == ["ｶﾀｶﾅの件名 ＡＢＣ商事"]
    assert found(sato, "ａｂｃ") == ["ｶﾀｶﾅの件名 ＡＢＣ商事"]


def test_phrases_and_all_words(support: Mailbox, sato: Agent) -> None:
    conv(support, "請求書の再発行", body="お世話になっております。\n", message_id="a@x")
    conv(support, "再発行のお願い", body="請求書ではなく領収書です。\n", message_id="b@x")
    assert sorted(found(sato, "請求書 再発行")) == ["再発行のお願い", "請求書の再発行"]
    assert found(sato, '"請求書の再発行"') == ["請求書の再発行"]
    assert found(sato, "「請求書の再発行」") == ["請求書の再発行"]


def test_only_the_agents_mailboxes(support: Mailbox, sales: Mailbox, sato: Agent) -> None:
    conv(support, "見積のお願い", message_id="a@x")
    conv(sales, "見積の再送", message_id="b@x")
    assert found(sato, "見積") == ["見積のお願い"]
    admin = make_agent("admin", role=Role.ADMIN)
    assert sorted(found(admin, "見積")) == ["見積のお願い", "見積の再送"]
    assert found(admin, "見積 mailbox:営業") == ["見積の再送"]
    assert found(sato, "見積 mailbox:営業") == []  # not one of theirs


def test_a_tag_finds_only_the_agents_mailboxes(
    support: Mailbox, sales: Mailbox, sato: Agent
) -> None:
    """A tag's conversations are read from the tag table alone on PostgreSQL: the
    mailboxes are still checked."""
    for box, subject in ((support, "見積のお願い"), (sales, "見積の再送")):
        actions.tag_conversation(
            conv(box, subject, message_id=f"{box.pk}@x"), "重要", actor_id=None
        )
    assert found(sato, "見積 tag:重要") == ["見積のお願い"]
    assert found(make_agent("admin", role=Role.ADMIN), "見積 tag:重要") == [
        "見積の再送",
        "見積のお願い",
    ]


def test_sender_recipient_and_subject_operators(support: Mailbox, sato: Agent) -> None:
    conv(support, "納期の確認", sender="山田 太郎 <yamada@tokyo-shoji.example>", message_id="a@x")
    conv(support, "山田様の件", sender="Suzuki <suzuki@osaka.example>", message_id="b@x")
    assert found(sato, "from:山田") == ["納期の確認"]
    assert found(sato, "from:tokyo-shoji.example") == ["納期の確認"]
    assert sorted(found(sato, "山田")) == ["山田様の件", "納期の確認"]
    assert found(sato, "subject:山田") == ["山田様の件"]
    assert sorted(found(sato, "to:support")) == ["山田様の件", "納期の確認"]


@pytest.mark.parametrize("narrow", [10_000, 1])
def test_from_and_to_alone_ask_the_people_fields_only(
    support: Mailbox, sato: Agent, monkeypatch: pytest.MonkeyPatch, narrow: int
) -> None:
    """``from:`` and ``to:`` alone (on PostgreSQL: the people fields' own column, on every
    path: newest first, with a narrow filter, by relevance) find the sender and the
    recipients, not the same words in a subject or a body; with a word they ask every
    field."""
    from madoguchi.search import backends
    from madoguchi.search.query import parse

    monkeypatch.setattr(queries, "NARROW", narrow)
    conv(support, "納期の確認", sender="山田 <yamada@tokyo-shoji.example>", message_id="a@x")
    conv(support, "tokyo-shoji の件", body="tokyo-shoji.example 山田\n", message_id="b@x",
         sender="Suzuki <suzuki@osaka.example>")  # fmt: skip
    for q in ("from:tokyo-shoji", "from:山田", "from:tokyo-shoji status:new"):
        assert found(sato, q) == ["納期の確認"], q
        assert found(sato, q, order="relevance") == ["納期の確認"], q
    assert found(sato, "to:osaka") == []
    assert found(sato, "from:tokyo-shoji 山田") == ["納期の確認"]
    assert sorted(found(sato, "tokyo-shoji")) == ["tokyo-shoji の件", "納期の確認"]
    if connection.vendor == "postgresql":
        assert backends.match_expression(parse("from:a to:b")).column == "tsv_people"  # type: ignore[attr-defined]
        for mixed in ("from:a b", "from:a subject:b"):
            assert backends.match_expression(parse(mixed)).column == "tsv"  # type: ignore[attr-defined]


@pytest.mark.parametrize("narrow", [10_000, 0])
def test_subject_alone_asks_the_subject_only(
    support: Mailbox, sato: Agent, monkeypatch: pytest.MonkeyPatch, narrow: int
) -> None:
    """``subject:`` alone (on PostgreSQL: the subject's own column, on every path) finds
    the word in a subject, not in a body or a sender; with a word it asks every field."""
    from madoguchi.search import backends
    from madoguchi.search.query import parse

    monkeypatch.setattr(queries, "NARROW", narrow)
    conv(support, "納期の確認", body="よろしくお願いします\n", message_id="a@x")
    conv(support, "ご相談", body="納期はいつですか\n", message_id="b@x",
         sender="納期 <noki@osaka.example>")  # fmt: skip
    for q in ("subject:納期", "subject:納期 status:new", "subject:納 subject:確認"):
        assert found(sato, q) == ["納期の確認"], q
        assert found(sato, q, order="relevance") == ["納期の確認"], q
    assert found(sato, "subject:納期 相談") == []
    assert sorted(found(sato, "納期")) == ["ご相談", "納期の確認"]
    if connection.vendor == "postgresql":
        column = backends.match_expression(parse("subject:a subject:b")).column  # type: ignore[attr-defined]
        assert column == "tsv_subject"
        for mixed in ("subject:a b", "subject:a from:b"):
            assert backends.match_expression(parse(mixed)).column == "tsv"  # type: ignore[attr-defined]


@pytest.mark.parametrize("broad", [50_000, 0])
def test_conversation_operators(
    support: Mailbox, sato: Agent, monkeypatch: pytest.MonkeyPatch, broad: int
) -> None:
    """The same with each filter narrow and broad (PostgreSQL: the conversations' ids into
    the statement, or the filter checked in it for each match)."""
    monkeypatch.setattr(queries, "BROAD", broad)
    first = conv(support, "請求書A", message_id="a@x")
    second = conv(support, "請求書B", message_id="b@x")
    conv(support, "請求書C", message_id="c@x")
    actions.assign_conversation(first, assignee_id=sato.user_id, actor_id=sato.user_id)
    actions.mark_read(first, user_id=sato.user_id)
    actions.change_status(second, Status.DONE, actor_id=None)
    actions.tag_conversation(second, "VIP", actor_id=None)
    assert found(sato, "請求書 assignee:me") == ["請求書A"]
    assert sorted(found(sato, "請求書 assignee:none")) == ["請求書B", "請求書C"]
    assert found(sato, "請求書 status:done") == ["請求書B"]
    assert found(sato, "請求書 status:対応完了") == ["請求書B"]
    assert found(sato, "請求書 tag:vip") == ["請求書B"]
    assert found(sato, "tag:VIP") == ["請求書B"]  # operators alone
    assert found(sato, "vip") == ["請求書B"]  # the tag's own words
    assert sorted(found(sato, "is:unread")) == ["請求書B", "請求書C"]
    assert found(sato, "請求書 is:unread tag:vip status:done assignee:none") == ["請求書B"]


@pytest.mark.parametrize("broad", [50_000, 0])
def test_attachments_by_name_and_operator(
    support: Mailbox, sato: Agent, monkeypatch: pytest.MonkeyPatch, broad: int
) -> None:
    monkeypatch.setattr(queries, "BROAD", broad)
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@customer.example", "support@example.jp", "資料"
    msg["Message-ID"] = "<att@x>"
    msg.set_content("添付をご確認ください。\n")
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="見積書.pdf")
    deliver(support, msg.as_bytes())
    conv(support, "資料なし", message_id="b@x")
    assert found(sato, "見積書") == ["資料"]
    assert found(sato, "資料 has:attachment") == ["資料"]


def test_dates(support: Mailbox, sato: Agent) -> None:
    conv(support, "古い件", message_id="a@x")
    results = queries.search(sato, "件 before:2000-01-01")
    assert results.hits == [] and not results.errors
    assert found(sato, "件 after:2000/01/01") == ["古い件"]
    assert queries.search(sato, "件 before:someday").errors == [("date", "before:someday")]


def test_notes_are_searched(support: Mailbox, sato: Agent) -> None:
    c = conv(support, "問い合わせ", message_id="a@x")
    actions.add_note(c, author_id=sato.user_id, text="折り返し電話済み")
    (hit,) = queries.search(sato, "電話").hits
    assert hit.conversation == c and hit.entry is not None and hit.entry.note is not None


def test_newest_first_and_paging_without_repeats(
    support: Mailbox, sato: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "PAGE", 2)
    monkeypatch.setattr(queries, "CHUNK", 3)
    for i in range(5):
        conv(support, f"在庫 {i}", message_id=f"s{i}@x")
    # an older conversation gets a new matching message: it moves to the top, once
    deliver(support, _reply("在庫 0 の続き", "s0@x"))
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        page = queries.search(sato, "在庫", cursor=cursor)
        seen += [hit.conversation.subject for hit in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["在庫 0", "在庫 4", "在庫 3", "在庫 2", "在庫 1"]


def _reply(subject: str, parent: str) -> bytes:
    from tests.mailmaker import make_mail

    return make_mail(subject=subject, in_reply_to=parent, message_id=f"r-{parent}")


def test_relevance_puts_the_subject_first(support: Mailbox, sato: Agent) -> None:
    conv(support, "ご相談", body="納品の日程について\n", message_id="a@x")
    conv(support, "納品について", message_id="b@x")
    conv(support, "別件", message_id="c@x")
    assert found(sato, "納品", order="relevance") == ["納品について", "ご相談"]


def test_merged_conversations_keep_their_entries(support: Mailbox, sato: Agent) -> None:
    target = conv(support, "統合先", message_id="t@x")
    source = conv(support, "統合元の話", message_id="s@x")
    actions.tag_conversation(source, "移動", actor_id=None)
    actions.merge_into(target.pk, [source.pk], parent_id="")
    (hit,) = queries.search(sato, "統合元").hits
    assert hit.conversation.pk == target.pk
    assert found(sato, "tag:移動") == ["統合先"]
    assert found(sato, "移動") == ["統合先"]


def test_rebuild_writes_the_same_index(support: Mailbox, sato: Agent) -> None:
    conv(support, "再索引", message_id="a@x")
    Entry.objects.all().delete()
    assert found(sato, "索引") == []
    assert rebuild() == 1
    assert found(sato, "索引") == ["再索引"]


def test_what_cannot_be_read_is_said_not_raised(support: Mailbox, sato: Agent) -> None:
    conv(support, "件名", message_id="a@x")
    for q in ['"', "「", "from:", "status:bogus 件名", "is:what", "has:cat", '"*"', "NEAR(",
              "a AND OR b", "'; DROP TABLE x", "\x00", "件名 " * 100, "x" * 5000]:  # fmt: skip
        queries.search(sato, q)  # no exception
    assert queries.search(sato, "status:bogus 件名").errors == [("status", "bogus")]


def test_our_replies_are_searched_and_an_approvers_edit_too(support: Mailbox, sato: Agent) -> None:
    from madoguchi.mail import Address
    from madoguchi.mail_out import actions as outbox
    from madoguchi.mailboxes.actions import update_mailbox

    c = conv(support, "見積のご依頼", message_id="a@x")
    update_mailbox(support, replies_need_approval=True)
    boss = make_agent("boss", role=Role.MANAGER, mailboxes=[support])
    reply = outbox.queue_reply(
        c,
        author=sato.user,
        text="御見積書を添付いたします。",
        to=[Address("", "a@customer.example")],
    )
    assert found(sato, "御見積書") == ["見積のご依頼"]
    outbox.approve(reply, reviewer=boss.user, text="改訂版の御見積書をお送りします。")
    assert found(sato, "改訂版") == ["見積のご依頼"]


def test_postgresql_chooses_its_plan_from_what_it_walks(
    support: Mailbox, sato: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk over the newest entries, the second walk at the rate it saw, and the
    index for the rest give what one statement would (on SQLite: one statement)."""
    from madoguchi.search import backends

    monkeypatch.setattr(backends, "WALK", 3)
    monkeypatch.setattr(backends, "MAX_WALK", 4)
    monkeypatch.setattr(queries, "PAGE", 3)
    monkeypatch.setattr(queries, "CHUNK", 2)
    conv(support, "珍品の件", message_id="rare@x")  # old and rare: the index finds it
    for i in range(4):
        conv(support, f"納期 {i}", message_id=f"m{i}@x")
    for i in range(8):
        conv(support, f"在庫 {i}", message_id=f"s{i}@x")
    conv(support, "納期 新", message_id="n@x")
    assert found(sato, "珍品") == ["珍品の件"]
    assert found(sato, "在庫") == ["在庫 7", "在庫 6", "在庫 5"]
    page = queries.search(sato, "納期")
    assert [h.conversation.subject for h in page.hits] == ["納期 新", "納期 3", "納期 2"]
    rest = queries.search(sato, "納期", cursor=page.next_cursor)
    assert [h.conversation.subject for h in rest.hits] == ["納期 1", "納期 0"]
    assert found(sato, "納期", order="relevance")[0] in {"納期 新", "納期 3"}


def test_a_broad_filter_is_checked_in_the_walk_within_the_bound(
    support: Mailbox, sato: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broad filter (PostgreSQL: checked on each walked entry's conversation before its
    text, the index asked for a rare word; SQLite: on each chunk's conversations) finds
    what it keeps page by page, and a page reads a bounded number of the word's matches
    even when the filter keeps none of them."""
    from madoguchi.search import backends

    monkeypatch.setattr(backends, "WALK", 3)
    monkeypatch.setattr(backends, "MAX_WALK", 4)
    monkeypatch.setattr(queries, "NARROW", 0)
    monkeypatch.setattr(queries, "BROAD", 0)
    monkeypatch.setattr(queries, "PAGE", 2)
    monkeypatch.setattr(queries, "CHUNK", 2)
    actions.tag_conversation(conv(support, "珍品の件", message_id="rare@x"), "VIP", actor_id=None)
    for i in range(6):
        c = conv(support, f"納期 {i}", message_id=f"d{i}@x")
        if i % 2 == 0:
            actions.tag_conversation(c, "VIP", actor_id=None)
    for i in range(8):
        conv(support, f"在庫 {i}", message_id=f"s{i}@x")
    assert found(sato, "珍品 tag:VIP") == ["珍品の件"]
    page = queries.search(sato, "納期 tag:VIP")
    assert [h.conversation.subject for h in page.hits] == ["納期 4", "納期 2"]
    rest = queries.search(sato, "納期 tag:VIP", cursor=page.next_cursor)
    assert [h.conversation.subject for h in rest.hits] == ["納期 0"]
    assert found(sato, "納期 status:nonsense") == []
    monkeypatch.setattr(queries, "MAX_SCAN", 4)
    bounded = queries.search(sato, "在庫 tag:VIP")
    assert bounded.hits == [] and bounded.more


@pytest.mark.parametrize(
    ("narrow", "drive", "broad"), [(10_000, 500, 50_000), (10_000, 0, 50_000), (1, 500, 50_000),
                                   (10_000, 500, 0)]
)  # fmt: skip
def test_operators_page_through_everything_whatever_the_bounds(
    support: Mailbox,
    sato: Agent,
    monkeypatch: pytest.MonkeyPatch,
    *,
    narrow: int,
    drive: int,
    broad: int,
) -> None:
    """A filter that keeps some conversations: small pages, chunks and scopes find each
    once (a narrow filter goes into the statement over entry windows — on PostgreSQL
    found through the conversations or by walking the window —; a broad one, or one
    PostgreSQL's planner expects to be broad, is checked on each chunk's conversations)."""
    from madoguchi.search import backends

    monkeypatch.setattr(queries, "NARROW", narrow)
    monkeypatch.setattr(queries, "BROAD", broad)
    monkeypatch.setattr(backends, "DRIVE", drive)
    monkeypatch.setattr(queries, "PAGE", 2)
    monkeypatch.setattr(queries, "CHUNK", 2)
    monkeypatch.setattr(queries, "MAX_SCAN", 3)
    monkeypatch.setattr(queries, "FILTER_SCOPE", 3)
    wanted = []
    for i in range(9):
        c = conv(support, f"在庫 {i}", message_id=f"f{i}@x")
        if i % 3 == 0:
            actions.tag_conversation(c, "重要", actor_id=None)
            wanted.append(f"在庫 {i}")
    seen: list[str] = []
    cursor = None
    for _ in range(30):
        page = queries.search(sato, "在庫 tag:重要", cursor=cursor)
        seen += [hit.conversation.subject for hit in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(wanted, reverse=True)


def test_sqlite_estimates_a_filter_from_the_newest_rows(
    support: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite keeps no statistics: a filter's size is guessed from the newest ``SAMPLE``
    conversations (a broad one is then not read first); few conversations: 0, read them."""
    from madoguchi.search import backends

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL asks its planner")
    convs = [conv(support, f"件 {i}", message_id=f"e{i}@x") for i in range(8)]
    for c in convs[::2]:
        actions.change_status(c, Status.DONE, actor_id=None)
    done = Conversation.objects.filter(status=Status.DONE).values_list("pk")
    assert backends.estimated_rows(done) == 0
    monkeypatch.setattr(backends, "SAMPLE", 4)
    top = convs[-1].pk
    assert backends.estimated_rows(done) == 2 * top // 4
