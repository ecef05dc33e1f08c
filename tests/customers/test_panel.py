"""The customer information source against a real HTTP server: fields shown, failures
said, the time limit kept while the server still holds the request, answers cached, the
header sent with its decrypted value."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.cache import cache

from madoguchi.conversations.models import Conversation
from madoguchi.customers import actions, panel
from madoguchi.customers.models import CustomerPanel
from tests.factories import make_conversation, make_mailbox

pytestmark = pytest.mark.django_db


class Source:
    """A local HTTP server whose answer per path the test chooses."""

    def __init__(self) -> None:
        self.hits: list[tuple[str, dict[str, str]]] = []
        self.release = threading.Event()
        source = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                source.hits.append((self.path, dict(self.headers)))
                if self.path.startswith("/slow"):
                    source.release.wait(10)
                status, body, kind = source.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                if status == 302:
                    self.send_header("Location", "file:///etc/passwd")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def answer(self, path: str) -> tuple[int, bytes, str]:
        if path.startswith("/error"):
            return 500, b"oops", "text/plain"
        if path.startswith("/html"):
            return 200, b"<html>", "text/html"
        if path.startswith("/big"):
            return 200, b'{"a": "' + b"x" * 300_000 + b'"}', "application/json"
        if path.startswith("/moved"):
            return 302, b"", "text/plain"
        customer = {"会員番号": "A-1001", "プラン": "ゴールド", "orders": [{"id": 1}, {"id": 2}],
                    "address": {"pref": "東京都", "city": "千代田区"}, "active": True}  # fmt: skip
        return 200, json.dumps(customer, ensure_ascii=False).encode(), "application/json"


@pytest.fixture
def source() -> Iterator[Source]:
    cache.clear()
    made = Source()
    yield made
    made.release.set()
    made.server.shutdown()


def _conversation(path: str, source: Source, **settings: Any) -> Conversation:
    box = make_mailbox("support@example.jp")
    actions.save_panel(
        box.pk, actor_id=None, links=[], order_pattern=r"ORD-(\d+)",
        source_url=f"{source.url}{path}", source_header="Authorization",
        source_secret="Bearer s3cret", timeout_ms=settings.get("timeout_ms", 2000),
        cache_seconds=settings.get("cache_seconds", 300),
    )  # fmt: skip
    return make_conversation(box, subject="ORD-42 の件", sender="山田 <yamada@tokyo.example>")


def test_the_answer_is_shown_as_fields(source: Source) -> None:
    conv = _conversation("/customers?email={email}&order={order}", source)
    info = panel.info_for(conv)
    assert info.error == ""
    assert info.fields == [("会員番号", "A-1001"), ("プラン", "ゴールド"),
                           ("orders", '{"id": 1}, {"id": 2}'), ("address.pref", "東京都"),
                           ("address.city", "千代田区"), ("active", "✓")]  # fmt: skip
    path, headers = source.hits[0]
    assert path == "/customers?email=yamada%40tokyo.example&order=42"
    assert headers["Authorization"] == "Bearer s3cret"
    panel.info_for(conv)
    assert len(source.hits) == 1  # cached
    stored = CustomerPanel.objects.values_list("source_secret", flat=True).get()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT source_secret FROM customers_customerpanel")
        (raw,) = cursor.fetchone()
    assert stored == "Bearer s3cret" and "s3cret" not in raw  # encrypted at rest


@pytest.mark.parametrize(
    ("path", "error"),
    [("/error", "http"), ("/html", "json"), ("/big", "large"), ("/moved", "http")],
)
def test_a_failing_source_says_how(source: Source, path: str, error: str) -> None:
    assert panel.info_for(_conversation(path, source)).error == error


def test_the_time_limit_holds_while_the_server_still_holds_the_request(source: Source) -> None:
    conv = _conversation("/slow", source, timeout_ms=300)
    info = panel.info_for(conv)  # returns although the server has not answered
    assert info.error == "timeout" and not source.release.is_set()
    assert panel.info_for(conv).error == "timeout"  # the failure is cached: not asked again
    assert len(source.hits) == 1


def test_a_source_nobody_listens_on(source: Source) -> None:
    source.server.shutdown()
    source.server.server_close()
    assert panel.info_for(_conversation("/gone", source)).error in ("network", "timeout")


def test_a_link_local_address_is_never_asked(source: Source) -> None:
    box = make_mailbox("meta@example.jp")
    actions.save_panel(box.pk, actor_id=None, links=[], order_pattern="",
                       source_url="http://169.254.169.254/latest/meta-data/?e={email}",
                       source_header="", source_secret=None, timeout_ms=500,
                       cache_seconds=0)  # fmt: skip
    conv = make_conversation(box, subject="x", sender="a@b.example", message_id="ll@x")
    assert panel.info_for(conv).error == "blocked"
