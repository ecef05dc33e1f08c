"""The mailbox's agents and the customer's conversation the outbound tests reply to
(tests/action_fixtures.py); each module sets up ``mailbox`` with its servers."""

from tests.action_fixtures import *  # noqa: F403
