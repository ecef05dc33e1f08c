"""Finding or creating the contacts behind mail addresses."""

from __future__ import annotations

from collections.abc import Iterable

from madoguchi.conversations.models import Contact, ContactAddress

#: Domains of personal mail services: they say nothing about the sender's organization.
FREE_MAIL_DOMAINS = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.jp",
        "ymail.com",
        "outlook.com",
        "outlook.jp",
        "hotmail.com",
        "hotmail.co.jp",
        "live.com",
        "live.jp",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.ru",
        "protonmail.com",
        "proton.me",
        "docomo.ne.jp",
        "ezweb.ne.jp",
        "au.com",
        "softbank.ne.jp",
        "i.softbank.jp",
        "nifty.com",
        "biglobe.ne.jp",
        "ocn.ne.jp",
    ]
)


def organization_for(email: str) -> str:
    domain = email.rpartition("@")[2].lower()
    return "" if not domain or domain in FREE_MAIL_DOMAINS else domain


def contacts_for(people: Iterable[tuple[str, str]]) -> dict[str, Contact]:
    """Contact per lowercased address for (email, name) pairs, creating the unknown ones.

    Caller holds a transaction. Three queries whatever the number of addresses.
    """
    names: dict[str, str] = {}
    for given, name in people:
        email = given.strip().lower()[:320]
        if "@" in email and not names.get(email):
            names[email] = name[:255]
    found = {
        a.email: a.contact
        for a in ContactAddress.objects.select_related("contact").filter(email__in=list(names))
    }
    missing = [email for email in names if email not in found]
    created = Contact.objects.bulk_create(
        Contact(name=names[email], organization=organization_for(email)) for email in missing
    )
    ContactAddress.objects.bulk_create(
        ContactAddress(contact=contact, email=email)
        for email, contact in zip(missing, created, strict=True)
    )
    return {**found, **dict(zip(missing, created, strict=True))}
