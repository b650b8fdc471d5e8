"""Customer records touched with no ticket of that customer assigned to the user."""

from __future__ import annotations

from models.context import Context
from models.distinct import LinearCounter
from models.event import AccessEvent
from models.population import shared_day_weight
from models.signal import T1213, Signal, escalation_points
from models.volume import TOUCH_ACTIONS
from models.window import DAY

#: Distinct customers touched without a ticket in one day at which the signal fires, then escalates: each time
#: the count doubles, as every count of the detector escalates.
LEVELS = (3, 6, 12, 24, 48, 96, 192, 384)


class UnjustifiedAccess:
    """Counts the distinct customers a user touched that are on none of their tickets, per event-time day.

    A support agent looks up the odd customer without a ticket; dozens in a
    day is harvesting. Judged only for users with ticket assignments at all
    (no ticket feed, no verdict). The detector tells it (``ctx.justified``)
    whether the event's customer is on a ticket of the user's.

    Examples
    --------
    >>> from models.context import Context, TicketBook
    >>> from models.population import Population
    >>> from models.event import AccessEvent
    >>> book = TicketBook()
    >>> book.assign("C1", opened=0)
    >>> ctx, signal = Context(Population(), tickets=book), UnjustifiedAccess()
    >>> def observe(event):
    ...     ctx.justified = justified(event, ctx)  # as the detector does, once per event
    ...     return signal.observe(event, ctx)
    >>> observe(AccessEvent("e", 10, "ann", "record.view", record_id="C1"))
    []
    >>> fired = [s for i in range(8) for s in observe(AccessEvent("e", 20 + i, "ann", "record.view", record_id=f"X{i % 4}"))]
    >>> fired[0].reason
    'touched 3 customers with no ticket of theirs today (X0, X1, X2)'

    """

    family = "unjustified"

    def __init__(self, points: float = 18.0) -> None:
        self.points = points
        self.day = -1
        self.customers = LinearCounter()  # today's, outside tickets
        self.level = 0
        self.examples: list[str] = []
        self.last_unjustified = False  # read by the detector for the hour profile

    def observe(self, event: AccessEvent, ctx: Context) -> list[Signal]:
        self.last_unjustified = False
        day = int(event.ts // DAY)
        if day > self.day:
            self.day, self.level, self.examples = day, 0, []
            self.customers.clear()
        if ctx.justified is not False:
            return []
        self.last_unjustified = True
        if not self.customers.add_bit(ctx.customer_bit(event.record_id)):
            return []  # a customer already counted today
        if len(self.examples) < 3:
            self.examples.append(event.record_id)
        count = round(self.customers.estimate())
        if self.level >= len(LEVELS) or count < LEVELS[self.level]:
            return []
        first = self.level == 0
        self.level += 1
        shown = ", ".join(self.examples) + (", …" if count > len(self.examples) else "")
        # A team in an incident looks up more customers off its tickets together: that is the team's day.
        together = ctx.population.share("outside", day, *ctx.profile.groups, since_yesterday=True)
        weight = shared_day_weight(together)
        if weight * self.points < 1:
            return []
        return [Signal(
            name="unjustified",
            family=self.family,
            points=round(escalation_points(self.points, first) * weight, 2),
            reason=f"touched {count} customers with no ticket of theirs today ({shown})"
                   + (f"; {together:.0%} of their peers or team did so today" if together else ""),
            observed=count,
            expected=0,
            technique=T1213,
        )]

    def state(self) -> list:
        return [self.day, format(self.customers.bitmap, "x"), self.level, self.examples]

    def restore(self, state: list | None) -> UnjustifiedAccess:
        if state:
            self.day, bitmap, self.level, self.examples = state
            self.customers.bitmap = int(bitmap, 16) if isinstance(bitmap, str) else 0
        return self


def justified(event: AccessEvent, ctx: Context) -> bool | None:
    """Whether a ticket of the user's covers the customer the event touches; None where that cannot be judged
    (not a touch of a customer record, or no ticket feed for this user)."""
    if event.record_id is None or event.action not in TOUCH_ACTIONS or ctx.tickets is None or not ctx.tickets.customers:
        return None
    return ctx.tickets.covers(event.record_id, event.ts)
