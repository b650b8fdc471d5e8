"""Departure look-back: once someone is leaving or watched, what they moved out and read in the past month."""

from __future__ import annotations

from datetime import datetime, timezone

from models.context import Context
from models.persistence import QUANTITIES, Persistence
from models.signal import T1213, T1567, Signal


class DepartureLookback:
    """Reads a leaving or watch-listed user's last 30 active days (Microsoft Purview and Code42 do the same).

    On every event while the directory says the user is leaving within
    `window_days` or is on the watch list, the month's customers read outside
    tickets and records moved out are compared with what the peer group
    does in as many days. Anything above it is raised with the totals the
    moment it is, today's included, and raised again only when a total has
    doubled. A month no bigger than the week the cumulative sum raised today
    is left to that sum: a user's first week, counted twice, is not two kinds
    of evidence.

    Examples
    --------
    >>> from models.context import Context, Profile
    >>> from models.population import Population
    >>> memory = Persistence()
    >>> memory.totals["moved"].days = [0, 0, 120, 0, 300, 0, 250]  # active days' records moved out, today last
    >>> ctx = Context(Population(), Profile(role="agent", leaving=40 * 86400))
    >>> [s.reason for s in DepartureLookback().observe(memory, ctx, ts=20 * 86400)]
    ['leaving on 1970-02-10: moved 670 records out in the last 7 active days, where peers move 0']

    """

    family = "lookback"

    def __init__(self, points: float = 30.0, window_days: float = 30.0) -> None:
        self.points = points
        self.window = window_days * 86400
        self.reported = [0.0, 0.0]  # outside, moved: the totals last raised

    def observe(self, memory: Persistence, ctx: Context, ts: float) -> list[Signal]:
        profile = ctx.profile
        if profile.leaving is None and not profile.tags:  # nearly everyone, on every event
            return []
        leaving = profile.leaving is not None and ts >= profile.leaving - self.window
        if not (leaving or "watchlist" in profile.tags):
            return []
        peers = ctx.population.peer(profile.peer_group)
        found = []
        for which, q in enumerate(q for q in QUANTITIES if q.weekly):
            totals = memory.totals[q.name]
            days, total = len(totals.days), sum(totals.days)
            said_this_week = memory.fired.get(f"{q.name}.week", 0.0)  # by the cumulative sum, today
            if days < 3 or total < 2 * self.reported[which] or total <= said_this_week:
                continue
            if total <= peers.week_threshold(q.name, days=days):
                continue
            self.reported[which] = total
            found.append((which, q.total.format(n=total), f"{('read', 'move')[which]} {peers.mean(q.name) * days:.0f}"))
        if not found:
            return []
        why = (f"leaving on {datetime.fromtimestamp(profile.leaving, timezone.utc):%Y-%m-%d}" if leaving
               else "on the watch list")
        what = " and ".join(text for _, text, _ in found)
        norms = " and ".join(norm for *_, norm in found)
        return [Signal(
            name="lookback.departure" if leaving else "lookback.watchlist",
            family=self.family,
            points=self.points,
            reason=f"{why}: {what} in the last {len(memory.totals['moved'].days)} active days, where peers {norms}",
            observed=what,
            expected=norms,
            technique=T1567 if found[-1][0] == 1 else T1213,
        )]

    def state(self) -> list:
        return self.reported

    def restore(self, state: list | None) -> DepartureLookback:
        """From `state`, or from a state saved when the look-back judged once a day (``[day, reported]``).

        >>> DepartureLookback().restore([20, [0.0, 670]]).state(), DepartureLookback().restore([0.0, 670]).state()
        ([0.0, 670], [0.0, 670])
        """
        if state:
            self.reported = list(state[-1] if isinstance(state[-1], list) else state)
        return self
