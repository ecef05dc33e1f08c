"""Live fragments (``/f/...``), the one current agent and the one assignment rule."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from madoguchi.accounts.actions import set_active
from madoguchi.accounts.models import Role
from madoguchi.conversations import actions
from madoguchi.conversations.models import Conversation
from madoguchi.mailboxes.queries import assignable
from tests.factories import client_for, make_agent, make_conversation

pytestmark = pytest.mark.django_db


def _conv(team, n: int = 1, box: str = "support") -> Conversation:
    return make_conversation(team[box], subject=f"件名 {n}", message_id=f"f{n}.{box}@x.example")


def _live(client: Client, url: str):
    return client.get(url, headers={"X-Live": "1"})


def test_rows_render_what_belongs_and_name_what_left(team):
    """A row that still matches the tab comes back rendered with its place; one that left is
    named as gone, like one that never existed or that the agent may not see."""
    stays, leaves, foreign = _conv(team, 1), _conv(team, 2), _conv(team, 3, box="sales")
    actions.change_status(leaves, "done", actor_id=team["sato"].user_id)
    support = team["support"].pk
    url = f"/f/rows?mailbox={support}&tab=new&c={stays.pk}&c={leaves.pk}&c=999999"
    html = _live(client_for(team["sato"]), url).content.decode()
    assert f'data-conv="{stays.pk}"' in html and "件名 1" in html
    assert re.search(rf'data-conv="{stays.pk}" data-key="\d+\.\d{{6}}_{stays.pk}"', html)
    for gone in (leaves.pk, 999999):
        assert f'data-gone="{gone}"' in html
    html = _live(
        client_for(team["sato"]), f"/f/rows?view=all&tab=new&c={foreign.pk}"
    ).content.decode()
    assert f'data-gone="{foreign.pk}"' in html and "件名 3" not in html


def test_rows_of_the_mine_view_follow_the_assignee(team):
    """Assigned to someone else, a conversation leaves "mine"; assigned to me, it enters."""
    conv = _conv(team)
    actions.change_status(conv, "open", actor_id=None)
    url = f"/f/rows?view=mine&tab=open&c={conv.pk}"
    assert f'data-gone="{conv.pk}"' in _live(client_for(team["sato"]), url).content.decode()
    actions.assign_conversation(conv, assignee_id=team["sato"].user_id, actor_id=None)
    assert f'data-conv="{conv.pk}"' in _live(client_for(team["sato"]), url).content.decode()


def test_fragments_check_access_like_pages(team):
    """Another mailbox's list or conversation is a 404, as its page is."""
    sales = _conv(team, 1, box="sales")
    client = client_for(team["sato"])
    assert _live(client, f"/f/rows?mailbox={team['sales'].pk}&tab=new&c=1").status_code == 404
    assert _live(client, f"/f/counts?mailbox={team['sales'].pk}&tab=new").status_code == 404
    assert _live(client, f"/f/c/{sales.pk}/items?m=0&n=0&e=0").status_code == 404
    assert _live(Client(), "/f/counts").status_code == 302  # to the sign-in page


@pytest.mark.parametrize(
    "query",
    [
        "/f/rows?view=bogus&tab=new&c=1",
        "/f/rows?view=all&tab=bogus&c=1",
        "/f/rows?view=all&tab=new&c=x",
        "/f/rows?view=all&tab=new&c=%C2%B2",
        "/f/rows?view=all&tab=new&sort=sideways&c=1",
        "/f/rows?tab=new&c=1",
        "/f/rows?mailbox=1&view=all&tab=new&c=1",
        "/f/rows?view=all&tab=new&" + "&".join(f"c={n}" for n in range(1, 102)),
        "/f/counts?tab=new",
        "/f/counts?mailbox=-1",
        "/f/c/{pk}/items?m=x",
        "/f/c/{pk}/items?msg=1e9",
        "/f/c/{pk}/items?m=1&m=2",
    ],
)
def test_bad_fragment_parameters_are_a_400(team, query):
    conv = _conv(team)
    response = _live(client_for(team["sato"]), query.format(pk=conv.pk))
    assert response.status_code == 400, response.content[:300]


def test_counts_give_the_rail_the_bell_and_the_tabs(team):
    _conv(team, 1)
    done = _conv(team, 2)
    actions.change_status(done, "done", actor_id=None)
    html = _live(
        client_for(team["sato"]), f"/f/counts?mailbox={team['support'].pk}&tab=new"
    ).content.decode()
    tabs = html[html.index('data-live="tabs"') :]
    assert re.search(r'/new/" aria-current="page">\s*新着 <span class="count"[^>]*>1<', tabs)
    assert re.search(r'/done/" >\s*対応完了 <span class="count"[^>]*>1<', tabs)
    assert 'data-live="rail"' in html and 'data-live="bell"' in html
    assert 'aria-label="新着 1 件"' in html
    assert 'data-live="tabs"' not in _live(client_for(team["sato"]), "/f/counts").content.decode()


def test_the_unassigned_view_counts_what_waits_for_someone(team):
    """New conversations nobody has, across the agent's mailboxes, beside "Unassigned" in
    the page and in the counts fragment; an assigned one leaves the count."""
    first, _ = _conv(team, 1), _conv(team, 2)
    _conv(team, 3, box="sales")  # not one of sato's mailboxes (support only)
    client = client_for(team["sato"])
    unassigned = re.compile(r'data-live="unassigned">担当者なし <span class="count"[^>]*>(\d+)<')
    page = client.get(f"/m/{team['support'].pk}/new/").content.decode()
    assert unassigned.findall(page) == ["2"]
    actions.assign_conversation(first, assignee_id=team["sato"].user_id, actor_id=None)
    assert unassigned.findall(_live(client, "/f/counts").content.decode()) == ["1"]


def test_items_bring_what_came_after_the_marks_and_what_events_named(team):
    """Newer notes and activity come; older items come only when named by an event."""
    conv = _conv(team)
    first = conv.messages.get()
    page = client_for(team["sato"]).get(f"/c/{conv.pk}/").content.decode()
    marks = {k: int(v) for k, v in re.findall(r'data-([mne])="(\d+)"', page)}
    note = actions.add_note(conv, author_id=team["sato"].user_id, text="電話しました")
    actions.change_status(conv, "hold", actor_id=team["sato"].user_id)
    url = f"/f/c/{conv.pk}/items?m={marks['m']}&n={marks['n']}&e={marks['e']}"
    html = _live(client_for(team["sato"]), url).content.decode()
    assert f'id="n{note.pk}"' in html and "電話しました" in html
    assert 'class="status status-hold"' in html  # the meta
    assert f'id="m{first.pk}"' not in html
    timeline = html[html.index('data-live="timeline"') :]
    assert f'data-n="{note.pk}"' in timeline and "data-truncated" not in timeline
    named = _live(client_for(team["sato"]), url + f"&msg={first.pk}").content.decode()
    assert f'id="m{first.pk}"' in named


def test_an_older_page_of_the_timeline_says_so(team):
    conv = _conv(team)
    html = (
        client_for(team["sato"])
        .get(f"/c/{conv.pk}/?before={conv.messages.get().pk}")
        .content.decode()
    )
    assert "data-older" in html


def test_the_agent_is_loaded_once_per_request(team):
    """The middleware loads the agent; no permission check queries it again."""
    _conv(team)
    client = client_for(team["sato"])
    for url in (f"/m/{team['support'].pk}/new/", "/v/all/new/",
                f"/f/counts?mailbox={team['support'].pk}&tab=new"):  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        agent_reads = [q for q in queries.captured_queries
                       if re.search(r'FROM "accounts_agent" WHERE "accounts_agent"."user_id" = ',
                                    q["sql"])]  # fmt: skip
        assert len(agent_reads) == 1, url


def test_one_assignment_rule_for_the_page_and_bulk(team):
    """Active agents who may see the mailbox (members, admins); never a deactivated one."""
    conv = _conv(team)
    admin = make_agent("boss", role=Role.ADMIN)
    leaver = make_agent("leaver", mailboxes=[team["support"]])
    set_active(leaver, False, actor_id=admin.user_id)
    support = team["support"]
    assert assignable(support, admin.user_id) and assignable(support, team["sato"].user_id)
    assert not assignable(support, leaver.user_id)
    assert not assignable(support, team["kato"].user_id)  # a member of sales only
    client = client_for(team["sato"])
    for who, expected in ((leaver, None), (team["kato"], None), (admin, admin.user_id)):
        client.post(f"/c/{conv.pk}/assign", {"assignee": str(who.user_id)})
        conv.refresh_from_db()
        assert conv.assignee_id == expected, who
        actions.assign_conversation(conv, assignee_id=None, actor_id=None)
        client.post("/bulk", {"ids": [conv.pk], "assignee": str(who.user_id), "next": "/"})
        conv.refresh_from_db()
        assert conv.assignee_id == expected, who
        actions.assign_conversation(conv, assignee_id=None, actor_id=None)


def test_the_assignee_menus_offer_only_whom_the_rule_allows(team):
    conv = _conv(team)
    admin = make_agent("boss", role=Role.ADMIN, display_name="部長")
    leaver = make_agent("leaver", display_name="退職者", mailboxes=[team["support"]])
    set_active(leaver, False, actor_id=admin.user_id)
    for url in (f"/c/{conv.pk}/", f"/m/{team['support'].pk}/new/"):
        html = client_for(team["sato"]).get(url).content.decode()
        assert "部長" in html and "佐藤 花子" in html, url
        assert "退職者" not in html and "加藤 次郎" not in html, url
