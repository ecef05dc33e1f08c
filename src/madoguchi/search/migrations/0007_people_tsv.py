"""PostgreSQL: the people fields (sender, recipients) in a small ``tsvector`` of their own,
with a GIN index, for searches of those fields alone (``from:``, ``to:``).

Field weights are not in a GIN index: a weighted term (``from:tokyo-shoji`` is
``'tokyo':B <-> 'shoji':*B``) is rechecked on each entry the index finds, or on each entry
read newest first, and ``tsv`` holds the whole mail (decompressed for every check). At a
million conversations a sender in 1.3 % of the entries took 65 / 77 ms (p50 / p95). The
people's own column is a few dozen bytes a row: the same checks cost a third, and the walk
index of migration 0008 holds it, so that the walk reads no table row at all.
SQLite asks FTS5 for a column, which it indexes as such.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

COLUMN = """ALTER TABLE search_entry ADD COLUMN tsv_people tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple'::regconfig, sender), 'B')
    || setweight(to_tsvector('simple'::regconfig, recipients), 'C')) STORED"""
INDEX = "CREATE INDEX IF NOT EXISTS search_entry_people ON search_entry USING gin (tsv_people)"


def _create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COLUMN)
        schema_editor.execute(INDEX)


def _drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS search_entry_people")
        schema_editor.execute("ALTER TABLE search_entry DROP COLUMN IF EXISTS tsv_people")


class Migration(migrations.Migration):
    dependencies = [("search", "0006_fts_automerge")]

    operations = [migrations.RunPython(_create, _drop)]
