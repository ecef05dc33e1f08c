"""live.js learns what event types mean from their one declaration, not from literals."""

from __future__ import annotations

import json
import re
from pathlib import Path

from madoguchi.core.event_types import EventType, for_script
from tests.factories import client_for

LIVE_JS = Path(__file__).resolve().parents[2] / "src/madoguchi/web/static/madoguchi/live.js"


def test_every_signed_in_page_carries_the_registry_for_live_js(team):
    client = client_for(team["sato"])
    page = client.get(f"/m/{team['support'].pk}/new/").content.decode()
    found = re.search(r'<script id="live-event-types" type="application/json">(.*?)</script>', page)
    assert found, "the page has no live-event-types JSON"
    assert json.loads(found.group(1)) == for_script()
    assert "mailbox.updated" in for_script()["reloads"]
    assert "conversation.read" in for_script()["uncounted"]


def test_live_js_names_no_event_type():
    text = LIVE_JS.read_text(encoding="utf-8")
    named = [t.value for t in EventType if f'"{t.value}"' in text or f"'{t.value}'" in text]
    assert named == [], f"live.js compares event types itself: {named}"
