"""First-seen values of a user's access context: a new device, IP, app or resource."""

from __future__ import annotations

from models.event import AccessEvent
from models.signal import Signal

#: Facets watched for novelty, with the risk points a first sighting adds.
FACET_POINTS = {"device": 12.0, "src_ip": 8.0, "app": 6.0, "resource": 8.0}


class FirstSeen:
    """Remembers the last few values of each facet per user and flags new ones.

    Each facet keeps at most `capacity` values, the least recently seen
    evicted first, so a user roaming over many IPs cannot grow the state. A
    user is judged only after `warmup` events, and a facet only once it has
    a value: a user's first device is not news.

    Parameters
    ----------
    capacity
        Values remembered per facet.
    warmup
        Events of history needed before a new value counts.

    Examples
    --------
    >>> from models.event import AccessEvent
    >>> seen = FirstSeen(warmup=3)
    >>> [seen.observe(AccessEvent(f"e{i}", i, "ann", "login", device="laptop-1")) for i in range(3)]
    [[], [], []]
    >>> [s.reason for s in seen.observe(AccessEvent("e9", 9, "ann", "login", device="pc-77"))]
    ['first time from device pc-77 (known: laptop-1)']

    """

    def __init__(self, capacity: int = 8, warmup: int = 20, facet_points: dict[str, float] | None = None) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.warmup = warmup
        self.facet_points = facet_points or FACET_POINTS
        self.seen: dict[str, list[str]] = {}  # facet -> values, most recent last
        self.events = 0

    def observe(self, event: AccessEvent) -> list[Signal]:
        signals = []
        judged = self.events >= self.warmup
        self.events += 1
        for facet, points in self.facet_points.items():
            value = getattr(event, facet)
            if value is None:
                continue
            known = self.seen.setdefault(facet, [])
            if value in known:
                known.remove(value)
            elif judged and known:
                signals.append(
                    Signal(
                        name=f"first_seen.{facet}",
                        points=points,
                        reason=f"first time from {facet.replace('_', ' ')} {value} (known: {', '.join(known[-3:])})",
                        observed=value,
                        expected=len(known),
                    )
                )
            known.append(value)
            del known[: -self.capacity]
        return signals

    def state(self) -> list:
        return [self.events, self.seen]

    @classmethod
    def from_state(cls, state: list | None, **params) -> FirstSeen:
        seen = cls(**params)
        if state:
            seen.events, seen.seen = state
        return seen
