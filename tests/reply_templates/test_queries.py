"""Which templates a mailbox uses, the composer's search (Japanese-aware), who manages what."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from madoguchi.accounts.models import Role
from madoguchi.reply_templates import actions, queries
from tests.factories import make_agent, make_conversation

pytestmark = pytest.mark.django_db


def _make(name, body="本文", mailbox=None, **fields):
    return actions.create_template(
        name=name, body=body, actor_id=None, mailbox_id=mailbox.pk if mailbox else None, **fields
    )


@pytest.fixture
def templates(team):
    return {
        "shared": _make("お問い合わせ受付", "{{宛名}}\nお問い合わせありがとうございます。"),
        "invoice": _make("請求書の再発行", "請求書を再発行いたしました。", team["support"]),
        "catalog": _make("カタログ送付", "最新のカタログをお送りします。", team["support"]),
        "english": _make("Thanks (English)", "Thank you for your INQUIRY.", team["support"]),
        "sales": _make("見積もり", "お見積もりをお送りします。", team["sales"]),
    }


def _names(found):
    return [t.name for t in found]


def test_usable_is_shared_plus_the_mailboxs_own(team, templates):
    assert set(_names(queries.usable(team["support"].pk))) == {
        "お問い合わせ受付",
        "請求書の再発行",
        "カタログ送付",
        "Thanks (English)",
    }
    assert set(_names(queries.usable(team["sales"].pk))) == {"お問い合わせ受付", "見積もり"}
    with pytest.raises(Http404):
        queries.usable_template(team["support"].pk, templates["sales"].pk)
    assert (
        queries.usable_template(team["sales"].pk, templates["shared"].pk).name == "お問い合わせ受付"
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("請求", ["請求書の再発行"]),
        ("かたろぐ", ["カタログ送付"]),  # hiragana finds katakana
        ("ｶﾀﾛｸﾞ", ["カタログ送付"]),  # half-width katakana (NFKC)
        ("ＩＮＱＵＩＲＹ", ["Thanks (English)"]),  # full-width, other case, in the text
        ("thanks english", ["Thanks (English)"]),  # every word, any order
        ("english thanks", ["Thanks (English)"]),
        ("再発行 カタログ", []),
        ("見積もり", []),  # another mailbox's
        ("{{宛名}}", ["お問い合わせ受付"]),
    ],
)
def test_search_by_name_or_text(team, templates, query, expected):
    assert _names(queries.search(team["support"].pk, query)) == expected


def test_names_come_before_texts_then_the_most_used(team, templates):
    _make("お送り", "x", team["support"])
    found = _names(queries.search(team["support"].pk, "お送り"))
    assert found == ["お送り", "カタログ送付"]
    everything = queries.search(team["support"].pk, "")
    assert len(everything) == 5
    conv = make_conversation(team["support"])
    actions.count_use([templates["catalog"].pk], conv=conv, actor_id=None)
    assert _names(queries.search(team["support"].pk, ""))[0] == "カタログ送付"


def test_search_is_bounded(team, templates):
    assert queries.search(team["support"].pk, "請" * 100_000) == []
    assert len(queries.search(team["support"].pk, "", limit=2)) == 2


def test_who_manages_which(team, templates):
    admin = make_agent("boss", role=Role.ADMIN)
    manager = make_agent("suzuki", role=Role.MANAGER, mailboxes=[team["support"]])
    agent = team["sato"]
    support, sales = team["support"].pk, team["sales"].pk
    assert queries.may_manage(admin, None) and queries.may_manage(admin, sales)
    assert queries.may_manage(manager, support)
    assert not queries.may_manage(manager, None) and not queries.may_manage(manager, sales)
    assert not queries.may_manage(agent, support)
    assert queries.access_template(manager, templates["invoice"].pk) == templates["invoice"]
    with pytest.raises(PermissionDenied):
        queries.access_template(manager, templates["shared"].pk)  # sees it, may not change it
    with pytest.raises(Http404):
        queries.access_template(manager, templates["sales"].pk)  # does not see it
    with pytest.raises(PermissionDenied):
        queries.require_template_manager(agent)
    assert set(_names(queries.listed(manager))) == {
        "お問い合わせ受付",
        "請求書の再発行",
        "カタログ送付",
        "Thanks (English)",
    }


def test_template_files_are_checked_against_the_mailbox(team, templates):
    mine = actions.add_attachment(
        templates["invoice"],
        filename="請求書.pdf",
        content_type="application/pdf",
        data=b"%PDF",
        actor_id=None,
    )
    theirs = actions.add_attachment(
        templates["sales"],
        filename="見積書.pdf",
        content_type="application/pdf",
        data=b"%PDF2",
        actor_id=None,
    )
    chosen = queries.chosen_attachments(
        [mine.pk, theirs.pk, 424242, mine.pk], mailbox_id=team["support"].pk
    )
    assert chosen.found == [mine] and chosen.missing == [theirs.pk, 424242]
    assert queries.files_of(chosen.found)[0].data == b"%PDF"
    assert queries.usable_ids(
        [templates["sales"].pk, templates["shared"].pk], mailbox_id=team["support"].pk
    ) == [templates["shared"].pk]
