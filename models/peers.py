"""The user against their peer group: records and searches per day, as the peers usually do."""

from __future__ import annotations

from models.context import Context
from models.event import AccessEvent
from models.signal import T1213, Signal, escalation_points
from models.volume import TOUCH_ACTIONS
from models.window import DAY, MIN_UNEXPLAINED


class PeerDeviation:
    """Compares a user's day so far with the peer group's user-days (role, else team).

    It is also the baseline of a new hire from their first day: nobody has a
    silent warm-up period. Each closed day but a user's first (which began
    when they joined, or when Vigil did: rarely a whole day) is taught to the
    peer baseline. With a ticket feed, points are weighed by the share of the
    day's records that no ticket of the user explains.

    Examples
    --------
    >>> from models.context import Context, Profile
    >>> from models.population import Population
    >>> from models.event import AccessEvent
    >>> population = Population()
    >>> for _ in range(20):
    ...     population.peer("agent").learn("records", 30, day=0)
    ...     population.peer("agent").learn("searches", 2, day=0)
    >>> ctx = Context(population, Profile(role="agent"))
    >>> peer = PeerDeviation()
    >>> fired = [s for i in range(30) for s in peer.observe(
    ...     AccessEvent("e", i, "new", "record.search", records=10), ctx)]
    >>> [s.name for s in fired]
    ['peer.records', 'peer.searches', 'peer.records', 'peer.searches', 'peer.records']

    """

    family = "peer"

    def __init__(self, points: float = 15.0) -> None:
        self.points = points
        self.day = -1
        self.records = 0.0
        self.searches = 0.0
        self.fired = {"records": 0.0, "searches": 0.0}
        self.group = ""
        self.first_day = -1
        self.unexplained = 0.0  # today's records no ticket explains

    def observe(self, event: AccessEvent, ctx: Context) -> list[Signal]:
        day = int(event.ts // DAY)
        if day > self.day:
            if self.day > self.first_day >= 0 and self.group:
                peers = ctx.population.peer(self.group)
                peers.learn("records", self.records, self.day)
                peers.learn("searches", self.searches, self.day)
            if self.first_day < 0:
                self.first_day = day
            self.day, self.records, self.searches, self.unexplained = day, 0.0, 0.0, 0.0
            self.fired = {"records": 0.0, "searches": 0.0}
        self.group = ctx.profile.peer_group
        if event.action not in TOUCH_ACTIONS:
            return []
        self.records += event.records
        if ctx.justified is not True:
            self.unexplained += event.records
        if event.action == "record.search":
            self.searches += 1
        share = self.unexplained / self.records if self.records else 1.0
        if share < MIN_UNEXPLAINED:
            return []
        peers = ctx.population.peer(self.group)
        if not peers.warm:
            return []
        signals = []
        for name, value, unit in (("records", self.records, "records"), ("searches", self.searches, "searches")):
            last = self.fired[name]
            if value >= 2 * last and value > peers.threshold(name):
                self.fired[name] = value
                signals.append(Signal(
                    name=f"peer.{name}",
                    family=self.family,
                    points=round(escalation_points(self.points, first=not last) * share, 2),
                    reason=f"{value:.0f} {unit} today where peers ({self.group}) make "
                           f"{peers.mean(name):.0f} ± {peers.spread(name):.0f} in a day",
                    observed=value,
                    expected=round(peers.mean(name), 1),
                    technique=T1213,
                ))
        return signals

    def state(self) -> list:
        return [self.day, self.records, self.searches, self.fired["records"], self.fired["searches"], self.group,
                self.first_day, self.unexplained]

    def restore(self, state: list | None) -> PeerDeviation:
        if state:
            self.day, self.records, self.searches, fr, fs, self.group = state[:6]
            self.fired = {"records": fr, "searches": fs}
            if len(state) > 6:
                self.first_day, self.unexplained = state[6], state[7]
        return self
