"""PostgreSQL: the subject in a small ``tsvector`` of its own, with a GIN index, for
searches of the subject alone (``subject:納期``), as migration 0007 did for the people.

A GIN index holds no weights: ``'納期':A`` is rechecked on each entry the index finds or
the walk reads, and against ``tsv`` each check decompressed the whole mail's vector (at a
million conversations ``subject:納期`` took 54 / 59 ms p50 / p95 where the same word in
every field took 30). The subject's own vector is a few dozen bytes.
SQLite asks FTS5 for a column, which it indexes as such.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

COLUMN = """ALTER TABLE search_entry ADD COLUMN tsv_subject tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple'::regconfig, subject), 'A')) STORED"""
INDEX = "CREATE INDEX IF NOT EXISTS search_entry_subject ON search_entry USING gin (tsv_subject)"


def _create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COLUMN)
        schema_editor.execute(INDEX)


def _drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS search_entry_subject")
        schema_editor.execute("ALTER TABLE search_entry DROP COLUMN IF EXISTS tsv_subject")


class Migration(migrations.Migration):
    dependencies = [("search", "0009_fts_ascii_tokenizer")]

    operations = [migrations.RunPython(_create, _drop)]
