"""The hub freezes long-lived objects when tabs join, and thaws once an hour."""

import gc

from madoguchi.live.memory import Freezer


def test_freezes_after_many_tabs_joined_and_every_minute_then_thaws_hourly():
    freezer = Freezer(now=0)
    try:
        assert freezer.tend(10, now=1) == ""
        assert freezer.tend(10, now=61) == "frozen"  # a minute passed
        assert gc.get_freeze_count() > 0
        assert freezer.tend(40, now=62) == ""  # 30 more: fewer than 50
        assert freezer.tend(70, now=63) == ""  # enough joined, but only 2 s after freezing
        assert freezer.tend(70, now=67) == "frozen"
        assert freezer.tend(70, now=3600) == "thawed"
    finally:
        gc.unfreeze()
