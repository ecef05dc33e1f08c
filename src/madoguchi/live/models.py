"""Presence announcements shared between web processes (short-lived rows)."""

from __future__ import annotations

from django.db import models


class Pulse(models.Model):
    """One tab's presence on a conversation, as its web process announced it.

    Every process follows these rows as it follows events, so "Sato is viewing" shows on
    agents connected to another process. Rows are re-announced while the tab stays
    (``presence.REFRESH_SECONDS``), expire when they are not, and are deleted after a few
    minutes: presence is state of the moment, not history (that is what ``Event`` is).
    """

    origin = models.CharField(max_length=32)  # the web process
    tab = models.CharField(max_length=32)  # the connection within it
    agent_id = models.BigIntegerField()
    name = models.CharField(max_length=150)
    mailbox_id = models.BigIntegerField(null=True)
    conversation_id = models.BigIntegerField(null=True)
    state = models.CharField(max_length=8)  # viewing, replying or gone
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.agent_id} {self.state} {self.conversation_id}"
