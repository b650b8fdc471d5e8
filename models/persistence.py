"""Memory across days: what a user did a little of, day after day, against their own and their peers' norms.

Risk in the ledger fades within days, and each day's evidence fires on its
own, so a user who takes a few records every working day never looks worse
than on their first. This keeps each active day's totals for a month and
reads them as a pattern (the same trace on most recent working days) and as
a sum (this week's total against the peers' and the user's own weeks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from models.context import DAY, Context
from models.distinct import LinearCounter
from models.event import EXFIL_ACTIONS, AccessEvent
from models.exfil import Exfiltration
from models.novelty import FirstSeen
from models.signal import T1078, T1213, T1567, Signal
from models.volume import TOUCH_ACTIONS

DAYS_KEPT = 30
RECENT = 5
#: (working days, trace days needed): a pattern is read over all of the last two, or three of the last five or ten.
PATTERN_WINDOWS = ((2, 2), (5, 3), (10, 3))
#: (working days, trace days needed) of a lasting pattern: nearly every recent working day. Records moved out
#: need more: an honest exporter moves some on one working day in five, and now and then on four of five.
LASTING = ((5, 4), (10, 6))
LASTING_MOVED = ((10, 8),)
WEEK = 7  # active days summed against the peers' norm
TAIL = 0.002  # a pattern this improbable at the user's own rate is evidence
PRIOR_DAYS = 10  # how many days a quantity's prior weighs against the user's own


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p).

    >>> round(binomial_tail(3, 5, 0.1), 4), round(binomial_tail(0, 5, 0.3), 4)
    (0.0086, 1.0)
    """
    return sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k, n + 1))


def improbable_days(totals: DailyTotals, at_least: float, prior: float, windows: tuple[tuple[int, int], ...],
                    partial: bool = False, peers: float = 0.0) -> tuple[int, int, float]:
    """(trace days, window, the user's usual share of such days) of the first window in `windows`, each
    (working days, trace days needed), whose trace days are improbable for this user: less likely than `TAIL`
    in a binomial at their own earlier rate of days with at least `at_least`, shrunk to `prior`. Else zeros.
    With `partial`, a window longer than the user's history is read over the days there are, once they hold
    as many as the window needs, and shrunk to no less than `peers` (the share of the peer group's days that
    held such a day): a user's first days are judged by what their peers' days hold.

    >>> totals = DailyTotals().restore([40, [0] * 20 + [3, 0, 4]])  # twenty quiet days, then two traces in three
    >>> days, window, usual = improbable_days(totals, 2, 0.05, ((2, 2), (4, 2)))
    >>> days, window, round(usual, 3)
    (2, 4, 0.017)
    >>> improbable_days(DailyTotals().restore([40, [3, 0] * 10 + [3, 0, 4]]), 2, 0.05, ((2, 2), (4, 2)))
    (0, 0, 0.0)
    >>> week = DailyTotals().restore([40, [1, 0, 0, 0, 1]])  # two traces in a user's first five days
    >>> improbable_days(week, 1, 0.005, ((10, 2),)), improbable_days(week, 1, 0.005, ((10, 2),), partial=True)[:2]
    ((0, 0, 0.0), (2, 5))
    >>> improbable_days(week, 1, 0.005, ((10, 2),), partial=True, peers=0.2)  # two in five: common among peers
    (0, 0, 0.0)
    """
    for window, needed in windows:
        recent, older = totals.days[-window:], totals.days[:-window]
        short = len(recent) < window
        if short and not (partial and len(recent) >= needed):
            break
        days = sum(v >= at_least for v in recent)
        if days < needed:
            continue
        base = max(prior, peers) if short else prior
        usual = (sum(v >= at_least for v in older) + PRIOR_DAYS * base) / (len(older) + PRIOR_DAYS)
        if binomial_tail(days, len(recent), usual) < TAIL:
            return days, len(recent), usual
    return 0, 0, 0.0


class DailyTotals:
    """One quantity per active day, the last `DAYS_KEPT` of them, newest last; today's is still counting.

    Examples
    --------
    >>> totals = DailyTotals()
    >>> for day, value in enumerate((1, 0, 0, 1, 0, 0, 5, 6, 7)):
    ...     _ = totals.roll(day)
    ...     totals.add(value)
    >>> totals.trace_days(RECENT, at_least=2), totals.recent_sum(RECENT), round(totals.usual(), 2)
    (3, 18, 1.0)

    """

    def __init__(self) -> None:
        self.days: list[float] = []  # active days' totals, newest (today) last
        self.day = -1
        self._usual = 0.0  # `usual()`, which only a new day changes

    def roll(self, day: int) -> bool:
        """Move to `day`; True if it is a new active day."""
        if day <= self.day:
            return False
        self.day = day
        self.days.append(0)
        del self.days[:-DAYS_KEPT]
        self._usual = self._mean_and_spread()
        return True

    def add(self, amount: float) -> None:
        self.days[-1] += amount

    @property
    def today(self) -> float:
        return self.days[-1] if self.days else 0

    def trace_days(self, n: int, at_least: float) -> int:
        """Of the last `n` active days (today included), how many reached `at_least`."""
        return sum(value >= at_least for value in self.days[-n:])

    def recent_sum(self, n: int) -> float:
        return sum(self.days[-n:])

    def usual(self) -> float:
        """Mean of the active days before the last `RECENT` plus spread: what a day of theirs used to hold."""
        return self._usual

    def _mean_and_spread(self) -> float:
        before = self.days[:-RECENT]
        if len(before) < 3:
            return 0.0
        mean = sum(before) / len(before)
        return mean + math.sqrt(sum((v - mean) ** 2 for v in before) / len(before))

    def scale_yesterday(self, factor: float) -> None:
        """Count only `factor` of the day before today (a day the user's whole group did the same)."""
        self.days[-2] = round(self.days[-2] * factor, 1)
        self._usual = self._mean_and_spread()

    def scaled_today(self, factor: float) -> DailyTotals:
        """A copy whose today counts `factor` of what it holds (to judge, not to keep)."""
        copy = DailyTotals()
        copy.day, copy.days, copy._usual = self.day, self.days[:-1] + [self.today * factor], self._usual
        return copy

    def state(self) -> list:
        """[day, the days' totals]; days that all held nothing (most users move nothing out) as their count.

        >>> DailyTotals().restore([9, 3]).state(), DailyTotals().restore([9, [0, 2.5, 1]]).state()
        ([9, 3], [9, [0, 2.5, 1]])
        """
        if not any(self.days):
            return [self.day, len(self.days)]
        return [self.day, [int(v) if v == int(v) else round(v, 1) for v in self.days]]

    def restore(self, state: list | None) -> DailyTotals:
        if state:
            self.day, days = state
            self.days = [0] * days if isinstance(days, int) else list(days)
            self._usual = self._mean_and_spread()
        return self


@dataclass(frozen=True)
class Quantity:
    """One daily quantity Persistence keeps: how it reads in a reason, and the least that leaves a trace."""

    name: str
    what: str  # "read customers outside their tickets"
    unit: str
    technique: str
    total: str  # the sum in words, e.g. "read {n:.0f} customers outside their tickets"
    trace: float  # a day with at least this much (and twice the user's usual day, if `above_usual`) is a trace
    prior: float  # the share of a user's days taken to be traces before their own days say otherwise
    above_usual: bool = False
    weekly: bool = True  # also judged as a seven-day sum against the peers'
    daily: bool = False  # also judged as one day's total against the peers' user-days
    least_spread: float = 1.0  # the least spread of the peers' days a day is judged against
    lasting: tuple[tuple[int, int], ...] = ()  # windows in which a trace on nearly every working day is evidence
    windows: tuple[tuple[int, int], ...] = PATTERN_WINDOWS  # (working days, trace days needed) of a pattern
    group: str | None = None  # the deed (`GROUP_DEEDS`) a group can share a day of: its share weighs the day
    partial: bool = False  # a pattern's or habit's window longer than the user's history: read over the days there are
    beyond_usual: bool = False  # the group's day counts only beyond its usual share of the deed
    peers_prior: bool = False  # in a user's first days, the prior is at least the peers' usual share of trace days


QUANTITIES = (
    Quantity("outside", "read customers outside their tickets", "customers", T1213,
             "read {n:.0f} customers outside their tickets", trace=2, prior=0.05, lasting=LASTING, group="outside",
             daily=True, partial=True, peers_prior=True),
    Quantity("moved", "moved records out", "records", T1567, "moved {n:.0f} records out", trace=10, prior=0.2,
             lasting=LASTING_MOVED, group="moved", daily=True),
    # Records no ticket explains (searches, unticketed reads): a user pulling a little more every day.
    Quantity("unexplained", "read more records than usual with no ticket of theirs", "records", T1213,
             "read {n:.0f} records no ticket of theirs explains", trace=20, prior=0.1, above_usual=True, weekly=False),
    # Systems a user had never touched, met on more days than their own rate of new systems explains: privilege
    # creep, one new system at a time and days apart.
    Quantity("systems", "touched systems new to them", "systems", T1078, "touched {n:.0f} new systems", trace=1,
             prior=0.005, weekly=False, windows=((2, 2), (10, 2)), partial=True),
    # Several exports a day, day after day: one export split into ordinary ones. A day is judged against the
    # peers' days with a spread of at least half an export: three exports where peers make one now and then.
    Quantity("exports", "made several exports a day", "exports", T1567, "made {n:.0f} exports", trace=2,
             prior=0.02, weekly=False, lasting=LASTING, group="moved", daily=True, least_spread=0.5,
             beyond_usual=True),
)

#: The quantities a group can share a day of (a team's incident, a report everyone runs).
GROUP_QUANTITIES = tuple(q for q in QUANTITIES if q.group)


class Persistence:
    """Customers read outside tickets, records moved out, exports, unexplained reads and new systems, as patterns.

    *Pattern*: a trace (a day with at least a quantity's `trace`) on both
    of the last two active days, or on at least three of the last five
    or ten, when that many is improbable at the user's own earlier rate of
    such days: two days running is enough for someone whose month held
    none, not for someone who often has such days. A user's first days of
    customers outside tickets are read over the days there are (three of a
    new user's first three working days; a habit on the fourth), their
    rate shrunk to no less than their peer group's usual share of such
    days: an insider already at it when Vigil starts watching is a
    pattern by the third day, where ticket history not yet loaded (every
    agent's days holding some) makes no one's. A system new to the user
    (as `novelty`, the detector's own `FirstSeen`, met it: one few of their
    peers use) read in off their tickets is a trace, and two in ten working
    days a pattern, read over the days there are in a user's first ten:
    privilege creep, a system at a time. Its first step is judged the day
    it is taken: customers read off tickets (two or more) on a day the user
    first read in a system hardly any of their peers use (*new ground*, the
    pattern family's most, 30 points). Two exports or more in
    a day are a trace too: one export split into ordinary ones, day after
    day. *Sum*: the last seven active days' total, spread over at least
    three of them (one big export is the exfiltration family's), above the
    peer group's norm for seven days and above the user's own. *Day*: the
    customers read outside tickets today, beyond what the peer group's
    user-days hold (``mean + z·spread``, as every peer comparison) and twice
    the user's own usual day: how much, beside what the unjustified family
    says (no ticket), so a harvester's first day can reach *high* where a
    few lookups never do; and likewise today's exports, counted when each
    is a piece of a split (within twice the user's ordinary day of moving
    records: reports of hundreds are bulk, the exfiltration family's), so
    a split's first day can reach *high* beside exfiltration. *Habit*: a
    pattern with a trace on nearly every recent working day (customers
    outside tickets or several exports a day: 4 of the last 5, or 6 of the
    last 10; records moved out: 8 of the last 10) is evidence of its own,
    the `lasting` family: together with the pattern it reaches *high*, while
    one busy day or two never do.

    Examples
    --------
    >>> from models.context import Context
    >>> from models.population import Population
    >>> from models.event import AccessEvent
    >>> ctx, memory = Context(Population()), Persistence()
    >>> fired = []
    >>> for day in range(14):
    ...     ctx.justified = day < 10  # ten days of ticketed work, then customers on no ticket
    ...     for i in range(3):
    ...         fired += memory.observe(AccessEvent("e", day * 86400 + 36000 + i, "ann", "record.view",
    ...                                             record_id=f"C{day}{i}"), ctx)
    >>> for reason in [s.reason for s in fired if s.name == "pattern.outside"][:2]:
    ...     print(reason)
    read customers outside their tickets on 2 of the last 2 working days (5 customers in all), usually on 2% of days
    read customers outside their tickets on 3 of the last 5 working days (8 customers in all), usually on 3% of days
    >>> [s.reason for s in fired if s.family == "lasting"]
    ['a habit: read customers outside their tickets on 4 of the last 5 working days (11 customers in all)']

    """

    family = "pattern"

    def __init__(self, points: float = 25.0, sum_points: float = 20.0, lasting_points: float = 20.0,
                 ground_points: float = 30.0, novelty: FirstSeen | None = None,
                 exfil: Exfiltration | None = None) -> None:
        self.novelty = novelty  # the detector's own FirstSeen, observed first: whether an event met a new system
        self.exfil = exfil  # the detector's own Exfiltration: how much is an ordinary day of moving for the user
        self.points = points
        self.lasting_points = lasting_points
        self.sum_points = sum_points
        self.ground_points = ground_points
        self.totals = {q.name: DailyTotals() for q in QUANTITIES}
        self._outside = self.totals["outside"]  # whose day is the user's active day, read for every event
        self.counter = LinearCounter()  # today's customers outside tickets
        self.ground: str | None = None  # today's latest system new to the user and their peers, read in off tickets
        self.fired: dict[str, float] = {}  # today's firings: pattern days per quantity, "<name>.week" sums

    def observe(self, event: AccessEvent, ctx: Context) -> list[Signal]:
        day, outside_days = int(event.ts // 86400), self._outside
        if day > outside_days.day:  # a new active day: the first event of it
            closed = outside_days.day
            outside_days.roll(day)
            self._new_day(day, closed, ctx)
        outside, moved, unexplained, systems, exports = QUANTITIES
        if event.action in EXFIL_ACTIONS:
            self.totals["moved"].add(max(event.records, 1))
            signals = self._judge(moved, ctx, daily=self._judged_by_peers(event, ctx))
            if event.action == "record.export":
                self.totals["exports"].add(1)
                signals += self._judge(exports, ctx, daily=self._piece_of_a_split(event))
            return signals
        if ctx.justified is True or event.action not in TOUCH_ACTIONS:
            return []
        self.totals["unexplained"].add(event.records)
        signals = self._judge(unexplained, ctx)
        if self.novelty is not None and self.novelty.new_system:  # reading, on no ticket, in a system new to them
            self.totals["systems"].add(1)
            signals += self._judge(systems, ctx)
            self.ground = self.novelty.new_system
        if ctx.justified is False and self.counter.add_bit(ctx.customer_bit(event.record_id)):
            today = self.totals["outside"]
            before = today.today
            today.add(round(self.counter.estimate()) - before)
            if before < outside.trace <= today.today:  # a trace today: the team's share of such days counts it
                ctx.did("outside", day)
            signals += self._judge(outside, ctx)
        if self.ground and "systems.ground" not in self.fired:
            signals += self._new_ground(outside, ctx)
        return signals

    def _new_ground(self, outside: Quantity, ctx: Context) -> list[Signal]:
        """Customers read off tickets (a trace of `outside`) on a day the user first read, off tickets, in a system
        hardly any of their peers use: one step of privilege creep, judged the day it is taken (the pattern needs
        a second)."""
        customers = self.totals["outside"].today
        if customers < outside.trace:
            return []
        self.fired["systems.ground"] = customers
        return [Signal(
            name="pattern.new_ground",
            family=self.family,
            points=self.ground_points,
            reason=f"read {customers:.0f} customers outside their tickets on the day they first reached "
                   f"{self.ground}, which hardly any of their peers ({ctx.profile.peer_group}) use",
            observed=customers,
            expected=0,
            technique=T1078,
        )]

    def _judged_by_peers(self, event: AccessEvent, ctx: Context) -> bool:
        """Whether a copy or export is judged against the peers' user-days: by a user whose own days of moving
        records out are not yet warm (against their own it would be judged by nobody). A bulk one only once the
        peers' days hold a week of the group's (a Friday's reports): before, a report of
        hundreds is beyond any of the few days they know."""
        group = ctx.profile.peer_group
        peers = ctx.population.peer(group)
        if self.exfil is None or self.exfil.day.warm or not peers.knows("moved"):
            return False
        peers_know_a_week = ctx.population.at_work(group, int(event.ts // DAY) - 7) > 0
        return event.records <= peers.threshold("moved") or peers_know_a_week

    def _piece_of_a_split(self, export: AccessEvent) -> bool:
        """An export within twice the most this user moves out on an ordinary day: a piece of a split (a bigger
        one, a quarter's report, is bulk: the exfiltration family's)."""
        return self.exfil is None or export.records <= 2 * self.exfil.day.threshold

    def _new_day(self, day: int, closed: int, ctx: Context) -> None:
        for q in QUANTITIES[1:]:
            self.totals[q.name].roll(day)
        self.counter.clear()
        self.fired, self.ground = {}, None
        group = ctx.profile.peer_group
        # The day just closed was complete (not the user's first) and not one that took them to *high*: peers learn
        # it (an insider's day of thousands, learned while the organisation's norm is young, would be its spread).
        if len(self.totals["outside"].days) > 2 and closed != ctx.high_day:
            peers = ctx.population.peer(group)
            for q in QUANTITIES:
                if q.weekly or q.daily:
                    peers.learn(q.name, self.totals[q.name].days[-2], closed)
        # What the user did on a day much of their group did too (quarter-end reports, a team's incident) is the
        # group's day, not theirs.
        for q in (q for q in GROUP_QUANTITIES if len(self.totals[q.name].days) > 1):
            weight = ctx.population.day_weight(q.group, closed, *ctx.profile.groups, beyond_usual=q.beyond_usual)
            if weight < 1:
                self.totals[q.name].scale_yesterday(weight)

    def _judge(self, q: Quantity, ctx: Context, daily: bool = True) -> list[Signal]:
        totals, signals = self.totals[q.name], []
        at_least = max(q.trace, 2 * totals.usual()) if q.above_usual else q.trace
        weight = ctx.population.day_weight(q.group, totals.day, *ctx.profile.groups, beyond_usual=q.beyond_usual,
                                           since_yesterday=True) if q.group else 1.0
        if weight < 1:
            totals = totals.scaled_today(weight)
        if totals.today < at_least:
            return signals
        first_days = q.peers_prior and len(totals.days) < q.windows[-1][0]
        peers = ctx.population.usual_share(q.group, totals.day, ctx.profile.peer_group) if first_days else 0.0
        days, window, usual = improbable_days(totals, at_least, q.prior, q.windows, q.partial, peers)
        if days > self.fired.get(q.name, 0):
            self.fired[q.name] = days
            signals.append(self._pattern(q, totals, days, window, usual))
        if days and q.lasting and f"{q.name}.lasting" not in self.fired:
            signals += self._lasting(q, totals, at_least)
        if q.weekly:
            signals += self._weekly(q, totals, ctx)
        if q.daily and daily and f"{q.name}.day" not in self.fired:
            signals += self._daily(q, totals, ctx)
        return signals

    def _daily(self, q: Quantity, totals: DailyTotals, ctx: Context) -> list[Signal]:
        """Today beyond the peers' user-days and twice the user's usual day: "how much" evidence (the `peer`
        family), once a day."""
        group = ctx.profile.peer_group
        peers = ctx.population.peer(group)
        if not peers.knows(q.name) or totals.today <= max(peers.threshold(q.name, q.least_spread), 2 * totals.usual()):
            return []
        self.fired[f"{q.name}.day"] = totals.today
        return [Signal(
            name=f"peer.{q.name}",
            family="peer",
            points=self.points,
            reason=f"{q.total.format(n=totals.today)} today, where peers ({group}) average "
                   f"{peers.mean(q.name):.1f} ± {peers.spread(q.name, q.least_spread):.1f} a day",
            observed=totals.today,
            expected=round(peers.mean(q.name), 1),
            technique=q.technique,
        )]

    def _pattern(self, q: Quantity, totals: DailyTotals, days: int, window: int, usual: float) -> Signal:
        return Signal(
            name=f"pattern.{q.name}",
            family=self.family,
            points=round(min(self.points * (1 + 0.2 * max(days - 3, 0)), 30.0), 2),
            reason=f"{q.what} on {days} of the last {window} working days ({totals.recent_sum(window):.0f} {q.unit} "
                   f"in all), usually on {usual:.0%} of days",
            observed=days,
            expected=round(usual * window, 1),
            technique=q.technique,
        )

    def _lasting(self, q: Quantity, totals: DailyTotals, at_least: float) -> list[Signal]:
        for window, needed in q.lasting:
            if q.partial:  # read over the days there are
                window = min(window, len(totals.days))
            days = totals.trace_days(window, at_least)
            if days >= needed and len(totals.days) >= window:
                self.fired[f"{q.name}.lasting"] = days
                return [Signal(
                    name=f"lasting.{q.name}",
                    family="lasting",
                    points=self.lasting_points,
                    reason=f"a habit: {q.what} on {days} of the last {window} working days "
                           f"({totals.recent_sum(window):.0f} {q.unit} in all)",
                    observed=days,
                    expected=needed,
                    technique=q.technique,
                )]
        return []

    def _weekly(self, q: Quantity, totals: DailyTotals, ctx: Context) -> list[Signal]:
        peers, group = ctx.population.peer(ctx.profile.peer_group), ctx.profile.peer_group
        days = totals.days[-WEEK:]
        week = sum(days)
        norm = peers.week_threshold(q.name) if peers.warm else math.inf
        own = 3 * max(totals.usual(), q.trace / 2) * WEEK if len(totals.days) > WEEK + 3 else 0.0
        spread = sum(v > 0 for v in days) >= 3 and max(days) < week / 2
        key = f"{q.name}.week"
        if not spread or week <= max(norm, own) or week < 2 * self.fired.get(key, 0.0):
            return []
        self.fired[key] = week
        peers_week = peers.mean(q.name) * WEEK
        return [Signal(
            name=f"cumulative.{q.name}",
            family="cumulative",
            points=self.sum_points,
            reason=f"{q.total.format(n=week)} in the last {WEEK} working days, where peers ({group}) average {peers_week:.0f}",
            observed=week,
            expected=round(peers_week, 1),
            technique=q.technique,
        )]

    def state(self) -> list:
        state = [{name: t.state() for name, t in self.totals.items()}, format(self.counter.bitmap, "x"), self.fired]
        return state + [self.ground] if self.ground else state

    def restore(self, state: list | None) -> Persistence:
        if state and isinstance(state[0], dict):
            for name, totals in self.totals.items():
                totals.restore(state[0].get(name))
                totals.roll(state[0]["outside"][0])  # a quantity saved before it was kept starts today
            self.counter.bitmap = int(state[1], 16)
            self.fired = dict(state[2])
            self.ground = state[3] if len(state) > 3 else None
        return self
