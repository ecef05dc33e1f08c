"""Templates (定型文): the managers' pages under /admin/templates/ and the composer's JSON.

Managers and admins manage templates (``reply_templates.queries`` says who manages which:
admins the shared ones, managers those of their mailboxes); agents use them from the
composer, whose picker asks two JSON endpoints per conversation (or, for a new
conversation, per mailbox): the usable templates matching what was typed, and one
template rendered for that conversation by the server (``variables.values_for``), after
the same access check as the conversation page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from madoguchi.accounts.models import Agent, Role
from madoguchi.conversations.models import Conversation
from madoguchi.conversations.queries import access_conversation
from madoguchi.core import blobs, params
from madoguchi.mail.header_values import one_line
from madoguchi.mailboxes.models import Mailbox
from madoguchi.mailboxes.queries import access_mailbox, visible_mailboxes
from madoguchi.reply_templates import actions, queries
from madoguchi.reply_templates.models import Folder, Template
from madoguchi.reply_templates.variables import VARIABLES, sample_values, values_for
from madoguchi.reply_templates.variables import render as fill
from madoguchi.web.conversation_forms import FilesField
from madoguchi.web.current import AgentRequest, agent_required

#: Files of one template together, when it belongs to no mailbox (else the mailbox's limit).
SHARED_FILES_MAX = 25 * 1024 * 1024
#: Characters of a template's text the picker shows under its name.
SNIPPET = 120
SORTS = ("folder", "used", "name")


# --- forms -------------------------------------------------------------------------------


def _mailbox_choices(agent: Agent) -> list[tuple[str, str]]:
    shared = [("", _("All mailboxes (shared)"))] if agent.role == Role.ADMIN else []
    boxes = visible_mailboxes(agent).order_by("address")
    return shared + [(str(mb.pk), mb.name or mb.address) for mb in boxes]


def _folder_label(folder: Folder) -> str:
    where = folder.mailbox.name or folder.mailbox.address if folder.mailbox else _("shared")
    return f"{folder.name} ({where})"


def _optional_id(value: str) -> int | None:
    return params.parse_id(value) if value else None


def _managed_mailbox(agent: Agent, value: str) -> int | None:
    """The mailbox chosen (None: shared), if ``agent`` may manage its templates."""
    mailbox_id = _optional_id(value)
    if not queries.may_manage(agent, mailbox_id):
        raise ValidationError(_("Only an admin may share a template with every mailbox."))
    return mailbox_id


class TemplateForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    mailbox = forms.ChoiceField(label=gettext_lazy("Used in"), required=False)
    folder = forms.ChoiceField(label=gettext_lazy("Folder"), required=False)
    subject = forms.CharField(
        label=gettext_lazy("Subject"), max_length=998, required=False,
        help_text=gettext_lazy("Used when a new conversation begins with it; a reply keeps "
                               "its conversation's subject."),
    )  # fmt: skip
    body = forms.CharField(
        label=gettext_lazy("Text"),
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 14, "class": "template-body"}),
    )

    def __init__(self, *args: Any, agent: Agent, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agent = agent
        self.fields["mailbox"].choices = _mailbox_choices(agent)  # type: ignore[attr-defined]
        folders = queries.folders(agent)
        self.fields["folder"].choices = [("", _("No folder"))] + [  # type: ignore[attr-defined]
            (str(f.pk), _folder_label(f)) for f in folders
        ]
        self._folders = {f.pk: f for f in folders}

    def clean_name(self) -> str:
        name = one_line(self.cleaned_data["name"])
        if not name:
            raise ValidationError(_("Give the template a name."))
        return name

    def clean_subject(self) -> str:
        return one_line(self.cleaned_data["subject"])

    def clean_mailbox(self) -> int | None:
        return _managed_mailbox(self.agent, self.cleaned_data["mailbox"])

    def clean_folder(self) -> Folder | None:
        folder_id = _optional_id(self.cleaned_data["folder"])
        return self._folders.get(folder_id) if folder_id else None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        fits = queries.folder_fits(data.get("folder"), data.get("mailbox"))
        if "folder" in data and "mailbox" in data and not fits:
            self.add_error("folder", _("That folder belongs to another mailbox."))
        return data

    def fields_of(self) -> dict[str, Any]:
        data = self.cleaned_data
        folder = data["folder"]
        return {
            "name": data["name"], "subject": data["subject"], "body": data["body"],
            "mailbox_id": data["mailbox"], "folder_id": folder.pk if folder else None,
        }  # fmt: skip


class FolderRenameForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Folder name"), max_length=100)
    position = forms.IntegerField(
        label=gettext_lazy("Order"), min_value=0, max_value=10_000, required=False
    )

    def clean_name(self) -> str:
        name = one_line(self.cleaned_data["name"])
        if not name:
            raise ValidationError(_("Give the folder a name."))
        return name


class FolderForm(FolderRenameForm):
    mailbox = forms.ChoiceField(label=gettext_lazy("Used in"), required=False)

    def __init__(self, *args: Any, agent: Agent, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agent = agent
        self.fields["mailbox"].choices = _mailbox_choices(agent)  # type: ignore[attr-defined]

    def clean_mailbox(self) -> int | None:
        return _managed_mailbox(self.agent, self.cleaned_data["mailbox"])


class FilesForm(forms.Form):
    upload = FilesField(label=gettext_lazy("Add files"))

    def __init__(self, *args: Any, room: int = 0, limit: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.room, self.limit = room, limit

    def clean_upload(self) -> list[Any]:
        files: list[Any] = self.cleaned_data["upload"]
        if not files:
            raise ValidationError(_("Choose a file first."))
        if sum(f.size or 0 for f in files) > self.room:
            raise ValidationError(
                _("Too large: the files of a template may be %(max)s MB together."),
                params={"max": f"{self.limit / 1048576:.1f}"},
            )
        return files


# --- the managers' pages -----------------------------------------------------------------


@agent_required
def template_list(request: AgentRequest) -> HttpResponse:
    agent = queries.require_template_manager(request.agent)
    mailbox_id = params.get_id(request, "mailbox")
    mailbox = access_mailbox(agent, mailbox_id) if mailbox_id else None
    query = params.get_text(request, "q", max_length=queries.QUERY_MAX)
    sort = params.get_choice(request, "sort", SORTS, default="folder")
    templates = list(queries.listed(agent, mailbox_id=mailbox_id))
    if words := queries.fold(query).split():
        templates = [t for t in templates if _matches(t, words)]
    if sort == "used":
        templates.sort(key=lambda t: (-t.use_count, t.last_used_at is None, t.name))
    elif sort == "name":
        templates.sort(key=lambda t: queries.fold(t.name))
    managed = set(queries.manageable_mailbox_ids(agent))
    admin = agent.role == Role.ADMIN
    folders = list(queries.folders(agent, mailbox_id=mailbox_id))
    return render(request, "reply_templates/list.html", {
        "rows": [{"template": t, "editable": _editable(t.mailbox_id, managed, admin)}
                 for t in templates],
        "mailbox": mailbox, "query": query, "sort": sort,
        "mailboxes": visible_mailboxes(agent).order_by("address"), "folders": folders,
        "editable_folders": {f.pk for f in folders if _editable(f.mailbox_id, managed, admin)},
        "folder_form": FolderForm(agent=agent, initial={"mailbox": mailbox_id or ""}),
    })  # fmt: skip


def _editable(mailbox_id: int | None, managed: set[int], admin: bool) -> bool:
    return admin if mailbox_id is None else mailbox_id in managed


def _matches(template: Template, words: list[str]) -> bool:
    text = queries.fold(f"{template.name}\n{template.subject}\n{template.body}")
    return all(w in text for w in words)


@agent_required
def template_new(request: AgentRequest) -> HttpResponse:
    agent = queries.require_template_manager(request.agent)
    mailbox_id = params.get_id(request, "mailbox")
    initial = {"mailbox": str(mailbox_id) if mailbox_id else ""}
    form = TemplateForm(request.POST or None, agent=agent, initial=initial)
    if request.method == "POST" and form.is_valid():
        template = actions.create_template(actor_id=agent.user_id, **form.fields_of())
        messages.success(request, _("Saved."))
        return redirect("template_edit", template_id=template.pk)
    return _edit_page(request, form, None)


@agent_required
def template_edit(request: AgentRequest, template_id: int) -> HttpResponse:
    agent = queries.require_template_manager(request.agent)
    template = queries.access_template(agent, template_id)
    form = _template_form(request, agent, template)
    if request.method == "POST" and form.is_valid():
        actions.update_template(template, actor_id=agent.user_id, **form.fields_of())
        messages.success(request, _("Saved."))
        return redirect("template_edit", template_id=template.pk)
    return _edit_page(request, form, template)


def _edit_page(
    request: AgentRequest, form: TemplateForm, template: Template | None, **extra: Any
) -> HttpResponse:
    agent = request.agent
    body = form["body"].value() or ""
    subject = form["subject"].value() or ""
    mailbox_id = _optional_id(str(form["mailbox"].value() or ""))
    sample, values = _sample(agent, mailbox_id)
    failed = request.method == "POST" and (bool(form.errors) or "files_form" in extra)
    return render(request, "reply_templates/edit.html", {
        "form": form, "template": template, "sample": sample,
        "preview": fill(body, values), "preview_subject": fill(subject, values),
        "variables": VARIABLES,
        "files": template.attachments.order_by("pk") if template else [],
        "files_form": extra.get("files_form") or FilesForm(),
    }, status=400 if failed else 200)  # fmt: skip


def _sample(agent: Agent, mailbox_id: int | None) -> tuple[Conversation | None, dict[str, str]]:
    """The conversation a preview fills the variables from, and those values."""
    if mailbox_id is not None and not visible_mailboxes(agent).filter(pk=mailbox_id).exists():
        mailbox_id = None
    conv = queries.sample_conversation(agent, mailbox_id)
    if conv is not None:
        return conv, values_for(conv.pk, mailbox_id=conv.mailbox_id, agent_user_id=agent.user_id)
    box = mailbox_id or visible_mailboxes(agent).order_by("pk").values_list("pk", flat=True).first()
    if box is None:
        return None, {v.name: v.example for v in VARIABLES}
    return None, sample_values(box, agent_user_id=agent.user_id)


@agent_required
@require_POST
def template_preview(request: AgentRequest) -> JsonResponse:
    """The live preview of the editor: the text typed, filled for the sample conversation."""
    agent = queries.require_template_manager(request.agent)
    body = params.get_text(request, "body", max_length=100_000, post=True)
    subject = params.get_text(request, "subject", max_length=998, post=True)
    mailbox_id = params.get_id(request, "mailbox", post=True)
    sample, values = _sample(agent, mailbox_id)
    return JsonResponse({
        "text": fill(body, values), "subject": fill(subject, values),
        "sample": f"#{sample.pk} {sample.subject}" if sample else "",
    })  # fmt: skip


@agent_required
@require_POST
def template_delete(request: AgentRequest, template_id: int) -> HttpResponse:
    agent = queries.require_template_manager(request.agent)
    template = queries.access_template(agent, template_id)
    mailbox_id = template.mailbox_id
    actions.delete_template(template, actor_id=agent.user_id)
    messages.success(request, _("The template was deleted."))
    response = redirect("template_list")
    if mailbox_id:
        response["Location"] += f"?mailbox={mailbox_id}"
    return response


def _files_limit(template: Template) -> tuple[int, int]:
    """What the files of ``template`` may weigh together, and the room left."""
    limit = template.mailbox.max_message_bytes if template.mailbox else SHARED_FILES_MAX
    used = sum(a.size for a in template.attachments.all())
    return limit, max(0, limit - used)


@agent_required
@require_POST
def file_add(request: AgentRequest, template_id: int) -> HttpResponse:
    agent = queries.require_template_manager(request.agent)
    template = queries.access_template(agent, template_id)
    limit, room = _files_limit(template)
    form = FilesForm(request.POST, request.FILES, room=room, limit=limit)
    if not form.is_valid():
        return _edit_page(request, _template_form(None, agent, template), template,
                          files_form=form)  # fmt: skip
    for upload in form.cleaned_data["upload"]:
        actions.add_attachment(
            template, filename=upload.name or "file", data=upload.read(),
            content_type=upload.content_type or "application/octet-stream",
            actor_id=agent.user_id,
        )  # fmt: skip
    messages.success(request, _("Saved."))
    return redirect("template_edit", template_id=template.pk)


def _template_form(request: AgentRequest | None, agent: Agent, template: Template) -> TemplateForm:
    """The editor's form: what was posted, or the template as saved."""
    data = request.POST if request is not None and request.method == "POST" else None
    return TemplateForm(data, agent=agent, initial={
        "name": template.name, "subject": template.subject, "body": template.body,
        "mailbox": str(template.mailbox_id or ""), "folder": str(template.folder_id or ""),
    })  # fmt: skip


@agent_required
@require_POST
def file_remove(request: AgentRequest, template_id: int, file_id: int) -> HttpResponse:
    agent = queries.require_template_manager(request.agent)
    template = queries.access_template(agent, template_id)
    attachment = template.attachments.filter(pk=file_id).first()
    if attachment is None:
        raise Http404("no such file")
    actions.remove_attachment(attachment, actor_id=agent.user_id)
    messages.success(request, _("The file was removed."))
    return redirect("template_edit", template_id=template.pk)


@agent_required
def file_download(request: AgentRequest, template_id: int, file_id: int) -> FileResponse:
    agent = queries.require_template_manager(request.agent)
    template = queries.access_template(agent, template_id)
    attachment = template.attachments.filter(pk=file_id).first()
    if attachment is None or not blobs.exists(attachment.sha256):
        raise Http404("no such file")
    return FileResponse(
        blobs.open(attachment.sha256), as_attachment=True,
        filename=attachment.filename, content_type="application/octet-stream",
    )  # fmt: skip


@agent_required
@require_POST
def folder_new(request: AgentRequest) -> HttpResponse:
    agent = queries.require_template_manager(request.agent)
    form = FolderForm(request.POST, agent=agent)
    if not form.is_valid():
        messages.error(request, _("The folder was not made: give it a name and a mailbox."))
        return redirect("template_list")
    data = form.cleaned_data
    actions.create_folder(name=data["name"], mailbox_id=data["mailbox"],
                          position=data["position"] or 0)  # fmt: skip
    messages.success(request, _("Saved."))
    return _to_list(data["mailbox"])


@agent_required
@require_POST
def folder_edit(request: AgentRequest, folder_id: int) -> HttpResponse:
    agent = queries.require_template_manager(request.agent)
    folder = queries.access_folder(agent, folder_id)
    form = FolderRenameForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the folder a name."))
    else:
        actions.rename_folder(folder, name=form.cleaned_data["name"],
                              position=form.cleaned_data["position"])  # fmt: skip
        messages.success(request, _("Saved."))
    return _to_list(folder.mailbox_id)


@agent_required
@require_POST
def folder_delete(request: AgentRequest, folder_id: int) -> HttpResponse:
    agent = queries.require_template_manager(request.agent)
    folder = queries.access_folder(agent, folder_id)
    mailbox_id = folder.mailbox_id
    actions.delete_folder(folder)
    messages.success(request, _("The folder was deleted; its templates are kept."))
    return _to_list(mailbox_id)


def _to_list(mailbox_id: int | None) -> HttpResponse:
    response = redirect("template_list")
    if mailbox_id:
        response["Location"] += f"?mailbox={mailbox_id}"
    return response


# --- the composer's picker ---------------------------------------------------------------


def _where(request: AgentRequest, pk: int | None, mailbox_id: int | None) -> tuple[int, int | None]:
    """The mailbox and conversation the composer writes in, after the access check."""
    if pk is not None:
        conv = access_conversation(request.agent, pk)
        return conv.mailbox_id, conv.pk
    mailbox: Mailbox = access_mailbox(request.agent, mailbox_id or 0)
    return mailbox.pk, None


def _found(request: AgentRequest, *, pk: int | None, mailbox_id: int | None) -> JsonResponse:
    box, conv = _where(request, pk, mailbox_id)
    query = params.get_text(request, "q", max_length=1000)
    found = queries.search(box, query)
    values = values_for(conv, mailbox_id=box, agent_user_id=request.agent.user_id)
    counts = dict(
        Template.objects.filter(pk__in=[t.pk for t in found])
        .annotate(files=Count("attachments"))
        .values_list("pk", "files")
    )
    return JsonResponse({"templates": [{
        "id": t.pk, "name": t.name, "folder": t.folder.name if t.folder else "",
        "shared": t.mailbox_id is None, "files": counts.get(t.pk, 0),
        "snippet": _snippet(fill(t.body, values)),
    } for t in found]})  # fmt: skip


def _snippet(text: str) -> str:
    one = " ".join(text.split())
    return one if len(one) <= SNIPPET else one[: SNIPPET - 1] + "…"


def _rendered(
    request: AgentRequest, template_id: int, *, pk: int | None, mailbox_id: int | None
) -> JsonResponse:
    box, conv = _where(request, pk, mailbox_id)
    template = queries.usable_template(box, template_id)
    values = values_for(conv, mailbox_id=box, agent_user_id=request.agent.user_id)
    files = [a for a in template.attachments.all() if blobs.exists(a.sha256)]
    return JsonResponse({
        "id": template.pk, "name": template.name,
        "subject": fill(template.subject, values), "text": fill(template.body, values),
        "files": [{"id": a.pk, "name": a.filename, "size": a.size} for a in files],
    })  # fmt: skip


@agent_required
def conversation_templates(request: AgentRequest, pk: int) -> JsonResponse:
    return _found(request, pk=pk, mailbox_id=None)


@agent_required
def conversation_template(request: AgentRequest, pk: int, template_id: int) -> JsonResponse:
    return _rendered(request, template_id, pk=pk, mailbox_id=None)


@agent_required
def mailbox_templates(request: AgentRequest, mailbox_id: int) -> JsonResponse:
    return _found(request, pk=None, mailbox_id=mailbox_id)


@agent_required
def mailbox_template(request: AgentRequest, mailbox_id: int, template_id: int) -> JsonResponse:
    return _rendered(request, template_id, pk=None, mailbox_id=mailbox_id)
