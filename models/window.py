"""A quantity per event-time window (hour, day) against the user's own past active windows."""

from __future__ import annotations

import math

from river import stats

from models.variance import reweigh, variance_from

HOUR = 3600
DAY = 86400
#: Hours without events after which a user's next event begins a new session of theirs (a working day, a night
#: on call). The tail of a shift that runs past midnight UTC belongs to the shift, not to a day of its own.
SHIFT_GAP_HOURS = 4
_QUIET = (False, False)


class WindowBaseline:
    """Mean and spread of a per-window quantity over the windows in which the user was active.

    The current window's value is compared to ``mean + z * spread``, where
    ``spread`` never drops below the Poisson floor ``sqrt(mean)`` nor below
    `floor`, so a very regular user is not flagged for one extra record. A
    window that went over the threshold is learned clipped to it, so an
    attack does not become the user's new normal. The history's weight is
    capped at `memory` windows (an effective sliding window of plain data).

    Parameters
    ----------
    window
        Window length in seconds of event time.
    z
        Spreads above the mean that count as unusual.
    warmup
        Active windows of history needed before the user is judged on their own.
    memory
        Cap on the windows the baseline weighs.
    floor
        Smallest spread; also the smallest margin over the mean.
    learn_empty
        Learn windows whose value stayed 0 (for rare quantities such as
        exports, where most active days have none).

    Attributes
    ----------
    threshold, spread
        ``mean + z * spread`` and the spread, worked out whenever the history
        changes (they are read for every event).
    warm
        Whether the history holds `warmup` windows.

    Examples
    --------
    >>> b = WindowBaseline(window=3600, warmup=3)
    >>> for hour in range(4):
    ...     _ = b.roll(hour * 3600)
    ...     b.add(10)
    >>> b.roll(5 * 3600)
    10.0
    >>> round(b.threshold, 1)
    22.6
    >>> b.add(30); b.crossing()
    (True, True)
    >>> b.add(5); b.crossing()
    (False, False)

    """

    def __init__(
        self, window: int, z: float = 4.0, warmup: int = 8, memory: int = 60, floor: float = 1.0, learn_empty: bool = False
    ) -> None:
        if window <= 0:
            raise ValueError(f"window must be positive seconds, got {window}")
        if not 2 <= warmup <= memory:
            raise ValueError(f"need 2 <= warmup <= memory, got warmup={warmup}, memory={memory}")
        self.window = window
        self.z = z
        self.warmup = warmup
        self.memory = memory
        self.floor = floor
        self.learn_empty = learn_empty
        self.history = stats.Var()
        self.index = -1  # the window being counted
        self.value = 0.0
        self.fired_at = 0.0  # value at the last firing in this window; 0 = not fired
        self.ends = 0.0  # event time at which the current window closes
        self._learned()

    def _learned(self) -> None:
        # What depends only on the history and is read for every event: worked out when the history changes.
        history = self.history
        self.warm = history.n >= self.warmup
        mean = history.mean.get()
        self.spread = max(math.sqrt(max(history.get(), 0.0)), math.sqrt(max(mean, 0.0)), self.floor)
        self.threshold = mean + self.z * self.spread

    @property
    def mean(self) -> float:
        return self.history.mean.get()

    def roll(self, ts: float) -> float | None:
        """Move to the window of `ts`; return the value of the window just closed, if any."""
        if ts < self.ends:
            return None  # same window, or a late event: counted in the current one
        closed = self._close() if self.index >= 0 else None
        self.index = int(ts // self.window)
        self.ends = (self.index + 1) * self.window
        return closed

    def add(self, amount: float) -> None:
        self.value += amount

    def crossing(self, threshold: float | None = None) -> tuple[bool, bool]:
        """(fires, first): the value passed the threshold for the first time, or doubled since the last firing."""
        if self.value <= (self.threshold if threshold is None else threshold) or self.value < 2 * self.fired_at:
            return _QUIET
        first = self.fired_at == 0
        self.fired_at = self.value
        return True, first

    def _close(self) -> float:
        closed = self.value
        if closed > 0 or self.learn_empty:
            learned = min(closed, self.threshold) if self.warm else closed
            self.history.update(learned)
            if self.history.n > self.memory:
                reweigh(self.history, self.memory)
            self._learned()
        self.value = 0.0
        self.fired_at = 0.0
        return closed

    def seeded(self, empty: int) -> WindowBaseline:
        """This baseline with `empty` windows of 0 already learned (days on which the quantity did not occur)."""
        if empty > 0:
            self.history = variance_from(min(empty, self.memory), 0.0, 0.0)
            self._learned()
        return self

    # -- plain-data state ----------------------------------------------------------
    def state(self) -> list:
        h = self.history
        return [h.n, round(self.mean, 3), round(h.get(), 3), self.index, self.value, self.fired_at]

    def restore(self, state: list | None) -> WindowBaseline:
        if state:
            n, mean, var, self.index, self.value, self.fired_at = state
            if n:
                self.history = variance_from(n, mean, var)
            self.ends = (self.index + 1) * self.window
            self._learned()
        return self


#: Below this share of a window on no ticket of the user's, a busy window is the job.
MIN_UNEXPLAINED = 0.2


class UnexplainedShare:
    """How much of a window's current value no ticket explains: the weight its firing deserves.

    With a ticket feed, a busy day on ticketed work (an incident, a backlog)
    is the job; the same volume on customers nobody assigned is not.

    Examples
    --------
    >>> window = WindowBaseline(window=3600, warmup=2)
    >>> share = UnexplainedShare(window)
    >>> _ = window.roll(0)
    >>> for explained in (True, True, True, False):
    ...     window.add(1)
    ...     share.add(1, explained)
    >>> share.of()
    0.25

    """

    def __init__(self, window: WindowBaseline) -> None:
        self.window = window
        self.index = window.index
        self.part = 0.0

    def add(self, amount: float, explained: bool) -> None:
        if self.window.index != self.index:  # the window rolled: start a new count
            self.index, self.part = self.window.index, 0.0
        if not explained:
            self.part += amount

    def of(self) -> float:
        value = self.window.value
        return 1.0 if value <= 0 or self.index != self.window.index else min(self.part / value, 1.0)

    def firing(self) -> tuple[bool, float] | None:
        """(first firing of the window, share unexplained) when the warm window crossed its threshold with at least
        `MIN_UNEXPLAINED` of it on no ticket of the user's; else None."""
        window = self.window
        if not window.warm or window.value <= window.threshold:  # the usual case, without a call: quiet
            return None
        fires, first = window.crossing()
        if not fires or (unexplained := self.of()) < MIN_UNEXPLAINED:
            return None
        return first, unexplained

    def state(self) -> list:
        return [self.index, round(self.part, 2)]

    def restore(self, state: list | None) -> UnexplainedShare:
        if state:
            self.index, self.part = state
        return self
