"""URLs of the assignment pages: groups, a mailbox's assignment, and availability."""

from django.urls import URLPattern, path

from madoguchi.web import groups, preferences, team

urlpatterns: list[URLPattern] = [
    path("admin/groups/", groups.group_list, name="group_list"),
    path("admin/groups/<int:group_id>/", groups.group_edit, name="group_edit"),
    path("admin/groups/<int:group_id>/delete", groups.group_delete, name="group_delete"),
    path(
        "admin/mailboxes/<int:mailbox_id>/assignment",
        groups.mailbox_assignment,
        name="mailbox_assignment",
    ),
    path("me/availability", preferences.availability_switch, name="my_availability"),
    path(
        "admin/team/<int:agent_id>/availability",
        team.agent_availability,
        name="agent_availability",
    ),
]
