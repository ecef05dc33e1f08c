"""The customer panel over HTTP: links in the conversation page, the source asked only by
the fragment (never by the page), its settings for managers, errors said."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from madoguchi.customers import actions
from madoguchi.customers.models import CustomerPanel
from tests.customers.test_panel import Source
from tests.factories import client_for, make_agent, make_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def source() -> Any:
    cache.clear()
    made = Source()
    yield made
    made.release.set()
    made.server.shutdown()


def test_links_in_the_page_and_the_source_only_in_the_fragment(team, source):
    actions.save_panel(
        team["support"].pk, actor_id=None,
        links=[("受注管理で注文を見る", "https://orders.example/o/{order}"),
               ("会社で探す", "https://crm.example/c?company={company}")],
        order_pattern=r"ORD-(\d+)", source_url=f"{source.url}/slow?e={{email}}",
        source_header="", source_secret=None, timeout_ms=300, cache_seconds=60,
    )  # fmt: skip
    conv = make_conversation(team["support"], subject="ORD-77 の納期", sender="a@b.example")
    client = client_for(team["sato"])
    html = client.get(f"/c/{conv.pk}/").content.decode()
    assert 'href="https://orders.example/o/77"' in html and "受注管理で注文を見る" in html
    assert "会社で探す" not in html  # no company: no link
    assert f'data-customer-info="/c/{conv.pk}/customer-info"' in html
    assert source.hits == []  # the page never asks the source
    fragment = client.get(f"/c/{conv.pk}/customer-info").content.decode()
    assert "時間内に応答しませんでした" in fragment
    other = make_conversation(team["sales"], subject="別", sender="c@d.example", message_id="o@x")
    assert client.get(f"/c/{other.pk}/customer-info").status_code == 404


def test_settings_for_managers_with_errors_said(team):
    box = team["support"].pk
    manager = make_agent("chief", role="manager", mailboxes=[team["support"]])
    for who in (team["sato"], manager):  # the source is a request our server makes
        assert client_for(who).get(f"/admin/mailboxes/{box}/customer-panel").status_code \
            == 403  # fmt: skip
    boss = client_for(make_agent("boss", role="admin"))
    url = f"/admin/mailboxes/{box}/customer-panel"
    page = boss.post(url, {"links": "注文 | https://o.example/{order}\n", "order_pattern": "(",
                           "timeout_ms": "500"}, follow=True)  # fmt: skip
    assert "正規表現ではありません" in page.content.decode()
    assert not CustomerPanel.objects.exists()
    boss.post(url, {"links": "注文 | https://o.example/{order}", "order_pattern": r"ORD-(\d+)",
                    "source_url": "https://crm.example/api?e={email}",
                    "source_header": "Authorization", "source_secret": "Bearer x",
                    "timeout_ms": "99999", "cache_seconds": "60"})  # fmt: skip
    saved = CustomerPanel.objects.get()
    assert saved.links == [{"label": "注文", "url": "https://o.example/{order}"}]
    assert (saved.source_timeout_ms, str(saved.source_secret)) == (10_000, "Bearer x")
    boss.post(url, {"links": "", "source_url": "https://crm.example/api?e={email}",
                    "timeout_ms": "500"})  # fmt: skip
    saved.refresh_from_db()
    assert str(saved.source_secret) == "Bearer x"  # an empty field keeps the secret
    bad = boss.post(url, {"links": "x | javascript:alert(1)"}, follow=True).content.decode()
    assert "javascript:alert(1)" not in CustomerPanel.objects.get().links.__repr__()
    assert "http(s)" in bad
