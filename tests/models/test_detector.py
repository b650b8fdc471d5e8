"""UserDetector and its parts, as specifications of what an analyst sees."""

from __future__ import annotations

import dataclasses
import json

import pytest

from models import (
    AccessEvent,
    Context,
    DetectorConfig,
    Population,
    Profile,
    TicketBook,
    UserDetector,
)
from models.detector import BUSY_DAY_FAMILIES
from models.novelty import FirstSeen
from models.population import Organisation
from models.rhythm import WeeklyRhythm
from models.risk import RiskBands, RiskLedger
from models.window import WindowBaseline

MONDAY = 1793577600  # 2026-11-02 00:00 UTC
DAY = 86400


def workday(user="ann", days=10, per_hour=4, start_hour=9, hours=8, book: TicketBook | None = None):
    n = 0
    for day in range(days):
        for h in range(start_hour, start_hour + hours):
            for i in range(per_hour):
                n += 1
                ts = MONDAY + day * DAY + h * 3600 + i * 600
                customer = f"C{n}"
                if book is not None:
                    book.assign(customer, opened=ts - 60, closed=ts + 3600)
                yield AccessEvent(f"{user}-{n}", ts, user, "record.view", device="laptop-1", src_ip="10.0.0.1",
                                  resource="crm.customers", record_id=customer, app="crm-web")


def trained(days=10, profile=Profile(role="agent")):
    book = TicketBook()
    ctx = Context(Population(), profile, book)
    detector = UserDetector(DetectorConfig())
    for e in workday(days=days, book=book):
        detector.observe(e, ctx)
    return detector, ctx


def night_reads(day=10, count=60, user="ann", device="laptop-1", src_ip="10.0.0.1"):
    base = MONDAY + day * DAY + 2 * 3600
    return [AccessEvent(f"night-{i}", base + i * 40, user, "record.view", device=device, src_ip=src_ip,
                        resource="crm.customers", record_id=f"X{i}", app="crm-web") for i in range(count)]


def test_a_regular_working_pattern_raises_no_risk():
    detector, _ = trained()
    assert detector.ledger.get(MONDAY + 10 * DAY) == 0
    assert detector.bands.band == "low"


def test_night_harvest_outside_tickets_alerts_high_with_reasons_and_techniques():
    detector, ctx = trained()
    alerts = [a.alert for e in night_reads() if (a := detector.observe(e, ctx)).alert]
    assert alerts and alerts[-1].band in ("high", "critical")
    text = " ".join(alerts[-1].reasons)
    assert "no ticket of theirs" in text
    assert "T1213 Data from Information Repositories" in alerts[-1].techniques


def test_one_noisy_family_alone_never_reaches_high():
    detector, ctx = trained()
    # Ordinary ticketed work from many new IPs in one day: the novelty family is capped.
    start = MONDAY + 10 * DAY + 10 * 3600
    ctx.tickets.assign("C-today", opened=start - 60, closed=start + 3600)
    for i in range(30):
        a = detector.observe(AccessEvent(f"ip{i}", start + i * 120, "ann", "record.view", src_ip=f"198.51.100.{i}",
                                         device="laptop-1", resource="crm.customers", record_id="C-today",
                                         app="crm-web"), ctx)
    assert a.band in ("low", "medium")
    assert a.risk <= DetectorConfig().family_cap


def test_leaving_employee_weighs_more_and_is_looked_back_on():
    base, base_ctx = trained()
    leaving, leaving_ctx = trained(profile=Profile(role="agent", leaving=MONDAY + 20 * DAY))
    export = AccessEvent("x", MONDAY + 10 * DAY + 11 * 3600, "ann", "record.export", records=900,
                         resource="crm.customers", device="laptop-1", src_ip="10.0.0.1", app="crm-web")
    plain, weighted = base.observe(export, base_ctx), leaving.observe(export, leaving_ctx)
    extra = [s for s in weighted.signals if s.name not in {p.name for p in plain.signals}]
    assert [s.name for s in extra] == ["lookback.departure"]
    assert weighted.score == pytest.approx((plain.score + sum(s.points for s in extra)) * 1.5, abs=0.01)
    assert weighted.alert and all(r.endswith("[leaving]") for r in weighted.alert.reasons)


def test_new_hire_is_judged_against_peers_from_day_one():
    population = Population()
    for _ in range(40):
        population.peer("agent").learn("records", 30, day=0)
        population.peer("agent").learn("searches", 2, day=0)
    ctx = Context(population, Profile(role="agent"))
    newbie = UserDetector(DetectorConfig())
    fired = [s.name for i in range(200) for s in newbie.observe(
        AccessEvent(f"n{i}", MONDAY + i * 30, "newbie", "record.view", record_id=f"C{i}"), ctx).signals]
    assert "peer.records" in fired


def test_state_round_trip_gives_the_same_judgement():
    a, ctx_a = trained()
    b, ctx_b = trained()
    b = UserDetector(DetectorConfig(), json.loads(json.dumps(b.state())))
    for e in night_reads():
        ra, rb = a.observe(e, ctx_a), b.observe(e, ctx_b)
        assert (ra.score, ra.risk, ra.band) == (rb.score, rb.risk, rb.band)


def test_saved_ledger_names_techniques_by_id_and_restores_their_names():
    detector, ctx = trained()
    for e in night_reads():
        detector.observe(e, ctx)
    saved = json.loads(json.dumps(detector.state()))
    assert {entry[3] for entry in saved["ledger"].values()} >= {"T1213"}
    restored = UserDetector(DetectorConfig(), saved)
    assert restored.ledger.top(MONDAY + 11 * DAY) == detector.ledger.top(MONDAY + 11 * DAY)
    assert "T1213 Data from Information Repositories" in {t for *_, t in restored.ledger.top(MONDAY + 11 * DAY)}


def test_state_is_compact_json():
    detector, _ = trained(days=30)
    assert len(json.dumps(detector.state(), separators=(",", ":"))) < 4096


def test_population_state_round_trips():
    _, ctx = trained()
    restored = Organisation().partition(0, json.loads(json.dumps(ctx.population.state())))
    assert restored.state() == ctx.population.state()


def test_ledger_caps_each_family_and_explains_the_top_ones():
    ledger = RiskLedger(half_life=DAY, cap=30)
    for i in range(10):
        ledger.add("novelty", 12, ts=i, reason=f"new ip {i}", technique="T1078 Valid Accounts")
    ledger.add("time", 20, ts=10, reason="active at 03:00", technique="")
    assert ledger.get(10) == pytest.approx(50, abs=0.1)
    assert [family for family, *_ in ledger.top(10)] == ["novelty", "time"]


def test_bands_do_not_flap_at_a_boundary():
    bands = RiskBands((25, 50, 80), hysteresis=0.8)
    assert [bands.update(r) for r in (26, 24, 26, 24, 26)] == ["medium"] * 5


@pytest.mark.parametrize("bad", [dict(window=3600, warmup=1), dict(window=3600, warmup=10, memory=5), dict(window=0)])
def test_window_rejects_bad_parameters(bad):
    with pytest.raises(ValueError):
        WindowBaseline(**bad)


def test_rhythm_rejects_bad_floors():
    with pytest.raises(ValueError, match="shares"):
        WeeklyRhythm(day_floor=2)


def test_config_validates_bands():
    with pytest.raises(ValueError, match="ascending"):
        DetectorConfig(band_thresholds=(50, 25, 80))


def test_benign_verdict_stops_repeat_alerts_for_that_evidence():
    detector, ctx = trained()
    first = [a.alert for e in night_reads(day=10) if (a := detector.observe(e, ctx)).alert]
    assert first and first[-1].band in ("high", "critical")
    detector.apply_verdict("benign", first[-1].families, ts=MONDAY + 10 * DAY + 3 * 3600, suppress_for=7 * DAY)
    again = [a.alert for e in night_reads(day=11) if (a := detector.observe(e, ctx)).alert]
    assert [a for a in again if set(a.families) & set(first[-1].families)] == []


def test_malicious_verdict_pins_the_user_at_critical_until_cleared():
    detector, ctx = trained()
    detector.apply_verdict("malicious", [], ts=MONDAY + 10 * DAY, suppress_for=0)
    calm = AccessEvent("calm", MONDAY + 10 * DAY + 10 * 3600, "ann", "record.view", device="laptop-1",
                       src_ip="10.0.0.1", app="crm-web", resource="crm.customers", record_id="C1")
    assert detector.observe(calm, ctx).band == "critical"
    detector.apply_verdict("clear", [], ts=MONDAY + 10 * DAY, suppress_for=0)
    restored = UserDetector(DetectorConfig(), json.loads(json.dumps(detector.state())))
    assert not restored.pinned
    with pytest.raises(ValueError, match="verdict"):
        detector.apply_verdict("maybe", [], ts=0, suppress_for=0)


def peers_usual_day_of_moving_out(pinned: bool) -> float:
    """The agents' usual records moved out a day, learned from Ann's ten days of work, on the fourth of which she
    exported 2,000 records (pinned at critical by an analyst that morning, or not)."""
    detector, ctx = trained(days=3)
    if pinned:
        detector.apply_verdict("malicious", [], ts=MONDAY + 3 * DAY, suppress_for=0)
    bulk = AccessEvent("bulk", MONDAY + 3 * DAY + 8 * 3600, "ann", "record.export", device="laptop-1",
                       src_ip="10.0.0.1", app="crm-web", resource="crm.customers", records=2000)
    for e in sorted([bulk, *(e for e in workday(days=10, book=ctx.tickets) if e.ts >= MONDAY + 3 * DAY)],
                    key=lambda e: e.ts):
        detector.observe(e, ctx)
    return ctx.population.peer("agent").mean("moved")


def test_a_day_that_took_a_user_to_high_is_not_learned_as_their_peers_usual_day():
    assert peers_usual_day_of_moving_out(pinned=False) > 100  # one of eight days learned while the norm is young
    assert peers_usual_day_of_moving_out(pinned=True) == 0.0


def outside_reads(day: int, count: int, user="ann"):
    """`count` customers on no ticket of the user's, read in working hours."""
    base = MONDAY + day * DAY + 11 * 3600
    return [AccessEvent(f"out-{day}-{i}", base + i * 900, user, "record.view", device="laptop-1", src_ip="10.0.0.1",
                        resource="crm.customers", record_id=f"Y{day}-{i}", app="crm-web") for i in range(count)]


def pattern_reasons(detector, ctx, events) -> list[str]:
    return [s.reason for e in events for s in detector.observe(e, ctx).signals if s.name == "pattern.outside"]


def test_two_days_running_outside_tickets_is_a_pattern_for_someone_whose_month_held_none():
    detector, ctx = trained(days=15)
    day_one = pattern_reasons(detector, ctx, outside_reads(15, 4))
    day_two = pattern_reasons(detector, ctx, outside_reads(16, 4))
    assert day_one == []
    assert day_two and day_two[0].startswith("read customers outside their tickets on 2 of the last 2 working days")
    assert detector.bands.band in ("high", "critical")


def test_two_days_running_is_no_pattern_for_someone_who_often_reads_outside_tickets():
    book = TicketBook()
    ctx, detector = Context(Population(), Profile(role="agent"), book), UserDetector(DetectorConfig())
    for day in range(15):
        day_events = [e for e in workday(days=day + 1, book=book) if e.ts >= MONDAY + day * DAY]
        if day % 3 == 0:  # one day in three, a few lookups off their tickets: their job's usual
            day_events += outside_reads(day, 3)
        for e in sorted(day_events, key=lambda e: e.ts):
            detector.observe(e, ctx)
    assert pattern_reasons(detector, ctx, outside_reads(15, 3) + outside_reads(16, 3)) == []


def how_much_evidence_on_a_busy_day(busy_members: int, team: int = 6) -> float:
    """Ann's "how much" risk after a day on which `busy_members` of her team of six (her first) searched for
    customers three times as much as usual (an incident); each member's events of an instant come before hers."""
    population, profile = Population(), Profile(role="agent", team="t1")
    members = [(f"u{k}", UserDetector(DetectorConfig()), Context(population, profile, TicketBook())) for k in range(team)]
    events = []
    for k, (user, detector, ctx) in enumerate(members):
        events += [(e, detector, ctx) for e in workday(user=user, days=11, book=ctx.tickets)]
        if k < busy_members:
            events += [(e, detector, ctx) for e in searches(user, day=10, count=64)]
    for event, detector, ctx in sorted(events, key=lambda item: (item[0].ts, item[0].user == "u0")):
        detector.observe(event, ctx)
    contributions = members[0][1].ledger.contributions(MONDAY + 11 * DAY)
    return sum(contributions.get(family, 0.0) for family in BUSY_DAY_FAMILIES)


def searches(user: str, day: int, count: int):
    base = MONDAY + day * DAY + 9 * 3600
    return [AccessEvent(f"{user}-search-{i}", base + i * 450, user, "record.search", device="laptop-1",
                        src_ip="10.0.0.1", resource="crm.customers", records=1, app="crm-web") for i in range(count)]


def test_a_day_the_whole_team_is_busier_than_usual_is_the_teams_day():
    alone, with_the_team = how_much_evidence_on_a_busy_day(1), how_much_evidence_on_a_busy_day(6)
    assert alone >= 25  # busier than her own usual day is evidence, when she is the only one
    # What she did before the team's day showed (her first busy hour, when nobody's day was busier yet) still counts.
    assert with_the_team < alone / 2


def system_reads(day: int, system: str, count: int = 3, user="ann"):
    """`count` customers read in `system`, on no ticket of the user's, in the afternoon."""
    base = MONDAY + day * DAY + 14 * 3600
    return [AccessEvent(f"{system}-{day}-{i}", base + i * 600, user, "record.view", device="laptop-1", src_ip="10.0.0.1",
                        resource=system, record_id=f"Z{day}-{i}", app="crm-web") for i in range(count)]


def days_of_work(extra: dict[int, list[AccessEvent]], days: int, population: Population | None = None):
    """An agent's ordinary days on their tickets, with `extra` events on some: (band by day, every assessment)."""
    book = TicketBook()
    ctx, detector = Context(population or Population(), Profile(role="agent"), book), UserDetector(DetectorConfig())
    bands, assessments = {}, []
    for day in range(days):
        ordinary = [e for e in workday(days=day + 1, book=book) if e.ts >= MONDAY + day * DAY]
        assessments += [detector.observe(e, ctx) for e in sorted(ordinary + extra.get(day, []), key=lambda e: e.ts)]
        bands[day] = assessments[-1].band
    return bands, assessments


def test_customers_read_off_tickets_in_a_system_none_of_the_peers_use_reach_high_that_day():
    """Privilege creep's first step: three customers off tickets in hr.salaries, which no fellow agent uses, are
    high that day; three days later the second system is a pattern too."""
    creep = {20: system_reads(20, "hr.salaries"), 23: system_reads(23, "finance.ledger")}
    bands, assessments = days_of_work(creep, days=24)
    reasons = [s.reason for a in assessments for s in a.signals if s.family == "pattern"]
    assert bands[19] == "low" and bands[20] == "high" and bands[23] in ("high", "critical")
    assert reasons[0] == ("read 2 customers outside their tickets on the day they first reached hr.salaries, "
                          "which hardly any of their peers (agent) use")
    assert any(r.startswith("evidence of what they did on 2 of the last 4 working days") for r in reasons)


def test_one_look_off_tickets_in_a_new_system_or_three_in_a_system_the_peers_use_stay_below_high():
    """New ground needs customers read off tickets there, and ground new to the peers: one stray look in a new
    system is not high, nor are three customers in a system every fellow agent works in (the unjustified family
    says no ticket; where is no news)."""
    population = Population()
    for _ in range(5):
        population.welcome("agent")
        population.adopt("resource", "crm.vip", "agent")
    one_look, _ = days_of_work({20: system_reads(20, "hr.salaries", count=1)}, days=21)
    peers_system, assessments = days_of_work({20: system_reads(20, "crm.vip")}, days=21, population=population)
    assert one_look[20] == "low"
    assert peers_system[20] not in ("high", "critical")
    assert not any(s.name == "pattern.new_ground" for a in assessments for s in a.signals)


def test_a_shift_moved_for_good_is_the_users_routine_from_its_second_day_and_other_hours_still_count():
    """A team transfer eight time zones east: a whole day of odd hours counts once, as one odd hour, on its first
    day; that day was a shift's worth of hours at none of the usual ones, and from the next its hours are routine."""
    book = TicketBook()
    ctx = Context(Population(), Profile(role="agent"), book)
    detector = UserDetector(DetectorConfig())
    for e in workday(days=20, book=book):
        detector.observe(e, ctx)
    moved = [e for e in workday(days=26, start_hour=1, book=book) if e.ts >= MONDAY + 20 * DAY]
    odd_hours_by_day: dict[int, float] = {}
    for e in moved:
        for s in detector.observe(e, ctx).signals:
            if s.name == "rare_hour":
                day = int((e.ts - MONDAY) // DAY)
                odd_hours_by_day[day] = odd_hours_by_day.get(day, 0) + s.points
    assert odd_hours_by_day == {20: 20.0}
    assert detector.bands.band == "low"
    evening = AccessEvent("late", MONDAY + 26 * DAY + 19 * 3600, "ann", "login", device="laptop-1", src_ip="10.0.0.1")
    assert any(s.name == "rare_hour" for s in detector.observe(evening, ctx).signals)  # neither shift's hours


def test_a_night_on_call_past_midnight_utc_is_one_odd_session_worth_its_rarest_hour_and_settles():
    """A week on call: ticketed work 22:00–01:00 UTC. Each night is one piece of evidence of when, worth its rarest
    hour (not one for each hour, nor one more for the UTC day after midnight), and the next nights count less."""
    book = TicketBook()
    ctx = Context(Population(), Profile(role="agent"), book)
    detector = UserDetector(DetectorConfig())
    for e in workday(days=20, book=book):
        detector.observe(e, ctx)
    nights = [e for e in workday(days=23, start_hour=22, hours=3, per_hour=2, book=book)
              if e.ts >= MONDAY + 20 * DAY + 12 * 3600]
    odd_hours_by_night: dict[int, float] = {}
    for e in nights:
        for s in detector.observe(e, ctx).signals:
            if s.name == "rare_hour":
                night = int((e.ts - MONDAY - 12 * 3600) // DAY)  # a night's hours past midnight are still that night's
                odd_hours_by_night[night] = odd_hours_by_night.get(night, 0) + s.points
    assert odd_hours_by_night[20] == 20.0
    assert 10 < odd_hours_by_night[21] < 20.0
    assert odd_hours_by_night.get(22, 0) < odd_hours_by_night[21]
    assert detector.bands.band == "low"


def test_two_customers_a_day_outside_tickets_most_days_of_a_week_reaches_high_as_a_habit():
    """The quietest harvester: under the day's threshold every day, high on the fourth day of five."""
    book = TicketBook()
    ctx, detector = Context(Population(), Profile(role="agent"), book), UserDetector(DetectorConfig())
    outside = [e for day in range(15, 20) for e in outside_reads(day, 2)]
    bands_by_day: dict[int, str] = {}
    reasons: list[str] = []
    for e in sorted([*workday(days=20, book=book), *outside], key=lambda e: e.ts):
        assessment = detector.observe(e, ctx)
        bands_by_day[int((e.ts - MONDAY) // DAY)] = assessment.band
        if assessment.alert:
            reasons += assessment.alert.reasons
    assert bands_by_day[17] not in ("high", "critical")  # three days of five: a pattern, not yet a habit
    assert bands_by_day[18] in ("high", "critical")
    assert any(r.startswith("a habit: read customers outside their tickets on 4 of the last 5") for r in reasons)


def test_three_customers_off_tickets_in_a_first_night_session_reach_high_that_night_and_not_by_day():
    """What and when at once: the same three customers off tickets are not high by day, and high at night."""
    by_day, by_day_ctx = trained(days=15)
    for e in outside_reads(15, 3):
        by_day.observe(e, by_day_ctx)
    at_night, night_ctx = trained(days=15)
    reasons = [r for e in night_reads(day=15, count=3) if (a := at_night.observe(e, night_ctx)).alert
               for r in a.alert.reasons]
    assert by_day.bands.band not in ("high", "critical")
    assert at_night.bands.band == "high"
    assert "read 3 customers outside their tickets in hours they are rarely active (X0, X1, X2)" in reasons


def off_ticket_day(count: int, peers_days: list[int], role: str = "agent") -> tuple[str, list[str]]:
    """Ann's band after reading `count` customers off her tickets one working day, her peers' user-days holding
    `peers_days` customers off theirs; and the reasons of her alerts."""
    detector, ctx = trained(days=15, profile=Profile(role=role))
    for day, customers in enumerate(peers_days * 3):
        ctx.population.peer(role).learn("outside", customers, day=day // 30)
    reasons = [r for e in outside_reads(15, count) if (a := detector.observe(e, ctx)).alert for r in a.alert.reasons]
    return detector.bands.band, reasons


def test_a_day_of_customers_off_tickets_beyond_any_of_the_peers_days_reaches_high_that_day():
    """A harvester's first day: what (no ticket of theirs) and how much (beyond the peers' days) at once."""
    band, reasons = off_ticket_day(6, peers_days=[0, 0, 1, 0, 0, 0, 0, 2, 0, 0])
    assert band == "high"
    assert "read 5 customers outside their tickets today, where peers (agent) average 0.2 ± 1.0 a day" in reasons
    assert off_ticket_day(4, peers_days=[0, 0, 1, 0, 0, 0, 0, 2, 0, 0])[0] not in ("high", "critical")


def test_the_same_day_is_not_high_for_someone_whose_peers_read_that_many_off_tickets():
    """Team leads look customers up off their tickets all day: six in a day is within their group's days."""
    band, reasons = off_ticket_day(6, peers_days=[6, 9, 4, 8, 7, 5, 10, 6, 3, 8], role="team_lead")
    assert band not in ("high", "critical")
    assert not any("where peers" in r for r in reasons)


def test_a_few_lookups_off_tickets_among_night_work_on_tickets_are_no_off_hours_session():
    """A shift moved to the night (a week on call, a transfer): its hours are rare, most of what is read then is on
    the user's tickets, and three lookups off them among that work are the day's, not a session's."""
    detector, ctx = trained(days=15)
    night_shift = [e for e in workday(days=16, start_hour=1, hours=3, book=ctx.tickets) if e.ts >= MONDAY + 15 * DAY]
    lookups = [dataclasses.replace(e, ts=e.ts + 3 * 3600 + 1800) for e in night_reads(day=15, count=3)]
    found = [s for e in sorted(night_shift + lookups, key=lambda e: e.ts) for s in detector.observe(e, ctx).signals]
    assert any(s.family == "time" for s in found) and any(s.family == "unjustified" for s in found)
    assert not any(s.family == "offhours" for s in found)


def exports(day: int, records: int = 15, count: int = 1, user="ann"):
    base = MONDAY + day * DAY + 15 * 3600
    return [AccessEvent(f"export-{day}-{i}", base + i * 1200, user, "record.export", device="laptop-1",
                        src_ip="10.0.0.1", resource="crm.customers", records=records, app="crm-web") for i in range(count)]


def exporter_habit(export_days: set[int], days: int = 40) -> tuple[list[str], str]:
    """An exporter who moves ~15 records out one working day in five for four weeks, then on `export_days`."""
    usual = {day for day in range(28) if day % 5 == 2}
    bands, assessments = days_of_work({day: exports(day) for day in usual | export_days}, days)
    return [s.reason for a in assessments for s in a.signals if s.family == "lasting"], bands[days - 1]


def test_an_exporter_moving_records_out_on_eight_of_ten_working_days_reaches_high_as_a_habit():
    """Split exports: every export the size of the usual ones, on nearly every working day for two weeks."""
    reasons, band = exporter_habit(export_days=set(range(30, 40)) - {33, 36})
    assert reasons == ["a habit: moved records out on 8 of the last 10 working days (120 records in all)"]
    assert band in ("high", "critical")


def test_an_exporter_moving_records_out_on_four_of_five_working_days_is_no_habit():
    reasons, _ = exporter_habit(export_days={30, 31, 32, 34}, days=35)
    assert reasons == []


def test_an_exporter_splitting_a_days_export_into_four_ordinary_ones_reaches_high_that_day():
    """Split exports at a brisk pace: four exports a day, each the size of the usual one-in-five-days export.
    How much against their own days (exfiltration) and how many against their peers' days, at once."""
    usual = {day: exports(day) for day in range(28) if day % 5 == 2}
    bands, assessments = days_of_work(usual | {30: exports(30, count=4)}, days=31)
    reasons = [s.reason for a in assessments for s in a.signals if s.name in ("exfil.exports", "peer.exports")]
    assert bands[30] in ("high", "critical")
    assert reasons[:2] == ["made 2 exports today, usually 0.2 a day",
                           "made 3 exports today, where peers (agent) average 0.2 ± 0.5 a day"]


def split_in_a_team_that_exports_every_day(whole_team_exports: bool) -> tuple[str, list[str]]:
    """Ann (who exports one working day in five) splits day 30's export into four ordinary ones, in a team of ten
    whose two leads export every morning; with `whole_team_exports`, all nine others export that morning (a
    quarter end). (Ann's band that evening, her reasons.)"""
    population, every_morning = Population(), [f"u{k}" for k in range(2)]
    team = {u: (UserDetector(DetectorConfig()), Context(population, Profile(role="agent", team="t1"), TicketBook()))
            for u in ["ann"] + [f"u{k}" for k in range(9)]}
    for lead in every_morning:
        team[lead][1].profile = Profile(role="team_lead", team="t1")
    events = [(e, u) for u, (_, ctx) in team.items() for e in workday(user=u, days=31, book=ctx.tickets)]
    events += [(e, "ann") for day in range(31) if day % 5 == 2 for e in exports(day)] + \
        [(e, "ann") for e in exports(30, count=4)]
    for user in team.keys() - {"ann"}:
        days = range(31) if user in every_morning else [30] if whole_team_exports else []
        events += [(dataclasses.replace(e, ts=e.ts - 5 * 3600), user) for day in days for e in exports(day, user=user)]
    band, reasons = "", []
    for event, user in sorted(events, key=lambda pair: pair[0].ts):
        assessment = team[user][0].observe(event, team[user][1])
        if user == "ann" and event.ts >= MONDAY + 30 * DAY:
            band, reasons = assessment.band, reasons + [s.reason for s in assessment.signals]
    return band, reasons


def test_a_split_in_a_team_where_some_export_every_day_is_judged_in_full():
    """Ann's two team leads export every morning: a day they do is the team's usual day, not one it shares with
    her, so her four ordinary exports count as hers (before, the three of them made it a day a third of the team
    moved records out); on a quarter end, when the whole team exports, they are the team's day."""
    band, reasons = split_in_a_team_that_exports_every_day(whole_team_exports=False)
    assert band in ("high", "critical")
    assert "made 3 exports today, where peers (agent) average 0.0 ± 0.5 a day" in reasons
    assert split_in_a_team_that_exports_every_day(whole_team_exports=True)[0] not in ("high", "critical")


def test_a_day_of_several_big_report_exports_is_bulk_not_a_split():
    """Quarter-end: three reports of hundreds of records in a day are how much (exfiltration), not how many."""
    usual = {day: exports(day) for day in range(28) if day % 5 == 2}
    bands, assessments = days_of_work(usual | {30: exports(30, records=400, count=3)}, days=31)
    names = {s.name for a in assessments for s in a.signals}
    assert "exfil.day" in names and "peer.exports" not in names
    assert bands[30] not in ("high", "critical")


def peers_day_of_moving_out(trained_days: int, day_out: list[AccessEvent]) -> list[str]:
    """The `peer` family's reasons on Ann's day `day_out`, after `trained_days` working days of hers, her fellow
    agents' user-days holding a record or two moved out now and then."""
    detector, ctx = trained(days=trained_days)
    for records in [0, 0, 1, 0, 0, 0, 0, 2, 0, 0] * 3:  # the day before hers
        ctx.population.peer("agent").learn("moved", records, day=MONDAY // DAY + trained_days - 1)
    return [s.reason for e in day_out for s in detector.observe(e, ctx).signals if s.name == "peer.moved"]


def test_records_copied_out_in_pieces_in_a_users_first_days_are_judged_against_the_peers_days():
    """A user leaving in their first days of data copies a few records at a time: their own days of moving records
    out are not warm, so the day is judged against their peers' user-days. A report of a dozen records at once is
    bulk, left to the exfiltration family, and once the user's own days are warm they judge."""
    pieces = exports(2, records=3, count=4)
    assert peers_day_of_moving_out(2, pieces) == ["moved 12 records out today, where peers (agent) average 0.3 ± 1.0 a day"]
    assert peers_day_of_moving_out(2, exports(2, records=12)) == []
    assert peers_day_of_moving_out(10, exports(10, records=3, count=4)) == []


def bulk_on_a_new_users_third_day(group_days: int) -> list[str]:
    """The `peer` family's reasons on Ann's export of 60 records on her third working day (day 10), her fellow
    agent Bob having worked the `group_days` days before it."""
    population = Population()
    bob, ann = [(UserDetector(DetectorConfig()), Context(population, Profile(role="agent"), TicketBook()))
                for _ in range(2)]
    since = {"bob": MONDAY + (10 - group_days) * DAY, "ann": MONDAY + 8 * DAY}
    events = [(e, who) for user, who in (("bob", bob), ("ann", ann))
              for e in workday(user=user, days=10, book=who[1].tickets) if e.ts >= since[user]]
    for event, (detector, ctx) in sorted(events, key=lambda pair: pair[0].ts):
        detector.observe(event, ctx)
    for records in [0, 0, 1, 0, 0, 0, 0, 2, 0, 0] * 3:
        population.peer("agent").learn("moved", records, day=MONDAY // DAY + 9)
    detector, ctx = ann
    return [s.reason for e in exports(10, records=60) for s in detector.observe(e, ctx).signals if s.name == "peer.moved"]


def test_a_bulk_export_on_a_new_users_third_day_is_judged_against_peers_who_know_a_week():
    """A user who exports sixty records in their first days is judged against their peers' user-days once those
    hold a week of the group's (its Friday reports among them); in the group's first week, not yet."""
    assert bulk_on_a_new_users_third_day(group_days=10) == [
        "moved 60 records out today, where peers (agent) average 0.2 ± 1.0 a day"]
    assert bulk_on_a_new_users_third_day(group_days=3) == []


def test_an_exporter_making_two_ordinary_exports_every_working_day_is_a_pattern_then_a_habit():
    """Split exports at their quietest: two exports a day, each the size of the usual one-in-five-days export."""
    usual = {day: exports(day) for day in range(28) if day % 5 == 2}
    split = {day: exports(day, count=2) for day in range(30, 35)}
    bands, assessments = days_of_work(usual | split, days=35)
    reasons = [s.reason for a in assessments for s in a.signals if s.name in ("pattern.exports", "lasting.exports")]
    assert reasons[0] == ("made several exports a day on 2 of the last 2 working days (4 exports in all), "
                          "usually on 1% of days")
    assert "a habit: made several exports a day on 4 of the last 5 working days (8 exports in all)" in reasons
    assert bands[31] == "medium" and bands[33] in ("high", "critical")


def test_a_second_new_system_read_off_tickets_a_week_later_is_a_pattern():
    """Privilege creep at its slowest: a system new to the user every six days, three customers off tickets each."""
    creep = {20: system_reads(20, "hr.salaries"), 26: system_reads(26, "finance.ledger")}
    bands, assessments = days_of_work(creep, days=27)
    reasons = [s.reason for a in assessments for s in a.signals if s.name == "pattern.systems"]
    assert bands[20] == "high" and bands[25] != "high"  # the first step's evidence fades within days
    assert bands[26] == "high"
    assert reasons == ["touched systems new to them on 2 of the last 10 working days (2 systems in all), "
                       "usually on 0% of days"]


def test_a_system_only_another_department_uses_is_new_ground_for_an_agent():
    """Every billing specialist uses billing.payments; none of Ann's fellow agents does. Customers read there off
    her tickets are new ground for an agent: *high* that day, and with hr.salaries a week later a pattern."""
    population = Population()
    for group in ["agent"] * 5 + ["billing"] * 5:
        population.welcome(group)
        if group == "billing":
            population.adopt("resource", "billing.payments", group)
    creep = {20: system_reads(20, "billing.payments"), 26: system_reads(26, "hr.salaries")}
    bands, assessments = days_of_work(creep, days=27, population=population)
    reasons = [s.reason for a in assessments for s in a.signals if s.family in ("reach", "pattern")]
    assert "hardly any of their peers" in reasons[0]
    assert "first reached billing.payments, which hardly any of their peers (agent) use" in reasons[1]
    assert any(r.startswith("touched systems new to them on 2 of the last 10 working days") for r in reasons)
    assert (bands[19], bands[20], bands[26]) == ("low", "high", "high")


def test_a_system_one_user_met_the_day_many_met_a_new_report_is_still_new_ground():
    """Month end: ten team leads run a report new to them. Ann opens crm.vip that day, a system no one uses: her
    first time there is judged in full, and is a new system, not her share of the leads' new report."""
    population, day = Population(), MONDAY // DAY + 3
    for _ in range(10):
        population.welcome("lead")
        population.arrive(day, "lead")
        population.met_new("resource", day, "lead", "reports.monthly")
    seen, ctx = FirstSeen(warmup=3), Context(population, Profile(role="agent"))
    for i, resource in enumerate(["crm.customers"] * 4 + ["crm.vip"]):
        signals = seen.observe(AccessEvent(f"e{i}", day * DAY + 36000 + i * 60, "ann", "record.view",
                                           resource=resource, record_id="C1"), ctx)
    assert [s.reason for s in signals] == ["first time touching crm.vip (known: crm.customers)"]
    assert seen.new_system == "crm.vip"


def test_two_systems_new_to_a_user_in_their_first_working_days_are_a_pattern():
    """Privilege creep that begins in a user's first week: two new systems read off tickets four working days
    apart are judged over the days there are, not waited on until the user has ten."""
    creep = {3: system_reads(3, "crm.vip"), 7: system_reads(7, "hr.salaries")}
    _, assessments = days_of_work(creep, days=8)
    reasons = [s.reason for a in assessments for s in a.signals if s.name == "pattern.systems"]
    assert reasons == ["touched systems new to them on 2 of the last 8 working days (2 systems in all), "
                       "usually on 0% of days"]


def first_days_off_tickets(peers_off_tickets: int, days: int):
    """Ann's first `days` working days, each with two customers off her tickets, among twelve fellow agents of whom
    `peers_off_tickets` read two off theirs each day, each day different ones: Ann's bands by day, her reasons."""
    population, profile = Population(), Profile(role="agent")
    members = {user: (UserDetector(DetectorConfig()), Context(population, profile, TicketBook()))
               for user in ["ann", *(f"p{k}" for k in range(12))]}
    events = []
    for k, (user, (_, ctx)) in enumerate(members.items()):
        events += [(e, user) for e in workday(user=user, days=days, book=ctx.tickets)]
        events += [(e, user) for day in range(days)
                   if user == "ann" or (k - 1 - day * peers_off_tickets) % 12 < peers_off_tickets
                   for e in outside_reads(day, 2, user=user)]
    bands, reasons = {}, []
    for event, user in sorted(events, key=lambda pair: (pair[0].ts, pair[1] == "ann")):
        assessment = members[user][0].observe(event, members[user][1])
        if user == "ann":
            bands[int((event.ts - MONDAY) // DAY)] = assessment.band
            reasons += [s.reason for s in assessment.signals if s.family in ("pattern", "lasting")]
    return bands, reasons


def test_two_customers_off_tickets_from_a_users_first_day_are_judged_over_the_days_there_are():
    """An insider already at it when Vigil starts watching: a pattern on the third day, a habit on the fourth.
    Her usual 8 % is her group's share of such days, her own among them (one agent's days in thirteen)."""
    bands, reasons = first_days_off_tickets(peers_off_tickets=0, days=4)
    assert reasons[0] == ("read customers outside their tickets on 3 of the last 3 working days (6 customers in all), "
                          "usually on 8% of days")
    assert bands[2] == "medium" and bands[3] in ("high", "critical")
    habit = "a habit: read customers outside their tickets on 4 of the last 4 working days (8 customers in all)"
    assert habit in reasons


def test_first_days_off_tickets_are_no_pattern_where_the_peers_days_often_hold_some():
    """The same first days where one fellow agent in twelve, each day another, reads two off their tickets: with
    Ann, two of thirteen agents' days hold some (their usual share, her prior), so three days are not improbable."""
    bands, reasons = first_days_off_tickets(peers_off_tickets=1, days=3)
    assert reasons == [] and bands[2] == "low"


def harvesters_in_anns_team():
    """Ann's team after ten ordinary days, then three night harvesters an hour apart: (team by user, alerts)."""
    population, profile = Population(), Profile(role="agent", team="t1")
    team = {user: (UserDetector(DetectorConfig()), Context(population, profile, TicketBook()))
            for user in ("ann", "h1", "h2", "h3")}
    events = [(e, user) for user, (_, ctx) in team.items() for e in workday(user=user, days=10, book=ctx.tickets)]
    events += [(dataclasses.replace(e, ts=e.ts + k * 3600), user)  # one after another, an hour apart
               for k, user in enumerate(("h1", "h2", "h3")) for e in night_reads(day=10, user=user)]
    alerts = {}
    for event, user in sorted(events, key=lambda pair: pair[0].ts):
        if alert := team[user][0].observe(event, team[user][1]).alert:
            alerts[user] = alert
    return team, alerts


def test_colleagues_at_high_do_not_make_a_day_the_groups_for_the_next_one():
    """Three night harvesters in Ann's team read customers off their tickets; once at *high* they do not count in
    the team's share of the day, so Ann's own reads off her tickets that afternoon are judged in full."""
    team, alerts = harvesters_in_anns_team()
    assert all(alerts[h].band in ("high", "critical") for h in ("h1", "h2", "h3"))
    detector, ctx = team["ann"]
    assert ctx.population.share("outside", 10 + MONDAY // DAY, *ctx.profile.groups) == 0.0
    fired = [s for e in system_reads(10, "crm.customers", user="ann") for s in detector.observe(e, ctx).signals]
    assert [s.points for s in fired if s.family == "unjustified"] == [18.0]


def test_the_tail_of_a_shift_past_midnight_utc_is_no_working_day_among_the_groups_members():
    """Ann works Friday evenings until after midnight UTC: Saturday's hour of her shift does not make her one of
    her team's active members on Saturday (a report her team runs that Saturday is shared among those at work),
    and her next shift, on Monday, does."""
    population, profile = Population(), Profile(role="agent", team="t1")
    detector, ctx = UserDetector(DetectorConfig()), Context(population, profile, TicketBook())
    friday, monday = MONDAY + 4 * DAY, MONDAY + 7 * DAY
    for ts in [friday + h * 3600 for h in (17, 19, 21, 23, 24, 24.5)] + [monday + 17 * 3600]:
        detector.observe(AccessEvent("e", ts, "ann", "record.view", record_id="C1", resource="crm.customers"), ctx)
    active = {day: population.org.group_day("moved", "team:t1", (friday + day * DAY) // DAY)[1] for day in (0, 1, 3)}
    assert active == {0: 1, 1: 0, 3: 1}


def test_an_hour_made_unusual_by_exports_most_of_the_team_made_that_day_is_the_teams_hour():
    """Ann's first exports (and a few customers off her tickets) make an unusual hour; on a day most of her team
    exports too, as at a quarter end, that hour is the team's and raises nothing of its own."""
    def hour_points(team_exports: bool) -> list[float]:
        population, profile = Population(), Profile(role="agent", team="t1")
        team = {u: (UserDetector(DetectorConfig()), Context(population, profile, TicketBook()))
                for u in ["ann"] + [f"u{i}" for i in range(11)]}  # enough hours for the model to judge one
        work = [(e, u) for u, (_, ctx) in team.items() for e in workday(user=u, days=10, book=ctx.tickets)]
        for event, user in sorted(work, key=lambda pair: pair[0].ts):
            team[user][0].observe(event, team[user][1])
        day, at = MONDAY // DAY + 10, MONDAY + 10 * DAY + 14 * 3600
        if team_exports:
            for _ in range(4):
                population.arrive(day, *profile.groups)
                population.did("moved", day, *profile.groups)
        hour = [AccessEvent(f"x{i}", at + i * 300, "ann", "record.export", resource="crm.customers", records=300)
                for i in range(3)]
        hour += [AccessEvent(f"r{i}", at + 1000 + i * 60, "ann", "record.view", resource="crm.customers",
                             record_id=f"X{i}") for i in range(4)]
        closing = AccessEvent("next", at + 3660, "ann", "record.view", resource="crm.customers", record_id="C1")
        detector, ctx = team["ann"]
        return [s.points for e in hour + [closing] for s in detector.observe(e, ctx).signals
                if s.name == "multivariate.hour"]
    assert hour_points(team_exports=False) and hour_points(team_exports=True) == []


def test_a_benign_verdict_counts_what_the_user_did_in_their_groups_day_again():
    """An analyst judges the three harvesters' alerts benign (say, the team's night shift on an incident): what
    they did counts in the team's day again, and Ann's reads off her tickets weigh as the team's day."""
    team, alerts = harvesters_in_anns_team()
    for user in ("h1", "h2", "h3"):
        detector, ctx = team[user]
        detector.apply_verdict("benign", alerts[user].families, ts=MONDAY + 10 * DAY + 6 * 3600, suppress_for=DAY,
                               ctx=ctx)
    detector, ctx = team["ann"]
    assert ctx.population.share("outside", 10 + MONDAY // DAY, *ctx.profile.groups) == 1.0
    fired = [s for e in system_reads(10, "crm.customers", user="ann") for s in detector.observe(e, ctx).signals]
    assert [s.points for s in fired if s.family == "unjustified"] == []



def quarterly_report_ahead_of_the_team(team_joins: bool, team_ran_it_yesterday: bool = False) -> tuple[float, float]:
    """Ann exports three quarterly reports of 400 records from 15:00 on day 30, the first of her group that day;
    by 17:00 five of six at work have run theirs, or nobody else has. Her `exfil` points just after her reports,
    and at her next event, at 17:00."""
    detector, ctx = trained(days=30)
    population, groups, day = ctx.population, ctx.profile.groups, MONDAY // DAY + 30
    for member in range(5 if team_ran_it_yesterday else 0):
        population.arrive(day - 1, *groups)
        population.did("moved", day - 1, *groups)
    reports = exports(30, records=400, count=3)
    for event in reports:
        detector.observe(event, ctx)
    first = detector.ledger.contributions(reports[-1].ts).get("exfil", 0.0)
    for member in range(5 if team_joins else 0):
        population.arrive(day, *groups)
        if member < 4:
            population.did("moved", day, *groups)
    later = AccessEvent("next", MONDAY + 30 * DAY + 17 * 3600, "ann", "record.view", resource="crm.customers",
                        record_id="C1")
    detector.observe(later, ctx)
    return first, detector.ledger.contributions(later.ts).get("exfil", 0.0)


def test_the_first_of_a_group_to_run_its_quarterly_report_keeps_only_what_the_groups_day_leaves_of_it():
    """Ann's reports come before the rest of her group's: they weigh in full as she runs them, and once most of
    the group has run theirs the same day, what they added to her risk is taken back: the group's day, not hers.
    On a day nobody else exports, her reports keep their weight."""
    first, alone = quarterly_report_ahead_of_the_team(team_joins=False)
    assert first >= 25 and alone > 0.9 * first
    first, joined = quarterly_report_ahead_of_the_team(team_joins=True)
    assert first >= 25 and joined == 0.0


def test_the_morning_after_a_groups_day_of_reports_is_still_the_groups():
    """Quarter-end reports run for days: the morning after most of Ann's group ran theirs, her reports weigh as
    the group's day from the first, before today's share has formed."""
    first, _ = quarterly_report_ahead_of_the_team(team_joins=False, team_ran_it_yesterday=True)
    assert first == 0.0
