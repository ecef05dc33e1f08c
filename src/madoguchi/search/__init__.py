"""Search: the index of every message, note and tag line, and the query language over it.

``text`` (pure Python) turns text into index tokens and query terms; ``query`` (pure
Python) reads the query language; ``index`` keeps the index current from the events;
``queries`` runs a search for an agent. See docs/search.md.
"""
