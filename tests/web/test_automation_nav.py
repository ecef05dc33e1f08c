"""Managers reach the automation pages from the rail; agents are not shown them.

Before, the only links were on the admin-only mailbox settings page, so a manager had to
type the addresses.
"""

from __future__ import annotations

import pytest

from madoguchi.accounts.models import Role
from tests.factories import client_for, make_agent, make_mailbox

pytestmark = pytest.mark.django_db


def test_a_manager_sees_the_automation_links_of_the_mailbox_they_are_in():
    mailbox = make_mailbox()
    manager = make_agent("yamamoto", role=Role.MANAGER, mailboxes=[mailbox])
    page = client_for(manager).get(f"/m/{mailbox.pk}/new/").content.decode()
    for link in ("/admin/templates/", "/admin/groups/", f"/admin/mailboxes/{mailbox.pk}/rules/",
                 f"/admin/mailboxes/{mailbox.pk}/hours"):  # fmt: skip
        assert f'href="{link}"' in page, link


def test_an_agent_sees_none():
    mailbox = make_mailbox()
    agent = make_agent("sato", mailboxes=[mailbox])
    page = client_for(agent).get(f"/m/{mailbox.pk}/new/").content.decode()
    assert "/admin/templates/" not in page and "/rules/" not in page
