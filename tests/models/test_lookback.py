"""The departure look-back: what a leaver moved out, judged the moment they move it, against their peers."""

from __future__ import annotations

from models import Context, Population, Profile
from models.lookback import DepartureLookback
from models.persistence import Persistence

DAY = 86400
LEAVING = 40 * DAY


def moved_on(days: list[float]) -> Persistence:
    """A user's memory with `days` of records moved out, one per active day, the last today (still counting)."""
    memory = Persistence()
    for day, records in enumerate(days):
        memory.totals["moved"].roll(day)
        memory.totals["moved"].add(records)
    return memory


def leaver() -> Context:
    return Context(Population(), Profile(role="agent", leaving=LEAVING))


def test_an_export_today_is_looked_back_on_when_it_is_made_not_the_next_day():
    memory, ctx, lookback = moved_on([0] * 12), leaver(), DepartureLookback()
    today = 11 * DAY
    assert lookback.observe(memory, ctx, ts=today + 9 * 3600) == []  # the day's first event: nothing moved yet
    memory.totals["moved"].add(600)  # an export, at 14:00
    found = lookback.observe(memory, ctx, ts=today + 14 * 3600)
    assert [s.reason for s in found] == [
        "leaving on 1970-02-10: moved 600 records out in the last 12 active days, where peers move 0"]
    memory.totals["moved"].add(100)
    assert lookback.observe(memory, ctx, ts=today + 15 * 3600) == []  # raised again only when the total doubles


def test_a_first_week_the_cumulative_sum_raised_today_is_not_raised_again_until_the_month_holds_more():
    memory, ctx, lookback = moved_on([0] * 7 + [10, 8, 12, 9, 13]), leaver(), DepartureLookback()
    memory.fired["moved.week"] = 52  # the cumulative sum raised the last five days as a week, this morning
    assert lookback.observe(memory, ctx, ts=11 * DAY + 9 * 3600) == []
    memory.totals["moved"].add(60)  # an export beyond that week, this afternoon
    found = lookback.observe(memory, ctx, ts=11 * DAY + 14 * 3600)
    assert [s.reason for s in found] == [
        "leaving on 1970-02-10: moved 112 records out in the last 12 active days, where peers move 0"]
