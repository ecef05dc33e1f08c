"""Existing installs hid customers' mail by its words: apply the structural rules once.

Runs the same code as ``madoguchi mail reclassify`` (docs/mail/classification.md) with
this migration's historical models.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def reclassify(apps: Any, schema_editor: Any) -> None:
    from madoguchi.conversations.actions import apply_kinds
    from madoguchi.mail_in.kinds import plan_reclassify

    message = apps.get_model("conversations", "Message")
    conversation = apps.get_model("conversations", "Conversation")
    event = apps.get_model("core", "Event")
    changes = list(plan_reclassify(message.objects.all(), {}))
    if changes:
        apply_kinds(changes, models=(message, conversation, event))


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0005_kind_hint"),
        ("core", "0001_initial"),
        ("mail_in", "0001_initial"),
    ]

    operations = [migrations.RunPython(reclassify, migrations.RunPython.noop)]
