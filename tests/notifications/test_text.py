"""Every kind of notification has its sentence (a missing one was a 500 on the bell page)."""

from __future__ import annotations

from madoguchi.notifications.models import Kind
from madoguchi.notifications.text import SENTENCES


def test_every_kind_has_a_sentence():
    for kind in Kind:
        assert SENTENCES[kind]("佐藤").strip(), kind
