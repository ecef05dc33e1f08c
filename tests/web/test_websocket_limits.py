"""/live sockets are bounded (size, rate) and end with the session, against a real server."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import requests
from django.contrib.sessions.models import Session
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from madoguchi.accounts.actions import set_active
from tests.factories import make_conversation
from tests.web.live_client import session_cookie

_open = ExitStack()


@pytest.fixture(autouse=True)
def _close_sockets() -> Iterator[None]:
    with _open:
        yield


def _socket(base: str, cookie: str) -> ClientConnection:
    url = base.replace("http://", "ws://") + "/live"
    headers = {"Origin": base, "Cookie": cookie}
    ws = _open.enter_context(connect(url, additional_headers=headers, open_timeout=10))
    assert json.loads(ws.recv(timeout=10))["type"] == "presence_all"
    return ws


def _close_code(ws: ClientConnection, timeout: float = 10.0) -> int:
    """Waits until the server closes the socket; its close code."""
    deadline = time.monotonic() + timeout
    try:
        while (left := deadline - time.monotonic()) > 0:
            ws.recv(timeout=left)
    except ConnectionClosed as closed:
        assert closed.rcvd is not None
        return closed.rcvd.code
    except TimeoutError:
        pass
    raise AssertionError(f"still open after {timeout}s")


def _wait_for(ws: ClientConnection, match: Callable[[dict[str, Any]], bool]) -> None:
    """Read the socket until a message matches: the server has handled what came before."""
    deadline = time.monotonic() + 10
    while (left := deadline - time.monotonic()) > 0:
        if match(json.loads(ws.recv(timeout=left))):
            return
    raise AssertionError("no matching message within 10s")


def test_a_message_too_large_closes_the_socket(web, team):
    ws = _socket(web, session_cookie(team["sato"].user))
    ws.send(json.dumps({"conversation": 1, "state": "viewing", "pad": "x" * 5000}))
    assert _close_code(ws) == 1009


def test_a_socket_that_floods_is_closed_as_a_policy_violation(web, team):
    """Twenty messages at once pass (a burst); two hundred do not."""
    conv = make_conversation(team["support"])
    ws = _socket(web, session_cookie(team["sato"].user))
    for _ in range(15):
        ws.send(json.dumps({"conversation": None}))
    ws.send(json.dumps({"conversation": conv.pk, "state": "viewing"}))  # the 16th
    _wait_for(ws, lambda m: m["type"] == "presence" and m["conversation"] == conv.pk)  # passed
    try:
        for _ in range(200):
            ws.send(json.dumps({"conversation": None}))
    except ConnectionClosed:
        pass
    assert _close_code(ws) == 1008


def test_signing_out_closes_that_sessions_sockets_only(web, team):
    user = team["sato"].user
    cookie, other = session_cookie(user), session_cookie(user)
    ws, elsewhere = _socket(web, cookie), _socket(web, other)
    http = requests.Session()
    name, _, value = cookie.partition("=")
    http.cookies.set(name, value)
    http.get(f"{web}/settings/")  # for the CSRF cookie
    answer = http.post(f"{web}/logout/", headers={"X-CSRFToken": http.cookies["csrftoken"]},
                       allow_redirects=False)  # fmt: skip
    assert answer.status_code == 302
    assert _close_code(ws, timeout=5) == 4401
    elsewhere.ping().wait(5)  # the same agent's other browser stays signed in


def test_deactivating_an_agent_closes_their_sockets(web, team):
    ws = _socket(web, session_cookie(team["sato"].user))
    set_active(team["sato"], False, actor_id=team["kato"].user.pk)
    assert _close_code(ws, timeout=5) == 4403


def test_a_session_that_ends_elsewhere_closes_its_sockets(web, team):
    """Removed from the store (expired, flushed by a password change): closed within the
    hub's session check."""
    cookie = session_cookie(team["sato"].user)
    ws = _socket(web, cookie)
    Session.objects.filter(session_key=cookie.partition("=")[2]).delete()
    assert _close_code(ws, timeout=20) == 4401


def test_a_session_that_skipped_its_second_step_gets_no_live_events(web, team):
    """The pages sign out a session of an agent with two-step sign-in that did not pass it;
    the socket must refuse it just the same (and a team requirement likewise)."""
    from madoguchi.accounts.models import TotpDevice

    user = team["sato"].user
    cookie = session_cookie(user)  # signed in before the app was added: no second step
    TotpDevice.objects.create(user=user, name="phone", confirmed=True)
    url = web.replace("http://", "ws://") + "/live"
    headers = {"Origin": web, "Cookie": cookie}
    try:
        ws = _open.enter_context(connect(url, additional_headers=headers, open_timeout=10))
    except Exception:  # refused at the handshake
        return
    assert _close_code(ws) == 4401


def test_a_hostile_cursor_in_the_live_url_is_ignored_not_a_crash(web, team):
    """``"²".isdigit()`` is true and ``int("²")`` fails: the socket must still work."""
    cookie = session_cookie(team["sato"].user)
    for after in ["²", "9" * 40, "-1", "1e9"]:
        url = web.replace("http://", "ws://") + "/live?after=" + after
        ws = _open.enter_context(connect(url, additional_headers={"Origin": web, "Cookie": cookie}))
        assert json.loads(ws.recv(timeout=10))["type"] == "presence_all"
        ws.ping().wait(5)
