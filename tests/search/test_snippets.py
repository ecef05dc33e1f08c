"""Where the searched words are in a text (``search.snippets``): the positions in the text as
written, whatever folding did to it, and the snippet around the first match."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from madoguchi.search.snippets import Piece, _folded, mark, snippet, spans
from madoguchi.search.text import fold


def _one_by_one(text: str) -> tuple[str, list[int]]:
    """Every character folded alone, and where each folded character came from."""
    out, origin = [], []
    for i, char in enumerate(text):
        folded = fold(char)
        out.append(folded)
        origin += [i] * len(folded)
    return "".join(out), origin


_MIXED = "東京都請求あアｶﾞﾅ①②㈱ＡＢＣabcßİΣς\u3099 ,。\n" + "x" * 5


@given(st.text(alphabet=st.sampled_from(_MIXED), max_size=300))
def test_folding_in_pieces_is_folding_one_by_one(text: str) -> None:
    folded, origin = _folded(text)
    expected, where = _one_by_one(text)
    assert folded == expected
    assert (origin or list(range(len(text)))) == where


def test_matches_are_where_the_text_has_them() -> None:
    text = "お世話になっております。㈱ＡＢＣ商事の請求書①をお送りします。"
    assert [text[a:b] for a, b in spans(text, ["abc", "請求"])] == ["ＡＢＣ", "請求"]
    assert [text[a:b] for a, b in spans(text, ["1"])] == ["①"]
    kana = "ｶﾀｶﾅで"
    assert [kana[a:b] for a, b in spans(kana, ["カナ"])] == ["ｶﾅ"]


def test_a_long_text_already_folded_is_matched_in_place() -> None:
    text = "あ" * 10_000 + "納期のご連絡" + "い" * 10_000
    assert spans(text, ["納期"]) == [(10_000, 10_002)]


def test_the_snippet_shows_the_first_match_with_some_text_before() -> None:
    text = "前置き。" * 40 + "\n\n請求書を　お送りします。"
    pieces = snippet(text, ["請求"])
    assert pieces[0] == Piece("…") and Piece("請求", marked=True) in pieces
    assert mark("ＡＢＣ", ["abc"]) == [Piece("ＡＢＣ", marked=True)]
