"""Log lines of a command on standard error, each once.

Django's ``LOGGING`` (settings) gives the ``madoguchi`` and ``django_tasks_db`` loggers a
console handler of their own; a root handler for everything else (uvicorn, aiosmtpd, the
IMAP library) must leave their records to it, or each of our lines is printed twice.
"""

from __future__ import annotations

import logging

#: Loggers that settings.LOGGING prints already.
OWN = ("madoguchi", "django_tasks_db")


def _not_own(record: logging.LogRecord) -> bool:
    return not record.name.startswith(OWN)


def to_stderr(level: int, fmt: str) -> None:
    """``logging.basicConfig`` for the other libraries' records only."""
    logging.basicConfig(level=level, format=fmt)
    for handler in logging.getLogger().handlers:
        if _not_own not in handler.filters:
            handler.addFilter(_not_own)
