"""A customer field's value as typed: numbers, dates and choices checked and normalized."""

from __future__ import annotations

import pytest

from madoguchi.customers.values import BadValue, clean


@pytest.mark.parametrize(
    ("kind", "typed", "kept"),
    [
        ("number", "１，２００", "1200"),
        ("number", "-3.5", "-3.5"),
        ("date", "2026/12/4", "2026-12-04"),
        ("date", "2026年12月4日", "2026-12-04"),
        ("date", "２０２６－１２－０４", "2026-12-04"),
        ("choice", "ゴールド", "ゴールド"),
        ("text", "  会員 ", "会員"),
        ("number", "  ", ""),
    ],
)
def test_values_are_kept_in_one_form(kind: str, typed: str, kept: str) -> None:
    assert clean(kind, typed, ["ゴールド", "シルバー"]) == kept


@pytest.mark.parametrize(
    ("kind", "typed", "code"),
    [
        ("number", "十二", "number"),
        ("number", "NaN", "number"),
        ("number", "1" * 50, "number"),
        ("date", "2026-02-30", "date"),
        ("date", "来週", "date"),
        ("choice", "ブロンズ", "choice"),
        ("text", "x" * 1001, "long"),
    ],
)
def test_what_does_not_fit_says_why(kind: str, typed: str, code: str) -> None:
    with pytest.raises(BadValue) as bad:
        clean(kind, typed, ["ゴールド"])
    assert bad.value.code == code
