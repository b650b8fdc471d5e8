"""How many distinct customers a user touches per hour and per day, against their own history."""

from __future__ import annotations

from models.context import Context
from models.distinct import LinearCounter
from models.event import AccessEvent
from models.signal import T1213, Signal, escalation_points
from models.window import DAY, HOUR, UnexplainedShare, WindowBaseline


class DistinctCount:
    """Distinct values in a window's current period, feeding the window's running value.

    Examples
    --------
    >>> hour = WindowBaseline(HOUR)
    >>> count = DistinctCount(hour)
    >>> _ = hour.roll(0)
    >>> round(count.add(1 << 5), 2), count.add(1 << 5)  # a value, then the same again
    (1.0, 0.0)
    >>> count.state()
    [0, '20']
    >>> _ = hour.roll(3600)
    >>> count.state()  # the hour has closed: its values are cleared at the next add, and not saved
    [0, '0']

    """

    def __init__(self, window: WindowBaseline) -> None:
        self.window = window
        self.index = window.index
        self.counter = LinearCounter()

    def add(self, bit: int) -> float:
        """Count the value whose bit (`LinearCounter.bit`) is `bit`; return how much the window's value grew."""
        window, counter = self.window, self.counter
        if window.index != self.index:  # the window rolled: start a new count
            self.index = window.index
            counter.clear()
        if counter.bitmap & bit:  # `counter.add_bit`, written out: most touches are of a customer already counted
            return 0.0
        counter.bitmap |= bit
        # The window's running value is the estimate so far: add the increase.
        grown = counter.estimate() - window.value
        window.value += grown
        return grown

    def state(self) -> list:
        live = self.index == self.window.index  # a closed window's count is cleared at the next add: not saved
        return [self.index, format(self.counter.bitmap if live else 0, "x")]

    def restore(self, state: list | None) -> DistinctCount:
        if state:
            self.index, self.counter.bitmap = state[0], int(state[1], 16)
        return self


class CustomerBreadth:
    """Distinct customers (``record_id``) touched per hour and per day vs the user's own history.

    Examples
    --------
    >>> from models.context import Context
    >>> from models.population import Population
    >>> from models.event import AccessEvent
    >>> ctx, breadth = Context(Population()), CustomerBreadth()
    >>> for hour in range(10):
    ...     for i in range(4):
    ...         _ = breadth.observe(AccessEvent("e", hour * 3600 + i, "ann", "record.view", record_id=f"C{i}"), ctx)
    >>> fired = [s for i in range(60) for s in breadth.observe(
    ...     AccessEvent("e", 12 * 3600 + i, "ann", "record.view", record_id=f"X{i}"), ctx)]
    >>> fired[0].name, fired[0].family
    ('breadth.hour', 'breadth')

    """

    family = "breadth"

    def __init__(self, points: float = 15.0) -> None:
        self.points = points
        self.hour = WindowBaseline(HOUR, warmup=8, memory=60)
        self.day = WindowBaseline(DAY, warmup=4, memory=20, floor=3.0)
        self.hour_count = DistinctCount(self.hour)
        self.day_count = DistinctCount(self.day)
        self.shares = (UnexplainedShare(self.hour), UnexplainedShare(self.day))
        self._windows = ((self.hour, self.hour_count, self.shares[0], "within one hour"),
                         (self.day, self.day_count, self.shares[1], "today"))

    def observe(self, event: AccessEvent, ctx: Context) -> list[Signal]:
        if event.ts >= self.hour.ends:  # a later hour (and a later day always begins with one)
            self.hour.roll(event.ts)
            self.day.roll(event.ts)
        if event.record_id is None:
            return []
        signals = []
        bit = ctx.customer_bit(event.record_id)
        explained = ctx.justified is True
        for window, count, share, label in self._windows:
            if not (grown := count.add(bit)):
                continue  # a customer already counted in this window: nothing new to judge
            share.add(grown, explained)
            if (fired := share.firing()) is not None:
                first, unexplained = fired
                signals.append(Signal(
                    name=f"breadth.{'hour' if window is self.hour else 'day'}",
                    family=self.family,
                    points=round(escalation_points(self.points, first) * unexplained, 2),
                    reason=f"touched about {window.value:.0f} different customers {label}, "
                           f"usually {window.mean:.0f} ± {window.spread:.0f}"
                           + (f" ({unexplained:.0%} on no ticket of theirs)" if unexplained < 1 else ""),
                    observed=round(window.value),
                    expected=round(window.mean, 1),
                    technique=T1213,
                ))
        return signals

    def state(self) -> list:
        return [self.hour.state(), self.day.state(), self.hour_count.state(), self.day_count.state(),
                [s.state() for s in self.shares]]

    def restore(self, state: list | None) -> CustomerBreadth:
        if state:
            self.hour.restore(state[0])
            self.day.restore(state[1])
            self.hour_count.restore(state[2])
            self.day_count.restore(state[3])
            for share, saved in zip(self.shares, state[4] if len(state) > 4 else ()):
                share.restore(saved)
        return self
