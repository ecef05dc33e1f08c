"""Fill Japanese translations: python scripts/dev/translate.py strings.json (msgid -> ja).

Run `django-admin makemessages -l ja --ignore "mail/*"` in src/madoguchi first; prints what
is still missing and writes both django.po and django.mo (tests/test_i18n.py checks both).
"""

import json
import sys
from pathlib import Path

import polib

CATALOG = Path("src/madoguchi/locale/ja/LC_MESSAGES")


def main(strings: Path) -> None:
    po = polib.pofile(str(CATALOG / "django.po"))
    table = json.loads(strings.read_text(encoding="utf-8"))
    for entry in po:
        if entry.obsolete or entry.msgid not in table:
            continue
        if entry.msgid_plural:
            entry.msgstr_plural = {0: table[entry.msgid]}
        else:
            entry.msgstr = table[entry.msgid]
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
    missing = [e.msgid for e in po if not e.obsolete and (not e.translated() or e.fuzzy)]
    print("missing:", missing)
    po.save()
    po.save_as_mofile(str(CATALOG / "django.mo"))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
