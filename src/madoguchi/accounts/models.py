"""Agents (team members), their roles and their mailbox memberships."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice

from madoguchi.core.crypto import decrypt


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    MANAGER = "manager", _("Manager")
    AGENT = "agent", _("Agent")


class Agent(models.Model):
    """A person of the team: Django's user plus what the inbox needs to know about them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent"
    )
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.AGENT)
    display_name = models.CharField(max_length=150, blank=True)
    #: '' means: follow the browser's Accept-Language.
    language = models.CharField(max_length=8, blank=True, choices=settings.LANGUAGES)
    time_zone = models.CharField(max_length=64, default="Asia/Tokyo")
    #: Notifications also by mail, to the user's address.
    notify_by_mail = models.BooleanField(default=False)
    #: 対応可能 (True) or 離席 (False): automatic assignment passes over an absent agent, and
    #: their customers' new replies are offered to others after a while (``away_since``).
    available = models.BooleanField(default=True)
    away_since = models.DateTimeField(null=True, blank=True)
    #: Weekly working hours in ``time_zone`` ({"mon": [["09:00", "18:00"]], ...});
    #: empty: always working (availability alone decides).
    working_hours = models.JSONField(default=dict, blank=True)
    #: At most this many open conversations assigned automatically (None: the mailbox's cap).
    max_open = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.user.get_full_name() or self.user.get_username()

    @property
    def initials(self) -> str:
        return self.name[:2].upper() if self.name.isascii() else self.name[:1]


class Membership(models.Model):
    """An agent may see and work in a mailbox."""

    mailbox = models.ForeignKey(
        "mailboxes.Mailbox", on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    #: This agent's replies from this mailbox wait for a manager's approval.
    needs_approval = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mailbox", "user"], name="membership_uniq")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.mailbox_id}"


class Invitation(models.Model):
    """A link that lets one person join the team. Only the token's hash is stored."""

    email = models.EmailField()
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.AGENT)
    mailboxes = models.ManyToManyField("mailboxes.Mailbox", blank=True, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_by = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitation",
    )
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"invitation for {self.email}"


class TeamSecurity(models.Model):
    """Team-wide sign-in rules: one row (pk 1), created on first change."""

    #: Every agent must sign in with a second step (TOTP code or recovery code).
    require_two_factor = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"team security (2FA required: {self.require_two_factor})"


class TotpDevice(ThrottlingMixin, Device):  # type: ignore[misc]
    """An authenticator app (RFC 6238, SHA-1, 6 digits, 30 s) whose secret is encrypted at rest.

    django-otp's own ``TOTPDevice`` keeps the secret as plain hex; this one keeps it
    encrypted with ``core.crypto`` (keyed from SECRET_KEY), like the mailbox passwords.
    """

    encrypted_key = models.TextField()
    #: The time step of the last accepted code: a code is accepted once.
    last_t = models.BigIntegerField(default=-1)
    drift = models.SmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(Device.Meta):  # type: ignore[misc]
        verbose_name = "authenticator app"

    @property
    def key(self) -> bytes:
        """The secret; raises ``ValueError`` when SECRET_KEY changed since it was stored."""
        return bytes.fromhex(decrypt(self.encrypted_key))

    def get_throttle_factor(self) -> int:
        return 1

    def verify_token(self, token: object) -> bool:
        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return False
        text = str(token).strip().replace(" ", "")
        try:
            key = self.key
        except ValueError:
            key = None
        verified = False
        if key is not None and text.isdigit() and len(text) == 6:
            totp = TOTP(key, step=30, t0=0, digits=6, drift=self.drift)
            totp.time = time.time()
            verified = totp.verify(int(text), tolerance=1, min_t=self.last_t + 1)
            if verified:
                self.last_t = totp.t()
                self.drift = totp.drift
                self.throttle_reset(commit=False)
                self.save()
        if not verified:
            self.throttle_increment(commit=True)
        return verified


class RecoveryCodes(StaticDevice):  # type: ignore[misc]
    """The one-use recovery codes of an agent: django-otp's static device, but each code is
    stored as a keyed hash (HMAC of SECRET_KEY), never as the code itself."""

    class Meta:
        proxy = True

    @staticmethod
    def digest(code: str, secret: str | None = None) -> str:
        normal = code.strip().lower().replace("-", "").replace(" ", "")
        return salted_hmac("madoguchi.recovery-code", normal, secret=secret).hexdigest()[:16]

    def verify_token(self, token: object) -> bool:
        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return False
        secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
        digests = {self.digest(str(token), secret) for secret in secrets}
        match = self.token_set.filter(token__in=digests).first()
        if match is None:
            self.throttle_increment()
            return False
        match.delete()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class AuditAction(models.TextChoices):
    SIGNED_IN = "signin", _("Signed in")
    SIGNIN_FAILED = "signin.failed", _("Sign-in failed")
    SIGNED_OUT = "signout", _("Signed out")
    LOCKED = "signin.locked", _("Locked after failed sign-ins")
    UNLOCKED = "signin.unlocked", _("Unlocked")
    TWO_FACTOR_ON = "2fa.enabled", _("Two-step sign-in turned on")
    TWO_FACTOR_OFF = "2fa.disabled", _("Two-step sign-in turned off")
    RECOVERY_CODES = "2fa.recovery_codes", _("New recovery codes")
    RECOVERY_USED = "2fa.recovery_used", _("Recovery code used")
    TWO_FACTOR_POLICY = "2fa.policy", _("Two-step sign-in requirement changed")
    AGENT_CREATED = "agent.created", _("Agent created")
    ROLE = "agent.role", _("Role changed")
    ACTIVE = "agent.active", _("Sign-in allowed or stopped")
    MEMBER_ADDED = "member.added", _("Added to a mailbox")
    MEMBER_REMOVED = "member.removed", _("Removed from a mailbox")
    APPROVAL = "member.approval", _("Approval of replies changed")
    INVITED = "invitation.created", _("Invitation made")
    INVITATION_REVOKED = "invitation.revoked", _("Invitation withdrawn")
    JOINED = "invitation.accepted", _("Invitation accepted")
    PASSWORD_CHANGED = "password.changed", _("Password changed")
    PASSWORD_RESET = "password.reset", _("Password reset")
    EXPORT = "export", _("Mail exported")
    MAILBOX_CREATED = "mailbox.created", _("Mailbox created")
    MAILBOX_SETTINGS = "mailbox.settings", _("Mailbox settings changed")


class AuditEntry(models.Model):
    """One security-relevant thing that happened: who, what, to what, from where.

    Written only through ``accounts.audit.record``; never changed afterwards.
    """

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: The actor's user name at the time (kept if the user is deleted).
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    #: What it was done to, in words (a user name, a mailbox address, ...).
    target = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["action", "-id"], name="audit_action_idx"),
            models.Index(fields=["actor", "-id"], name="audit_actor_idx"),
            models.Index(fields=["at"], name="audit_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target}"
