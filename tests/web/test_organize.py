"""Notes, tags, bulk changes and the waiting-longest sort, through the web views."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from madoguchi.accounts.actions import add_member
from madoguchi.conversations.models import Conversation, Tag
from madoguchi.core.models import Event
from madoguchi.mail_out import actions as outbox
from tests.factories import client_for, make_agent, make_conversation
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db


def _conv(team, n: int = 1, box: str = "support") -> Conversation:
    return make_conversation(team[box], subject=f"件名 {n}", message_id=f"o{n}.{box}@x.example")


def test_note_shows_in_the_timeline_and_logs_an_event(team):
    conv = _conv(team)
    client = client_for(team["sato"])
    response = client.post(f"/c/{conv.pk}/note", {"note": "  請求書は来週送付予定  "})
    assert response.status_code == 302
    note = conv.notes.get()
    assert note.text == "請求書は来週送付予定"
    assert Event.objects.filter(type="note.added", conversation=conv, data__note=note.pk).exists()
    page = client.get(f"/c/{conv.pk}/").content.decode()
    assert "請求書は来週送付予定" in page and f'id="n{note.pk}"' in page


def test_empty_note_is_refused_beside_the_field(team):
    conv = _conv(team)
    response = client_for(team["sato"]).post(
        f"/c/{conv.pk}/note", {"note": "   "}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not conv.notes.exists()


def test_tag_is_made_once_and_matched_case_insensitively(team):
    first, second = _conv(team, 1), _conv(team, 2)
    client = client_for(team["sato"])
    client.post(f"/c/{first.pk}/tags", {"tag": "VIP"})
    client.post(f"/c/{second.pk}/tags", {"tag": " vip "})
    client.post(f"/c/{second.pk}/tags", {"tag": "vip"})  # twice: no second event
    assert Tag.objects.count() == 1
    assert Event.objects.filter(type="conversation.tagged", conversation=second).count() == 1
    tag = Tag.objects.get()
    client.post(f"/c/{second.pk}/tags/{tag.pk}/remove")
    assert not second.tags.exists()
    assert Event.objects.filter(type="conversation.untagged", conversation=second).exists()


def test_bad_tag_gets_a_message(team):
    conv = _conv(team)
    response = client_for(team["sato"]).post(
        f"/c/{conv.pk}/tags", {"tag": "a,b"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert "cannot contain a comma" in response.content.decode()


def test_removing_a_tag_the_conversation_lacks_is_404(team):
    conv = _conv(team)
    tag = Tag.objects.create(name="other")
    assert client_for(team["sato"]).post(f"/c/{conv.pk}/tags/{tag.pk}/remove").status_code == 404


def test_bulk_assign_status_and_tag(team):
    convs = [_conv(team, n) for n in range(3)]
    client = client_for(team["sato"])
    response = client.post("/bulk", {
        "ids": [c.pk for c in convs[:2]], "assignee": "me", "status": "hold", "tag": "請求",
        "next": f"/m/{team['support'].pk}/new/",
    })  # fmt: skip
    assert response.status_code == 302 and response["Location"] == f"/m/{team['support'].pk}/new/"
    for conv in convs[:2]:
        conv.refresh_from_db()
        assert conv.assignee_id == team["sato"].user_id
        assert conv.status == "hold"
        assert list(conv.tags.values_list("name", flat=True)) == ["請求"]
    convs[2].refresh_from_db()
    assert convs[2].status == "new" and convs[2].assignee_id is None


def test_bulk_refuses_an_assignee_outside_the_mailbox(team):
    conv = _conv(team)
    client = client_for(team["sato"])
    response = client.post(
        "/bulk", {"ids": [conv.pk], "assignee": str(team["kato"].user_id), "next": "/"}, follow=True
    )
    conv.refresh_from_db()
    assert conv.assignee_id is None
    assert "メールボックスのメンバーではありません" in response.content.decode()


def test_bulk_without_a_change_explains(team):
    conv = _conv(team)
    response = client_for(team["sato"]).post(
        "/bulk", {"ids": [conv.pk], "next": "/"}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Choose what to change." in response.content.decode()


def test_bulk_ignores_a_foreign_next_url(team):
    conv = _conv(team)
    response = client_for(team["sato"]).post(
        "/bulk", {"ids": [conv.pk], "status": "done", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_bulk_with_bad_ids_is_a_message_not_a_500(team):
    response = client_for(team["sato"]).post("/bulk", {"ids": ["x"], "status": "done", "next": "/"})
    assert response.status_code == 302


def test_waiting_longest_first_and_answered_ones_left_out(team):
    convs = [_conv(team, n) for n in range(3)]
    now = timezone.now()
    for n, conv in enumerate(convs):  # conv 0 waited 3 hours, conv 2 one hour
        Conversation.objects.filter(pk=conv.pk).update(waiting_since=now - timedelta(hours=3 - n))
    outbox.queue_reply(
        Conversation.objects.get(pk=convs[1].pk), author=team["sato"].user, text="回答します",
        to=[],
    )  # fmt: skip
    assert Conversation.objects.get(pk=convs[1].pk).waiting_since is None
    client = client_for(team["sato"])
    page = client.get(f"/m/{team['support'].pk}/open/?sort=waiting").content.decode()
    assert f"/c/{convs[1].pk}/" not in page
    page = client.get(f"/m/{team['support'].pk}/new/?sort=waiting").content.decode()
    assert page.index(f"/c/{convs[0].pk}/") < page.index(f"/c/{convs[2].pk}/")


def test_a_member_of_both_can_be_bulk_assigned_across_mailboxes(team):
    both = make_agent("suzuki", mailboxes=[team["support"], team["sales"]])
    add_member(team["sales"], team["sato"].user)
    convs = [_conv(team, 1, "support"), _conv(team, 2, "sales")]
    bulk = {"ids": [c.pk for c in convs], "assignee": str(both.user_id), "next": "/v/all/new/"}
    client_for(team["sato"]).post("/bulk", bulk)
    assert {c.assignee_id for c in Conversation.objects.filter(pk__in=[c.pk for c in convs])} == {
        both.user_id
    }


def test_the_tag_picker_lists_only_tags_of_mailboxes_one_may_see(team):
    """A tag name can say something about another mailbox's customers: it stays there."""
    from madoguchi.conversations import actions

    support, sales = _conv(team, 1, "support"), _conv(team, 2, "sales")
    actions.tag_conversation(support, "請求", actor_id=team["sato"].user.pk)
    actions.tag_conversation(sales, "A社買収", actor_id=team["kato"].user.pk)
    sato = client_for(team["sato"]).get(f"/c/{support.pk}/").content.decode()
    assert '<option value="請求">' in sato and "A社買収" not in sato
    kato = client_for(team["kato"]).get(f"/c/{sales.pk}/").content.decode()
    assert '<option value="A社買収">' in kato and '<option value="請求">' not in kato


def test_a_customers_answer_marks_a_conversation_in_progress_unread(team):
    """対応中: the assignee sees it bold in the list until they open it again."""
    from madoguchi.conversations import actions

    conv = _conv(team)
    sato = team["sato"].user
    actions.assign_conversation(conv, assignee_id=sato.pk, actor_id=sato.pk)
    client = client_for(team["sato"])
    client.get(f"/c/{conv.pk}/")
    listing = f"/m/{team['support'].pk}/open/"

    def bold() -> bool:
        page = client.get(listing).content.decode()
        return f'class="row unread" data-conv="{conv.pk}"' in page

    assert not bold()
    deliver(team["support"], make_mail(subject="Re: 件名 1", in_reply_to="o1.support@x.example"))
    conv.refresh_from_db()
    assert conv.status == "open" and conv.unread and bold()
    client_for(team["kato"])  # someone else looking changes nothing for the assignee
    client.get(f"/c/{conv.pk}/")
    assert not bold()
    assert Event.objects.filter(type="conversation.read", conversation=conv).count() == 2


def test_a_done_conversation_reopened_by_the_customer_is_unread_in_progress(team):
    from madoguchi.conversations import actions
    from madoguchi.conversations.models import Status

    conv = _conv(team)
    sato = team["sato"].user
    actions.assign_conversation(conv, assignee_id=sato.pk, actor_id=sato.pk)
    client = client_for(team["sato"])
    client.get(f"/c/{conv.pk}/")
    actions.change_status(conv, Status.DONE, actor_id=sato.pk)
    deliver(team["support"], make_mail(subject="Re: 件名 1", in_reply_to="o1.support@x.example"))
    page = client.get(f"/m/{team['support'].pk}/open/").content.decode()
    assert f'class="row unread" data-conv="{conv.pk}"' in page
    mine = client.get("/v/mine/open/").content.decode()
    assert f'class="row unread" data-conv="{conv.pk}"' in mine
