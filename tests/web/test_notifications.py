"""Who is told what: assigned, mentioned, customer replied; the bell and its pages."""

from __future__ import annotations

import pytest

from madoguchi.conversations import actions
from madoguchi.notifications.actions import confirm_address, send_mail
from madoguchi.notifications.addresses import make_token
from madoguchi.notifications.models import Notification
from tests.factories import client_for
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


def test_the_bell_lists_and_opens_only_ones_own(conv, team, suzuki):
    sato = team["sato"].user
    actions.assign_conversation(conv, assignee_id=suzuki.user.pk, actor_id=sato.pk)
    mine = Notification.objects.get()
    client = client_for(suzuki)
    page = client.get("/notifications/").content.decode()
    assert "佐藤 花子さんがあなたに会話を割り当てました" in page and "請求書の件" in page
    assert client.get(f"/notifications/{mine.pk}.json").json()["body"] == f"#{conv.pk} 請求書の件"
    other = client_for(sato)
    assert other.get(f"/notifications/{mine.pk}/").status_code == 404
    assert other.get(f"/notifications/{mine.pk}.json").status_code == 404
    response = client.get(f"/notifications/{mine.pk}/")
    assert response["Location"] == f"/c/{conv.pk}/"
    mine.refresh_from_db()
    assert mine.read_at is not None


def _mail_setup(team, smtp_capture):
    from madoguchi.mailboxes.actions import update_mailbox

    ctl, handler = smtp_capture
    update_mailbox(team["support"], smtp_host="127.0.0.1", smtp_port=ctl.port, smtp_security="none")
    return handler


def _confirmation_link(handler, address: str) -> str:
    """The link of the confirmation mail the capture server got for ``address``."""
    import re

    from madoguchi.mail import parse

    mails = [c for c in handler.received if c.rcpts == [address]]
    assert mails, f"no confirmation mail to {address}"
    text = parse(mails[-1].data).text
    found = re.search(r"http://127\.0\.0\.1:8000(/settings/\?confirm=\S+)", text)
    assert found, text
    return found[1]


def _run_confirmation_tasks() -> list[str]:
    """Run the queued confirmation mails as the worker would (the real SMTP path)."""
    from django_tasks_db.models import DBTaskResult

    from madoguchi.notifications.actions import send_confirmation

    done = []
    for row in DBTaskResult.objects.filter(task_path__endswith="mail_confirmation"):
        done.append(send_confirmation(*row.args_kwargs["args"]))
        row.delete()
    return done


@pytest.mark.django_db(transaction=True)
def test_notification_mail_goes_only_to_a_confirmed_address(conv, team, suzuki, smtp_capture):
    """Turning notification mail on mails a link; nothing else is mailed until it is opened;
    a changed address needs a new confirmation."""
    handler = _mail_setup(team, smtp_capture)
    client = client_for(suzuki)
    base = {"display_name": "鈴木 一郎", "language": "ja", "time_zone": "Asia/Tokyo",
            "notify_by_mail": "on"}  # fmt: skip
    assert client.post("/settings/", {**base, "email": "suzuki@team.example"}).status_code == 302
    page = client.get("/settings/").content.decode()
    assert "suzuki@team.example" in page and 'name="resend"' in page
    assert _run_confirmation_tasks() == ["sent"]
    link = _confirmation_link(handler, "suzuki@team.example")

    actions.assign_conversation(conv, assignee_id=suzuki.user.pk, actor_id=team["sato"].user.pk)
    first = Notification.objects.get()
    assert send_mail(first.pk) == "address not confirmed"
    assert [c.rcpts for c in handler.received] == [["suzuki@team.example"]]  # the link only

    other = client_for(team["sato"])
    assert other.get(link).status_code == 400  # another agent cannot confirm it
    assert client.get(link)["Location"] == "/settings/?confirmed=1"
    assert send_mail(first.pk) == "sent"

    client.post("/settings/", {**base, "email": "suzuki@elsewhere.example"})
    actions.assign_conversation(conv, assignee_id=None, actor_id=suzuki.user.pk)
    actions.assign_conversation(conv, assignee_id=suzuki.user.pk, actor_id=team["sato"].user.pk)
    second = Notification.objects.latest("pk")
    assert send_mail(second.pk) == "address not confirmed"
    assert client.get(link).status_code == 400  # the old link confirms the old address only
    assert _run_confirmation_tasks() == ["sent"]
    assert client.get(_confirmation_link(handler, "suzuki@elsewhere.example")).status_code == 302
    assert send_mail(second.pk) == "sent"
    assert handler.received[-1].rcpts == ["suzuki@elsewhere.example"]


@pytest.mark.django_db
def test_a_forged_or_foreign_confirmation_link_is_refused(team):
    from django.core import signing

    from madoguchi.notifications.addresses import SALT

    sato = team["sato"].user
    sato.email = "sato@team.example"
    sato.save()
    client = client_for(sato)
    forged = signing.dumps({"u": sato.pk, "e": "sato@team.example"}, salt="another purpose")
    foreign = signing.dumps({"u": sato.pk, "e": "someone@else.example"}, salt=SALT)
    for token in (forged, foreign, "garbage", "²", make_token(team["kato"].user)):
        response = client.get("/settings/", {"confirm": token}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400, token
        assert "This confirmation link is not valid" in response.content.decode()
    assert not hasattr(sato, "confirmed_address") or sato.confirmed_address is None


@pytest.mark.django_db
def test_notifications_hide_the_subject_once_access_is_gone(conv, team, suzuki, smtp_capture):
    """A member who left the mailbox keeps their notifications, but not its subjects."""
    from madoguchi.accounts.actions import set_members

    handler = _mail_setup(team, smtp_capture)
    suzuki.user.email = "suzuki@team.example"
    suzuki.user.save()
    suzuki.notify_by_mail = True
    suzuki.save()
    assert confirm_address(suzuki.user, make_token(suzuki.user))
    actions.assign_conversation(conv, assignee_id=suzuki.user.pk, actor_id=team["sato"].user.pk)
    n = Notification.objects.get()
    set_members(team["support"], [team["sato"].user])  # suzuki leaves the mailbox
    client = client_for(suzuki)
    page = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "請求書の件" not in page and f"#{conv.pk}" not in page
    assert "A conversation you can no longer open" in page
    body = client.get(f"/notifications/{n.pk}.json").json()["body"]
    assert "請求書" not in body and str(conv.pk) not in body
    assert client.get(f"/notifications/{n.pk}/")["Location"] == "/notifications/"
    assert send_mail(n.pk) == "no access to the conversation any more"
    assert handler.received == []
