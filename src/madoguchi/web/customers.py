"""Customers (顧客): the list, a customer's page (details, addresses, history, merges),
organizations, the team's customer fields, and CSV import and export.

Every agent sees and edits the customers they may see (``customers.queries``); managers
and admins define the team's fields and import and export customers.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.conversations.models import Contact, ContactAddress, Status
from madoguchi.core import params
from madoguchi.customers import actions, csv_files, queries
from madoguchi.customers.models import CustomerField, CustomerMerge, FieldKind
from madoguchi.customers.values import BadValue
from madoguchi.web.current import AgentRequest, agent_required

MAX_TEXT = 10_000
_KEY = re.compile(r"^[a-z0-9_-]{1,40}$")


def _value_sentence(code: str, detail: str) -> str:
    """Why a value does not fit its field (``customers.values.BadValue``'s code)."""
    sentences = {
        "number": _("“%(detail)s” is not a number."),
        "date": _("“%(detail)s” is not a date (write 2026-12-04)."),
        "choice": _("“%(detail)s” is not one of the field's choices."),
        "long": _("A value is too long."),
    }
    return sentences.get(code, _("The line cannot be kept.")) % {"detail": detail}


def bad_value_sentence(field_label: str, bad: BadValue) -> str:
    return f"{field_label}: {_value_sentence(bad.code, bad.value)}"


def _require_manager(request: AgentRequest) -> None:
    if not queries.may_define_fields(request.agent):
        raise PermissionDenied("managers and admins only")


@agent_required
def customer_list(request: AgentRequest) -> HttpResponse:
    fields = queries.fields()
    field_keys = [f.key for f in fields]
    filters = queries.Filters(
        q=params.get_text(request, "q", max_length=200),
        organization=params.get_text(request, "org", max_length=255).strip().lower(),
        open_only=params.get_flag(request, "open"),
        field=params.get_choice(request, "field", field_keys, default=""),
        value=params.get_text(request, "value", max_length=200).strip(),
    )
    before = params.get_id(request, "before")
    rows, next_before = queries.customer_list(request.agent, filters, before=before)
    orgs = queries.organization_names([c.organization for c in rows])
    kept = {k: v for k, v in request.GET.items() if k != "before"}
    return render(request, "customers/list.html", {
        "rows": [(c, orgs.get(c.organization, "")) for c in rows],
        "filters": filters, "fields": fields,
        "next_url": f"?{urlencode({**kept, 'before': next_before})}" if next_before else "",
        "manager": queries.may_define_fields(request.agent),
    })  # fmt: skip


@agent_required
def customer(request: AgentRequest, pk: int) -> HttpResponse:
    contact = queries.access_customer(request.agent, pk)
    if contact.pk != pk:  # merged: its page is the target's
        return redirect("customer", contact.pk)
    before = params.get_id(request, "before")
    rows, next_before = queries.history(request.agent, contact, before=before)
    fields = queries.fields()
    return render(request, "customers/customer.html", {
        "contact": contact,
        "addresses": list(contact.addresses.order_by("email")),
        "organization": queries.organization_of(contact),
        "history": rows,
        "next_url": f"?before={next_before}" if next_before else "",
        "fields": [(f, contact.fields.get(f.key, "")) for f in fields],
        "merges": queries.undoable_merges(contact),
        "open_statuses": [Status.NEW, Status.OPEN, Status.HOLD],
    })  # fmt: skip


@require_POST
@agent_required
def customer_edit(request: AgentRequest, pk: int) -> HttpResponse:
    contact = queries.access_customer(request.agent, pk)
    limits = {"name": 255, "company": 255, "phone": 64, "organization": 255, "notes": MAX_TEXT}
    values = {name: params.get_text(request, name, max_length=limit, post=True)
              for name, limit in limits.items() if name in request.POST}  # fmt: skip
    fields = queries.fields()
    raw = {f.key: params.get_text(request, f"field_{f.key}", max_length=MAX_TEXT, post=True)
           for f in fields if f"field_{f.key}" in request.POST}  # fmt: skip
    try:
        changed = actions.update_customer(
            contact, actor_id=request.agent.user_id, values=values, fields=raw
        )
    except BadValue as bad:
        label = next((f.label for f in fields if f.key == bad.field), bad.field)
        messages.error(request, bad_value_sentence(label, bad))
    else:
        if changed:
            messages.success(request, _("Saved."))
    return redirect("customer", contact.pk)


@require_POST
@agent_required
def address_add(request: AgentRequest, pk: int) -> HttpResponse:
    contact = queries.access_customer(request.agent, pk)
    email = params.get_text(request, "email", max_length=320, post=True)
    try:
        actions.add_address(contact, email, actor_id=request.agent.user_id)
    except actions.AddressTaken as taken:
        messages.error(request, _("%(email)s belongs to another customer: merge them instead.")
                       % {"email": taken.email})  # fmt: skip
    except ValueError:
        messages.error(request, _("“%(email)s” is not a mail address.") % {"email": email[:80]})
    return redirect("customer", contact.pk)


@require_POST
@agent_required
def merge(request: AgentRequest, pk: int) -> HttpResponse:
    """Merge another customer (named by an address or ``#id``) into this one."""
    target = queries.access_customer(request.agent, pk)
    other = params.get_text(request, "other", max_length=320, post=True).strip()
    source = _find(request, other)
    if source is None or source.pk == target.pk:
        messages.error(request, _("No other customer “%(name)s” to merge.") % {"name": other[:80]})
        return redirect("customer", target.pk)
    done = actions.merge_customers(target, source, actor_id=request.agent.user_id)
    messages.success(request, _("%(name)s was merged into this customer.")
                     % {"name": source.name or other})  # fmt: skip
    return redirect(f"{reverse('customer', args=[target.pk])}#merge-{done.pk}")


def _find(request: AgentRequest, other: str) -> Contact | None:
    agent = request.agent
    if "@" not in other:
        pk = params.parse_id(other.removeprefix("#"))
        if pk is None:
            return None
        try:
            return queries.access_customer(agent, pk)
        except Http404:
            return None
    owner = ContactAddress.objects.filter(email=other.lower()).values_list("contact_id", flat=True)
    if not owner:
        return None
    try:
        return queries.access_customer(agent, owner[0])
    except Http404:
        return None


@require_POST
@agent_required
def merge_undo(request: AgentRequest, merge_id: int) -> HttpResponse:
    found = CustomerMerge.objects.filter(pk=merge_id, undone_at__isnull=True).first()
    if found is None:
        raise Http404("no such merge")
    target = queries.access_customer(request.agent, found.target_id)
    moved = actions.undo_merge(found, actor_id=request.agent.user_id)
    messages.success(request, _("The merge was undone: %(count)s conversations went back.")
                     % {"count": moved})  # fmt: skip
    return redirect("customer", target.pk)


@agent_required
def organization(request: AgentRequest, key: str) -> HttpResponse:
    key = key.strip().lower()[:255]
    members = queries.organization_members(request.agent, key)
    if not members:
        raise Http404("no such organization")
    if request.method == "POST":
        actions.update_organization(
            key, actor_id=request.agent.user_id,
            name=params.get_text(request, "name", max_length=255, post=True),
            notes=params.get_text(request, "notes", max_length=MAX_TEXT, post=True),
        )  # fmt: skip
        messages.success(request, _("Saved."))
        return redirect("organization", key)
    return render(request, "customers/organization.html", {
        "key": key, "organization": queries.organization_named(key), "members": members,
    })  # fmt: skip


# --- the team's fields, import and export (managers) -------------------------------------


@agent_required
def field_list(request: AgentRequest) -> HttpResponse:
    _require_manager(request)
    if request.method == "POST":
        key = params.get_token(request, "key", _KEY, post=True)
        label = params.get_text(request, "label", max_length=80, post=True).strip()
        kind = params.get_choice(request, "kind", FieldKind.values, default="text", post=True)
        choices = params.get_text(request, "choices", max_length=4000, post=True).splitlines()
        position = params.get_id(request, "position", post=True) or 0
        if key is None or not label:
            messages.error(request, _("A field needs a key (a-z, 0-9, _ and -) and a label."))
        else:
            actions.save_field(actor_id=request.agent.user_id, key=key, label=label, kind=kind,
                               choices=choices, position=position)  # fmt: skip
            messages.success(request, _("Saved."))
        return redirect("customer_fields")
    return render(request, "customers/fields.html", {
        "fields": queries.fields(), "kinds": FieldKind.choices,
    })  # fmt: skip


@require_POST
@agent_required
def field_delete(request: AgentRequest, field_id: int) -> HttpResponse:
    _require_manager(request)
    field = CustomerField.objects.filter(pk=field_id).first()
    if field is None:
        raise Http404("no such field")
    actions.delete_field(field, actor_id=request.agent.user_id)
    return redirect("customer_fields")


@agent_required
def export_csv(request: AgentRequest) -> HttpResponse:
    _require_manager(request)
    encoding = params.get_choice(request, "encoding", list(csv_files.ENCODINGS),
                                 default="utf-8")  # fmt: skip
    data, lost = csv_files.export(request.agent, encoding)
    charset = "shift_jis" if encoding == "shift_jis" else "utf-8"
    response = HttpResponse(data, content_type=f"text/csv; charset={charset}")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="customers-{stamp}-{encoding}.csv"'
    response["X-Madoguchi-Lost-Characters"] = str(lost)
    return response


@agent_required
def import_csv(request: AgentRequest) -> HttpResponse:
    _require_manager(request)
    result: csv_files.Imported | None = None
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("Choose a CSV file.")
        elif upload.size is not None and upload.size > csv_files.MAX_BYTES:
            error = _("The file is larger than 10 MB.")
        else:
            try:
                result = csv_files.import_file(request.agent, upload.read(csv_files.MAX_BYTES + 1))
            except csv_files.BadFile as bad:
                error = _bad_file(bad)
    return render(request, "customers/import.html", {
        "result": result, "error": error,
        "rejected": [(n, _line_reason(code, detail)) for n, code, detail in
                     (result.rejected[:500] if result else [])],
    })  # fmt: skip


def _bad_file(bad: csv_files.BadFile) -> str:
    return {
        "size": _("The file is larger than 10 MB."),
        "encoding": _("The file is neither UTF-8 nor Shift_JIS."),
        "empty": _("The file is empty."),
        "lines": _("The file has more than 50,000 lines."),
        "columns": _("No column of mail addresses (emails) or ids was found: %(detail)s"),
    }.get(bad.code, _("The file cannot be read.")) % {"detail": bad.detail}


def _line_reason(code: str, detail: str) -> str:
    sentences = {
        "email": _("“%(detail)s” is not a mail address."),
        "no_email": _("A new customer needs a mail address."),
        "id": _("No customer has the id “%(detail)s”."),
        "taken": _("%(detail)s belongs to another customer."),
        "several": _("The addresses belong to different customers: %(detail)s"),
    }
    if code not in sentences:
        return _value_sentence(code, detail)
    return sentences[code] % {"detail": detail}
