"""Who is where: each agent once per conversation, replying wins, stale tabs expire."""

from madoguchi.live.presence import Presence, Seen


def _seen(agent: int, conv: int, state: str = "viewing", expires: float = 100.0) -> Seen:
    return Seen(agent, f"agent {agent}", 1, conv, state, expires)


def test_an_agent_with_two_tabs_shows_once_and_replying_wins():
    p = Presence()
    p.put(("a", "t1"), _seen(7, 5))
    p.put(("a", "t2"), _seen(7, 5, "replying"))
    assert p.on(5) == [{"agent": 7, "name": "agent 7", "state": "replying"}]


def test_moving_to_another_conversation_changes_both():
    p = Presence()
    p.put(("a", "t"), _seen(7, 5))
    assert p.put(("a", "t"), _seen(7, 6)) == {5: 1, 6: 1}
    assert p.on(5) == [] and p.on(6)[0]["agent"] == 7


def test_a_refresh_changes_nothing_to_show():
    p = Presence()
    p.put(("a", "t"), _seen(7, 5))
    assert p.put(("a", "t"), _seen(7, 5, expires=200)) == {}


def test_tabs_of_other_processes_expire_but_ours_do_not():
    p = Presence()
    p.put(("mine", "t"), _seen(1, 5, expires=10))
    p.put(("theirs", "t"), _seen(2, 5, expires=10))
    assert p.expire(11, keep="mine") == {5: 1}
    assert [a["agent"] for a in p.on(5)] == [1]


def test_a_new_tab_sees_only_its_mailboxes():
    p = Presence()
    p.put(("a", "t1"), Seen(1, "x", 1, 5, "viewing", 100))
    p.put(("a", "t2"), Seen(2, "y", 2, 6, "viewing", 100))
    assert list(p.everywhere(frozenset({2}))) == [6]
