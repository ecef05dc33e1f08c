"""pytest fixtures for real mail servers; a conftest does ``from tests.servers.fixtures import *``.

- ``dovecot``: a fresh Dovecot (IMAP + LMTP) per test, user ``alice`` / ``secret``.
- ``dovecot_factory``: ``dovecot_factory(users={...}, lmtp=True)`` for more instances.
- ``postfix_factory``: ``postfix_factory(lmtp_host, lmtp_port, domains=[...])`` starts a
  Postfix relaying those domains to that LMTP server; all are stopped after the test.
- ``free_port()``: a free loopback TCP port (a plain function, not a fixture).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import pytest

from . import free_port
from .dovecot import Dovecot
from .postfix import Postfix

__all__ = ["Dovecot", "Postfix", "dovecot", "dovecot_factory", "free_port", "postfix_factory"]

DovecotFactory = Callable[..., Dovecot]
PostfixFactory = Callable[..., Postfix]


@pytest.fixture
def dovecot_factory() -> Iterator[DovecotFactory]:
    started: list[Dovecot] = []

    def make(users: Mapping[str, str] | None = None, *, lmtp: bool = True) -> Dovecot:
        server = Dovecot(users, lmtp=lmtp)
        started.append(server)
        return server.start()

    yield make
    for server in reversed(started):
        server.stop()


@pytest.fixture
def dovecot(dovecot_factory: DovecotFactory) -> Dovecot:
    """A fresh Dovecot for this test: ``host``, ``port`` (IMAP), ``lmtp_port``,
    ``user``/``password`` = alice/secret."""
    return dovecot_factory()


@pytest.fixture
def postfix_factory() -> Iterator[PostfixFactory]:
    started: list[Postfix] = []

    def make(
        lmtp_host: str,
        lmtp_port: int,
        domains: Iterable[str] = ("example.com",),
        **kwargs: Any,
    ) -> Postfix:
        server = Postfix(lmtp_host, lmtp_port, domains, **kwargs)
        started.append(server)
        return server.start()

    yield make
    for server in reversed(started):
        server.stop()
