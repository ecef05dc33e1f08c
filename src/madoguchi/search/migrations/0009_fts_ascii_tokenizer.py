"""SQLite: FTS5 splits the entries with its ``ascii`` tokenizer instead of ``unicode61``.

The entries hold tokens already made (``search.text.tokens``: folded words and CJK bigrams
separated by single spaces), so FTS5 has only to split at the spaces. ``unicode61`` decoded
every character and looked up its Unicode category to do that: measured with callgrind
over the entries of 2,000 generated mails, FTS5's insert took 716 million instructions with
``unicode61`` and 520 million with ``ascii`` (-27 %), the largest part of what indexing
adds to ingest. ``ascii`` also keeps a token whole where ``unicode61`` split it further:
the CJK runs of ``tokens`` include punctuation of the kana blocks (・ ゠) and its bigrams
(ア・, ・イ) are now words of the index as they are in the query.

The index is built again from ``search_entry`` (FTS5's ``rebuild``), once: measured on the
search benchmark's database of a million conversations (3.2 million entries, 12 GiB), 6 min
15 s on 2 busy cores (3 min 45 s CPU).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

COLUMNS = "subject, sender, recipients, body"


def _tokenizer(tokenize: str) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "sqlite":
            return
        for sql in [
            "DROP TABLE IF EXISTS search_vocab",
            "DROP TABLE search_fts",
            f"CREATE VIRTUAL TABLE search_fts USING fts5({COLUMNS}, content='search_entry', "
            f"content_rowid='id', tokenize='{tokenize}')",
            "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
            "INSERT INTO search_fts(search_fts, rank) VALUES ('automerge', 8)",
            "CREATE VIRTUAL TABLE search_vocab USING fts5vocab(search_fts, 'row')",
        ]:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0008_entry_walk_index")]

    operations = [
        migrations.RunPython(_tokenizer("ascii"), _tokenizer("unicode61 remove_diacritics 0"))
    ]
