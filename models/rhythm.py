"""When in the week a user is usually active: their own rhythm, not a global 9-to-5."""

from __future__ import annotations

from models.context import Context
from models.event import AccessEvent
from models.signal import T1078, Signal
from models.window import SHIFT_GAP_HOURS

_WEEK = 168
_DAY = 24
# 1970-01-01 was a Thursday; shift so that hour-of-week 0 is Monday 00:00 UTC.
_EPOCH_WEEKDAY_OFFSET = 3 * 24
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Active days remembered hour by hour, and how many of them at an hour make it the user's new routine.
RECENT_DAYS = 7
SETTLED = 3
#: Rare hours in a day that make it a moved day: a shift at new hours, not a session at odd ones.
SHIFT_HOURS = 4


class WeeklyRhythm:
    """Share of a user's active hours that fall at this hour of the day and of the week.

    Each active hour (an event-time hour with at least one event) counts once
    in a 24-bin hour-of-day and a 168-bin hour-of-week histogram. An hour is
    rare when both shares, smoothed over the neighbouring hours, are below
    their floors: a user who works weekdays 9–17 is not flagged for a Saturday
    afternoon, but is for 03:00 on any day. Rare hours are learned at a
    quarter weight, so one night session does not make nights normal.

    A session's rare hours are one piece of evidence of *when*, worth what
    its rarest hour is worth (at most `points`); a session ends after
    `SHIFT_GAP_HOURS` without events, so a night that runs past midnight UTC
    counts once. A rare hour counts for less on each of the user's
    last `RECENT_DAYS` active days that were active at it (or next to it),
    and for nothing from the `SETTLED`-th, or from the day after a *moved
    day*, one with `SHIFT_HOURS` rare hours or more: a week on call adds a
    few night hours and is routine within days; a team transfer to another
    time zone moves the whole shift at once, and is routine from its second
    day. A session at odd hours is shorter than a shift. What they do at
    those hours is judged as ever.

    Parameters
    ----------
    day_floor
        Hour-of-day share under which an hour is rare.
    week_floor
        Hour-of-week share under which an hour is rare.
    warmup
        Active hours of history needed before the user is judged.
    memory
        When the histograms weigh more than this many hours, both are halved.
    points
        Risk points for a rare hour with no history at all; fewer as it gets less rare.

    Examples
    --------
    >>> from models.context import Context
    >>> from models.population import Population
    >>> from models.event import AccessEvent
    >>> ctx, rhythm = Context(Population()), WeeklyRhythm(warmup=10)
    >>> monday = 4 * 24  # hours since the epoch of Monday 1970-01-05 00:00 UTC
    >>> for day in range(5):
    ...     for h in range(9, 17):
    ...         _ = rhythm.observe(AccessEvent("e", (monday + 24 * day + h) * 3600, "ann", "login"), ctx)
    >>> rhythm.observe(AccessEvent("e", (monday + 7 * 24 + 10) * 3600, "ann", "login"), ctx)
    []
    >>> [night] = rhythm.observe(AccessEvent("e", (monday + 8 * 24 + 3) * 3600, "ann", "login"), ctx)
    >>> night.reason
    'active on Tue at 03:00 UTC, an hour that holds 0.0% of this user’s active hours'

    The next nights at that hour count for less, then for nothing:

    >>> nights = [rhythm.observe(AccessEvent("e", (monday + 24 * day + 3) * 3600, "ann", "login"), ctx)
    ...           for day in (9, 10, 11)]
    >>> [round(s.points, 1) for night in nights for s in night]
    [12.3, 5.7]

    """

    family = "time"

    def __init__(self, day_floor: float = 0.02, week_floor: float = 0.01, warmup: int = 16, memory: int = 400,
                 points: float = 20.0) -> None:
        if not 0 < day_floor < 1 or not 0 < week_floor < 1:
            raise ValueError("day_floor and week_floor are shares between 0 and 1")
        self.day_floor = day_floor
        self.week_floor = week_floor
        self.warmup = warmup
        self.memory = memory
        self.points = points
        self.by_day_hour = [0.0] * _DAY
        self.by_week_hour = [0.0] * _WEEK
        self.total = 0.0
        self.hour = -1
        self._next = 0.0  # event time at which the next hour begins
        self.day = -1
        # The last active days before today, each a bit per UTC hour of day, and bit `_DAY` set on a moved day.
        self.recent: list[int] = []
        self.today = 0  # today's active hours, a bit each
        self.given = 0.0  # points given to this session's rare hours: what its rarest hour is worth
        self.odd_hours = 0  # today's rare hours
        self.rare = False  # whether the current hour was judged rare (read by the detector)

    def observe(self, event: AccessEvent, ctx: Context) -> list[Signal]:
        """Judge the first event of each new active hour, then learn that hour."""
        if event.ts < self._next:  # an hour already judged: most events
            return []
        if event.hour - self.hour >= SHIFT_GAP_HOURS:
            self.given = 0.0  # a new session
        self.hour = event.hour
        self._next = (self.hour + 1) * 3600
        how = (event.hour + _EPOCH_WEEKDAY_OFFSET) % _WEEK
        hod = how % _DAY
        self._roll(event.hour // _DAY)
        signals = []
        self.rare = False
        if self.total >= self.warmup:
            day_share = self._share(self.by_day_hour, hod)
            week_share = self._share(self.by_week_hour, how)
            rare = day_share < self.day_floor and week_share < self.week_floor
            settling = self._recent_days_at(hod) if rare else SETTLED
            if settling < SETTLED:
                self.rare = True
                self.odd_hours += 1
                points = self.points * (1 - 0.5 * day_share / self.day_floor) * (1 - settling / SETTLED)
                if (points := round(points - self.given, 2)) >= 0.5:  # what this hour adds to the session's rarest
                    self.given += points
                    signals.append(self._signal(how, points, day_share, settling))
        self._learn(hod, how, weight=0.25 if self.rare else 1.0)
        self.today |= 1 << hod
        return signals

    def _signal(self, how: int, points: float, day_share: float, settling: int) -> Signal:
        hod = how % _DAY
        lately = f"; active then on {settling} of their last {RECENT_DAYS} active days" if settling else ""
        return Signal(
            name="rare_hour",
            family=self.family,
            points=points,
            reason=f"active on {_DAYS[how // 24]} at {hod:02d}:00 UTC, an hour that holds "
                   f"{day_share:.1%} of this user’s active hours{lately}",
            observed=f"{_DAYS[how // 24]} {hod:02d}:00",
            expected=round(day_share, 4),
            technique=T1078,
        )

    def _roll(self, day: int) -> None:
        if day > self.day:
            if self.today:
                moved = self.odd_hours >= SHIFT_HOURS
                self.recent = (self.recent + [self.today | moved << _DAY])[-RECENT_DAYS:]
            self.day, self.today, self.odd_hours = day, 0, 0

    def _recent_days_at(self, hod: int) -> int:
        """Of the last active days before today, how many were active at `hod` or an hour next to it; `SETTLED`
        if one of them was a moved day (`SHIFT_HOURS` rare hours or more)."""
        near = sum(1 << (h % _DAY) for h in (hod - 1, hod, hod + 1))
        days = 0
        for mask in self.recent:
            if mask & near:
                if mask >> _DAY:
                    return SETTLED
                days += 1
        return days

    def _share(self, bins: list[float], at: int) -> float:
        # Half weight to the neighbouring hours: shifts drift by an hour.
        size = len(bins)
        near = bins[at] + 0.5 * (bins[(at - 1) % size] + bins[(at + 1) % size])
        return near / (2 * self.total)

    def _learn(self, hod: int, how: int, weight: float) -> None:
        self.by_day_hour[hod] += weight
        self.by_week_hour[how] += weight
        self.total += weight
        if self.total > self.memory:
            self.by_day_hour = [round(v / 2, 2) for v in self.by_day_hour]
            self.by_week_hour = [round(v / 2, 2) for v in self.by_week_hour]
            self.total /= 2

    # -- plain-data state --------------------------------------------------------------
    def state(self) -> list:
        return [self.hour, round(self.total, 2), [_plain(v) for v in self.by_day_hour], _sparse(self.by_week_hour), self.rare,
                [self.day, self.today, self.recent, self.given, self.odd_hours]]

    def restore(self, state: list | None) -> WeeklyRhythm:
        if state:
            self.hour, self.total, self.by_day_hour, week, self.rare = state[:5]
            self._next = (self.hour + 1) * 3600
            if len(state) > 5:  # saved before recent days were kept: they fill in as days pass
                self.day, self.today, self.recent, self.given, self.odd_hours = (state[5] + [0.0, 0])[:5]
            self.by_week_hour = [0.0] * _WEEK
            for k, v in week:
                self.by_week_hour[k] = v
        return self


def _sparse(bins: list[float]) -> list[list]:
    return [[k, _plain(v)] for k, v in enumerate(bins) if v >= 0.01]


def _plain(value: float) -> float:
    """A whole number as an int: most bins hold whole hours, and "2" saves bytes on "2.0" in every saved state."""
    return int(value) if value == int(value) else value
