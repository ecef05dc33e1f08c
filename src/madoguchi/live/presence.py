"""Who is viewing or replying on which conversation, across every tab of every process.

Pure state, no Django: ``hub`` feeds it this process's tabs directly and other processes'
tabs from ``Pulse`` rows, and asks it what to show. Each tab is on at most one
conversation; an agent with two tabs on one conversation shows once ("replying" wins).
"""

from __future__ import annotations

from dataclasses import dataclass

VIEWING, REPLYING, GONE = "viewing", "replying", "gone"
STATES = (VIEWING, REPLYING)
#: A tab re-announces itself this often; another process forgets it after ``EXPIRE_SECONDS``.
REFRESH_SECONDS = 15.0
EXPIRE_SECONDS = 40.0

TabKey = tuple[str, str]  # (process, tab)


@dataclass(frozen=True)
class Seen:
    agent_id: int
    name: str
    mailbox_id: int
    conversation_id: int
    state: str
    expires: float


class Presence:
    def __init__(self) -> None:
        self._tabs: dict[TabKey, Seen] = {}

    def put(self, key: TabKey, seen: Seen) -> dict[int, int]:
        """Record a tab's place; the conversations whose presence changed, with mailboxes."""
        before = self._tabs.get(key)
        self._tabs[key] = seen
        changed = {seen.conversation_id: seen.mailbox_id}
        if before and before.conversation_id != seen.conversation_id:
            changed[before.conversation_id] = before.mailbox_id
        elif before and before.state == seen.state:
            return {}  # only refreshed
        return changed

    def drop(self, key: TabKey) -> dict[int, int]:
        before = self._tabs.pop(key, None)
        return {before.conversation_id: before.mailbox_id} if before else {}

    def expire(self, now: float, *, keep: str) -> dict[int, int]:
        """Forget tabs of other processes that were not re-announced in time."""
        changed: dict[int, int] = {}
        for key in [k for k, s in self._tabs.items() if k[0] != keep and s.expires < now]:
            changed |= self.drop(key)
        return changed

    def on(self, conversation_id: int) -> list[dict[str, object]]:
        """The agents on a conversation, each once, in a stable order."""
        agents: dict[int, Seen] = {}
        for seen in self._tabs.values():
            if seen.conversation_id == conversation_id:
                had = agents.get(seen.agent_id)
                if had is None or seen.state == REPLYING:
                    agents[seen.agent_id] = seen
        return [
            {"agent": s.agent_id, "name": s.name, "state": s.state}
            for s in sorted(agents.values(), key=lambda s: s.agent_id)
        ]

    def everywhere(self, mailboxes: frozenset[int]) -> dict[int, list[dict[str, object]]]:
        """Every conversation of these mailboxes someone is on, for a tab that just came."""
        conversations = {
            s.conversation_id for s in self._tabs.values() if s.mailbox_id in mailboxes
        }
        return {c: self.on(c) for c in sorted(conversations)}

    def mine(self, origin: str) -> dict[TabKey, Seen]:
        return {k: s for k, s in self._tabs.items() if k[0] == origin}
