"""@mentions in notes: user names and Japanese display names, with or without spaces."""

from madoguchi.notifications.mentions import mentioned

NAMES = [(1, ["sato", "佐藤 花子"]), (2, ["kato", "加藤 次郎"]), (3, ["satoshi", "聡"])]


def test_japanese_names_end_where_the_name_ends():
    assert mentioned("@佐藤 花子さん、確認お願いします。＠加藤次郎さんも", NAMES) == [1, 2]


def test_user_names_match_whole_words_only():
    assert mentioned("@satoshi and @sato. mail@example.com", NAMES) == [3, 1]
    assert mentioned("@satox", NAMES) == []


def test_each_agent_once():
    assert mentioned("@sato @sato @佐藤花子", NAMES) == [1]
