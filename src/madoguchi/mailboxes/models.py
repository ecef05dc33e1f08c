"""Mailbox: one shared address with its inbound and outbound transports."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from madoguchi.core.crypto import EncryptedTextField, is_lost


class Security(models.TextChoices):
    NONE = "none", _("none")
    SSL = "ssl", "SSL/TLS"
    STARTTLS = "starttls", "STARTTLS"


class AfterFetch(models.TextChoices):
    LEAVE = "leave", _("leave as it is")
    SEEN = "seen", _("mark as seen")
    MOVE = "move", _("move to a folder")


#: The shared address of the demo mailbox (``madoguchi.demo``).
DEMO_ADDRESS = "support@demo.madoguchi.test"


def default_business_hours() -> dict[str, list[list[str]]]:
    """Monday to Friday, 9:00 to 18:00."""
    return {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


class Mailbox(models.Model):
    """A shared address such as support@example.jp."""

    address = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    signature = models.TextField(blank=True)
    max_message_bytes = models.PositiveBigIntegerField(default=50 * 1024 * 1024)

    imap_host = models.CharField(max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(null=True, blank=True)
    imap_user = models.CharField(max_length=255, blank=True)
    imap_password = EncryptedTextField(blank=True)
    imap_security = models.CharField(max_length=10, choices=Security.choices, default=Security.SSL)
    imap_folder = models.CharField(max_length=255, default="INBOX")
    imap_after_fetch = models.CharField(
        max_length=10, choices=AfterFetch.choices, default=AfterFetch.LEAVE
    )
    imap_move_to = models.CharField(max_length=255, blank=True)

    smtp_host = models.CharField(max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(null=True, blank=True)
    smtp_user = models.CharField(max_length=255, blank=True)
    smtp_password = EncryptedTextField(blank=True)
    smtp_security = models.CharField(
        max_length=10, choices=Security.choices, default=Security.STARTTLS
    )

    #: How outgoing mail names its sender: {agent} and {mailbox} are replaced.
    sender_format = models.CharField(max_length=100, default="{agent} ({mailbox})")
    outbound_charset = models.CharField(
        max_length=12, choices=[("utf-8", "UTF-8"), ("iso-2022-jp", "ISO-2022-JP")], default="utf-8"
    )
    #: Seconds a sent reply waits in the outbox, during which "undo" takes it back.
    undo_seconds = models.PositiveIntegerField(default=5)
    #: Beginning a reply on a conversation nobody has assigns it to the one replying.
    assign_on_reply = models.BooleanField(default=True)
    #: Every agent's reply waits for a manager's approval (per agent: Membership.needs_approval).
    replies_need_approval = models.BooleanField(default=False)
    #: Senders whose mail is always a person's (one address or domain a line): classification
    #: never moves their mail out of "new" (docs/mail/classification.md).
    person_senders = models.TextField(blank=True)

    #: Business hours (営業時間), read through ``mailboxes.hours.calendar_for``: the time zone
    #: they are in, the open hours of each weekday ({"mon": [["09:00", "18:00"]], ...}; a
    #: day not named is closed) and whose public holidays close the mailbox ("JP"; "" none).
    time_zone = models.CharField(max_length=64, default="Asia/Tokyo")
    business_hours = models.JSONField(default=default_business_hours, blank=True)
    holiday_country = models.CharField(max_length=8, default="JP", blank=True)

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["address"]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    @property
    def person_sender_list(self) -> list[str]:
        """The entries of ``person_senders``: lower-case addresses and domains."""
        return [line.strip().lower() for line in self.person_senders.splitlines() if line.strip()]

    @property
    def keeps_mail_locally(self) -> bool:
        """The demo mailbox (``madoguchi run --demo``) has no outgoing server: what it "sends"
        is kept here, marked as such (``Outbox.kept_locally``) and readable as the raw mail,
        never sent anywhere. Once someone gives it an outgoing server, it sends like any other
        mailbox."""
        return self.address == DEMO_ADDRESS and not self.smtp_host

    @property
    def has_imap(self) -> bool:
        return bool(self.imap_host and self.imap_user)

    @property
    def lost_passwords(self) -> list[str]:
        """ "imap" / "smtp": stored passwords no current secret key decrypts (type them again)."""
        return [p for p in ("imap", "smtp") if is_lost(getattr(self, f"{p}_password"))]

    def lost_password_error(self, protocol: str) -> str | None:
        """The sentence for intake or sending when that password must be typed again."""
        if protocol not in self.lost_passwords:
            return None
        return (
            f"the {protocol.upper()} password of {self.address} was stored with another secret "
            "key (MADOGUCHI_SECRET_KEY changed): an admin must type it again in the mailbox "
            "settings, or put the old key in MADOGUCHI_SECRET_KEY_FALLBACKS"
        )


class DayOff(models.Model):
    """The team's own days off (年末年始, お盆): closed from ``start`` to ``end`` inclusive,
    every year on the same dates when ``yearly``."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="days_off")
    name = models.CharField(max_length=100)
    start = models.DateField()
    end = models.DateField()
    yearly = models.BooleanField(default=False)

    class Meta:
        ordering = ["start"]

    def __str__(self) -> str:
        return f"{self.name} {self.start}–{self.end}"
