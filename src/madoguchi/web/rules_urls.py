"""URLs of the rules pages (振り分けルール) of a mailbox."""

from django.urls import URLPattern, path

from madoguchi.web import rules

urlpatterns: list[URLPattern] = [
    path("admin/mailboxes/<int:mailbox_id>/rules/", rules.rule_list, name="rules"),
    path("admin/mailboxes/<int:mailbox_id>/rules/new", rules.rule_new, name="rule_new"),
    path(
        "admin/mailboxes/<int:mailbox_id>/rules/<int:rule_id>/", rules.rule_edit, name="rule_edit"
    ),
    path(
        "admin/mailboxes/<int:mailbox_id>/rules/<int:rule_id>/move",
        rules.rule_move,
        name="rule_move",
    ),
    path(
        "admin/mailboxes/<int:mailbox_id>/rules/<int:rule_id>/enable",
        rules.rule_enable,
        name="rule_enable",
    ),
    path(
        "admin/mailboxes/<int:mailbox_id>/rules/<int:rule_id>/copy",
        rules.rule_copy,
        name="rule_copy",
    ),
    path(
        "admin/mailboxes/<int:mailbox_id>/rules/<int:rule_id>/delete",
        rules.rule_delete,
        name="rule_delete",
    ),
]
