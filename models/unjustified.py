"""Customer records touched with no ticket of that customer assigned to the user."""

from __future__ import annotations

from models.context import Context
from models.event import AccessEvent
from models.signal import T1213, Signal, escalation_points
from models.volume import TOUCH_ACTIONS
from models.window import DAY

#: Unjustified touches in one day at which the signal fires, then escalates.
LEVELS = (4, 12, 30, 75, 180)


class UnjustifiedAccess:
    """Counts touches of customers on none of the user's tickets, per event-time day.

    A support agent looks up the odd customer without a ticket; dozens in a
    day is harvesting. Judged only for users with ticket assignments at all
    (no ticket feed, no verdict).

    Examples
    --------
    >>> from models.context import Context, TicketBook
    >>> from models.population import Population
    >>> from models.event import AccessEvent
    >>> book = TicketBook()
    >>> book.assign("C1", opened=0)
    >>> ctx, signal = Context(Population(), tickets=book), UnjustifiedAccess()
    >>> [signal.observe(AccessEvent("e", 10, "ann", "record.view", record_id="C1"), ctx)]
    [[]]
    >>> fired = [s for i in range(5) for s in signal.observe(AccessEvent("e", 20 + i, "ann", "record.view", record_id=f"X{i}"), ctx)]
    >>> fired[0].reason
    'touched 4 customer records with no ticket assigned today (X0, X1, X2, …)'

    """

    family = "unjustified"

    def __init__(self, points: float = 18.0) -> None:
        self.points = points
        self.day = -1
        self.count = 0
        self.level = 0
        self.examples: list[str] = []
        self.last_unjustified = False  # read by the detector for the hour profile

    def observe(self, event: AccessEvent, ctx: Context) -> list[Signal]:
        self.last_unjustified = False
        day = int(event.ts // DAY)
        if day > self.day:
            self.day, self.count, self.level, self.examples = day, 0, 0, []
        if event.record_id is None or event.action not in TOUCH_ACTIONS or not ctx.tickets:
            return []
        if ctx.tickets.covers(event.record_id, event.ts):
            return []
        self.last_unjustified = True
        self.count += 1
        if len(self.examples) < 3:
            self.examples.append(event.record_id)
        if self.level >= len(LEVELS) or self.count < LEVELS[self.level]:
            return []
        first = self.level == 0
        self.level += 1
        shown = ", ".join(self.examples) + (", …" if self.count > len(self.examples) else "")
        return [Signal(
            name="unjustified",
            family=self.family,
            points=escalation_points(self.points, first),
            reason=f"touched {self.count} customer records with no ticket assigned today ({shown})",
            observed=self.count,
            expected=0,
            technique=T1213,
        )]

    def state(self) -> list:
        return [self.day, self.count, self.level, self.examples]

    def restore(self, state: list | None) -> UnjustifiedAccess:
        if state:
            self.day, self.count, self.level, self.examples = state
        return self
