"""Customers read outside the user's tickets in an hour the user is rarely active: what and when at once."""

from __future__ import annotations

from models.context import Context
from models.distinct import LinearCounter
from models.event import AccessEvent
from models.rhythm import WeeklyRhythm
from models.signal import T1213, Signal, escalation_points
from models.window import DAY


class OutsideAtRareHours:
    """Distinct customers on none of the user's tickets, read in hours rare for them, per event-time day.

    An odd hour and a few customers off one's tickets are each ordinary on
    their own, and count as two kinds of evidence that stay at *medium*. The
    same customers read *in* that odd hour are the night-time harvest: the
    session is there for them. It fires at `at_least` customers, and again
    each time the day's count doubles, while they are at least half of what
    the user read in rare hours today: the first day of a shift moved to
    another time zone is all rare hours, mostly on tickets, and a few lookups
    in it are that day's, not a session's. The hour is rare as `rhythm` (the
    detector's own `WeeklyRhythm`, observed first) judged it, so hours that
    have settled into a new routine (a transfer, a week on call) do not count.

    Examples
    --------
    >>> from models.context import Context
    >>> from models.population import Population
    >>> from models.event import AccessEvent
    >>> rhythm = WeeklyRhythm()
    >>> ctx, odd = Context(Population()), OutsideAtRareHours(rhythm)
    >>> def read(customer, rare):
    ...     rhythm.rare, ctx.justified = rare, False  # as the rhythm and the detector leave them
    ...     return odd.observe(AccessEvent("e", 3600, "ann", "record.view", record_id=customer), ctx)
    >>> [read(c, rare=False) for c in ("C1", "C2", "C3")]
    [[], [], []]
    >>> [s.reason for c in ("C4", "C5", "C6") for s in read(c, rare=True)]
    ['read 3 customers outside their tickets in hours they are rarely active (C4, C5, C6)']

    """

    family = "offhours"

    def __init__(self, rhythm: WeeklyRhythm, points: float = 15.0, at_least: int = 3) -> None:
        self.rhythm = rhythm
        self.points = points
        self.at_least = at_least
        self.day = -1
        self.customers = LinearCounter()  # today's, outside tickets and in rare hours
        self.examples: list[str] = []
        self.fired_at = 0  # the count at the last firing today; 0 = not fired
        self.on_tickets = 0  # today's reads in rare hours of customers on the user's tickets

    def observe(self, event: AccessEvent, ctx: Context) -> list[Signal]:
        if ctx.justified is None:
            return []
        day = int(event.ts // DAY)
        if day > self.day:  # on any touch of a new day, so that yesterday's customers are not kept
            self.day, self.examples, self.fired_at, self.on_tickets = day, [], 0, 0
            self.customers.clear()
        if not self.rhythm.rare:
            return []
        if ctx.justified:
            self.on_tickets += 1
            return []
        if not self.customers.add_bit(ctx.customer_bit(event.record_id)):
            return []
        if len(self.examples) < 3:
            self.examples.append(event.record_id)
        count = round(self.customers.estimate())
        if count < max(self.at_least, 2 * self.fired_at, self.on_tickets):
            return []
        first, self.fired_at = not self.fired_at, count
        # As for any customers off tickets: a team that looks them up together is having the team's day.
        weight = ctx.population.day_weight("outside", day, *ctx.profile.groups, since_yesterday=True)
        if weight * self.points < 1:
            return []
        return [Signal(
            name="offhours.outside",
            family=self.family,
            points=round(escalation_points(self.points, first) * weight, 2),
            reason=f"read {count} customers outside their tickets in hours they are rarely active "
                   f"({', '.join(self.examples)}{', …' if count > len(self.examples) else ''})",
            observed=count,
            expected=0,
            technique=T1213,
        )]

    def state(self) -> list:
        return [self.day, format(self.customers.bitmap, "x"), self.examples, self.fired_at, self.on_tickets]

    def restore(self, state: list | None) -> OutsideAtRareHours:
        if state:
            self.day, bitmap, self.examples, self.fired_at, self.on_tickets = state
            self.customers.bitmap = int(bitmap, 16)
        return self
