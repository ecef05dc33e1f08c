"""The audit log: what gets recorded, and the admins' page with its filters and pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from madoguchi.accounts import audit
from madoguchi.accounts.actions import create_agent
from madoguchi.accounts.models import AuditAction, AuditEntry, Role
from tests.factories import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(team) -> User:
    return create_agent("boss", password="pw-boss-1234", role=Role.ADMIN).user


@pytest.fixture
def admin(boss) -> Client:
    return client_for(boss)


def test_only_admins_read_the_audit_log(team, admin):
    agent = client_for(team["sato"])
    assert agent.get("/admin/audit/").status_code == 403
    assert Client().get("/admin/audit/").status_code == 302  # sign in first
    assert admin.get("/admin/audit/").status_code == 200


def test_admins_have_a_link_to_it(team, admin):
    assert 'href="/admin/audit/"' in admin.get("/admin/team/").content.decode()
    agent = client_for(team["sato"])
    assert 'href="/admin/audit/"' not in agent.get("/settings/").content.decode()


def _rows(response) -> list[tuple[str, str]]:
    return [(r.action, r.target) for r in response.context["rows"]]


@pytest.mark.template_context  # reads response.context
def test_newest_first_and_filters(team, admin, boss):
    AuditEntry.objects.all().delete()
    audit.record(AuditAction.SIGNIN_FAILED, actor=None, target="sato")
    audit.record(AuditAction.ROLE, actor=boss, target="kato")
    audit.record(AuditAction.SIGNIN_FAILED, actor=None, target="kato")
    old = audit.record(AuditAction.EXPORT, actor=boss, target="support@example.jp")
    AuditEntry.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=10))

    everything = _rows(admin.get("/admin/audit/"))
    assert everything[0] == ("export", "support@example.jp")  # newest id first
    assert everything[1] == ("signin.failed", "kato")
    failed = _rows(admin.get("/admin/audit/", {"action": "signin.failed"}))
    assert failed == [("signin.failed", "kato"), ("signin.failed", "sato")]
    by_boss = _rows(admin.get("/admin/audit/", {"actor": "boss"}))
    assert set(by_boss) == {("agent.role", "kato"), ("export", "support@example.jp")}
    today = timezone.localdate().isoformat()
    recent = _rows(admin.get("/admin/audit/", {"since": today, "until": today}))
    assert ("export", "support@example.jp") not in recent and len(recent) == 3
    ten_days = (timezone.localdate() - timedelta(days=10)).isoformat()
    assert _rows(admin.get("/admin/audit/", {"until": ten_days})) == [
        ("export", "support@example.jp")
    ]


@pytest.mark.parametrize(
    "query",
    [{"action": "bogus"}, {"since": "yesterday"}, {"before": "abc"}, {"before": "-1"},
     {"since": "2030-01-02", "until": "2030-01-01"}, {"actor": "x" * 151},
     {"before": "9" * 40}, {"before": "²"}],
)  # fmt: skip
def test_bad_filters_are_400_not_500(admin, query):
    assert admin.get("/admin/audit/", query).status_code == 400


@pytest.mark.template_context  # reads response.context
def test_pages_of_fifty_with_an_older_link(admin, boss):
    AuditEntry.objects.all().delete()
    for n in range(120):
        audit.record(AuditAction.SIGNIN_FAILED, actor=None, target=f"u{n:03d}")
    first = admin.get("/admin/audit/", {"action": "signin.failed"})
    assert [t for _a, t in _rows(first)][:2] == ["u119", "u118"] and len(_rows(first)) == 50
    older = first.context["older"]
    assert "action=signin.failed" in older
    second = admin.get("/admin/audit/" + older)
    assert _rows(second)[0][1] == "u069"
    third = admin.get("/admin/audit/" + second.context["older"])
    assert len(_rows(third)) == 20 and third.context["older"] == ""


def test_audit_page_escapes_what_attackers_typed(admin):
    Client().post("/login/", {"username": "<script>x()</script>", "password": "x"})
    page = admin.get("/admin/audit/").content.decode()
    assert "<script>x()" not in page and "&lt;script&gt;x()" in page
