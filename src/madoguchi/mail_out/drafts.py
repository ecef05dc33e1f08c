"""Drafts of replies: saved as the agent types, restored when they come back, gone once
sent. The only writes to ``Draft``."""

from __future__ import annotations

from django.contrib.auth.models import User

from madoguchi.conversations.models import Conversation
from madoguchi.mail_out.models import Draft

MAX_CHARS = 200_000


def find(conv: Conversation, author: User) -> Draft | None:
    return Draft.objects.filter(conversation=conv, author=author).first()


def save(conv: Conversation, author: User, *, to: str, cc: str, text: str, html: str) -> Draft:
    """Keep what the agent has typed so far (an empty draft is discarded instead)."""
    values = {"to": to[:10_000], "cc": cc[:10_000], "text": text[:MAX_CHARS],
              "html": html[:MAX_CHARS]}  # fmt: skip
    draft, _ = Draft.objects.update_or_create(conversation=conv, author=author, defaults=values)
    return draft


def discard(conv: Conversation, author: User) -> None:
    Draft.objects.filter(conversation=conv, author=author).delete()
