"""A real SMTP server (aiosmtpd) that keeps what it is given, for outbound tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.servers import free_port


@dataclass
class Captured:
    mail_from: str
    rcpts: list[str]
    data: bytes


@dataclass
class CaptureHandler:
    received: list[Captured] = field(default_factory=list)
    #: Replies to give instead of 250, first one first (e.g. "451 4.3.0 try later").
    answers: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.answers:
            return self.answers.pop(0)
        self.received.append(
            Captured(
                envelope.mail_from or "", list(envelope.rcpt_tos), envelope.original_content or b""
            )
        )
        return "250 2.0.0 queued"


@pytest.fixture
def smtp_capture() -> Iterator[tuple[Controller, CaptureHandler]]:
    handler = CaptureHandler()
    ctl = Controller(handler, hostname="127.0.0.1", port=free_port())
    ctl.start()
    yield ctl, handler
    ctl.stop()
