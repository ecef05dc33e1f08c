"""Read-only lookups of templates (定型文): which a mailbox may use, search, who manages what.

Who does what (docs/automation/templates.md):

- every agent *uses* the templates of a mailbox they see: the shared ones (``mailbox`` None)
  and that mailbox's own;
- managers and admins *manage* (create, edit, delete, attach files, folders) the templates
  of the mailboxes they see; shared templates and shared folders, which every mailbox
  uses, only admins manage (a manager of one mailbox does not change another's replies);
  agents manage none: templates are the team's agreed wording.

A missing template and one the agent may not see both raise ``Http404``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from madoguchi.accounts.models import Agent, Role
from madoguchi.conversations.models import Conversation
from madoguchi.core import blobs
from madoguchi.mail.compose import OutAttachment
from madoguchi.mailboxes.queries import visible_mailboxes
from madoguchi.reply_templates.models import Folder, Template, TemplateAttachment

#: At most this many templates answer one search of the composer.
SEARCH_LIMIT = 30
#: A query longer than this is cut (nobody types more to find a template).
QUERY_MAX = 200


def usable(mailbox_id: int) -> QuerySet[Template]:
    """The templates a reply from ``mailbox_id`` may use: the shared ones and its own."""
    return (
        Template.objects.filter(Q(mailbox__isnull=True) | Q(mailbox_id=mailbox_id))
        .select_related("folder")
        .order_by("folder__position", "folder__name", "name", "pk")
    )


def usable_template(mailbox_id: int, template_id: int) -> Template:
    """One template usable from ``mailbox_id``; 404 otherwise."""
    found = usable(mailbox_id).filter(pk=template_id).prefetch_related("attachments").first()
    if found is None:
        raise Http404("no such template")
    return found


def fold(text: str) -> str:
    """Text as the search compares it: NFKC (full-width Ａ and half-width ｶﾅ become A and
    カナ), case folded, and katakana as hiragana (セイキュウ finds せいきゅう)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return folded.translate(_KATA_TO_HIRA)


_KATA_TO_HIRA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}


def search(mailbox_id: int, query: str, *, limit: int = SEARCH_LIMIT) -> list[Template]:
    """The usable templates whose name or text holds every word of ``query`` (``fold``ed):
    matches in the name first (those starting with it before the others), then by use.

    Templates are few (hundreds), so they are compared here, in Python, where NFKC and
    kana folding are possible; every word must be found, so a search is one pass over each
    template's name and text.
    """
    words = fold(query[:QUERY_MAX]).split()
    ranked: list[tuple[tuple[int, int, str], Template]] = []
    for template in usable(mailbox_id):
        name = fold(template.name)
        if not words:
            ranked.append(((0, -template.use_count, name), template))
            continue
        text = name + "\n" + fold(template.subject) + "\n" + fold(template.body)
        if all(word in text for word in words):
            rank = 0 if name.startswith(words[0]) else 1 if all(w in name for w in words) else 2
            ranked.append(((rank, -template.use_count, name), template))
    ranked.sort(key=lambda pair: pair[0])
    return [template for _, template in ranked[:limit]]


def may_manage(agent: Agent, mailbox_id: int | None) -> bool:
    """May ``agent`` create or change templates of that mailbox (None: the shared ones)?"""
    if not agent.user.is_active or agent.role not in (Role.ADMIN, Role.MANAGER):
        return False
    if mailbox_id is None:
        return agent.role == Role.ADMIN
    return visible_mailboxes(agent).filter(pk=mailbox_id).exists()


def require_template_manager(agent: Agent) -> Agent:
    """The template pages are for managers and admins; anyone else gets the 403 page."""
    if agent.role not in (Role.ADMIN, Role.MANAGER) or not agent.user.is_active:
        raise PermissionDenied("managers only")
    return agent


def manageable_mailbox_ids(agent: Agent) -> list[int]:
    """The mailboxes whose templates ``agent`` manages (``may_manage``)."""
    if agent.role not in (Role.ADMIN, Role.MANAGER):
        return []
    return list(visible_mailboxes(agent).order_by("pk").values_list("pk", flat=True))


def listed(agent: Agent, *, mailbox_id: int | None = None) -> QuerySet[Template]:
    """The templates the list page shows ``agent``: shared ones and those of the mailboxes
    they see; with ``mailbox_id``, those usable from that mailbox."""
    if mailbox_id is not None:
        scope = Q(mailbox__isnull=True) | Q(mailbox_id=mailbox_id)
    else:
        scope = Q(mailbox__isnull=True) | Q(mailbox__in=visible_mailboxes(agent))
    return (
        Template.objects.filter(scope)
        .select_related("folder", "mailbox")
        .prefetch_related("attachments")
        .order_by("folder__position", "folder__name", "name", "pk")
    )


def folders(agent: Agent, *, mailbox_id: int | None = None) -> QuerySet[Folder]:
    """The folders ``agent`` sees (shared ones and their mailboxes'), or those a template of
    ``mailbox_id`` may be put in."""
    if mailbox_id is not None:
        scope = Q(mailbox__isnull=True) | Q(mailbox_id=mailbox_id)
    else:
        scope = Q(mailbox__isnull=True) | Q(mailbox__in=visible_mailboxes(agent))
    return Folder.objects.filter(scope).select_related("mailbox").order_by("position", "name")


def access_template(agent: Agent, template_id: int) -> Template:
    """A template ``agent`` may manage (``may_manage``); 404 when missing or not theirs to
    see, 403 when they see it but may not change it (a shared one, for a manager)."""
    template = (
        Template.objects.select_related("folder", "mailbox")
        .filter(Q(mailbox__isnull=True) | Q(mailbox__in=visible_mailboxes(agent)))
        .filter(pk=template_id)
        .first()
    )
    if template is None:
        raise Http404("no such template")
    if not may_manage(agent, template.mailbox_id):
        raise PermissionDenied("not yours to change")
    return template


def access_folder(agent: Agent, folder_id: int) -> Folder:
    """A folder ``agent`` may manage; 404 / 403 as ``access_template``."""
    folder = (
        Folder.objects.filter(Q(mailbox__isnull=True) | Q(mailbox__in=visible_mailboxes(agent)))
        .filter(pk=folder_id)
        .first()
    )
    if folder is None:
        raise Http404("no such folder")
    if not may_manage(agent, folder.mailbox_id):
        raise PermissionDenied("not yours to change")
    return folder


def folder_fits(folder: Folder | None, mailbox_id: int | None) -> bool:
    """May a template of ``mailbox_id`` (None: shared) be put in ``folder``? A shared folder
    holds any template; a mailbox's folder only that mailbox's."""
    return folder is None or folder.mailbox_id is None or folder.mailbox_id == mailbox_id


@dataclass(frozen=True, slots=True)
class Chosen:
    """Files of templates chosen for a reply, as the form checked them."""

    found: list[TemplateAttachment]
    missing: list[int]

    @property
    def size(self) -> int:
        return sum(a.size for a in self.found)


def chosen_attachments(ids: Iterable[int], *, mailbox_id: int) -> Chosen:
    """The template files ``ids`` that a reply from ``mailbox_id`` may carry (of a template
    it may use, with their bytes in the blob store), in the order asked; ``missing``: the
    others (forged, deleted meanwhile, or lost from the store)."""
    wanted = list(dict.fromkeys(ids))
    rows = {
        a.pk: a
        for a in TemplateAttachment.objects.filter(pk__in=wanted).filter(
            Q(template__mailbox__isnull=True) | Q(template__mailbox_id=mailbox_id)
        )
    }
    found = [rows[i] for i in wanted if i in rows and blobs.exists(rows[i].sha256)]
    have = {a.pk for a in found}
    return Chosen(found, [i for i in wanted if i not in have])


def files_of(attachments: Iterable[TemplateAttachment]) -> list[OutAttachment]:
    """The files to attach to the mail, read from the blob store."""
    return [OutAttachment(a.filename, a.content_type, blobs.read(a.sha256)) for a in attachments]


def usable_ids(ids: Iterable[int], *, mailbox_id: int) -> list[int]:
    """Of template ``ids``, those a reply from ``mailbox_id`` may use, in the order asked."""
    wanted = list(dict.fromkeys(ids))
    ok = set(usable(mailbox_id).filter(pk__in=wanted).values_list("pk", flat=True))
    return [i for i in wanted if i in ok]


def sample_conversation(agent: Agent, mailbox_id: int | None) -> Conversation | None:
    """A conversation to preview a template against: the newest with a customer in that
    mailbox (or in any mailbox ``agent`` sees, for a shared template)."""
    boxes = visible_mailboxes(agent)
    if mailbox_id is not None:
        boxes = boxes.filter(pk=mailbox_id)
    return (
        Conversation.objects.filter(mailbox__in=boxes, contact__isnull=False)
        .select_related("mailbox")
        .order_by("-last_activity_at", "-pk")
        .first()
    )
