"""Classify mail as normal, auto-reply, bulk or bounce (RFC 3834, RFC 2369, RFC 3464).

Signals, strongest first: a delivery-status report (RFC 3462/3464),
mailer-daemon senders and typical non-delivery subjects (English and
Japanese vendor formats); Auto-Submitted (RFC 3834), X-Autoreply,
Precedence: auto_reply and out-of-office subjects; List-Id (RFC 2919),
List-Unsubscribe (RFC 2369) and Precedence: bulk/list/junk.
Bounce beats auto_reply beats bulk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from .types import Address, Kind

_DAEMONS = re.compile(
    r"^(mailer[-_]?daemon|post_?master|mail[-_]?delivery[-_]?subsystem|mail[-_]?daemon|"
    r"mdaemon|double-bounce|bounce[s]?|nobody-bounce)$",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|returned mail|mail delivery fail|delivery (status )?notification|"
    r"delivery fail|failure notice|delivery status|non[- ]?delivery|nondeliver|"
    r"could not be delivered|couldn't be delivered|delivery has failed|mail system error|"
    r"returning message to sender|postmaster notify|delivery report|message delivery has failed|"
    r"delivery problem|delayed mail|failed delivery|mail failed|not delivered|"
    r"could not send|mail failure|error sending your mail|undeliverable|"
    r"配信できません|返送|配信不能|配送不能|配信エラー|配送エラー|"
    r"配信失敗|送信失敗|不達|宛先不明|メールエラー|エラー通知|送信できません|届きませんでした|"
    r"配信されませんでした|配送されませんでした",
    re.IGNORECASE,
)
_AUTO_SUBJECT = re.compile(
    r"out[- ]of[- ]office|automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|"
    r"abwesenheit|réponse automatique|respuesta automática|自動返信|自動応答|自動送信|"
    r"(^|[\[【(（:：\s])不在",
    re.IGNORECASE,
)
_MESSAGE_ID = re.compile(
    r"^[ \t>]*Message-ID:[ \t]*\r?\n?[ \t]*<([^<>\s]+)>", re.IGNORECASE | re.MULTILINE
)


def _value(headers: Mapping[str, str], name: str) -> str:
    """Lower-case stripped header value ('' if absent)."""
    return headers.get(name, "").strip().lower()


def is_bounce(
    headers: Mapping[str, str], subject: str, sender: Address | None, report_types: Iterable[str]
) -> bool:
    """True for non-delivery reports (DSN and vendor formats)."""
    if "delivery-status" in report_types:
        return True
    if "x-failed-recipients" in headers:
        return True
    local = sender.email.rpartition("@")[0] or sender.email if sender else ""
    daemon = bool(_DAEMONS.match(local))
    subject_hit = bool(_BOUNCE_SUBJECT.search(subject))
    if daemon:
        return True
    auto = _value(headers, "auto-submitted")
    return subject_hit and (daemon or auto.startswith("auto-") or not _looks_like_reply(subject))


def _looks_like_reply(subject: str) -> bool:
    """True when the subject is a person's reply or forward (Re:, Fwd:, AW:, 返信:)."""
    return bool(re.match(r"^\s*(re|fwd?|aw|wg|tr|sv|vs|返信|転送)\s*[:：]", subject, re.IGNORECASE))


def is_auto_reply(headers: Mapping[str, str], subject: str, report_types: Iterable[str]) -> bool:
    """True for RFC 3834 automatic responses, vacation notices and MDNs."""
    auto = _value(headers, "auto-submitted")
    if auto and not auto.startswith("no"):
        return True
    if "x-autoreply" in headers or "x-autorespond" in headers or "x-autoresponder" in headers:
        return True
    if _value(headers, "precedence") == "auto_reply":
        return True
    if "disposition-notification" in report_types:
        return True
    return bool(_AUTO_SUBJECT.search(subject))


def is_bulk(headers: Mapping[str, str]) -> bool:
    """True for mailing-list and bulk mail (RFC 2919, RFC 2369, Precedence)."""
    if "list-id" in headers or "list-unsubscribe" in headers:
        return True
    return _value(headers, "precedence") in ("bulk", "list", "junk")


def classify(
    headers: Mapping[str, str], subject: str, sender: Address | None, report_types: Iterable[str]
) -> Kind:
    """Return the kind of a mail; ``headers`` maps lower-case names to values."""
    reports = list(report_types)
    if is_bounce(headers, subject, sender, reports):
        return "bounce"
    if is_auto_reply(headers, subject, reports):
        return "auto_reply"
    if is_bulk(headers):
        return "bulk"
    return "normal"


def bounce_message_id(returned: Iterable[str], text: str, own_id: str | None) -> str | None:
    """Find the Message-ID of the original mail inside a bounce."""
    for chunk in list(returned) + [text]:
        for found in _MESSAGE_ID.findall(chunk):
            if found != own_id:
                return str(found)
    return None
