"""Saved searches: an agent's own views in the rail. Nobody else sees or changes them."""

from __future__ import annotations

from madoguchi.search.models import SavedSearch

#: The most saved searches one agent keeps (the rail shows them all).
MAX_SAVED = 30


class TooMany(Exception):
    """The agent keeps ``MAX_SAVED`` already."""


def saved_searches(user_id: int) -> list[SavedSearch]:
    return list(SavedSearch.objects.filter(user_id=user_id).order_by("name", "pk"))


def save_search(user_id: int, name: str, query: str) -> SavedSearch:
    """Keep ``query`` under ``name`` (the same name again: its query is replaced)."""
    name, query = name.strip()[:80], query.strip()[:500]
    found = SavedSearch.objects.filter(user_id=user_id, name=name).first()
    if found is not None:
        found.query = query
        found.save(update_fields=["query"])
        return found
    if SavedSearch.objects.filter(user_id=user_id).count() >= MAX_SAVED:
        raise TooMany
    return SavedSearch.objects.create(user_id=user_id, name=name, query=query)


def delete_search(user_id: int, pk: int) -> bool:
    """Forget one of the agent's own saved searches; whether there was one."""
    deleted, _ = SavedSearch.objects.filter(user_id=user_id, pk=pk).delete()
    return bool(deleted)
