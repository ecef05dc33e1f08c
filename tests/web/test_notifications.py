"""Who is told what: assigned, mentioned, customer replied; the bell and its pages."""

from __future__ import annotations

import pytest
from django.test import Client

from madoguchi.accounts.actions import update_preferences
from madoguchi.conversations import actions
from madoguchi.core.models import Event
from madoguchi.notifications.actions import send_mail
from madoguchi.notifications.models import Notification
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def conv(team):
    mail = make_mail(sender="田中 一郎 <tanaka@tokyo-shoji.example>", subject="請求書の件",
                     message_id="nt1@tokyo-shoji.example")  # fmt: skip
    return deliver(team["support"], mail).conversation


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


def test_the_bell_lists_and_opens_only_ones_own(conv, team, suzuki):
    sato = team["sato"].user
    actions.assign_conversation(conv, assignee_id=suzuki.user.pk, actor_id=sato.pk)
    mine = Notification.objects.get()
    client = Client()
    client.force_login(suzuki.user)
    page = client.get("/notifications/").content.decode()
    assert "佐藤 花子さんがあなたに会話を割り当てました" in page and "請求書の件" in page
    assert client.get(f"/notifications/{mine.pk}.json").json()["body"] == f"#{conv.pk} 請求書の件"
    other = Client()
    other.force_login(sato)
    assert other.get(f"/notifications/{mine.pk}/").status_code == 404
    assert other.get(f"/notifications/{mine.pk}.json").status_code == 404
    response = client.get(f"/notifications/{mine.pk}/")
    assert response["Location"] == f"/c/{conv.pk}/"
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_notification_mail_goes_to_the_agent_from_the_shared_address(
    conv, team, suzuki, smtp_capture
):
    from madoguchi.mail import parse
    from madoguchi.mailboxes.actions import update_mailbox

    ctl, handler = smtp_capture
    update_mailbox(team["support"], smtp_host="127.0.0.1", smtp_port=ctl.port, smtp_security="none")
    agent = suzuki
    update_preferences(agent, display_name=agent.display_name, language="ja",
                       time_zone="Asia/Tokyo", notify_by_mail=True,
                       email="suzuki@team.example")  # fmt: skip
    actions.assign_conversation(conv, assignee_id=agent.user.pk, actor_id=team["sato"].user.pk)
    n = Notification.objects.get()
    assert send_mail(n.pk) == "sent"
    mail = parse(handler.received[0].data)
    assert handler.received[0].rcpts == ["suzuki@team.example"]
    assert mail.sender.email == "support@example.jp"
    assert "割り当てました" in mail.subject
    assert f"http://127.0.0.1:8000/notifications/{n.pk}/" in mail.text
    assert send_mail(n.pk) == "nothing to do"  # once


def test_notification_mail_is_tried_again_when_the_server_says_later(
    conv, team, suzuki, smtp_capture
):
    from django_tasks_db.models import DBTaskResult

    from madoguchi.mailboxes.actions import update_mailbox

    ctl, handler = smtp_capture
    handler.answers.append("451 4.3.0 try later")
    update_mailbox(team["support"], smtp_host="127.0.0.1", smtp_port=ctl.port, smtp_security="none")
    suzuki.user.email = "suzuki@team.example"
    suzuki.user.save()
    actions.assign_conversation(conv, assignee_id=suzuki.user.pk, actor_id=team["sato"].user.pk)
    n = Notification.objects.get()
    assert send_mail(n.pk) == "retrying"
    assert DBTaskResult.objects.filter(args_kwargs__args=[n.pk, 2]).exists()
    assert send_mail(n.pk, 2) == "sent"
