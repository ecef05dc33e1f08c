"""Sorting rules (振り分けルール): which new mail a rule matches, and running them at intake.

A rule (``automation.models.Rule``) holds ``conditions``, combined by ``match`` ("all" or
"any"), and ``actions`` (``rule_actions``). A condition is ``{"field", "op", "value"}``,
plus ``"header"`` (a header's name) when ``field`` is "header":

- text fields ``from``, ``to``, ``cc`` (name or address), ``subject``, ``body`` and
  ``header``, with the ops of ``TEXT_OPS``; ``domain`` only for addresses (``from``,
  ``to``, ``cc``, ``header``: the domain itself or one under it);
- choice fields (``CHOICES``): ``kind``, ``attachment``, ``hours`` (inside or outside the
  mailbox's business hours), ``customer`` (new, or known: they had an earlier
  conversation), ``conversation`` (new, or a reply), with ``is`` / ``is_not``.

Text is compared after NFKC normalization and case folding, so 全角 and 半角 forms and
upper and lower case are the same (ＡＢＣ, abc; ｾｰﾙ, セール). A regex runs with the
``regex`` package under ``REGEX_TIMEOUT``: one that takes longer counts as no match, is
logged once per batch, and after ``TRIPS`` such mails in a batch is not tried again in it.

``apply_rules`` runs in the intake transaction, once per ingest batch: one query for the
rules of the batch's mailboxes; the facts a rule may ask for beyond the message itself
(headers, attachments, whether the customer is known, business hours) are loaded for the
whole batch at the first condition that asks, and never when no rule asks.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import getaddresses
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import regex
from django.db.models import BinaryField, F, Min
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.automation import rule_actions
from madoguchi.automation.models import Rule
from madoguchi.conversations.models import Attachment, Conversation, Kind, Message
from madoguchi.core.business_time import BusinessCalendar
from madoguchi.mail import headers as mail_headers
from madoguchi.mail_in.models import RawMessage
from madoguchi.mailboxes.hours import calendar_for

if TYPE_CHECKING:
    from madoguchi.automation.intake import Arrival

log = logging.getLogger(__name__)

TEXT_FIELDS = ("from", "to", "cc", "subject", "body", "header")
ADDRESS_FIELDS = frozenset({"from", "to", "cc", "header"})
TEXT_OPS = ("contains", "not_contains", "equals", "starts_with", "ends_with", "regex", "domain")
CHOICE_OPS = ("is", "is_not")
CHOICES: dict[str, tuple[str, ...]] = {
    "kind": tuple(Kind.values),
    "attachment": ("yes", "no"),
    "hours": ("inside", "outside"),
    "customer": ("new", "known"),
    "conversation": ("new", "reply"),
}
FIELDS = (*TEXT_FIELDS, *CHOICES)
#: A regex may run this long on one text (seconds); longer counts as no match.
REGEX_TIMEOUT = 0.05
#: After this many timeouts of one condition in a batch, it is not tried again in it.
TRIPS = 3
MAX_PATTERN = 300
MAX_VALUE = 500
MAX_HEADER_NAME = 100
MAX_CONDITIONS = 20
#: The body is matched on its first this many characters.
MAX_BODY = 100_000
#: The header part of the raw mail read for header conditions.
HEAD_BYTES = 64 * 1024
#: Conditions by what they cost: those on the message itself first, then those that need a
#: query for the batch (an "all" rule that already failed asks for nothing more).
COST = {"headers": 3, "attachment": 1, "customer": 1, "hours": 1}
NEEDS = {"header": "headers", "attachment": "attachment", "customer": "customer", "hours": "hours"}


def norm(text: str) -> str:
    """Text as conditions compare it: NFKC (全角/半角 alike), then case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition, checked and normalized (``compile_condition``)."""

    field: str
    op: str
    value: str
    header: str = ""
    pattern: regex.Pattern[str] | None = None

    @property
    def key(self) -> tuple[str, str]:
        """What it reads of a mail (the cache key of its normalized values)."""
        return (self.field, self.header)

    @property
    def needs(self) -> str:
        """The batch fact it reads beyond the message ("" for none)."""
        return NEEDS.get(self.field, "")

    @property
    def cost(self) -> int:
        return COST.get(self.needs, 0) + (1 if self.field == "body" else 0)


@dataclass(frozen=True, slots=True)
class Matcher:
    """A rule's conditions, cheapest first. No conditions: it matches every mail."""

    match_all: bool
    conditions: tuple[Condition, ...]

    @property
    def needs(self) -> frozenset[str]:
        return frozenset(c.needs for c in self.conditions if c.needs)

    def matches(self, facts: Facts, mail: Mail) -> bool:
        # Plain loops: this runs for every mail and rule (docs/automation/rules.md, cost).
        check = facts.check
        if self.match_all:
            for cond in self.conditions:  # noqa: SIM110 - no generator per call
                if not check(cond, mail):
                    return False
            return True
        for cond in self.conditions:
            if check(cond, mail):
                return True
        return not self.conditions


def compile_condition(data: Mapping[str, Any]) -> Condition:
    """A condition from its JSON; ``ValueError`` says what is wrong, for the form."""
    if not isinstance(data, Mapping):
        raise ValueError(_("A condition must be an object."))
    name, op = str(data.get("field", "")), str(data.get("op", ""))
    value = data.get("value", "")
    if name not in FIELDS:
        raise ValueError(_("Unknown condition field “%(field)s”.") % {"field": name})
    if not isinstance(value, str):
        raise ValueError(_("The value of “%(field)s” must be text.") % {"field": name})
    if name in CHOICES:
        return _choice(name, op, value)
    if op not in TEXT_OPS:
        raise ValueError(_("“%(op)s” is no operator for “%(field)s”.") % {"op": op, "field": name})
    if op == "domain" and name not in ADDRESS_FIELDS:
        raise ValueError(
            _("“domain is” needs an address field, not “%(field)s”.") % {"field": name}
        )
    value = value.strip()
    if not value:
        raise ValueError(_("The condition on “%(field)s” needs a value.") % {"field": name})
    if len(value) > MAX_VALUE:
        raise ValueError(
            _("The value of “%(field)s” is longer than %(max)d characters.")
            % {"field": name, "max": MAX_VALUE}
        )
    header = _header_name(data) if name == "header" else ""
    if op == "regex":
        return Condition(name, op, value, header, _pattern(value))
    if op == "domain":
        return Condition(name, op, norm(value).lstrip("@").strip("."), header)
    return Condition(name, op, norm(value), header)


def _choice(name: str, op: str, value: str) -> Condition:
    if op not in CHOICE_OPS:
        raise ValueError(_("“%(op)s” is no operator for “%(field)s”.") % {"op": op, "field": name})
    if value not in CHOICES[name]:
        raise ValueError(
            _("“%(value)s” is not a choice for “%(field)s”.") % {"value": value, "field": name}
        )
    return Condition(name, op, value)


def _header_name(data: Mapping[str, Any]) -> str:
    header = str(data.get("header", "")).strip()
    if not header or len(header) > MAX_HEADER_NAME:
        raise ValueError(_("A header condition needs the header's name (e.g. X-Mailer)."))
    if not all(33 <= ord(c) <= 126 and c != ":" for c in header):
        raise ValueError(_("“%(header)s” is not a header name.") % {"header": header})
    return header.lower()


def _pattern(value: str) -> regex.Pattern[str]:
    """The compiled regex (NFKC like the text: 全角 letters in it mean 半角 ones)."""
    if len(value) > MAX_PATTERN:
        raise ValueError(
            _("The regular expression is longer than %(max)d characters.") % {"max": MAX_PATTERN}
        )
    try:
        return regex.compile(unicodedata.normalize("NFKC", value), regex.IGNORECASE)
    except (regex.error, RecursionError, OverflowError) as exc:
        raise ValueError(
            _("The regular expression “%(pattern)s” is not valid: %(error)s")
            % {"pattern": value, "error": exc}
        ) from exc


def compile_rule(match: str, conditions: Iterable[Mapping[str, Any]]) -> Matcher:
    """The matcher of a rule's conditions; ``ValueError`` for the first bad one."""
    if match not in ("all", "any"):
        raise ValueError(_("Match must be “all” or “any”."))
    items = list(conditions)
    if len(items) > MAX_CONDITIONS:
        raise ValueError(_("A rule has at most %(max)d conditions.") % {"max": MAX_CONDITIONS})
    compiled = sorted((compile_condition(c) for c in items), key=lambda c: c.cost)
    return Matcher(match == "all", tuple(compiled))


@dataclass(slots=True)
class Mail:
    """One inbound mail as conditions see it."""

    message: Message
    conversation: Conversation
    #: It started its conversation.
    new_conversation: bool
    #: Its normalized values by (field, header), made at the first condition that asks.
    texts: dict[tuple[str, str], list[str]] = field(default_factory=dict)


@dataclass
class Guard:
    """Regex timeouts of one batch: logged once per condition, tripped after ``TRIPS``."""

    counts: Counter[int] = field(default_factory=Counter)

    def search(self, cond: Condition, text: str, mail: Mail) -> bool:
        assert cond.pattern is not None
        key = id(cond)
        if self.counts[key] >= TRIPS:
            return False
        try:
            return cond.pattern.search(text, timeout=REGEX_TIMEOUT) is not None
        except TimeoutError:
            self.counts[key] += 1
            if self.counts[key] == 1:
                log.warning(
                    "rule regex %r ran longer than %d ms on message %s: counted as no match",
                    cond.value, REGEX_TIMEOUT * 1000, mail.message.pk,
                )  # fmt: skip
            return False

    @property
    def timed_out(self) -> int:
        return sum(self.counts.values())


class Facts:
    """What conditions read of a batch of mails, each fact loaded at most once (lazily, for
    the whole batch) and each text normalized at most once per mail."""

    def __init__(self, mails: Sequence[Mail], guard: Guard | None = None) -> None:
        self.mails = mails
        self.guard = guard or Guard()
        self._heads: dict[int, bytes] | None = None
        self._attached: set[int] | None = None
        self._first_conv: dict[int, int] | None = None
        self._calendars: dict[int, BusinessCalendar] = {}

    def check(self, cond: Condition, mail: Mail) -> bool:
        op = cond.op
        if op in ("contains", "not_contains"):  # the common case first
            value = cond.value
            found = False
            for text in mail.texts.get(cond.key) or self.texts(cond, mail):
                if value in text:
                    found = True
                    break
            return found if op == "contains" else not found
        if cond.field in CHOICES:
            return (self.choice(cond.field, mail) == cond.value) == (op == "is")
        if op == "domain":
            return any(_in_domain(a, cond.value) for a in self.addresses(cond, mail))
        if op == "regex":
            return any(self.guard.search(cond, t, mail) for t in self.texts(cond, mail))
        test = _TESTS[op]
        return any(test(t, cond.value) for t in self.texts(cond, mail))

    # text fields

    def texts(self, cond: Condition, mail: Mail) -> list[str]:
        """The normalized values of ``cond``'s field (names and addresses for addresses)."""
        found = mail.texts.get(cond.key)
        if found is None:
            found = mail.texts[cond.key] = [norm(v) for v in self._raw_texts(cond, mail) if v]
        return found

    def _raw_texts(self, cond: Condition, mail: Mail) -> list[str]:
        m = mail.message
        if cond.field == "from":
            return [m.from_email, m.from_name]
        if cond.field in ("to", "cc"):
            pairs = m.to if cond.field == "to" else m.cc
            return [str(part) for pair in pairs or [] for part in reversed(pair)]
        if cond.field == "subject":
            return [m.subject]
        if cond.field == "body":
            return [m.text[:MAX_BODY]]
        return self.header_values(mail, cond.header)

    def addresses(self, cond: Condition, mail: Mail) -> list[str]:
        """The addresses of ``cond``'s field, lowercased (for ``domain``)."""
        m = mail.message
        if cond.field == "from":
            return [m.from_email.lower()]
        if cond.field in ("to", "cc"):
            return [str(pair[1]).lower() for pair in (m.to if cond.field == "to" else m.cc)]
        values = self.header_values(mail, cond.header)
        return [addr.lower() for _, addr in getaddresses(values) if "@" in addr]

    def header_values(self, mail: Mail, name: str) -> list[str]:
        """Every value of the header ``name`` (lowercase) in the raw mail, decoded."""
        if self._heads is None:
            self._heads = _load_heads([m.message for m in self.mails])
        head = self._heads.get(mail.message.pk)
        if not head:
            return []
        return [mail_headers.decode_text(value)[0] for value in header_field(head, name)]

    # choice fields

    def choice(self, name: str, mail: Mail) -> str:
        if name == "kind":
            return mail.message.kind
        if name == "conversation":
            return "new" if mail.new_conversation else "reply"
        if name == "attachment":
            return "yes" if mail.message.pk in self.attached() else "no"
        if name == "customer":
            return "known" if self.known(mail) else "new"
        return "inside" if self.open_at(mail) else "outside"

    def attached(self) -> set[int]:
        if self._attached is None:
            self._attached = set(
                Attachment.objects.filter(
                    message_id__in=[m.message.pk for m in self.mails], inline=False
                ).values_list("message_id", flat=True)
            )
        return self._attached

    def known(self, mail: Mail) -> bool:
        """The customer had a conversation (in any mailbox) before this one."""
        contact = mail.conversation.contact_id
        if contact is None:
            return False
        if self._first_conv is None:
            contacts = {c for m in self.mails if (c := m.conversation.contact_id) is not None}
            self._first_conv = dict(
                Conversation.objects.filter(contact_id__in=contacts)
                .values("contact_id")
                .annotate(first=Min("id"))
                .values_list("contact_id", "first")
            )
        return self._first_conv.get(contact, mail.conversation.pk) < mail.conversation.pk

    def open_at(self, mail: Mail) -> bool:
        mailbox = mail.conversation.mailbox
        if mailbox.pk not in self._calendars:
            self._calendars[mailbox.pk] = calendar_for(mailbox)
        return self._calendars[mailbox.pk].is_open(mail.message.received_at)


def _equals(text: str, value: str) -> bool:
    return text.strip() == value


def _starts(text: str, value: str) -> bool:
    return text.lstrip().startswith(value)


def _ends(text: str, value: str) -> bool:
    return text.rstrip().endswith(value)


_TESTS: dict[str, Callable[[str, str], bool]] = {
    "equals": _equals,
    "starts_with": _starts,
    "ends_with": _ends,
}


def _in_domain(address: str, domain: str) -> bool:
    """``address`` is at ``domain`` or at a domain under it (sub.example.com)."""
    host = norm(address.rpartition("@")[2]).rstrip(".")
    return bool(host) and (host == domain or host.endswith("." + domain))


def _load_heads(messages: Sequence[Message]) -> dict[int, bytes]:
    """The header part of each message's raw mail (one query, only its first bytes)."""
    by_raw = {m.raw_id: m.pk for m in messages if m.raw_id is not None}
    rows = (
        RawMessage.objects.filter(pk__in=list(by_raw))
        .annotate(head=Substr("data", 1, HEAD_BYTES, output_field=BinaryField()))
        .values_list("pk", "head")
    )
    return {by_raw[pk]: _head_part(bytes(head or b"")) for pk, head in rows}


def _head_part(data: bytes) -> bytes:
    """Up to the blank line that ends the header (or all of ``data``)."""
    cut = [i for i in (data.find(b"\r\n\r\n"), data.find(b"\n\n")) if i >= 0]
    return data[: min(cut)] if cut else data


@lru_cache(maxsize=256)
def _field_pattern(name: str) -> re.Pattern[bytes]:
    """A header field of this name: the name, a colon, the value with its folded lines
    (RFC 5322 2.2), at the start of a line."""
    quoted = re.escape(name.encode("ascii"))
    return re.compile(rb"^" + quoted + rb"[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.M | re.I)


def header_field(head: bytes, name: str) -> list[str]:
    """The raw values of the header ``name`` in a header part (surrogate-escaped, still
    folded and encoded: ``mail.headers.decode_text`` reads them).

    A scan for the one name rather than ``email``'s ``BytesHeaderParser`` over every field:
    the same values at a fraction of the cost (docs/automation/rules.md, "What it costs")."""
    return [v.decode("utf-8", "surrogateescape") for v in _field_pattern(name).findall(head)]


# Running the rules at intake


@dataclass(frozen=True, slots=True)
class Loaded:
    rule: Rule
    matcher: Matcher


def enabled_rules(mailbox_ids: Iterable[int]) -> dict[int, list[Loaded]]:
    """The enabled rules of these mailboxes, compiled, in order (one query). A stored rule
    that no longer compiles is logged and left out."""
    out: dict[int, list[Loaded]] = defaultdict(list)
    rows = Rule.objects.filter(mailbox_id__in=list(mailbox_ids), enabled=True).order_by(
        "mailbox_id", "position", "id"
    )
    for rule in rows:
        try:
            out[rule.mailbox_id].append(Loaded(rule, compile_rule(rule.match, rule.conditions)))
        except ValueError as exc:
            log.warning("rule %s (%s) left out: %s", rule.pk, rule.name, exc)
    return out


def apply_rules(arrivals: list[Arrival]) -> None:
    """Run each mailbox's enabled rules, in order, on the batch's arrivals."""
    rules = enabled_rules({a.conversation.mailbox_id for a in arrivals})
    if not rules:
        return
    mails = [Mail(a.message, a.conversation, a.new_conversation) for a in arrivals]
    facts = Facts(mails)
    batch = rule_actions.Batch([a.conversation.pk for a in arrivals])
    hits: Counter[int] = Counter()
    for arrival, mail in zip(arrivals, mails, strict=True):
        for loaded in rules.get(arrival.conversation.mailbox_id, []):
            if arrival.stopped:
                break
            if _matches(loaded, facts, mail):
                hits[loaded.rule.pk] += 1
                rule_actions.apply(loaded.rule, arrival, batch)
    batch.finish()
    count_matches(hits)


def _matches(loaded: Loaded, facts: Facts, mail: Mail) -> bool:
    """Whether the rule matches; a rule that cannot be checked (say, business hours stored
    wrong) is logged and counts as not matching: the mail is still taken in."""
    try:
        return loaded.matcher.matches(facts, mail)
    except Exception:
        log.exception("rule %s (%s) could not be checked", loaded.rule.pk, loaded.rule.name)
        return False


def count_matches(hits: Mapping[int, int]) -> None:
    """Add each rule's matches of a batch to its count (one UPDATE per rule)."""
    now = timezone.now()
    for pk, n in hits.items():
        Rule.objects.filter(pk=pk).update(match_count=F("match_count") + n, last_matched_at=now)
