"""Link templates and order numbers (``customers.links``)."""

from __future__ import annotations

from madoguchi.customers.links import fill, order_numbers, pattern_error, template_error

VALUES = {"email": "yamada+jp@tokyo-shoji.example", "name": "山田 太郎", "order": "123456",
          "field:plan": "ゴールド", "company": ""}  # fmt: skip


def test_values_are_encoded_into_the_url() -> None:
    url = "https://crm.example/search?q={email}&n={name}&plan={field:plan}"
    assert fill(url, VALUES) == (
        "https://crm.example/search?q=yamada%2Bjp%40tokyo-shoji.example"
        "&n=%E5%B1%B1%E7%94%B0%20%E5%A4%AA%E9%83%8E&plan=%E3%82%B4%E3%83%BC%E3%83%AB%E3%83%89"
    )
    assert fill("https://orders.example/o/{order}", VALUES) == "https://orders.example/o/123456"


def test_a_link_without_its_value_or_scheme_is_not_made() -> None:
    assert fill("https://crm.example/c?company={company}", VALUES) is None
    assert fill("javascript:alert({email})", VALUES) is None
    assert fill("https://crm.example/{password}", VALUES) is None
    assert template_error("file:///etc/passwd") == "scheme"
    assert template_error("https://x.example/{nope}") == "placeholder"
    assert template_error("https://x.example/{field:plan}") == ""


def test_order_numbers_from_the_subject() -> None:
    assert order_numbers(r"ORD-(\d{6})", "Re: ご注文 ORD-123456 と ORD-654321 について") == [
        "123456", "654321"
    ]  # fmt: skip
    assert order_numbers(r"受注番号\s*\d+", "受注番号 42 の件") == ["受注番号 42"]
    assert order_numbers("", "ORD-1") == []
    assert pattern_error("(unclosed") != ""


def test_a_pattern_that_would_run_forever_finds_nothing() -> None:
    assert order_numbers(r"(x+x+)+y", "x" * 900) == []  # stopped by the time limit
