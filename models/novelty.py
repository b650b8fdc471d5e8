"""First-seen values of a user's access context, weighted by how rare they are in the organisation."""

from __future__ import annotations

from models.context import Context
from models.event import AccessEvent
from models.signal import T1078, T1213, Signal

#: Facets watched for novelty: risk points of a first sighting, and the technique it suggests.
FACETS = {
    "device": (12.0, T1078),
    "src_ip": (8.0, T1078),
    "app": (6.0, ""),
    "resource": (10.0, T1213),
    "action": (8.0, ""),
}


class FirstSeen:
    """Remembers the last few values of each facet per user and flags new ones.

    A value most of the organisation already uses (a tool rolled out to all)
    weighs little; one nobody uses weighs fully. Each facet keeps at most
    `capacity` values, the least recently seen evicted first. A user is
    judged after `warmup` events, and a facet only once it has a value.

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

    """

    family = "novelty"

    def __init__(self, capacity: int = 6, warmup: int = 20) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.warmup = warmup
        self.seen: dict[str, list[str]] = {}  # facet -> values, most recent last
        self.events = 0
        self.fresh = 0  # new values in the current event (read by the detector)

    def observe(self, event: AccessEvent, ctx: Context) -> list[Signal]:
        signals = []
        judged = self.events >= self.warmup
        self.events += 1
        self.fresh = 0
        for facet, (points, technique) in FACETS.items():
            value = getattr(event, facet)
            if value is None:
                continue
            known = self.seen.get(facet)
            if known is None:
                known = self.seen[facet] = []
            elif known and known[-1] == value:
                continue  # the usual case: same as last time, already most recent
            if value in known:
                known.remove(value)
            else:
                if judged and known:
                    self.fresh += 1
                    prevalence = ctx.population.prevalence(facet, value)
                    signals.append(Signal(
                        name=f"first_seen.{facet}",
                        family=self.family,
                        points=round(points * (1 - 0.8 * prevalence), 2),
                        reason=f"first time {_verb(facet)} {value} (known: {', '.join(known[-3:])})"
                               + (f"; {prevalence:.0%} of the organisation uses it" if prevalence >= 0.05 else ""),
                        observed=value,
                        expected=len(known),
                        technique=technique,
                    ))
                ctx.population.adopt(facet, value)
            known.append(value)
            del known[: -self.capacity]
        return signals

    def state(self) -> list:
        return [self.events, self.seen]

    def restore(self, state: list | None) -> FirstSeen:
        if state:
            self.events, self.seen = state
        return self


def _verb(facet: str) -> str:
    return {"device": "from device", "src_ip": "from IP", "app": "using app", "resource": "touching",
            "action": "doing"}[facet]
