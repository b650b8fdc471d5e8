"""One read that brings back far more records than the user's reads do: a search for everyone, a list pulled whole."""

from __future__ import annotations

import math

from river import stats

from models.context import Context
from models.event import AccessEvent
from models.signal import T1213, Signal, escalation_points
from models.variance import reweigh, variance_from
from models.volume import TOUCH_ACTIONS
from models.window import DAY


class BulkRead:
    """Records returned by one search or list read, against the user's own earlier ones.

    A support agent's search finds a customer or a handful; a wildcard search
    that returns dozens at a time is a harvest however few such searches a day
    holds. Each read of more than one record is compared with the user's
    earlier ones: above ``mean + z * spread`` (the spread at least the Poisson
    ``sqrt(mean)``) and at least `floor` records, it is evidence of what they
    did. It fires once a day, and again each time the day's records in such
    reads double. A bulk read is learned at the threshold and a quarter
    weight, so a harvest does not become the user's normal within a day, while
    a real change of work does within weeks. Until `warmup` reads of the
    user's are known, the read is judged against the peer group's largest read
    of a day (their days with such reads, the first of each member's left out).

    Examples
    --------
    >>> from models.context import Context
    >>> from models.population import Population
    >>> from models.event import AccessEvent
    >>> ctx, bulk = Context(Population()), BulkRead()
    >>> for day in range(10):
    ...     _ = bulk.observe(AccessEvent("s", day * 86400, "ann", "record.search", records=3 + day % 4), ctx)
    >>> bulk.observe(AccessEvent("s", 10 * 86400, "ann", "record.search", records=8), ctx)
    []
    >>> [s.reason for s in bulk.observe(AccessEvent("s", 10 * 86400 + 60, "ann", "record.search", records=45), ctx)]
    ['record.search returned 45 records at once (45 in such reads today); their reads return 5 ± 2']

    """

    family = "bulk"

    def __init__(self, points: float = 20.0, z: float = 4.0, floor: float = 20.0, warmup: int = 5,
                 memory: int = 60) -> None:
        self.points = points
        self.z = z
        self.floor = floor
        self.warmup = warmup
        self.memory = memory
        self.sizes = stats.Var()  # records per read of more than one
        self.day = -1
        self.days = 0  # active days with such reads (the first is not complete: it is not taught to the peers)
        self.largest = 0.0  # today's largest read
        self.today = 0.0  # records in today's bulk reads
        self.fired_at = 0.0  # `today` at the last firing; 0 = not fired today

    def observe(self, event: AccessEvent, ctx: Context) -> list[Signal]:
        if event.records <= 1 or event.action not in TOUCH_ACTIONS:
            return []
        day, group = int(event.ts // DAY), ctx.profile.peer_group
        if day > self.day:
            if self.days > 1:
                ctx.population.peer(group).learn("largest_read", self.largest, self.day)
            self.day, self.days, self.largest, self.today, self.fired_at = day, self.days + 1, 0.0, 0.0, 0.0
        self.largest = max(self.largest, event.records)
        warm = self.sizes.n >= self.warmup
        mean, spread = self.sizes.mean.get(), math.sqrt(max(self.sizes.get(), 0.0))
        threshold = max(mean + self.z * max(spread, math.sqrt(mean)), self.floor) if warm else math.inf
        if not warm and (peers := ctx.population.peer(group)).knows("largest_read"):
            threshold = max(peers.threshold("largest_read"), self.floor)
            mean, spread = peers.mean("largest_read"), peers.spread("largest_read")
        if event.records <= threshold:
            self._learn(event.records)
            return []
        self._learn(min(event.records, threshold), weight=0.25 if warm else 1.0)
        self.today += event.records
        if self.today < 2 * self.fired_at:
            return []
        first, self.fired_at = not self.fired_at, self.today
        return [Signal(
            name="bulk.read",
            family=self.family,
            points=escalation_points(self.points, first),
            reason=f"{event.action} returned {event.records} records at once ({self.today:.0f} in such reads "
                   f"today); " + ("their reads return" if warm else f"the largest of a day for peers ({group}):")
                   + f" {mean:.0f} ± {spread:.0f}",
            observed=event.records,
            expected=round(mean, 1),
            technique=T1213,
        )]

    def _learn(self, records: float, weight: float = 1.0) -> None:
        self.sizes.update(records, w=weight)
        if self.sizes.n > self.memory:
            reweigh(self.sizes, self.memory)

    # -- plain-data state --------------------------------------------------------------
    def state(self) -> list:
        s = self.sizes
        return [s.n, round(s.mean.get(), 2), round(s.get(), 2), self.day, self.days, self.largest, self.today,
                self.fired_at]

    def restore(self, state: list | None) -> BulkRead:
        if state:
            n, mean, variance, self.day, self.days, self.largest, self.today, self.fired_at = state
            self.sizes = variance_from(n, mean, variance)
        return self
