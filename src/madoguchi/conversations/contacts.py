"""Finding or creating the contact behind a mail address."""

from __future__ import annotations

from madoguchi.conversations.models import Contact, ContactAddress

#: Domains of personal mail services: they say nothing about the sender's organization.
FREE_MAIL_DOMAINS = frozenset(
    """gmail.com googlemail.com yahoo.com yahoo.co.jp ymail.com outlook.com outlook.jp hotmail.com
    hotmail.co.jp live.com live.jp msn.com icloud.com me.com mac.com aol.com gmx.de gmx.net
    web.de mail.ru protonmail.com proton.me docomo.ne.jp ezweb.ne.jp au.com softbank.ne.jp
    i.softbank.jp nifty.com biglobe.ne.jp ocn.ne.jp""".split()
)


def organization_for(email: str) -> str:
    domain = email.rpartition("@")[2].lower()
    return "" if not domain or domain in FREE_MAIL_DOMAINS else domain


def contact_for(email: str, name: str) -> Contact | None:
    """The contact owning ``email``, created on first sight. Caller holds a transaction."""
    email = email.strip().lower()
    if "@" not in email:
        return None
    found = ContactAddress.objects.select_related("contact").filter(email=email).first()
    if found is not None:
        contact = found.contact
        if name and not contact.name:
            contact.name = name[:255]
            contact.save(update_fields=["name"])
        return contact
    contact = Contact.objects.create(name=name[:255], organization=organization_for(email))
    ContactAddress.objects.create(contact=contact, email=email[:320])
    return contact
