"""Customers' details, the team's fields, and merging two customers and taking it back."""

from __future__ import annotations

import pytest

from madoguchi.conversations.models import Contact, Conversation
from madoguchi.core.models import Event
from madoguchi.customers import actions, queries
from madoguchi.customers.models import CustomerMerge
from madoguchi.customers.values import BadValue
from tests.factories import make_agent, make_conversation, make_mailbox

pytestmark = pytest.mark.django_db


def _customer(email: str) -> Contact:
    return Contact.objects.get(addresses__email=email)


def _last_event() -> Event:
    event = Event.objects.order_by("-pk").first()
    assert event is not None
    return event


def test_details_and_fields_are_kept_and_recorded() -> None:
    box = make_mailbox("support@example.jp")
    make_conversation(box, sender="山田 太郎 <yamada@tokyo-shoji.example>")
    yamada = _customer("yamada@tokyo-shoji.example")
    assert yamada.organization == "tokyo-shoji.example"
    actions.save_field(actor_id=None, key="plan", label="契約プラン", kind="choice",
                       choices=["ゴールド", "シルバー"])  # fmt: skip
    actions.save_field(actor_id=None, key="renewal", label="契約更新日", kind="date")
    changed = actions.update_customer(
        yamada, actor_id=None, values={"company": "東京商事株式会社", "phone": "03-1234-5678"},
        fields={"plan": "ゴールド", "renewal": "2027/4/1"},
    )  # fmt: skip
    assert changed == ["company", "phone", "plan", "renewal"]
    yamada.refresh_from_db()
    assert yamada.fields == {"plan": "ゴールド", "renewal": "2027-04-01"}
    event = _last_event()
    assert (event.type, event.data) == (
        "customer.updated",
        {"customer": yamada.pk, "fields": changed},
    )
    with pytest.raises(BadValue) as bad:
        actions.update_customer(yamada, actor_id=None, values={}, fields={"plan": "プラチナ"})
    assert bad.value.field == "plan"
    assert actions.update_customer(yamada, actor_id=None, values={"phone": "03-1234-5678"},
                                   fields={}) == []  # fmt: skip


def test_merge_moves_everything_and_undo_gives_it_back() -> None:
    support, sales = make_mailbox("support@example.jp"), make_mailbox("sales@example.jp")
    make_conversation(support, subject="見積", sender="山田 <yamada@tokyo-shoji.example>",
                      message_id="a@x")  # fmt: skip
    make_conversation(sales, subject="請求", sender="Yamada <t.yamada@gmail.com>",
                      message_id="b@x")  # fmt: skip
    target, source = _customer("yamada@tokyo-shoji.example"), _customer("t.yamada@gmail.com")
    actions.update_customer(source, actor_id=None, values={"phone": "090-1111-2222",
                                                           "notes": "携帯から連絡あり"},
                            fields={})  # fmt: skip
    actions.update_customer(target, actor_id=None, values={"notes": "東京商事の担当者"}, fields={})
    merge = actions.merge_customers(target, source, actor_id=None)
    target.refresh_from_db()
    assert set(target.addresses.values_list("email", flat=True)) == {
        "yamada@tokyo-shoji.example",
        "t.yamada@gmail.com",
    }
    assert Conversation.objects.filter(contact=target).count() == 2
    assert target.phone == "090-1111-2222"
    assert target.notes == "東京商事の担当者\n\n携帯から連絡あり"
    assert _last_event().type == "customer.merged"
    # mail from the moved address arrives after the merge: it belongs to the target now
    make_conversation(sales, subject="追加の質問", sender="Yamada <t.yamada@gmail.com>",
                      message_id="c@x")  # fmt: skip
    assert Conversation.objects.filter(contact=target).count() == 3
    admin = make_agent("boss", role="admin")
    assert queries.access_customer(admin, source.pk) == target  # a merged one shows the target

    assert actions.undo_merge(merge, actor_id=None) == 2
    target.refresh_from_db()
    source.refresh_from_db()
    assert source.merged_into_id is None
    assert list(source.addresses.values_list("email", flat=True)) == ["t.yamada@gmail.com"]
    assert sorted(Conversation.objects.filter(contact=source).values_list("subject", flat=True)) \
        == ["請求", "追加の質問"]  # fmt: skip
    assert (target.phone, target.notes) == ("", "東京商事の担当者")
    assert (source.phone, source.notes) == ("090-1111-2222", "携帯から連絡あり")
    assert CustomerMerge.objects.get().undone_at is not None
    assert _last_event().type == "customer.unmerged"
    with pytest.raises(ValueError):
        actions.undo_merge(merge, actor_id=None)


def test_agents_see_the_customers_of_their_mailboxes() -> None:
    support, sales = make_mailbox("support@example.jp"), make_mailbox("sales@example.jp")
    sato = make_agent("sato", mailboxes=[support])
    make_conversation(support, sender="a@one.example", message_id="a@x")
    make_conversation(sales, sender="b@two.example", message_id="b@x")
    walk_in = actions.create_customer(actor_id=None, name="来店客", emails=["c@three.example"])
    seen = set(queries.visible_customers(sato).values_list("pk", flat=True))
    assert seen == {_customer("a@one.example").pk, walk_in.pk}
    rows, _ = queries.customer_list(sato, queries.Filters(q="two.example"))
    assert rows == []
    with pytest.raises(Exception, match="no such customer"):
        queries.access_customer(sato, _customer("b@two.example").pk)
    # the history of a customer who wrote to both shows only sato's mailbox
    make_conversation(sales, sender="a@one.example", subject="営業への質問", message_id="c@x")
    history, _ = queries.history(sato, _customer("a@one.example"))
    assert [c.mailbox_id for c in history] == [support.pk]


def test_an_address_of_another_customer_is_refused() -> None:
    box = make_mailbox("support@example.jp")
    make_conversation(box, sender="a@one.example", message_id="a@x")
    other = actions.create_customer(actor_id=None, name="別人", emails=["b@one.example"])
    with pytest.raises(actions.AddressTaken):
        actions.add_address(other, "A@one.example", actor_id=None)
