"""Notification mail: sent by the worker from the conversation's shared address to a
confirmed address, once, and tried again when the server says later."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult

from madoguchi.accounts.actions import update_preferences
from madoguchi.conversations import actions
from madoguchi.mail import parse
from madoguchi.mailboxes.actions import update_mailbox
from madoguchi.notifications.actions import confirm_address, send_mail
from madoguchi.notifications.addresses import make_token
from madoguchi.notifications.models import Notification
from tests.factories import make_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def conv(team):
    return make_conversation(team["support"], message_id="nt1@tokyo-shoji.example")


def test_notification_mail_goes_to_the_agent_from_the_shared_address(
    conv, team, suzuki, smtp_capture
):
    ctl, handler = smtp_capture
    update_mailbox(team["support"], smtp_host="127.0.0.1", smtp_port=ctl.port, smtp_security="none")
    agent = suzuki
    update_preferences(agent, display_name=agent.display_name, language="ja",
                       time_zone="Asia/Tokyo", notify_by_mail=True,
                       email="suzuki@team.example")  # fmt: skip
    assert confirm_address(agent.user, make_token(agent.user))
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
    ctl, handler = smtp_capture
    handler.answers.append("451 4.3.0 try later")
    update_mailbox(team["support"], smtp_host="127.0.0.1", smtp_port=ctl.port, smtp_security="none")
    suzuki.user.email = "suzuki@team.example"
    suzuki.user.save()
    assert confirm_address(suzuki.user, make_token(suzuki.user))
    actions.assign_conversation(conv, assignee_id=suzuki.user.pk, actor_id=team["sato"].user.pk)
    n = Notification.objects.get()
    assert send_mail(n.pk) == "retrying"
    assert DBTaskResult.objects.filter(args_kwargs__args=[n.pk, 2]).exists()
    assert send_mail(n.pk, 2) == "sent"
