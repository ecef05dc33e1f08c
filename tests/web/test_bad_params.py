"""Hostile query and form values get a 400 or a form error, never a 500.

Every URL pattern is requested with hostile values in its query string; every form of every
page (found by reading the page, as a browser would) is posted with each of its fields
replaced by hostile values in turn, the others as the page filled them. Each sweep runs as
``PARTS`` tests, so that a parallel run shares it between workers.

Not all of those requests are sent. While the sweeps run, ``_Watch`` records what each
request reads of its query or form data: which keys, by hand or through a Django form
field's widget, or the data as a whole (iterated, copied, encoded, counted, the raw body, the
full path); and for each Django form it validates, which fields their own validation refused
and what code read each field's cleaned value. A request is left out only where the requests
that were sent run all the code it would run, on the values it would give that code, for one
of the reasons below, which the record confirms on every run
(``test_the_watch_sees_reads_by_hand_and_by_forms`` checks that it records what it must):

1. Unread values. A request that differs from one sent only in a value that one never read
   runs the same code up to the first read of that value, and there is none: it is the same
   request. So a page whose plain GET reads none of ``QUERY`` gets no hostile query, a
   parameter it does not read is not sent alone, and a field the form's post as the page
   filled it leaves unread is not posted (``next`` beside a missing ``available``: refused
   before ``next`` is looked at). The full path printed by a template (the rail's ``next``
   field: ``{{ request.get_full_path }}``) is not a read: printing runs the same code
   whatever the text says, and the hostile queries print every value there anyway.

2. Fields of a form. A field ``own`` to its form (read only by its own widget, validated
   once, its ``clean_<name>`` reading no other field; a ModelForm's model validation counts
   as each field's own when the model has no ``clean()`` and no constraint over several
   fields) is processed alone: its widget, its field's clean and ``clean_<name>``, then its
   widget drawn again with its value and errors; ``is_valid`` runs that for every field,
   whatever the others hold. So the form is posted with one hostile value in all its
   ``own`` fields at once (the other keys as the page filled them, so that the view goes the
   same way): that runs each field's own code on the value as the post of that field alone
   would. The field-alone post differs from the form's post as the page filled it (sent
   first) only in that field, so the rest of what it runs is that post with the field
   refused or passed:

   - refused: if that post refused the field too, or if no other code reads the field and
     the form is refused for another field anyway, the rest is that post; otherwise one post
     of the field alone with one refused value stands for all of them (``clean()`` and the
     view see the field missing, whichever value it was);
   - passed: if no other code reads its cleaned value and the form is refused for another
     field anyway (by that field's own validation of its value as the page filled it), the
     rest is that post; otherwise (``clean()`` reads it, or the form may be accepted and
     saved with it) the value is posted alone, as before.

   Each post checks again what it stands on (the field still ``own``, the stand-in still
   refused); where it does not hold, the field is posted alone with every value.

This relies on Django's form machinery (``_widget_data_value``, ``_clean_fields``,
``_clean_form``, ``BaseModelForm._post_clean``, which the watch wraps) and on one thing the
record does not show: that a view treats a refused form alike whichever of its fields are
refused, beyond showing each field's errors beside it (of the views here, ``bulk`` turns each
error into a message and ``hours`` asks whether there are any). Values read by hand
(``params``, ``request.POST[...]``, the rule builder), whole-data reads, widgets of several
keys, and fields of forms that stop early or are never validated are posted field by field
with every hostile value, as before. As before too, the requests run one after another on
the same rows, so a request that stands for another runs on what the posts before it left.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from types import FrameType
from typing import Any, TypeVar
from urllib.parse import urljoin

import pytest
from django import forms
from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.db import connection
from django.db.models import Model
from django.forms import fields as form_fields
from django.forms.forms import BaseForm
from django.forms.models import BaseModelForm
from django.http import HttpRequest, QueryDict
from django.template import Context
from django.template import Template as DjangoTemplate
from django.template.base import FilterExpression, Variable, VariableNode
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.functional import cached_property

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
T = TypeVar("T")

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
#: Each sweep runs as this many tests, each taking its share of the URLs or forms, so that a
#: parallel run (pytest-xdist) shares them between its workers.
PARTS = 2
#: Forms whose posts another page's form makes already: the add-mailbox page posts the same
#: MailboxForm to the same handler (``mailbox_admin._edit``) as the edit page, and neither
#: form validates as its page fills it (its selects are left empty), so every post of the add
#: page is one the edit page makes too, field for field and value for value (and each renders
#: the whole form again).
SWEPT_ELSEWHERE = ("/admin/mailboxes/new",)


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


# What a request reads. ``_Watch`` is filled while a ``_watching`` block runs, by the
# wrappers the ``watched`` fixture puts around QueryDict and Django's form cleaning.


class _Watch:
    """What one request read of its query (``kind`` "GET") or form data ("POST")."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.data: set[int] = set()  # id() of the request's QueryDict
        self.by_hand: set[str] = set()  # keys read other than by a form field's widget
        self.whole = False  # read as a whole: iterated, copied, encoded; GET: counted
        self.counted = False  # POST counted (tells which keys are there, not what they hold)
        self.widgets: dict[str, set[str]] = {}  # field (html name) -> keys its widget read
        self.refused: dict[str, list[bool]] = {}  # field -> refused by its own validation?
        self.shared: set[str] = set()  # fields whose cleaned value other code read
        self.leaning: set[str] = set()  # fields whose clean_<name> read other fields
        self.forms: dict[str, list[frozenset[str]]] = {}  # field -> the fields of its form
        self.reading: list[str] = []  # the widgets reading now (html names)

    def note(self, qd: QueryDict, key: str | None) -> None:
        """``key`` of ``qd`` read (None: the whole of it)."""
        if id(qd) not in self.data:
            return
        if self.reading:
            self.widgets.setdefault(self.reading[-1], set()).add("*" if key is None else key)
        elif key is None:
            self.whole = True
        else:
            self.by_hand.add(key)

    def read(self, key: str) -> bool:
        """``key`` read at all, in any way (the whole-data reads included)."""
        return (
            self.whole
            or key in self.by_hand
            or any(key in keys or "*" in keys for keys in self.widgets.values())
        )

    def untouched(self, key: str, *, absent: bool) -> bool:
        """Nothing read ``key``; a key not posted was not even counted."""
        return not self.read(key) and not (absent and self.counted)

    def own(self, key: str) -> bool:
        """``key`` is one field of one validated form, read only by that field's widget, and
        validated on its own (its clean_<name> reads no other field)."""
        return (
            not self.whole
            and key not in self.by_hand
            and key not in self.leaning
            and self.widgets.get(key, {key}) == {key}
            and not any(key in keys for name, keys in self.widgets.items() if name != key)
            and len(self.refused.get(key, ())) == 1
            and len(self.forms.get(key, ())) == 1
        )

    def refused_own(self, key: str) -> bool:
        """``key`` is ``own`` and its own validation refused its value."""
        return self.own(key) and self.refused[key] == [True]

    def form_of(self, key: str) -> frozenset[str]:
        return self.forms[key][0]


_WATCH: _Watch | None = None


@contextmanager
def _watching(kind: str) -> Iterator[_Watch]:
    global _WATCH  # noqa: PLW0603 - one request at a time, in this thread
    _WATCH = _Watch(kind)
    try:
        yield _WATCH
    finally:
        _WATCH = None


def _whole(name: str) -> Callable[..., Any]:
    """A method of ``_Cleaned`` that reads the whole of it."""

    def read(self: _Cleaned, *args: Any, **kwargs: Any) -> Any:
        self._saw(None)
        return getattr(dict, name)(self, *args, **kwargs)

    return read


class _Cleaned(dict):  # type: ignore[type-arg]
    """A form's ``cleaned_data`` that tells the watch who reads which field."""

    def __init__(self, form: BaseForm) -> None:
        super().__init__()
        self.form = form
        self.stage = "fields"  # fields (each field's own clean), form (clean()), model, after
        self.field: str | None = None  # the field being cleaned, in stage "fields"

    def _saw(self, name: str | None) -> None:
        watch = _WATCH
        if watch is None:
            return
        html = self.form.add_prefix
        everything = {html(n) for n in self.form.fields}
        if self.stage == "model" and _plain_model(self.form):
            return  # copied into the instance field by field, validated field by field
        if self.stage == "fields" and self.field is not None and name == self.field:
            return  # the field's own clean_<name>, or its own error
        if self.stage == "fields" and self.field is not None:
            watch.leaning.add(html(self.field))  # a clean_<name> that reads another field
        watch.shared.update(everything if name is None else {html(name)})

    def __getitem__(self, key: str) -> Any:
        self._saw(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._saw(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self._saw(str(key))
        return super().__contains__(key)

    def pop(self, key: str, *default: Any) -> Any:
        self._saw(key)
        return super().pop(key, *default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self._saw(key)
        return super().setdefault(key, default)

    def __bool__(self) -> bool:
        """``super().clean() or {}``: as long as two fields are in, one field more or less
        (the difference a single-field post makes) cannot change the answer."""
        count = dict.__len__(self)
        if count < 2:
            self._saw(None)
        return count > 0

    __iter__ = _whole("__iter__")
    __len__ = _whole("__len__")
    keys = _whole("keys")
    items = _whole("items")
    values = _whole("values")
    copy = _whole("copy")
    __or__ = _whole("__or__")
    __eq__ = _whole("__eq__")
    __hash__ = None  # type: ignore[assignment]


def _plain_model(form: BaseForm) -> bool:
    """The model validation of a ModelForm is each field's own: Django's, with no
    ``Model.clean()`` and no constraint or uniqueness over several fields."""
    model = form._meta.model  # type: ignore[attr-defined]
    meta = model._meta
    return (
        all(
            getattr(model, name) is getattr(Model, name)
            for name in (
                "clean",
                "clean_fields",
                "full_clean",
                "validate_unique",
                "validate_constraints",
            )  # fmt: skip
        )
        and not meta.unique_together
        and not meta.constraints
        and not any(
            f.unique_for_date or f.unique_for_month or f.unique_for_year for f in meta.fields
        )
    )


def _printed(frame: FrameType | None) -> bool:
    """``request.get_full_path`` called by a ``{{ ... }}`` of a template (``frame``: the
    caller of ``_get_full_path``): printed into the page, as the rail's ``next`` field does.
    Printing runs the same code whatever the text says."""
    for code in _PRINTING:
        if frame is None or frame.f_code is not code:
            return False
        frame = frame.f_back
    return True


#: The calls between a template's ``{{ request.get_full_path }}`` and ``_get_full_path``.
_PRINTING = [
    HttpRequest.get_full_path.__code__,
    Variable._resolve_lookup.__code__,
    Variable.resolve.__code__,
    FilterExpression.resolve.__code__,
    VariableNode.render.__code__,
]


@pytest.fixture
def watched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wrap what a request reads its data with, for ``_watching``."""

    def key_read(name: str) -> None:
        original = getattr(QueryDict, name)

        def read(self: QueryDict, key: str, *args: Any, **kwargs: Any) -> Any:
            if _WATCH is not None:
                _WATCH.note(self, key)
            return original(self, key, *args, **kwargs)

        monkeypatch.setattr(QueryDict, name, read)

    def whole_read(name: str) -> None:
        original = getattr(QueryDict, name)

        def read(self: QueryDict, *args: Any, **kwargs: Any) -> Any:
            if _WATCH is not None:
                _WATCH.note(self, None)
            return original(self, *args, **kwargs)

        monkeypatch.setattr(QueryDict, name, read)

    for name in ("__getitem__", "get", "getlist", "__contains__", "pop"):
        key_read(name)
    for name in ("items", "lists", "values", "dict", "copy", "__copy__", "__deepcopy__",
                 "urlencode", "__iter__", "keys", "__reversed__", "popitem"):  # fmt: skip
        whole_read(name)

    def counted(self: QueryDict) -> int:
        watch = _WATCH
        if watch is not None and id(self) in watch.data and not watch.reading:
            if watch.kind == "GET":
                watch.whole = True  # a plain request has none: ``request.GET or None``
            else:
                watch.counted = True
        return dict.__len__(self)

    monkeypatch.setattr(QueryDict, "__len__", counted)

    load = WSGIRequest._load_post_and_files

    def load_post(self: WSGIRequest) -> None:
        load(self)
        if _WATCH is not None and _WATCH.kind == "POST":
            _WATCH.data.add(id(self._post))

    monkeypatch.setattr(WSGIRequest, "_load_post_and_files", load_post)
    get = WSGIRequest.__dict__["GET"].real_func

    def get_query(self: WSGIRequest) -> QueryDict:
        query: QueryDict = get(self)
        if _WATCH is not None and _WATCH.kind == "GET":
            _WATCH.data.add(id(query))
        return query

    prop = cached_property(get_query)
    prop.__set_name__(WSGIRequest, "GET")
    monkeypatch.setattr(WSGIRequest, "GET", prop)
    full_path = HttpRequest._get_full_path

    def path_with_query(self: HttpRequest, *args: Any, **kwargs: Any) -> str:
        if _WATCH is not None and _WATCH.kind == "GET" and not _printed(sys._getframe(1)):
            _WATCH.whole = True
        return full_path(self, *args, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(HttpRequest, "_get_full_path", path_with_query)
    body = HttpRequest.body.fget  # type: ignore[attr-defined]

    def raw_body(self: HttpRequest) -> bytes:
        if _WATCH is not None:
            _WATCH.whole = True  # the data unparsed: anything may be read from it
        return body(self)  # type: ignore[no-any-return]

    monkeypatch.setattr(HttpRequest, "body", property(raw_body))

    widget_data = BaseForm._widget_data_value

    def widget_read(self: BaseForm, widget: Any, html_name: str) -> Any:
        if _WATCH is None:
            return widget_data(self, widget, html_name)
        _WATCH.reading.append(html_name)
        try:
            return widget_data(self, widget, html_name)
        finally:
            _WATCH.reading.pop()

    monkeypatch.setattr(BaseForm, "_widget_data_value", widget_read)

    for cls in (form_fields.Field, form_fields.FileField):
        own_clean = cls.__dict__["_clean_bound_field"]

        def clean_bound(self: Any, bf: Any, own_clean: Any = own_clean) -> Any:
            cleaned = bf.form.cleaned_data
            if isinstance(cleaned, _Cleaned):
                cleaned.field = bf.name
            return own_clean(self, bf)

        monkeypatch.setattr(cls, "_clean_bound_field", clean_bound)

    clean_fields = BaseForm._clean_fields

    def watched_fields(self: BaseForm) -> None:
        watch = _WATCH
        if watch is None:
            return clean_fields(self)
        self.cleaned_data = cleaned = _Cleaned(self)
        clean_fields(self)
        cleaned.field = None
        cleaned.stage = "after"
        names = frozenset(bf.html_name for _, bf in self._bound_items())
        for name, bf in self._bound_items():
            watch.refused.setdefault(bf.html_name, []).append(name in self._errors)  # type: ignore[operator]
            watch.forms.setdefault(bf.html_name, []).append(names)
        return None

    monkeypatch.setattr(BaseForm, "_clean_fields", watched_fields)

    def staged(method: Callable[[Any], None], name: str) -> Callable[[Any], None]:
        def run(self: BaseForm) -> None:
            cleaned = self.cleaned_data
            if _WATCH is None or not isinstance(cleaned, _Cleaned):
                return method(self)
            cleaned.stage = name
            try:
                method(self)
            finally:
                cleaned.stage = "after"
            if self.cleaned_data is not cleaned:  # clean() gave a dict of its own
                _WATCH.shared.update(self.add_prefix(n) for n in self.fields)
            return None

        return run

    # A form's own _post_clean (one that overrides Django's) reads in stage "after": shared.
    monkeypatch.setattr(BaseForm, "_clean_form", staged(BaseForm._clean_form, "form"))
    monkeypatch.setattr(BaseModelForm, "_post_clean", staged(BaseModelForm._post_clean, "model"))


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


def _share(items: list[T], part: int) -> list[T]:
    """This part's share of ``items``, dealt out in turn and back (0, 1, 1, 0, 0, 1, ...):
    neighbours are often alike (a list page and its fragments), and the first are the
    largest where the caller sorted them so."""
    turns = [*range(PARTS), *reversed(range(PARTS))]
    return [item for i, item in enumerate(items) if turns[i % len(turns)] == part]


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


def test_the_watch_sees_reads_by_hand_and_by_forms(world, watched):
    """The evidence the sweeps skip requests on (module docstring): a page that reads query
    parameters, one that reads its query whole, the full path printed or used, a view that
    reads a posted value by hand, a form whose clean() reads two fields, fields that only
    their own widgets read, and a clean_<name> that reads another field."""
    client, _, ids = world
    with _watching("GET") as page:
        client.get(f"/c/{ids['pk']}/")
    assert {"before", "sent"} <= page.by_hand and "page" not in page.by_hand
    with _watching("GET") as paged:
        client.get("/admin/audit/", {"before": "1"})
    assert paged.whole  # a filter form bound to the query, and links that keep it
    request = RequestFactory().get("/m/1/new/", {"q": "x"})
    with _watching("GET") as printed:
        DjangoTemplate("{{ request.get_full_path|upper }}").render(Context({"request": request}))
    assert not printed.whole
    with _watching("GET") as branched:
        request = RequestFactory().get("/m/1/new/", {"q": "x"})
        DjangoTemplate("{% if request.get_full_path %}x{% endif %}").render(
            Context({"request": request})
        )
    assert branched.whole
    with _watching("GET") as counted:
        request = RequestFactory().get("/m/1/new/", {"q": "x"})
        assert request.GET
    assert counted.whole
    with _watching("GET") as redirected:
        request = RequestFactory().get("/m/1/new/", {"q": "x"})
        request.build_absolute_uri()
    assert redirected.whole
    with _watching("POST") as resend:
        client.post("/settings/", {"resend": "1", "display_name": "x"})
    assert "resend" in resend.by_hand and not resend.read("display_name")
    with _watching("POST") as mailbox:
        client.post(f"/admin/mailboxes/{ids['mailbox_id']}/", {"imap_port": "²", "test": "imap"})
    assert "test" in mailbox.by_hand and not mailbox.own("test")
    assert mailbox.refused_own("imap_port") and mailbox.refused_own("imap_security")
    assert {"imap_port", "smtp_port"} <= mailbox.shared  # MailboxForm.clean() reads the ports
    assert mailbox.own("name") and not mailbox.refused_own("name")
    assert "name" not in mailbox.shared and "imap_security" not in mailbox.shared

    class Pair(forms.Form):
        a = forms.IntegerField()
        b = forms.IntegerField()
        c = forms.IntegerField()

        def clean_b(self) -> int:
            return int(self.cleaned_data["b"]) + int(self.cleaned_data.get("a") or 0)

    with _watching("POST") as pair:
        Pair({"a": "1", "b": "2", "c": "x"}).is_valid()
    assert pair.leaning == {"b"} and pair.shared == {"a"}
    assert pair.refused == {"a": [False], "b": [False], "c": [True]}


@pytest.mark.exhaustive
@pytest.mark.parametrize("part", range(PARTS))
def test_every_url_with_hostile_query_values(world, watched, part: int):
    client, _, ids = world
    failed: list[str] = []
    for url in _share(_urls(ids), part):
        with _watching("GET") as plain:
            response = client.get(url)
        _check(response, f"GET {url}", failed)
        if response.status_code == 405:
            continue  # takes no GET: refused before its view runs, whatever the query
        read = [name for name in QUERY if plain.read(name)]
        if not read:
            continue  # reads none of them: each request below would be the one just made
        for value in _values(HOSTILE):
            _check(client.get(url, {name: value for name in QUERY}), f"GET {url} {value!r}", failed)
        # one at a time too: a 400 for one must not hide another's 500 (a parameter the page
        # does not read, alone, is the plain request again)
        for name in read:
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


class _Poster:
    """Posts to one form's action, checks each answer, and signs the admin in again when
    a post signed it out."""

    def __init__(self, client: Client, admin: Any, action: str, failed: list[str]) -> None:
        self.client, self.admin, self.action, self.failed = client, admin, action, failed

    def __call__(self, data: dict[str, object], what: str) -> _Watch:
        session = self.client.cookies.get(settings.SESSION_COOKIE_NAME)
        before = session.value if session else None
        with _watching("POST") as watch:
            response = self.client.post(self.action, data)
        _check(response, f"POST {self.action} {what}"[:200], self.failed)
        session = self.client.cookies.get(settings.SESSION_COOKIE_NAME)
        if (session.value if session else None) != before:
            self.client.force_login(self.admin.user)  # a hostile post signed the test out
        return watch


def _sweep(post: _Poster, fields: dict[str, object]) -> None:
    """Post every field of one form with every hostile value, or the posts that stand for
    them (module docstring)."""
    names = [n for n in fields if n != "csrfmiddlewaretoken"]
    base = {k: v for k, v in fields.items() if v is not None and k != "csrfmiddlewaretoken"}
    values = _values(HOSTILE_POST)
    page = post(base, "as the page filled it")
    unread = {n for n in names if page.untouched(n, absent=n not in base)}
    own = [n for n in names if n not in unread and page.own(n)]
    refused = {n for n in own if page.refused_own(n)}
    single = {n: [] if n in unread or n in own else list(values) for n in names}
    stand_in: dict[str, object] = {}  # field -> a refused value: the rest of the form
    for value in values if own else []:
        together = post({**base, **{n: value for n in own}}, f"{', '.join(own)} = {value!r}")
        for n in own:
            form = page.form_of(n)
            held = bool((form & refused) - {n})  # refused for another field whatever n holds
            shared = n in page.shared or n in together.shared
            if not together.own(n) or together.form_of(n) != form:
                single[n].append(value)
            elif together.refused_own(n):
                if n not in refused and (shared or not held):
                    stand_in.setdefault(n, value)
            elif shared or not held:
                single[n].append(value)  # passed, and other code reads it or may accept it
    for n, value in stand_in.items():
        if not post({**base, n: value}, f"{n}={value!r}").refused_own(n):
            single[n] = [v for v in values if v != value]  # not as it seemed: every value
    for n in names:
        for value in single[n]:
            post({**base, n: value}, f"{n}={value!r}")


@pytest.mark.exhaustive
@pytest.mark.parametrize("part", range(PARTS))
def test_every_form_field_with_hostile_values(world, watched, part: int):
    client, admin, ids = world
    forms: dict[str, dict[str, object]] = {}
    for url in _urls(ids):
        for action, fields in _forms(client, url):
            skipped = action.startswith(SKIP_ACTIONS + SWEPT_ELSEWHERE)
            if not skipped and f"/admin/team/{admin.pk}" not in action:
                forms.setdefault(action, {}).update(fields)
    assert any(a.startswith("/bulk") for a in forms), forms.keys()
    assert any(a.endswith("/reply") for a in forms), forms.keys()
    failed: list[str] = []
    largest_first = sorted(forms.items(), key=lambda item: -len(item[1]))
    for action, fields in _share(largest_first, part):
        _sweep(_Poster(client, admin, action, failed), fields)
        client.force_login(admin.user)
    assert not failed, "\n".join(failed[:40])
