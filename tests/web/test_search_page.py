"""The search page, saved searches and the marks in the opened conversation (HTTP)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from madoguchi.search.models import SavedSearch
from tests.factories import client_for, make_agent, make_conversation

pytestmark = pytest.mark.django_db


def _conv(team: dict[str, Any], subject: str, body: str, box: str = "support", n: int = 1) -> Any:
    return make_conversation(team[box], subject=subject, body=body, message_id=f"s{n}@x.example")


def test_results_mark_the_words_and_link_with_the_query(team):
    conv = _conv(team, "納期のご確認", "東京都庁への納品は来週です。\n")
    html = client_for(team["sato"]).get("/search/", {"q": "納品"}).content.decode()
    assert f"/c/{conv.pk}/?q=%E7%B4%8D%E5%93%81" in html
    assert "への<mark>納品</mark>は来週" in html
    assert 'id="search-q" value="納品"' in html  # the box keeps what was searched


def test_only_the_agents_mailboxes_are_searched(team):
    _conv(team, "見積の件", "見積書を送ります。\n", box="sales")
    html = client_for(team["sato"]).get("/search/", {"q": "見積"}).content.decode()
    assert "見積の件" not in html and "見つかりませんでした" in html


def test_what_cannot_be_read_is_said_on_the_page(team):
    response = client_for(team["sato"]).get(
        "/search/", {"q": "件 before:someday status:bogus"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "“before:someday” is not a date" in html
    assert "“bogus” is not a status" in html


@pytest.mark.parametrize(
    "query", [{"order": "bogus"}, {"after": "²"}, {"after": "-1"}, {"q": "x" * 3000}]
)
def test_bad_parameters_are_a_400(team, query):
    assert client_for(team["sato"]).get("/search/", query).status_code == 400


def test_the_opened_conversation_marks_the_words(team):
    conv = _conv(team, "納期のご確認", "東京都庁への納品は来週です。\n")
    html = client_for(team["sato"]).get(f"/c/{conv.pk}/", {"q": "納品"}).content.decode()
    body = re.search(r'<div class="body">(.*?)</div>', html, re.S)
    assert body is not None and "への<mark>納品</mark>は来週" in body.group(1)
    plain = client_for(team["sato"]).get(f"/c/{conv.pk}/").content.decode()
    assert "<mark>" not in plain


def test_a_hostile_mail_is_escaped_in_results_and_marks(team):
    conv = _conv(team, "<script>alert(1)</script>", "<img src=x onerror=alert(1)> 納品\n")
    html = client_for(team["sato"]).get("/search/", {"q": "納品"}).content.decode()
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    opened = client_for(team["sato"]).get(f"/c/{conv.pk}/", {"q": "img"}).content.decode()
    assert "&lt;<mark>img</mark> src=x" in opened


def test_saving_a_search_puts_it_in_the_rail_and_only_mine(team):
    client = client_for(team["sato"])
    client.post("/search/saved", {"q": "請求 status:open", "name": "請求の対応中"})
    html = client.get("/search/", {"q": "請求 status:open"}).content.decode()
    rail = re.search(r'<ul class="saved"><li><a href="/search/\?q=[^"]+"[^>]*>([^<]+)</a>', html)
    assert rail is not None and rail.group(1) == "請求の対応中"
    assert "請求の対応中" not in client_for(team["kato"]).get("/").content.decode()
    saved = SavedSearch.objects.get()
    other = client_for(team["kato"])
    assert other.post(f"/search/saved/{saved.pk}/delete", {"q": ""}).status_code == 302
    assert SavedSearch.objects.filter(pk=saved.pk).exists()  # not theirs: nothing happens
    client.post(f"/search/saved/{saved.pk}/delete", {"q": ""})
    assert not SavedSearch.objects.exists()


def test_the_box_is_on_every_page(team):
    admin = make_agent("admin2", role="admin")
    for url in ("/", f"/m/{team['support'].pk}/new/", "/settings/", "/admin/mailboxes/"):
        html = client_for(admin).get(url, follow=True).content.decode()
        assert 'role="search"' in html and 'id="search-q"' in html, url
