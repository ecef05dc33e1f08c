"""Password pages: change your own, forgot it (a mail with a link), set a new one through
a link, and the admin's reset link for an agent.

Django's auth views do the work (old password check, token check, the session kept after a
change, the token moved out of the URL before the form shows); ours give them our
templates and save through ``passwords.set_password`` so each change is an event.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import User
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from madoguchi.accounts import passwords
from madoguchi.accounts.models import Agent
from madoguchi.accounts.queries import require_admin
from madoguchi.notifications import password_mail
from madoguchi.web.current import AgentRequest, agent_required


class ChangeForm(auth_forms.PasswordChangeForm):
    def save(self, commit: bool = True) -> Any:
        password = self.cleaned_data["new_password1"]
        passwords.set_password(self.user, password, actor_id=self.user.pk, how="changed")
        return self.user


class ResetForm(auth_forms.SetPasswordForm):  # type: ignore[type-arg]
    def save(self, commit: bool = True) -> Any:
        password = self.cleaned_data["new_password1"]
        passwords.set_password(self.user, password, actor_id=self.user.pk, how="reset")
        return self.user


class ForgotForm(forms.Form):
    email = forms.EmailField(
        label=_lazy("Your mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class PasswordChangeView(auth_views.PasswordChangeView):
    """Everyone's own password; the old one is asked; this session stays signed in and the
    others end."""

    form_class = ChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("preferences")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
        }

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, _("Your password has been changed."))
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


def password_reset(request: HttpRequest) -> HttpResponse:
    """The "forgot your password?" page: a mail with a link, when outbound mail is set up.

    The answer is the same whether the address belongs to someone or not.
    """
    if not password_mail.can_mail():
        return render(request, "accounts/password_reset.html", {"can_mail": False})
    form = ForgotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _may_ask_again(request):
            password_mail.request_reset_mail(form.cleaned_data["email"])
        return redirect("password_reset_done")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "accounts/password_reset.html", {"can_mail": True, "form": form}, status=status
    )


#: Forgot-password requests one address may make in ``FORGOT_WINDOW`` seconds (more are
#: answered the same way but not looked at: no flooding the task queue).
FORGOT_PER_ADDRESS, FORGOT_WINDOW = 10, 600


def _may_ask_again(request: HttpRequest) -> bool:
    key = "madoguchi.forgot." + request.META.get("REMOTE_ADDR", "")
    cache.add(key, 0, timeout=FORGOT_WINDOW)
    try:
        return cache.incr(key) <= FORGOT_PER_ADDRESS
    except ValueError:  # expired between add and incr
        return True


def password_reset_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/password_reset_sent.html")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The link's page: choose a new password. It does not sign in: the sign-in page (and
    its second factor) comes next."""

    form_class = ResetForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")
    post_reset_login = False

    def get_user(self, uidb64: str) -> User | None:
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def form_invalid(self, form: Any) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


def password_reset_complete(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/password_reset_complete.html")


@agent_required
@require_POST
def agent_password_link(request: AgentRequest, agent_id: int) -> HttpResponse:
    """An admin makes a one-time link for an agent to choose a new password, to pass on in
    person or by chat, or has it mailed to the agent."""
    admin = require_admin(request.agent)
    agent = Agent.objects.select_related("user").filter(pk=agent_id).first()
    if agent is None:
        raise Http404("no such agent")
    can_mail = password_mail.can_mail() and bool(agent.user.email)
    if request.POST.get("mail"):
        if not can_mail:
            messages.error(request, _("No mail can be sent: set up an outgoing server first."))
        else:
            password_mail.mail_reset_link(agent, actor_id=admin.user_id)
            messages.success(
                request,
                _("A mail with a link is on its way to %(email)s.") % {"email": agent.user.email},
            )
        return redirect("agent_admin")
    link = request.build_absolute_uri(passwords.make_reset_link(agent, actor_id=admin.user_id))
    context = {"agent": agent, "link": link, "can_mail": can_mail}
    return render(request, "accounts/password_link.html", context)
