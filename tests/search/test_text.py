"""Index tokens and query terms (``search.text``): the same folding and bigrams for both."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.search.text import _RUNS, Term, fold, needles, term, tokens


def test_cjk_runs_are_bigrams_and_the_last_character() -> None:
    assert tokens("東京都庁") == "東京 京都 都庁 庁"
    assert tokens("東") == "東"
    assert tokens("請求書をお送りします") == "請求 求書 書を をお お送 送り りし しま ます す"


def test_latin_words_stay_whole_beside_cjk() -> None:
    assert tokens("Invoice 2026年12月 ABC株式会社") == (
        "invoice 2026 年 12 月 abc 株式 式会 会社 社"
    )


def test_width_and_case_are_folded() -> None:
    assert fold("ＡＢＣ") == "abc"
    assert fold("ｶﾅ") == "カナ"
    assert tokens("ｶﾀｶﾅ") == tokens("カタカナ")
    assert tokens("ＩＮＶＯＩＣＥ") == "invoice"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("東", Term(("東",), prefix=True)),
        ("東京", Term(("東京",), prefix=False)),
        ("東京都", Term(("東京", "京都"), prefix=False)),
        ("invo", Term(("invo",), prefix=True)),
        ("都庁abc", Term(("都庁", "庁", "abc"), prefix=True)),
        ("abc東", Term(("abc", "東"), prefix=True)),
        ("ＩＮＶ", Term(("inv",), prefix=True)),
    ],
)
def test_query_terms(typed: str, expected: Term) -> None:
    assert term(typed) == expected


def test_a_quoted_latin_word_is_no_prefix() -> None:
    assert term("invoice", quoted=True) == Term(("invoice",), prefix=False)


def test_punctuation_alone_is_no_term() -> None:
    assert term("!!") is None
    assert needles("「東京」") == ["東京"]


def test_a_huge_text_is_read_up_to_the_limit() -> None:
    assert len(tokens("あ" * 1000, limit=10).split()) == 10


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=200))
def test_ascii_text_gives_what_the_general_path_gives(text: str) -> None:
    """ASCII text takes a faster path; a non-ASCII word after it takes the general one."""
    assert tokens(text + " あ") == " ".join(filter(None, [tokens(text), "あ"]))


def _by_definition(text: str) -> str:
    """Tokens as the module's docstring defines them, one string a token."""
    out: list[str] = []
    for cjk, word in _RUNS.findall(fold(text)):
        out += [cjk[i : i + 2] for i in range(len(cjk) - 1)] + [cjk[-1]] if cjk else [word]
    return " ".join(out)


_MIXED = "東京都庁あア・ー々한글abcＡｂ1２ é_.。、 \n"


@given(st.text(alphabet=st.sampled_from(_MIXED), max_size=60))
def test_tokens_are_the_bigrams_of_the_definition(text: str) -> None:
    assert tokens(text) == _by_definition(text)
