"""URLs of a mailbox's business hours, days off, SLA and acknowledgement pages."""

from django.urls import URLPattern, path

from madoguchi.web import hours

urlpatterns: list[URLPattern] = [
    path("admin/mailboxes/<int:mailbox_id>/hours", hours.mailbox_hours, name="mailbox_hours"),
    path(
        "admin/mailboxes/<int:mailbox_id>/hours/days-off",
        hours.day_off_add,
        name="day_off_add",
    ),
    path(
        "admin/mailboxes/<int:mailbox_id>/hours/days-off/preset",
        hours.day_off_preset,
        name="day_off_preset",
    ),
    path(
        "admin/mailboxes/<int:mailbox_id>/hours/days-off/<int:day_off_id>/remove",
        hours.day_off_remove,
        name="day_off_remove",
    ),
    path(
        "admin/mailboxes/<int:mailbox_id>/automation",
        hours.mailbox_automation,
        name="mailbox_automation",
    ),
]
