"""URL map. The URL always says where you are (UI.md), so links can be shared."""

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from madoguchi.web import approvals as approval
from madoguchi.web import (
    audit,
    bulk,
    compose,
    fragments,
    notifications,
    passwords,
    security,
    setup,
    signin,
    team,
    twofactor,
)
from madoguchi.web import conversations as inbox
from madoguchi.web import mailbox_admin as mailboxes
from madoguchi.web import preferences as accounts


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", health, name="health"),
    path("login/", signin.sign_in, name="login"),
    path("login/code/", signin.code, name="login_code"),
    path("settings/2fa/", twofactor.overview, name="twofactor"),
    path("settings/2fa/start", twofactor.start, name="twofactor_start"),
    path("settings/2fa/confirm", twofactor.confirm, name="twofactor_confirm"),
    path("settings/2fa/recovery", twofactor.recovery, name="twofactor_recovery"),
    path("settings/2fa/off", twofactor.disable, name="twofactor_disable"),
    path("admin/audit/", audit.audit_log, name="audit_log"),
    path("admin/team/unlock", security.unlock, name="signin_unlock"),
    path("admin/team/2fa", security.require_two_factor, name="require_two_factor"),
    path("admin/team/<int:agent_id>/2fa/off", security.reset_two_factor, name="reset_two_factor"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", inbox.home, name="home"),
    path("settings/", accounts.preferences, name="preferences"),
    path("admin/mailboxes/", mailboxes.mailbox_admin, name="mailbox_admin"),
    path("admin/mailboxes/new", mailboxes.mailbox_new, name="mailbox_new"),
    path("admin/mailboxes/<int:mailbox_id>/", mailboxes.mailbox_edit, name="mailbox_edit"),
    path("admin/team/", team.agent_admin, name="agent_admin"),
    path("admin/team/<int:agent_id>", team.agent_update, name="agent_update"),
    path(
        "admin/invitations/<int:invitation_id>/revoke",
        team.invitation_revoke,
        name="invitation_revoke",
    ),  # fmt: skip
    path("invite/<str:token>/", team.invitation_accept, name="invitation_accept"),
    path("setup/", setup.setup, name="setup"),
    path("settings/password/", passwords.PasswordChangeView.as_view(), name="password_change"),
    path("password/forgot/", passwords.password_reset, name="password_reset"),
    path("password/forgot/sent/", passwords.password_reset_done, name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        passwords.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/done/", passwords.password_reset_complete, name="password_reset_complete"),
    path(
        "admin/team/<int:agent_id>/password-link",
        passwords.agent_password_link,
        name="agent_password_link",
    ),
    path("m/<int:mailbox_id>/<str:tab>/", inbox.mailbox_list, name="mailbox"),
    path("v/<str:view>/<str:tab>/", inbox.view_list, name="view"),
    path("c/<int:pk>/", inbox.conversation, name="conversation"),
    path("c/<int:pk>/assign", inbox.assign, name="assign"),
    path("c/<int:pk>/status", inbox.status, name="status"),
    path("c/<int:pk>/person", inbox.not_automated, name="not_automated"),
    path("c/<int:pk>/reply", inbox.reply, name="reply"),
    path("c/<int:pk>/note", inbox.note, name="note"),
    path("c/<int:pk>/draft", compose.save_draft, name="draft"),
    path("c/<int:pk>/draft/discard", compose.discard_draft, name="discard_draft"),
    path("c/<int:pk>/m/<int:message_id>/forward", compose.forward, name="forward"),
    path("m/<int:mailbox_id>/compose", compose.new_conversation, name="compose"),
    path("c/<int:pk>/tags", inbox.tag, name="tag"),
    path("c/<int:pk>/tags/<int:tag_id>/remove", inbox.untag, name="untag"),
    path("bulk", bulk.bulk, name="bulk"),
    path("approvals/", approval.approvals, name="approvals"),
    path("approvals/<int:message_id>", approval.review, name="review"),
    path("c/<int:pk>/m/<int:message_id>/undo", inbox.undo, name="undo"),
    path("c/<int:pk>/m/<int:message_id>/html", inbox.message_html, name="message_html"),
    path("c/<int:pk>/m/<int:message_id>/raw", inbox.message_raw, name="message_raw"),
    path("a/<int:pk>/", inbox.attachment, name="attachment"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/read", notifications.notifications_read, name="notifications_read"),
    path("notifications/<int:pk>/", notifications.notification_open, name="notification_open"),
    path("notifications/<int:pk>.json", notifications.notification_json, name="notification_json"),
    path("f/counts", fragments.counts, name="live_counts"),
    path("f/rows", fragments.rows, name="live_rows"),
    path("f/c/<int:pk>/items", fragments.items, name="live_items"),
    # Automation (issue 12): each area's pages in its own module.
    path("", include("madoguchi.web.rules_urls")),
    path("", include("madoguchi.web.groups_urls")),
    path("", include("madoguchi.web.reply_templates_urls")),
    path("", include("madoguchi.web.hours_urls")),
    path("", include("madoguchi.web.triage_urls")),
    path("", include("madoguchi.web.search_urls")),
    path("", include("madoguchi.web.customers_urls")),
    path("", include("madoguchi.web.reports_urls")),
]
