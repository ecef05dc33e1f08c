"""Index the mail, notes and tags already stored (nothing on a new installation)."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def index_existing(apps: Any, schema_editor: Any) -> None:
    from madoguchi.search.index import rebuild  # the code of its day (frozen with it)

    if schema_editor.connection.alias == "default":  # rebuild works on the default database
        rebuild()


class Migration(migrations.Migration):
    atomic = False  # rebuild commits batch by batch
    dependencies = [("search", "0002_full_text")]

    operations = [migrations.RunPython(index_existing, migrations.RunPython.noop)]
