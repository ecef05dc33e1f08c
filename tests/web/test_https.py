"""MADOGUCHI_HTTPS behind a trusted proxy, against a real `madoguchi run web`."""

from __future__ import annotations

import http.client
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from tests.fixtures import server_env
from tests.web.server import web_process


@pytest.fixture
def behind_proxy(transactional_db, monkeypatch):
    from madoguchi.accounts.actions import create_agent
    from madoguchi.accounts.models import Role

    create_agent("boss", password="pw-boss-1234", role=Role.ADMIN)  # no first-run page
    monkeypatch.setenv("MADOGUCHI_HTTPS", "true")
    monkeypatch.setenv("MADOGUCHI_TRUSTED_PROXIES", "127.0.0.1")
    monkeypatch.setenv("MADOGUCHI_BASE_URL", "https://inbox.example.jp")
    monkeypatch.setenv("MADOGUCHI_ALLOWED_HOSTS", "inbox.example.jp")
    with web_process("web") as base:
        yield base


def _get(base: str, path: str, **headers: str) -> http.client.HTTPResponse:
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request("GET", path, headers={"Host": "inbox.example.jp", **headers})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


@pytest.mark.processes  # a web process of its own
def test_plain_http_is_redirected_and_https_gets_secure_cookies_and_hsts(behind_proxy):
    plain = _get(behind_proxy, "/login/")
    assert plain.status == 301
    assert plain.getheader("Location") == "https://inbox.example.jp/login/"
    secure = _get(behind_proxy, "/login/", **{"X-Forwarded-Proto": "https"})
    assert secure.status == 200
    assert secure.getheader("Strict-Transport-Security") == (
        "max-age=31536000; includeSubDomains; preload"
    )
    cookies = secure.headers.get_all("Set-Cookie") or []
    assert cookies and all("Secure" in c for c in cookies)
    assert _get(behind_proxy, "/healthz").status == 200  # a load balancer's plain check


@pytest.mark.processes
def test_https_without_a_trusted_proxy_stops_the_start_with_a_clear_line():
    env = server_env(MADOGUCHI_HTTPS="true", MADOGUCHI_TRUSTED_PROXIES="")
    done = subprocess.run([sys.executable, "-m", "madoguchi.cli", "stats"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode != 0 and "MADOGUCHI_HTTPS" in done.stderr
