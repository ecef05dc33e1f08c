"""The reports page over HTTP: for managers and admins only, their mailboxes only, the
numbers of the rollups, CSV for Excel, bad parameters refused with 400."""

from __future__ import annotations

import pytest

from madoguchi.accounts.models import Role
from madoguchi.conversations import actions
from madoguchi.conversations.models import Status
from madoguchi.mail import Address
from madoguchi.mail_out import actions as outbox
from tests.factories import client_for, make_agent, make_conversation

pytestmark = pytest.mark.django_db


def test_managers_see_their_mailboxes_numbers(team):
    boss = make_agent("boss", role=Role.MANAGER, mailboxes=[team["support"]])
    conv = make_conversation(team["support"], subject="納期", message_id="r1@x")
    make_conversation(team["sales"], subject="営業", message_id="r2@x")
    actions.tag_conversation(conv, "請求", actor_id=boss.user_id)
    outbox.queue_reply(conv, author=team["sato"].user, text="承知しました。",
                       to=[Address("", "c@example.jp")])  # fmt: skip
    actions.change_status(conv, Status.DONE, actor_id=team["sato"].user_id)
    assert client_for(team["sato"]).get("/reports/").status_code == 403
    client = client_for(boss)
    response = client.get("/reports/", {"period": "week"})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<span class="n">1</span><span class="label">新しい会話' in html  # not sales' one
    assert "請求" in html and "chart-daily" in html
    assert "佐藤 花子" in html  # the agent who replied
    exported = client.get("/reports/export.csv", {"period": "month"})
    text = exported.content.decode("utf-8-sig")
    assert exported.content.startswith(b"\xef\xbb\xbf") and text.startswith("date,conversations")
    for bad in ({"period": "year"}, {"start": "2026-13-01"}, {"mailbox": str(team["sales"].pk)},
                {"agent": "999999"}):  # fmt: skip
        assert client.get("/reports/", bad).status_code == 400


def test_workload_now_and_handing_over(team, suzuki):
    boss = make_agent("boss", role=Role.MANAGER, mailboxes=[team["support"]])
    sato = team["sato"]
    convs = [make_conversation(team["support"], subject=f"件 {n}", message_id=f"w{n}@x")
             for n in range(3)]  # fmt: skip
    for conv in convs:
        actions.assign_conversation(conv, assignee_id=sato.user_id, actor_id=boss.user_id)
    actions.change_status(convs[2], Status.HOLD, actor_id=sato.user_id)
    client = client_for(boss)
    assert client_for(sato).get("/reports/workload/").status_code == 403
    html = client.get("/reports/workload/").content.decode()
    assert f'data-agent="{sato.user_id}"' in html
    table = client.get("/reports/workload/", headers={"X-Live": "1"}).content.decode()
    assert table.startswith('<table class="admin-table report-table workload-table"')
    row = table.split(f'data-agent="{sato.user_id}"')[1].split("</tr>")[0]
    assert '<td class="num">2</td><td class="num">1</td>' in row  # 2 open, 1 on hold
    response = client.post("/reports/workload/reassign",
                           {"from": sato.user_id, "to": suzuki.user_id})  # fmt: skip
    assert response.status_code == 302
    from madoguchi.conversations.models import Conversation

    assert Conversation.objects.filter(assignee_id=suzuki.user_id).count() == 3
    assert client.post("/reports/workload/reassign", {"from": "1", "to": "x"}).status_code == 400
