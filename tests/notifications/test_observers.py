"""Who is told what, from the events of an action: assigned, mentioned, customer replied."""

from __future__ import annotations

import pytest

from madoguchi.conversations import actions
from madoguchi.core.models import Event
from madoguchi.notifications.models import Notification
from tests.factories import make_conversation
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def conv(team):
    return make_conversation(team["support"], message_id="nt1@tokyo-shoji.example")


def _kinds(user) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("kind", flat=True))


def test_assigning_to_someone_else_notifies_them_not_the_actor(conv, team, suzuki):
    sato = team["sato"].user
    actions.assign_conversation(conv, assignee_id=sato.pk, actor_id=sato.pk)
    assert _kinds(sato) == []
    actions.assign_conversation(conv, assignee_id=suzuki.user.pk, actor_id=sato.pk)
    assert _kinds(suzuki.user) == ["assigned"]
    event = Event.objects.get(type="notification.created")
    assert event.data["to"] == suzuki.user.pk and event.mailbox_id == conv.mailbox_id


def test_a_mention_notifies_members_only(conv, team, suzuki):
    kato = team["kato"].user  # not a member of support
    actions.add_note(conv, author_id=team["sato"].user.pk, text="@鈴木一郎さん @kato 見てください")
    assert _kinds(suzuki.user) == ["mentioned"]
    assert _kinds(kato) == []


def test_the_customers_answer_notifies_the_assignee(conv, team):
    sato = team["sato"].user
    actions.assign_conversation(conv, assignee_id=sato.pk, actor_id=team["kato"].user.pk)
    Notification.objects.all().delete()
    answer = make_mail(sender="田中 一郎 <tanaka@tokyo-shoji.example>", subject="Re: 請求書の件",
                       in_reply_to="nt1@tokyo-shoji.example")  # fmt: skip
    deliver(team["support"], answer)
    assert _kinds(sato) == ["replied"]
