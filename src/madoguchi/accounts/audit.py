"""The audit log: who signed in, who failed to, who changed roles, access, settings or
took mail out. Admins read it at /admin/audit/.

``record`` is the one way to write it; call it inside the transaction of the change it
describes, so the entry exists if and only if the change was committed. Details name what
changed, never secret values (passwords, codes, keys).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest

from madoguchi.accounts.lockout import client_ip
from madoguchi.accounts.models import AuditAction, AuditEntry

Actor = AbstractBaseUser | AnonymousUser | int | None


def record(
    action: AuditAction | str,
    *,
    actor: Actor,
    target: str = "",
    request: HttpRequest | None = None,
    **details: Any,
) -> AuditEntry:
    """Write one entry. ``actor`` is a user, a user id or None (the system, the command
    line, or someone not signed in); ``request`` gives the client address."""
    user = _user(actor)
    return AuditEntry.objects.create(
        action=AuditAction(action),
        actor=user,
        actor_name=user.get_username() if user is not None else "",
        target=str(target)[:200],
        ip=client_ip(request) if request is not None else None,
        details=details,
    )


def _user(actor: Actor) -> Any:
    if actor is None or isinstance(actor, AnonymousUser):
        return None
    if isinstance(actor, int):
        return get_user_model().objects.filter(pk=actor).first()
    return actor if actor.is_authenticated else None


def username_of(user_id: int) -> str:
    """A user's name for a target description ('#<id>' if the user is gone)."""
    name = get_user_model().objects.filter(pk=user_id).values_list("username", flat=True).first()
    return str(name) if name is not None else f"#{user_id}"


def _signed_in(sender: object, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    step = getattr(request, "second_step", None)  # set by signin.code: totp / recovery
    details = {"second_step": step} if step else {}
    record(AuditAction.SIGNED_IN, actor=user, target=user.get_username(), request=request,
           **details)  # fmt: skip


def _signed_out(sender: object, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record(AuditAction.SIGNED_OUT, actor=user, target=user.get_username(), request=request)


def _failed(
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **kw: Any
) -> None:
    username = str(credentials.get("username") or "")
    step = str(credentials.get("step") or "password")
    record(AuditAction.SIGNIN_FAILED, actor=None, target=username, request=request, step=step)


def _locked(
    sender: object, request: HttpRequest | None, username: str | None, **kwargs: Any
) -> None:
    record(AuditAction.LOCKED, actor=None, target=username or "", request=request)


def connect() -> None:
    """Listen to Django's sign-in signals and axes' lockout (called once, at start)."""
    from axes.signals import user_locked_out

    user_logged_in.connect(_signed_in, dispatch_uid="madoguchi.audit.signed_in")
    user_logged_out.connect(_signed_out, dispatch_uid="madoguchi.audit.signed_out")
    user_login_failed.connect(_failed, dispatch_uid="madoguchi.audit.failed")
    user_locked_out.connect(_locked, dispatch_uid="madoguchi.audit.locked")
