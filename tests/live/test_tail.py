"""Following an id column whose rows commit out of order."""

from madoguchi.live.tail import Tail


def test_ids_in_order_move_the_floor():
    tail = Tail(10)
    assert tail.take([11, 12, 13], now=0) == [11, 12, 13]
    assert tail.floor == 13 and not tail.waiting


def test_a_late_commit_below_a_seen_id_is_not_lost():
    tail = Tail(10)
    assert tail.take([12], now=0) == [12]
    assert tail.floor == 10 and tail.waiting  # 11 may still commit
    assert tail.take([12], now=1) == []  # read again: not handed out twice
    assert tail.take([11, 12], now=2) == [11]
    assert tail.floor == 12 and not tail.waiting


def test_a_gap_that_never_fills_is_given_up_after_the_grace():
    tail = Tail(10, grace=5)
    tail.take([12, 13], now=0)
    tail.take([12, 13], now=4)
    assert tail.floor == 10
    tail.take([12, 13], now=5)
    assert tail.floor == 13 and not tail.waiting


def test_a_huge_jump_is_not_waited_for():
    tail = Tail(0)
    assert tail.take([50_000], now=0) == [50_000]
    assert tail.floor == 50_000
