"""First-seen values of a user's access context, weighed by how rare they are and how often the user meets new ones."""

from __future__ import annotations

from operator import attrgetter

from models.context import Context
from models.event import AccessEvent
from models.signal import T1078, T1213, Signal

#: Facets watched for novelty: risk points of a first sighting, the technique it suggests, how many values
#: a user keeps, and the family: where they connect from ("novelty"), or what they reach ("reach").
FACETS = {
    "device": (12.0, T1078, 6, "novelty"),
    "src_ip": (8.0, T1078, 6, "novelty"),
    "app": (6.0, "", 6, "novelty"),
    "resource": (10.0, T1213, 12, "reach"),
    "action": (8.0, "", 16, "reach"),  # every action kind of the contract fits: a known one is never forgotten
}
_facet_values = attrgetter(*FACETS)
_UNKNOWN = (None,) * len(FACETS)  # no latest event (the first, or the first after a restart)
#: Facets whose values met today are counted one by one: many meeting a new report is no rollout of a system
#: one user met. (Addresses, devices, apps and action kinds are met as a kind: an office moving, a connector's
#: first days.)
MET_PER_VALUE = ("resource",)
#: Active days over which a user's own rate of meeting new values is kept.
RATE_DAYS = 16


class FirstSeen:
    """Remembers the last values of each facet per user and flags new ones.

    A new value weighs less when much of the organisation already uses it
    (a tool rolled out to all), but never nothing: a user's first-ever USB
    use still counts. It weighs less the more of the user's recent active
    days brought a new value of the same facet: an admin who meets new
    machines every day is not flagged for the next one. And it weighs less
    when much of the organisation met a new value of the facet today (an
    office moving to new addresses), or of a system, this one (a team
    starting on it). A system none of the user's peers use is new ground
    (`new_system`) even if another department lives in it. A user is judged
    after `warmup` events; their own rate is learned from the first.

    Examples
    --------
    >>> from models.context import Context
    >>> from models.population import Population
    >>> from models.event import AccessEvent
    >>> ctx, seen = Context(Population()), FirstSeen(warmup=3)
    >>> [seen.observe(AccessEvent(f"e{i}", i, "ann", "login", device="laptop-1"), ctx) for i in range(3)]
    [[], [], []]
    >>> [s.reason for s in seen.observe(AccessEvent("e9", 9, "ann", "login", device="pc-77"), ctx)]
    ['first time from device pc-77 (known: laptop-1)']
    >>> roamer = FirstSeen(warmup=3)  # a new machine every day
    >>> [sum(s.points for s in roamer.observe(AccessEvent(f"r{d}", d * 86400, "it", "login", device=f"ws-{d}"), ctx))
    ...  for d in range(8)]
    [0, 0, 0, 0, 0, 0, 0, 0]

    """

    family = "novelty"

    def __init__(self, warmup: int = 20) -> None:
        self.warmup = warmup
        self.seen: dict[str, list[str]] = {}  # facet -> values, most recent last
        self.new_days: dict[str, int] = {}  # facet -> bitmap of the last RATE_DAYS active days: bit 0 today
        self.day = -1
        self.days = 0  # active days seen, up to RATE_DAYS
        self.events = 0
        self.fresh = 0  # new values in the current event (read by the detector)
        #: A system the current event touched for the first time, judged, that few others use or met today.
        self.new_system: str | None = None
        self._last: tuple | None = None  # the facets of the user's latest event

    def observe(self, event: AccessEvent, ctx: Context) -> list[Signal]:
        day = int(event.ts // 86400)
        if day > self.day:
            self._new_day(day)
        judged = self.events >= self.warmup
        self.events += 1
        self.fresh, self.new_system = 0, None
        values = _facet_values(event)
        last = self._last
        if values == last:
            return []  # the usual case: every facet as last time, already most recent
        self._last = values
        signals = []
        seen = self.seen
        for facet, value, before in zip(FACETS, values, last or _UNKNOWN):
            if value is None or value == before:  # as in the user's latest event: already their most recent
                continue
            known = seen.get(facet)
            if known is None:
                known = seen[facet] = []
            elif known and known[-1] == value:
                continue
            if value in known:
                known.remove(value)
            else:
                if known and (signal := self._meet(facet, value, known, judged, ctx, day)) is not None:
                    signals.append(signal)
                ctx.population.adopt(facet, value, ctx.profile.peer_group)
            known.append(value)
            del known[:-FACETS[facet][2]]
        return signals

    def _meet(self, facet: str, value: str, known: list[str], judged: bool, ctx: Context, day: int) -> Signal | None:
        """A value of `facet` new to a user who knew others: counted in their novelty rate, and judged."""
        rate, bits = self._rate(facet), self.new_days.get(facet, 0)
        self.new_days[facet] = bits | 1
        per_value = facet in MET_PER_VALUE
        if per_value or not bits & 1:  # each system met; of other facets, the first new value today
            ctx.population.met_new(facet, day, ctx.profile.peer_group, value if per_value else None)
        if not judged:
            return None
        self.fresh += 1
        points, technique, _, family = FACETS[facet]
        return self._signal(facet, value, known, points * (1 - rate) ** 2, technique, family, ctx, day)

    def _new_day(self, day: int) -> None:
        # Active days, not calendar days: after a week off, last week's novelty is still recent.
        mask = (1 << RATE_DAYS) - 1
        self.new_days = {f: (bits << 1) & mask for f, bits in self.new_days.items() if (bits << 1) & mask}
        self.day = day
        self.days = min(self.days + 1, RATE_DAYS)

    def _rate(self, facet: str) -> float:
        """Share of the user's recent active days (today included) that brought a new value of `facet`."""
        return (self.new_days.get(facet, 0) | 1).bit_count() / max(self.days, 1) if self.days > 1 else 0.0

    def _signal(self, facet, value, known, points, technique, family, ctx: Context, day: int) -> Signal | None:
        group = ctx.profile.peer_group
        prevalence = ctx.population.prevalence(facet, value, group)
        among_peers = ctx.population.peer_prevalence(facet, value, group)
        # Share of today's active users who met a new value of it (of this one, for a system).
        shared = ctx.population.new_today(facet, day, group, value if facet in MET_PER_VALUE else None)
        weight = points * (1 - 0.6 * prevalence) * (1 - shared)
        if weight < 1:
            return None
        context = []
        peers_use_it = (prevalence if among_peers is None else among_peers) >= 0.05
        if prevalence >= 0.05:
            context.append(f"{prevalence:.0%} of the organisation or of their peers use it" if peers_use_it else
                           f"{prevalence:.0%} of the organisation use it, hardly any of their peers")
        if shared >= 0.1:
            context.append(f"{shared:.0%} of people met a new {facet.replace('_', ' ')} today")
        if facet == "resource" and not peers_use_it and shared < 0.1:
            self.new_system = value  # new ground among their peers, on a day hardly anyone met one: not a rollout
        return Signal(
            name=f"first_seen.{facet}",
            family=family,
            points=round(weight, 2),
            reason=f"first time {_verb(facet)} {value} (known: {', '.join(known[-3:])})"
                   + "".join(f"; {c}" for c in context),
            observed=value,
            expected=len(known),
            technique=technique,
        )

    def state(self) -> list:
        return [self.events, self.seen, self.new_days, self.day, self.days]

    def restore(self, state: list | None) -> FirstSeen:
        self._last = None
        if state:
            self.events, self.seen = state[0], state[1]
            if len(state) > 2:
                self.new_days, self.day, self.days = state[2], state[3], state[4]
        return self


def _verb(facet: str) -> str:
    return {"device": "from device", "src_ip": "from IP", "app": "using app", "resource": "touching",
            "action": "doing"}[facet]
