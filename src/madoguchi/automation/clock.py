"""The clock: what happens because time passed (docs/automation/snooze.md).

``tick`` runs every step once: snoozes that ended wake (``conversations.timers``),
follow-ups with no answer are raised, missed SLA targets are recorded
(``automation.sla``), absent agents' conversations are handed on
(``automation.assignment``). Each step scans an indexed column and takes each due item
under a lock, so a tick that runs late (the worker was down) does all that is due, once,
and two workers ticking together never do an item twice.

The worker role of ``madoguchi run`` ticks every ``MADOGUCHI_CLOCK_SECONDS``;
``madoguchi tick`` ticks once (cron, tests). A step that fails is logged and counted as
``FAILED``; the steps after it still run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

from madoguchi.automation import assignment, sla
from madoguchi.conversations import timers

log = logging.getLogger(__name__)

#: The count of a step that raised (it is logged with its traceback).
FAILED = -1

Step = Callable[[datetime], int]


def steps() -> list[tuple[str, Step]]:
    """The steps of a tick, in order, by the name of what they count (looked up on each
    tick, so each module's current function runs)."""
    return [
        ("woken", timers.wake_due),
        ("follow_ups", timers.follow_ups_due),
        ("breaches", sla.check_breaches),
        ("reoffered", assignment.reoffer_due),
    ]


def tick(now: datetime | None = None) -> dict[str, int]:
    """Wake snoozed conversations, raise follow-ups, record missed SLAs, hand on absent
    agents' conversations: each due item exactly once, however late. Counts by kind
    (``FAILED`` for a step that raised)."""
    now = now or timezone.now()
    counts = {}
    for name, step in steps():
        counts[name] = _run(name, step, now)
    return counts


def _run(name: str, step: Step, now: datetime) -> int:
    try:
        done = step(now)
    except Exception:
        log.exception("clock: %s failed; the other steps still run", name)
        return FAILED
    if done:
        log.info("clock: %s %d", name, done)
    return done
