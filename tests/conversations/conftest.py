"""A mailbox with two member agents (sato, suzuki), one agent elsewhere (kato), and a
conversation the customer started there (tests/action_fixtures.py)."""

from tests.action_fixtures import *  # noqa: F403
