"""The sender's name of a reply, from the mailbox's format."""

from __future__ import annotations


def test_a_sender_name_is_filled_in_one_pass():
    from madoguchi.mail_out.actions import fill_sender_format

    assert fill_sender_format("{agent} ({mailbox})", "{mailbox}", "Support") == (
        "{mailbox} (Support)"
    )
    assert fill_sender_format("{agent:>9999}", "A", "M") == "{agent:>9999}"
