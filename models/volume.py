"""How many records a user touches per hour and per day, against their own history."""

from __future__ import annotations

from models.context import Context
from models.event import AccessEvent
from models.signal import T1213, Signal, escalation_points
from models.window import DAY, HOUR, UnexplainedShare, WindowBaseline

#: Below this share of work no ticket explains, a busy window is the job, not evidence.

#: Actions that touch records in place. Exports also touch records, but they are the
#: exfiltration family's evidence: counting them twice would let one export corroborate itself.
TOUCH_ACTIONS = frozenset({"record.view", "record.search", "record.update"})


class RecordVolume:
    """Records read or updated per event-time hour and day vs the user's own active hours and days.

    Fires when a window passes ``mean + z·spread`` of the user's history, and
    again each time the count doubles (escalation, not repetition). With a
    ticket feed, its points are weighed by the share of the window's records
    that no ticket of the user explains. A day busier than the user's usual,
    ticketed or not, is told to their groups: when much of a team is busy
    the same day, the detector weighs "how much" evidence less.

    Examples
    --------
    >>> from models.context import Context
    >>> from models.population import Population
    >>> from models.event import AccessEvent
    >>> ctx = Context(Population())
    >>> volume = RecordVolume()
    >>> for hour in range(10):
    ...     for i in range(5):
    ...         assert volume.observe(AccessEvent("e", hour * 3600 + i, "ann", "record.view"), ctx) == []
    >>> burst = [s for i in range(40) for s in volume.observe(AccessEvent("e", 11 * 3600 + i, "ann", "record.view"), ctx)]
    >>> burst[0].reason
    'touched 14 records within one hour, usually 5 ± 2'

    """

    family = "volume"

    def __init__(self, points: float = 15.0) -> None:
        self.points = points
        self.hour = WindowBaseline(HOUR, warmup=8, memory=60)
        self.day = WindowBaseline(DAY, warmup=4, memory=20, floor=3.0)
        self.shares = (UnexplainedShare(self.hour), UnexplainedShare(self.day))
        self._windows = ((self.hour, self.shares[0], "within one hour"), (self.day, self.shares[1], "today"))

    def observe(self, event: AccessEvent, ctx: Context) -> list[Signal]:
        if event.ts >= self.hour.ends:  # a later hour (and a later day always begins with one)
            self.hour.roll(event.ts)
            self.day.roll(event.ts)
        if event.action not in TOUCH_ACTIONS:
            return []
        signals, quiet_day = [], not self.day.fired_at
        explained = ctx.justified is True
        for window, share, label in self._windows:
            window.value += event.records  # `window.add`, written out: every touch, twice
            share.add(event.records, explained)
            # Most touches leave the window under its threshold: known quiet before `firing` is called.
            if window.warm and window.value > window.threshold and (fired := share.firing()) is not None:
                first, unexplained = fired
                signals.append(Signal(
                    name=f"volume.{'hour' if window is self.hour else 'day'}",
                    family=self.family,
                    points=round(escalation_points(self.points, first) * unexplained, 2),
                    reason=f"touched {window.value:.0f} records {label}, usually {window.mean:.0f} ± {window.spread:.0f}"
                           + (f" ({unexplained:.0%} on no ticket of theirs)" if unexplained < 1 else ""),
                    observed=window.value,
                    expected=round(window.mean, 1),
                    technique=T1213,
                ))
        if quiet_day and self.day.fired_at:  # busier than their usual day, ticketed or not: the team's share counts it
            ctx.did("busy", self.day.index)
        return signals

    def state(self) -> list:
        return [self.hour.state(), self.day.state(), [s.state() for s in self.shares]]

    def restore(self, state: list | None) -> RecordVolume:
        if state:
            self.hour.restore(state[0])
            self.day.restore(state[1])
            for share, saved in zip(self.shares, state[2] if len(state) > 2 else ()):
                share.restore(saved)
        return self
