"""Hostile query and form values get a 400 or a form error, never a 500.

Every URL pattern is requested with hostile values in its query string; every form of every
page (found by reading the page, as a browser would) is posted with each of its fields
replaced by hostile values in turn, the others as the page filled them. Each sweep runs as
``PARTS`` tests, so that a parallel run shares it between workers.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
from django.db import connection
from django.template.base import Template
from django.test import Client
from django.test.utils import _TestState
from django.urls import URLPattern, URLResolver, get_resolver

from madoguchi.accounts.actions import add_member, create_agent, invite_agent
from madoguchi.accounts.models import Role
from madoguchi.conversations import actions
from madoguchi.conversations.models import Attachment
from madoguchi.mail import Address
from madoguchi.mail_out.actions import queue_reply
from madoguchi.notifications.models import Notification
from tests.factories import client_for
from tests.mail_in.helpers import deliver

pytestmark = pytest.mark.django_db

HUGE = "9" * 40
#: Values that Python's parsers take for numbers, or that break them, or the database.
HOSTILE = [
    "²", "١٢", "１２", "inf", "-inf", "nan", "1e309", "-1", "0", HUGE, "9223372036854775808",
    "", " 1", "1\n", "\x00", "1\x00", "inf_1", "nan_1", "1e309_1", f"{HUGE}.000000_1",
    "1.000000_" + HUGE, "²_²", "%", "😀", "x" * 3000,
]  # fmt: skip
#: Posted fields get the shorter list (each post re-renders a whole page). "inf" stands for
#: "nan" and "1e309" too: a form field reads all three alike (int() refuses them, float()
#: makes them not finite, Decimal() too or beyond any max_digits), and no view reads a posted
#: value with float() (the one float parser reads the ``after`` cursor, of the query sweep).
HOSTILE_POST = ["²", "inf", "-1", HUGE, "", "\x00", "١٢", "x" * 3000]
#: What the database itself may refuse (PostgreSQL: NUL in text, integers past 64 bits); the
#: rest is Python's parsing, the same on every database, so the PostgreSQL pass of CI sends
#: only these (it runs the same pages a second time and CI has a time budget).
DATABASE_VALUES = ["²", HUGE, "9223372036854775808", "\x00", "x" * 3000]


def _values(values: list[str]) -> list[object]:
    chosen = (
        [v for v in values if v in DATABASE_VALUES] if connection.vendor != "sqlite" else values
    )
    return [*chosen, ["1", "²"]]


#: Query parameters any page reads (each view reads some of them).
QUERY = ["after", "sort", "sent", "before", "all", "images", "preview", "saved", "confirmed",
         "confirm", "error", "next", "page", "q", "tab", "status", "id"]  # fmt: skip
#: Posting these would end the session or lock the test's admin out of what follows.
SKIP_ACTIONS = ("/logout/", "/settings/2fa/", "/admin/team/2fa", "/settings/password/")
#: Each sweep runs as this many tests, each taking every PARTS-th URL or form field, so that
#: a parallel run (pytest-xdist) shares them between its workers.
PARTS = 3
#: Forms whose posts another page's form makes already: the add-mailbox page posts the same
#: MailboxForm to the same handler (``mailbox_admin._edit``) as the edit page, and neither
#: form validates as its page fills it (its selects are left empty), so every post of the add
#: page is one the edit page makes too, field for field and value for value (and each renders
#: the whole form again).
SWEPT_ELSEWHERE = ("/admin/mailboxes/new",)


@pytest.fixture(autouse=True)
def plain_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Templates render as outside tests: without the test client's instrumentation (a
    signal and a copy of the context for every template and form widget, a fifth of the
    time of a sweep). The sweeps read status codes and pages, never ``response.context``."""
    monkeypatch.setattr(Template, "_render", _TestState.saved_data.template_render)


@pytest.fixture
def world(transactional_db):
    """An admin, a mailbox with a conversation holding everything a page can show."""
    from email.message import EmailMessage

    from madoguchi.mailboxes.actions import create_mailbox

    support = create_mailbox("support@example.jp", name="サポート")
    admin = create_agent("boss", password="pw-boss-123", role=Role.ADMIN, display_name="管理者")
    sato = create_agent("sato", password="pw-sato-123", display_name="佐藤")
    add_member(support, admin.user)
    add_member(support, sato.user)
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "田中 <tanaka@c.example>", "support@example.jp", "件"
    msg["Message-ID"] = "<bp1@c.example>"
    msg.set_content("本文")
    msg.add_alternative("<p>本文</p>", subtype="html")
    msg.add_attachment(b"\x89PNG\r\n", maintype="image", subtype="png", filename="a.png")
    message = deliver(support, msg.as_bytes())
    assert message is not None
    conv = message.conversation
    actions.add_note(conv, author_id=sato.user_id, text="メモ @boss")
    tag = actions.tag_conversation(conv, "請求", actor_id=admin.user_id)
    reply = queue_reply(conv, author=admin.user, text="返信", to=[Address("", "tanaka@c.example")])
    invitation, _ = invite_agent("new@team.example", role=Role.AGENT, mailboxes=[support],
                                 invited_by=admin.user)  # fmt: skip
    ids = {
        "pk": conv.pk, "message_id": message.pk, "mailbox_id": support.pk, "tag_id": tag.pk,
        "agent_id": sato.pk, "invitation_id": invitation.pk,
        "notification": Notification.objects.first().pk,  # type: ignore[union-attr]
        "attachment": Attachment.objects.get().pk, "reply": reply.pk,
    }  # fmt: skip
    client = client_for(admin, raise_request_exception=False)
    return client, admin, ids


def _patterns(resolvers=None, prefix=""):
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield entry, prefix + str(entry.pattern)


def _url(pattern: URLPattern, ids: dict[str, int]) -> str:
    """The URL of ``pattern`` for the objects of the fixture (pk: "/c/<pk>/" and so on)."""
    kwargs = {}
    for name, converter in pattern.pattern.converters.items():
        if name == "pk" and "notification" in (pattern.name or ""):
            kwargs[name] = ids["notification"]
        elif name == "pk" and pattern.name == "attachment":
            kwargs[name] = ids["attachment"]
        elif name == "message_id" and pattern.name in ("undo", "review"):
            kwargs[name] = ids["reply"]
        else:
            words = {"tab": "new", "view": "all"}
            kwargs[name] = ids.get(name, 1) if converter.regex == "[0-9]+" else words.get(name, "x")
    from django.urls import reverse

    return reverse(pattern.name, kwargs=kwargs) if pattern.name else ""


def _urls(ids: dict[str, int]) -> list[str]:
    urls = [_url(p, ids) for p, _ in _patterns()]
    return [u for u in dict.fromkeys(urls) if u and not u.startswith(SKIP_ACTIONS)]


def _check(response, what: str, failed: list[str]) -> None:
    if response.status_code >= 500:
        failed.append(f"{what}: {response.status_code}")


def test_the_reported_values_give_400_not_500(world):
    """?sent=², ?after=inf_1 and a bulk assignee ² answered 500 before."""
    client, _, ids = world
    conv, mailbox = ids["pk"], ids["mailbox_id"]
    assert client.get(f"/c/{conv}/", {"sent": "²"}).status_code == 400
    assert client.get(f"/m/{mailbox}/new/", {"after": "inf_1"}).status_code == 400
    assert client.get(f"/m/{mailbox}/new/", {"after": f"1.000000_{HUGE}"}).status_code == 400
    assert client.get(f"/c/{conv}/", {"before": HUGE}).status_code == 400
    response = client.post("/bulk", {"ids": [conv], "assignee": "²", "next": "/"}, follow=True)
    assert response.status_code == 200
    refused = client.post("/bulk", {"ids": ["²"], "status": "done"}, follow=True)
    assert refused.status_code == 200 and "error" in refused.content.decode()
    assign = client.post(f"/c/{conv}/assign", {"assignee": "²"})
    assert assign.status_code == 302 and "error=assignee" in assign["Location"]
    seen = {"to": "tanaka@c.example", "text": "x", "seen_message": HUGE, "seen_note": "0"}
    assert client.post(f"/c/{conv}/reply", seen).status_code < 500
    page = client.get(f"/c/{conv}/", {"sent": "²"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "sent" in page  # the page names the parameter


@pytest.mark.slow
@pytest.mark.parametrize("part", range(PARTS))
def test_every_url_with_hostile_query_values(world, part: int):
    client, _, ids = world
    failed: list[str] = []
    for url in _urls(ids)[part::PARTS]:
        plain = client.get(url).status_code
        if plain == 405:
            continue  # takes no GET: refused before its view runs, whatever the query
        for value in _values(HOSTILE):
            _check(client.get(url, {name: value for name in QUERY}), f"GET {url} {value!r}", failed)
        if plain == 404:
            continue  # a page that is not there reads no query
        for name in QUERY:  # one at a time too: a 400 for one must not hide another's 500
            _check(client.get(url, {name: "²"}), f"GET {url} {name}=²", failed)
    assert not failed, "\n".join(failed[:40])


class _Forms(HTMLParser):
    """The forms of a page: action, method, and each field's name and value as filled."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, object]] = {}
        self.order: list[str] = []
        self._open: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            key = a.get("id") or f"form{len(self.order)}"
            self.forms[key] = {"action": a.get("action", ""),
                               "method": a.get("method", "get").lower(), "fields": {}}  # fmt: skip
            self.order.append(key)
            self._open = key
            return
        owner = a.get("form") or self._open
        if owner not in self.forms or "name" not in a:
            return
        fields = self.forms[owner]["fields"]
        assert isinstance(fields, dict)
        name, kind = a["name"], a.get("type", "text")
        if tag == "input" and kind == "file":
            return
        if (
            tag == "input"
            and kind in ("checkbox", "radio")
            and "checked" not in a
            or tag == "button"
        ):
            fields.setdefault(name, None)
        elif tag == "select":
            self._select = name
            fields.setdefault(name, "")
        elif tag in ("input", "textarea"):
            fields[name] = a.get("value", "")
        if tag == "option" and self._select:
            pass

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None
        if tag == "select":
            self._select = None


def _forms(client: Client, url: str) -> list[tuple[str, dict[str, object]]]:
    response = client.get(url)
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return []
    parser = _Forms()
    parser.feed(response.content.decode())
    found = []
    for key in parser.order:
        form = parser.forms[key]
        if form["method"] != "post":
            continue
        action = urljoin(url, str(form["action"]) or url)
        found.append((action, form["fields"]))  # type: ignore[arg-type]
    return found


@pytest.mark.slow
@pytest.mark.parametrize("part", range(PARTS))
def test_every_form_field_with_hostile_values(world, part: int):
    client, admin, ids = world
    forms: dict[str, dict[str, object]] = {}
    for url in _urls(ids):
        for action, fields in _forms(client, url):
            skipped = action.startswith(SKIP_ACTIONS + SWEPT_ELSEWHERE)
            if not skipped and f"/admin/team/{admin.pk}" not in action:
                forms.setdefault(action, {}).update(fields)
    assert any(a.startswith("/bulk") for a in forms), forms.keys()
    assert any(a.endswith("/reply") for a in forms), forms.keys()
    swept = [
        (action, name, fields)
        for action, fields in forms.items()
        for name in fields
        if name != "csrfmiddlewaretoken"
    ]
    failed: list[str] = []
    for action, name, fields in swept[part::PARTS]:
        base = {k: v for k, v in fields.items() if v is not None and k != "csrfmiddlewaretoken"}
        for value in _values(HOSTILE_POST):
            response = client.post(action, {**base, name: value})
            _check(response, f"POST {action} {name}={value!r}"[:200], failed)
        client.force_login(admin.user)  # a hostile post may have signed the test out
    assert not failed, "\n".join(failed[:40])
