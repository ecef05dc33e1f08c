"""The events automation reacts to (``AutomationConfig.ready`` registers them)."""

from __future__ import annotations

from madoguchi.automation import intake, sla
from madoguchi.core import events
from madoguchi.core.event_types import EventType


def register() -> None:
    events.observe([EventType.MESSAGE_RECEIVED], intake.on_received)
    sla.register()
