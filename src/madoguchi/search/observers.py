"""The events that change what the index holds (``SearchConfig.ready`` registers them)."""

from __future__ import annotations


def register() -> None:
    from madoguchi.search import index

    index.register()
