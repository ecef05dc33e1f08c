"""The team inbox in a real browser (Japanese UI): sign in, list, open, take, close."""

from __future__ import annotations

import http.server
import threading

import pytest
from playwright.sync_api import expect

from madoguchi.conversations.models import Conversation, Message
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail
from tests.servers import free_port
from tests.waiting import wait_until
from tests.web.browser import login, shot

pytestmark = pytest.mark.browser


def _seed(team):
    support = team["support"]
    first = deliver(
        support,
        make_mail(
            subject="見積もりのお願い",
            sender="田中 一郎 <tanaka@tokyo-shoji.example>",
            message_id="q1@tokyo-shoji.example",
            body="いつもお世話になっております。\n見積もりをお願いします。\n",
        ),
    )
    deliver(
        support,
        make_mail(
            subject="Re: 見積もりのお願い",
            sender="田中 一郎 <tanaka@tokyo-shoji.example>",
            message_id="q2@tokyo-shoji.example",
            in_reply_to="q1@tokyo-shoji.example",
            body=(
                "納期も教えてください。\n\n"
                "2026年11月23日(月) 10:00 田中 一郎 <tanaka@tokyo-shoji.example>:\n"
                "> 見積もりをお願いします。\n"
            ),
        ),
    )
    deliver(team["sales"], make_mail(subject="営業だけの秘密", message_id="s1@x.example"))
    return first.conversation


def test_sign_in_and_see_the_inbox_in_japanese(page, web, team):
    """An agent signs in and sees their mailbox's new conversations, in Japanese."""
    _seed(team)
    login(page, web, "sato", "pw-sato-123")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator(".tabs a[aria-current]")).to_contain_text("新着")
    row = page.locator(".row").first
    expect(row).to_contain_text("田中 一郎")
    expect(row).to_contain_text("見積もりのお願い")
    expect(page.locator(".rail")).not_to_contain_text("営業")  # not a member there
    shot(page, "inbox_ja.png")


def test_wrong_password_is_explained(page, web, team):
    """A wrong password gets a message in the user's language, not an error page."""
    login(page, web, "sato", "wrong")
    expect(page.locator(".error")).to_contain_text("ユーザー名またはパスワードが正しくありません")


def test_open_take_and_close_a_conversation(page, web, team):
    """Open a thread: the reply text shows with history folded; take it, then mark it done."""
    conv = _seed(team)
    login(page, web, "sato", "pw-sato-123")
    page.locator(".row a").first.click()
    expect(page.locator("h1#conv-title")).to_contain_text("見積もりのお願い")
    cards = page.locator(".card.message")
    expect(cards).to_have_count(2)
    expect(cards.nth(1).locator(".body").first).to_contain_text("納期も教えてください")
    quoted = cards.nth(1).locator(".quoted")
    expect(quoted.locator("summary")).to_have_text("引用を表示")
    expect(quoted.locator(".body")).to_be_hidden()
    quoted.locator("summary").click()
    expect(quoted.locator(".body")).to_be_visible()
    expect(page.locator(".customer")).to_contain_text("tokyo-shoji.example")
    page.click("button[data-key=a]")
    expect(page.locator(".meta .status")).to_have_text("対応中")
    expect(page.locator(".activity").last).to_contain_text("佐藤 花子")
    shot(page, "conversation_ja.png")
    page.click("button[data-key=e]")
    expect(page.locator(".meta .status")).to_have_text("対応完了")
    conv.refresh_from_db()
    assert conv.status == "done" and conv.assignee_id == team["sato"].user_id


def test_keyboard_moves_and_opens(page, web, team):
    """j selects the first row and Enter opens it; ? shows the list of keys."""
    _seed(team)
    login(page, web, "sato", "pw-sato-123")
    expect(page.locator(".row")).to_have_count(1)
    page.keyboard.press("j")
    expect(page.locator(".row.selected")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page.locator("h1#conv-title")).to_be_visible()
    page.wait_for_load_state("domcontentloaded")  # keys.js (deferred) listens from here on
    page.keyboard.press("?")
    expect(page.locator("#keys-help")).to_be_visible()


class _Tracker(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        _Tracker.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.end_headers()
        self.wfile.write(b"GIF89a")

    def log_message(self, *args: object) -> None:
        pass


def test_hostile_html_runs_nothing_and_loads_nothing(page, web, team):
    """Script, handlers and trackers in mail HTML neither run nor load, even unsanitized."""
    port = free_port()
    server = http.server.HTTPServer(("127.0.0.1", port), _Tracker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Tracker.hits.clear()
    conv = _seed(team)
    hostile = (
        f'<p>Hello</p><img src="http://127.0.0.1:{port}/pixel.gif">'
        '<script>parent.document.title="pwned";alert(1)</script>'
        "<img src=x onerror=\"parent.document.title='pwned'\">"
        '<a href="javascript:alert(1)">x</a>'
    )
    # Store it as if the sanitizer had missed everything: the frame must still hold.
    Message.objects.filter(conversation=conv).update(html=hostile)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/c/{conv.pk}/")
    page.locator(".html-part summary").first.click()
    frame = page.frame_locator("iframe").first
    expect(frame.locator("p")).to_have_text("Hello")
    # once the frame has loaded, its scripts would have run and its images been fetched
    document = page.locator("iframe").first.element_handle().content_frame()
    assert document is not None
    document.wait_for_load_state("load")
    assert dialogs == [] and page.title() != "pwned"
    assert _Tracker.hits == []  # remote image blocked
    page.locator(".remote-note a").first.click()
    wait_until(lambda: _Tracker.hits, "the remote image is fetched once asked for", timeout=10)
    assert _Tracker.hits == ["/pixel.gif"]  # shown on request
    server.shutdown()
    assert Conversation.objects.get(pk=conv.pk).status == "new"
