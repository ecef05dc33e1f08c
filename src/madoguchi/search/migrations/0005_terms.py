"""SQLite: the index's words in a table of their own, for prefix expansion
(``search.terms``), filled from FTS5's vocabulary of what is indexed already."""

from __future__ import annotations

from typing import Any

from django.db import migrations

SQLITE = [
    "CREATE TABLE search_term (term TEXT PRIMARY KEY) WITHOUT ROWID",
    "CREATE VIRTUAL TABLE search_vocab USING fts5vocab(search_fts, 'row')",
    "INSERT OR IGNORE INTO search_term (term) SELECT term FROM search_vocab",
]
SQLITE_BACK = ["DROP TABLE IF EXISTS search_vocab", "DROP TABLE IF EXISTS search_term"]


def _run(statements: list[str]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "sqlite":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0004_saved_search")]

    operations = [migrations.RunPython(_run(SQLITE), _run(SQLITE_BACK))]
