"""PostgreSQL: covering indexes, so a year's report reads its rows from the index alone.

Rollup rows of one mailbox, agent or tag are scattered over the table (rows of every
dimension arrive together), so reading a year of the heat map's 8,760 hour rows or 36,000
histogram rows from the heap cost 60–70 ms at a million conversations; with the values in
the index (``INCLUDE``) the scans touch no table page once vacuumed. SQLite reads its own
pages fast enough (6 and 18 ms) and gets no extra index to write.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

INDEXES = {
    "reports_hour_read": "reports_hour (mailbox_id, agent, tag, hour) "
    "INCLUDE (weekday, local_hour, conversations)",
    "reports_times_read": "reports_times (mailbox_id, metric, agent, tag, day) "
    "INCLUDE (bucket, count)",
    "reports_templates_read": "reports_templates (mailbox_id, day) INCLUDE (template, uses)",
    "reports_day_read": "reports_day (mailbox_id, agent, tag, day) INCLUDE (conversations, "
    "messages_in, replied, closed, reopened, notes, breaches, tagged, first_responses, "
    "first_response_minutes, resolutions, resolution_minutes)",
}


def _create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for name, target in INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def _drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_rollups")]

    operations = [migrations.RunPython(_create, _drop)]
