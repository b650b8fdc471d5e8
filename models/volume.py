"""Hourly activity volume against the user's own busy hours."""

from __future__ import annotations

import math

from river import stats

from models.event import AccessEvent
from models.signal import Signal


class HourlyVolume:
    """Records touched in the current event-time hour, against past active hours.

    The baseline is the mean and variance of the record counts of the user's
    past *active* hours (hours with at least one event), kept by
    :class:`river.stats.Var`. Its weight is capped at `memory` hours, so old
    habits fade and the state stays two numbers.

    The signal fires when the current hour's count passes
    ``mean + z * spread`` (``spread`` is never below the Poisson floor
    ``sqrt(mean)``, so a very regular user is not flagged for one extra
    record), and fires again each time the count doubles past its last firing.

    Parameters
    ----------
    z
        How many spreads above the mean is unusual.
    warmup
        Active hours of history needed before the user is judged.
    memory
        Cap on the number of hours the baseline weighs (an effective window).
    points
        Risk points for the first firing in an hour; each escalation adds as many.

    Examples
    --------
    >>> from models.event import AccessEvent
    >>> volume = HourlyVolume(warmup=3)
    >>> def at(hour, n):
    ...     return [AccessEvent(f"e{hour}-{i}", hour * 3600 + i, "ann", "record.view") for i in range(n)]
    >>> for hour in range(5):
    ...     for e in at(hour, 10):
    ...         assert volume.observe(e) is None
    >>> fired = [s for e in at(6, 60) if (s := volume.observe(e))]
    >>> [s.observed for s in fired]
    [23, 46]
    >>> fired[0].reason
    'touched 23 records within one hour, usually 10 ± 3 in an active hour'

    """

    def __init__(self, z: float = 4.0, warmup: int = 8, memory: int = 60, points: float = 15.0) -> None:
        if warmup < 2:
            raise ValueError(f"warmup must be at least 2 active hours, got {warmup}")
        if memory < warmup:
            raise ValueError(f"memory ({memory}) must be at least warmup ({warmup})")
        self.z = z
        self.warmup = warmup
        self.memory = memory
        self.points = points
        self.history = stats.Var()
        self.hour = -1  # the event-time hour being counted
        self.count = 0
        self.fired_at = 0  # count at the last firing in this hour; 0 = not fired

    def observe(self, event: AccessEvent) -> Signal | None:
        """Count the event into its hour and return a signal if the hour is unusual."""
        if event.hour > self.hour:
            self._close_hour()
            self.hour = event.hour
        # Late events (an earlier hour) count into the current one: close enough
        # for a baseline, and it keeps the state to a single open hour.
        self.count += event.records
        if self.history.n < self.warmup:
            return None
        threshold = self.threshold()
        if self.count <= threshold or self.count < 2 * max(self.fired_at, 1):
            return None
        first = self.fired_at == 0
        self.fired_at = self.count
        mean, spread = self.history.mean.get(), self.spread()
        return Signal(
            name="volume",
            points=self.points if first else self.points * 0.66,
            reason=f"touched {self.count} records within one hour, usually {mean:.0f} ± {spread:.0f} in an active hour",
            observed=self.count,
            expected=round(mean, 1),
        )

    def threshold(self) -> float:
        return self.history.mean.get() + self.z * self.spread()

    def spread(self) -> float:
        return max(math.sqrt(max(self.history.get(), 0.0)), math.sqrt(self.history.mean.get()), 1.0)

    def _close_hour(self) -> None:
        if self.count:
            self.history.update(self.count)
            self._cap_weight()
        self.count = 0
        self.fired_at = 0

    def _cap_weight(self) -> None:
        if self.history.n > self.memory:
            self.history = stats.Var._from_state(self.memory, self.history.mean.get(), self.history.get())

    # -- state as plain data, for the changelog ---------------------------------
    def state(self) -> list:
        h = self.history
        return [h.n, round(h.mean.get(), 4), round(h.get(), 4), self.hour, self.count, self.fired_at]

    @classmethod
    def from_state(cls, state: list | None, **params) -> HourlyVolume:
        volume = cls(**params)
        if state:
            n, mean, var, volume.hour, volume.count, volume.fired_at = state
            if n:
                volume.history = stats.Var._from_state(n, mean, var)
        return volume
