"""PostgreSQL: entries' ids with their conversation, mailbox, time and people fields
(``tsv_people``, migration 0007) in one index, so that the walks over the newest entries
read the index alone:

- a search with a narrow filter (``backends.matching_within``) reads a window of entries
  and looks up in the table only those of its conversations: at a million conversations
  ``invoice tag:billing`` read the window's 100,000 entries from the table to learn each
  one's conversation (121 / 148 ms p50 / p95);
- a ``from:`` or ``to:`` search (``backends._pg_walk`` over ``tsv_people``) checks each
  entry's people fields from the index: a table row is ~3 KB with the whole mail's
  ``tsv``, four to a page, and reading 30,000 of them took 35 ms of the 60 / 70 ms that
  ``from:tokyo-shoji`` took (12 ms from the index, measured at 100,000).

~200 bytes an entry. SQLite does not walk (its filters are applied after FTS5's query) and
gets no extra index to write.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

NAME = "search_entry_walk"


def _create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {NAME} ON search_entry (id) "
            "INCLUDE (conversation_id, mailbox_id, at, tsv_people)"
        )


def _drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("search", "0007_people_tsv")]

    operations = [migrations.RunPython(_create, _drop)]
