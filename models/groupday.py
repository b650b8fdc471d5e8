"""Today's evidence of deeds a group can share, weighed again as the group's share of the day forms."""

from __future__ import annotations

from models.context import DAY, Context
from models.recurrence import GROUP_DEED
from models.risk import RiskLedger


class GroupDayPoints:
    """The points each group deed's family added to a user's ledger today, taken back as their group joins in.

    A deed much of the user's peer group or team does the same day (a
    quarter's reports, an incident's lookups) is the group's day, and its
    signals are weighed by the group's share as they fire. But the first
    members to act fire before that share has formed: a billing specialist
    whose quarterly report comes an hour before the rest of billing's keeps
    the full points of it. This keeps each of today's additions with the
    day's weight when it was added; when a later event finds the weight
    lower, the difference is taken back from the ledger, faded as the
    points themselves are. Only a day beyond the group's usual share of the
    deed takes anything back: a few of a team moving records out is an
    ordinary day. An alert already raised stays raised.

    Examples
    --------
    >>> from models.population import Population
    >>> population, ledger = Population(), RiskLedger(half_life=86400)
    >>> ctx, points = Context(population), GroupDayPoints(half_life=86400)
    >>> ledger.add("exfil", 30, ts=3600, reason="moved 600 records out today", technique="")
    30.0
    >>> points.added("exfil", 30, 3600, ctx)  # the first of the group: nobody else has yet
    >>> for member in range(5):  # four more of five at work do the same that morning
    ...     population.arrive(0, *ctx.profile.groups)
    ...     if member < 4:
    ...         population.did("moved", 0, *ctx.profile.groups)
    >>> points.reweigh(7200, ledger, ctx)
    >>> round(ledger.get(7200), 1)
    0.0

    """

    def __init__(self, half_life: float) -> None:
        self.half_life = half_life
        self.day = -1
        # family -> today's additions as [points, the day's weight when added], points as at the day's start
        # (faded back), so that additions at one weight are one row.
        self.added_today: dict[str, list[list[float]]] = {}

    def added(self, family: str, points: float, ts: float, ctx: Context) -> None:
        """`points` of a group deed's `family` went into the ledger at `ts`."""
        day = int(ts // DAY)
        if day != self.day:
            self.day, self.added_today = day, {}
        weight = self._weight(family, day, ctx, beyond_usual=False)  # as the signals weighed it
        if weight > 0:  # nothing to take back from a deed the group's day already weighed at nothing
            self._put(family, points * 2 ** ((ts - day * DAY) / self.half_life), weight)

    def reweigh(self, ts: float, ledger: RiskLedger, ctx: Context) -> None:
        """Take back from `ledger` what today's additions lose to the group's share of the day as it is now."""
        if int(ts // DAY) != self.day:
            self.added_today = {}
            return
        for family, rows in list(self.added_today.items()):
            now = self._weight(family, self.day, ctx, beyond_usual=True)
            if now >= rows[0][1]:  # rows are kept by weight, highest first
                continue
            del self.added_today[family]
            for points, then in rows:
                if now < then:
                    ledger.take(family, points * (1 - now / then), since=self.day * DAY, ts=ts)
                    points, then = points * now / then, now
                if then > 0:
                    self._put(family, points, then)

    def forget(self, family: str) -> None:
        """The ledger dropped `family` (an analyst's benign verdict): nothing of it is left to take back."""
        self.added_today.pop(family, None)

    def _put(self, family: str, points: float, weight: float) -> None:
        rows = self.added_today.setdefault(family, [])
        for row in rows:
            if row[1] == weight:
                row[0] += points
                return
        rows.append([points, weight])
        rows.sort(key=lambda row: -row[1])

    @staticmethod
    def _weight(family: str, day: int, ctx: Context, beyond_usual: bool) -> float:
        return round(ctx.population.day_weight(GROUP_DEED[family], day, *ctx.profile.groups, beyond_usual=beyond_usual,
                                               since_yesterday=True), 3)

    def state(self) -> list:
        if not self.added_today:
            return []
        return [self.day, {f: [[round(p, 2), w] for p, w in rows] for f, rows in self.added_today.items()}]

    def restore(self, state: list | None) -> GroupDayPoints:
        if state:
            self.day, added = state
            self.added_today = {f: [list(row) for row in rows] for f, rows in added.items()}
        return self
