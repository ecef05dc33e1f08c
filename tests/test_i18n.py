"""The Japanese UI is complete and compiled."""

from __future__ import annotations

from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parents[1] / "src" / "madoguchi" / "locale" / "ja" / "LC_MESSAGES"


def test_every_string_has_a_japanese_translation():
    """No msgid in the Japanese catalogue is left untranslated or fuzzy."""
    po = polib.pofile(str(LOCALE / "django.po"))
    assert po.untranslated_entries() == [] and po.fuzzy_entries() == []


def test_compiled_catalogue_matches_the_source():
    """django.mo holds exactly what django.po says (compile after editing the .po)."""
    po = polib.pofile(str(LOCALE / "django.po"))
    mo = polib.mofile(str(LOCALE / "django.mo"))
    assert {e.msgid: e.msgstr or e.msgstr_plural.get(0) for e in po if not e.obsolete} == {
        e.msgid: e.msgstr or e.msgstr_plural.get(0) for e in mo
    }
