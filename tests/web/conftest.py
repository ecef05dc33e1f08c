"""Browser tests: the real ASGI server (`madoguchi run web`) and Debian's Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from madoguchi.accounts.actions import add_member, create_agent
from madoguchi.accounts.models import Agent, Role
from madoguchi.mailboxes.actions import create_mailbox
from madoguchi.mailboxes.models import Mailbox
from tests.fixtures import database_url
from tests.servers import free_port, wait_for_port

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"],
    }  # fmt: skip


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "ja-JP", "timezone_id": "Asia/Tokyo",
            "viewport": {"width": 1280, "height": 800}}  # fmt: skip


@contextmanager
def web_process(*roles: str) -> Iterator[str]:
    """A `madoguchi run ROLES` process on the test database; yields its base URL."""
    port = free_port()
    env = {**os.environ, "MADOGUCHI_DATABASE_URL": database_url(),
           "MADOGUCHI_WEB_BIND": f"127.0.0.1:{port}"}  # fmt: skip
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # servers run with the guard on
    command = [sys.executable, "-m", "madoguchi.cli", "run", *roles]
    proc = subprocess.Popen(command, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for_port("127.0.0.1", port, timeout=60, proc=proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def web(transactional_db) -> Iterator[str]:
    """Base URL of a `madoguchi run web worker` process on the test database."""
    with web_process("web", "worker") as base:
        yield base


@pytest.fixture
def team(transactional_db) -> dict[str, object]:
    """A mailbox with a member agent (sato), and an agent of another mailbox (kato)."""
    support = create_mailbox("support@example.jp", name="サポート窓口")
    sales = create_mailbox("sales@example.jp", name="営業")
    sato = create_agent("sato", password="pw-sato-123", display_name="佐藤 花子")
    kato = create_agent("kato", password="pw-kato-123", display_name="加藤 次郎")
    add_member(support, sato.user)
    add_member(sales, kato.user)
    return {"support": support, "sales": sales, "sato": sato, "kato": kato}


@pytest.fixture
def suzuki(team) -> Agent:
    """A second member of the support mailbox."""
    agent = create_agent("suzuki", password="pw-suzuki-123", display_name="鈴木 一郎")
    add_member(team["support"], agent.user)
    return agent


@pytest.fixture
def two(browser, browser_context_args):
    """Two pages in two browser contexts: two agents signed in side by side."""
    contexts = [browser.new_context(**browser_context_args) for _ in range(2)]
    yield [c.new_page() for c in contexts]
    for c in contexts:
        c.close()


def login(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


__all__ = ["Agent", "Mailbox", "Role", "add_member", "login", "shot"]
