"""Recurrence: days whose evidence of deeds keeps coming back, as a pattern across working days."""

from __future__ import annotations

from models import AccessEvent, Context, DetectorConfig, Population, Profile, TicketBook, UserDetector
from models.recurrence import Recurrence

BILLING = Profile(role="billing", team="t4")


def days_with_deeds(memory: Recurrence, ctx: Context, days: range, deeds: dict[int, list[tuple[str, float]]]) -> list[str]:
    """Roll `memory` through `days`, adding each day's deeds; the reasons of the patterns it found."""
    reasons = []
    for day in days:
        memory.roll(day, ctx)
        if day in deeds:
            reasons += [s.reason for s in memory.observe(day, deeds[day], ctx, cap=30)]
    return reasons


def test_two_days_of_deeds_in_four_is_a_pattern_for_someone_whose_month_held_none():
    ctx = Context(Population(), BILLING)
    found = days_with_deeds(Recurrence(), ctx, range(24), {20: [("exfil", 20.0), ("reach", 4.0)],
                                                          23: [("unjustified", 18.0), ("reach", 7.0)]})
    assert found == ["evidence of what they did on 2 of the last 4 working days "
                     "(today: customers outside their tickets and a system or action new to them), usually on 1% of days"]


def test_one_firing_a_day_is_no_trace():
    # Customers outside tickets fire at 18 points, records moved out at 20: a day holding just one of them is
    # what many honest days hold; more than that (a second deed, or one escalating) is a trace.
    ctx = Context(Population(), BILLING)
    assert days_with_deeds(Recurrence(), ctx, range(24), {21: [("exfil", 20.0)], 23: [("exfil", 20.0)]}) == []


def test_deeds_are_no_pattern_for_someone_whose_month_holds_such_days_anyway():
    ctx = Context(Population(), BILLING)
    weekly = {day: [("exfil", 20.0), ("reach", 5.0)] for day in range(0, 20, 5)}  # a report every week
    memory = Recurrence()
    assert days_with_deeds(memory, ctx, range(20), weekly) == []
    assert days_with_deeds(memory, ctx, range(20, 24), {20: weekly[0], 23: weekly[0]}) == []


def test_a_day_much_of_the_group_shared_counts_only_what_the_group_leaves_of_it():
    population = Population()
    ctx = Context(population, BILLING)
    memory = Recurrence()
    days_with_deeds(memory, ctx, range(21), {20: [("exfil", 20.0), ("reach", 10.0)]})
    for _ in range(5):  # day 20: the whole billing team moved records out (quarter-end reports)
        population.arrive(20, *BILLING.groups)
        population.did("moved", 20, *BILLING.groups)
    assert days_with_deeds(memory, ctx, range(21, 24), {23: [("exfil", 20.0), ("reach", 10.0)]}) == []
    assert memory.days.days[-4] == 10.0  # day 20 kept its new system, not the team's exports


def test_a_user_saved_before_recurrence_existed_is_read_from_the_day_they_come_back():
    memory = Recurrence().restore(None)  # state saved by an older version: no days yet
    assert memory.observe(30, [("exfil", 25.0)], Context(Population(), BILLING), cap=30) == []
    assert memory.days.days == [25.0]


def test_a_privileged_users_one_firing_a_day_is_no_trace_either():
    # The directory makes the same behaviour riskier (privileged × 1.25), not more of a deed: one firing of
    # customers outside tickets (18 points) stays under the trace for a team lead too.
    book = TicketBook()
    ctx = Context(Population(), Profile(role="team_lead", privileged=True), book)
    detector = UserDetector(DetectorConfig())
    for day in range(24):
        base = 1793577600 + day * 86400 + 9 * 3600
        for i in range(20):
            book.assign(f"C{day}-{i}", opened=base + i * 600 - 60, closed=base + i * 600 + 3600)
            detector.observe(AccessEvent(f"e{day}-{i}", base + i * 600, "lead", "record.view", device="laptop-1",
                                         resource="crm.customers", record_id=f"C{day}-{i}"), ctx)
        if day in (20, 22):  # three customers off their tickets, twice in three days
            for i in range(3):
                detector.observe(AccessEvent(f"x{day}-{i}", base + 7 * 3600 + i * 60, "lead", "record.view",
                                             device="laptop-1", resource="crm.customers", record_id=f"X{day}-{i}"), ctx)
    assert detector.recurrence.days.days[-4:] == [18, 0, 18, 0]  # days 20 to 23
    assert "pattern" not in detector.ledger.families
