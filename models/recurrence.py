"""Memory across days of the evidence itself: a user whose working days keep carrying evidence of what they did."""

from __future__ import annotations

from models.context import Context
from models.persistence import DailyTotals, improbable_days
from models.signal import T1213, T1567, Signal

#: Families whose evidence says what a user did with data, and how a reason names them.
DEEDS = {
    "unjustified": "customers outside their tickets",
    "exfil": "records moved out",
    "reach": "a system or action new to them",
    "privilege": "a privilege change",
}
#: The deeds a group can share a day of, by the population's name for them.
GROUP_DEED = {"unjustified": "outside", "exfil": "moved"}
#: (working days, days with evidence needed): two of the last four, or three of the last ten.
WINDOWS = ((4, 2), (10, 3))


class Recurrence:
    """Days whose evidence of deeds reached `trace` points, read as a pattern across working days.

    `Persistence` reads each quantity on its own, so a user who does
    something different each time (a system never touched on Monday, another
    on Thursday), or whose every day stays under a quantity's trace, never
    forms a pattern there. This reads what the detector made of the day: the
    points its deed families (`DEEDS`) added before the directory's
    modifiers, each capped as the ledger caps a family. A day worth more than
    one firing (`trace`: customers outside tickets fire at 18 points, records
    moved out at 20, and many an honest day holds one) on two of the last
    four working days, or three of the last ten, is a pattern when that many
    is improbable at the user's own earlier rate of such days, shrunk to
    `prior`: a team lead whose Friday report raises evidence every week is
    not flagged for the next one, a user whose month held none is.

    Examples
    --------
    >>> from models.context import Context
    >>> from models.population import Population
    >>> ctx, memory = Context(Population()), Recurrence()
    >>> for day in range(20):  # four quiet weeks: nothing but ordinary days
    ...     memory.roll(day, ctx)
    >>> memory.observe(19, [("reach", 6.0), ("unjustified", 18.0)], ctx, cap=30)  # a new system, read off tickets
    []
    >>> memory.roll(20, ctx)
    >>> [s.reason for s in memory.observe(21, [("reach", 7.0), ("unjustified", 18.0)], ctx, cap=30)]  # another
    ['evidence of what they did on 2 of the last 4 working days (today: customers outside their tickets and a system or action new to them), usually on 1% of days']

    """

    family = "pattern"

    def __init__(self, points: float = 25.0, trace: float = 21.0, prior: float = 0.02) -> None:
        self.points = points
        self.trace = trace
        self.prior = prior
        self.days = DailyTotals()  # each active day's points of deed evidence
        self.today: dict[str, float] = {}  # deed family -> its points today, capped
        self.fired = 0  # days with evidence behind today's firing, so a day fires once per new day of evidence

    def roll(self, day: int, ctx: Context) -> None:
        """A new active day (days without evidence count as much as days with it). The day just closed keeps
        of each deed only what the group's day leaves of it: what much of a team or peer group did that day too
        (quarter-end exports, an incident's lookups) was the group's day, not the user's."""
        closed = self.days.day
        if not self.days.roll(day):
            return
        if self.today and len(self.days.days) > 1:
            groups = ctx.profile.groups
            self.days.days[-2] = round(sum(points * (ctx.population.day_weight(GROUP_DEED[f], closed, *groups)
                                                     if f in GROUP_DEED else 1.0) for f, points in self.today.items()), 1)
        self.today, self.fired = {}, 0

    def observe(self, day: int, deeds: list[tuple[str, float]], ctx: Context, cap: float) -> list[Signal]:
        """Add the weighed points of deed evidence (family, points) of an event on `day`; a pattern if the days
        now form one."""
        self.roll(day, ctx)
        for family, points in deeds:
            self.today[family] = min(self.today.get(family, 0.0) + points, cap)
        totals = self.days
        totals.days[-1] = round(sum(self.today.values()), 1)
        if totals.today < self.trace:
            return []
        days, window, usual = improbable_days(totals, self.trace, self.prior, WINDOWS)
        if days <= self.fired:
            return []
        self.fired = days
        what = " and ".join(DEEDS[f] for f, _ in sorted(self.today.items(), key=lambda kv: -kv[1]))
        return [Signal(
            name="pattern.deeds",
            family=self.family,
            points=self.points,
            reason=f"evidence of what they did on {days} of the last {window} working days "
                   f"(today: {what}), usually on {usual:.0%} of days",
            observed=days,
            expected=round(usual * window, 1),
            technique=T1567 if "exfil" in self.today else T1213,
        )]

    def state(self) -> list:
        return [self.days.state(), self.today, self.fired]

    def restore(self, state: list | None) -> Recurrence:
        if state:
            self.days.restore(state[0])
            self.today, self.fired = dict(state[1]), state[2]
        return self
