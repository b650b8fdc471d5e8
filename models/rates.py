"""How often a user does each kind of thing per day, against their own active days: a rising rate is evidence."""

from __future__ import annotations

from models.context import Context
from models.event import AccessEvent
from models.signal import T1052, T1078, T1567, Signal, escalation_points
from models.volume import TOUCH_ACTIONS
from models.window import DAY, WindowBaseline

#: Most action kinds a user's rates are kept for (the contract has about a dozen; more is a producer bug).
MAX_ACTIONS = 16
_TECHNIQUE = {"usb.connect": T1052, "file.download": T1567, "email.send": T1567, "login": T1078}


class ActionRates:
    """Events per active day of each action kind the user does (login, usb.connect, file.download, …).

    Each kind's daily count is compared with the same kind on the user's
    active days, days without it included, so a user who plugs in a USB
    stick once a week is flagged when it becomes several a day. Reads,
    searches and updates of customer records are the volume family's (which
    knows which of them a ticket explains), exports the exfiltration
    family's; this counts every other kind.

    Examples
    --------
    >>> from models.context import Context
    >>> from models.population import Population
    >>> from models.event import AccessEvent
    >>> ctx, rates = Context(Population()), ActionRates()
    >>> for day in range(10):
    ...     _ = rates.observe(AccessEvent("e", day * 86400, "ann", "login"), ctx)
    ...     if day % 5 == 0:
    ...         _ = rates.observe(AccessEvent("u", day * 86400 + 60, "ann", "usb.connect"), ctx)
    >>> fired = [s for i in range(3) for s in rates.observe(AccessEvent("u", 10 * 86400 + i, "ann", "usb.connect"), ctx)]
    >>> fired[0].reason
    'did usb.connect 2 times today, usually 0.2 a day'

    """

    family = "rate"

    def __init__(self, points: float = 12.0, z: float = 3.0, floor: float = 0.5, warmup: int = 5) -> None:
        self.points = points
        self.z = z
        self.floor = floor
        self.warmup = warmup
        self.actions: dict[str, WindowBaseline] = {}
        self.day = -1
        self.days = 0  # active days seen (up to a window's memory)

    def observe(self, event: AccessEvent, ctx: Context) -> list[Signal]:
        day = int(event.ts // DAY)
        if day > self.day:  # a new active day: every kind's day closes, those without events as 0
            self.day, self.days = day, min(self.days + 1, 30)
            for window in self.actions.values():
                window.roll(event.ts)
        if event.action in TOUCH_ACTIONS or event.action == "record.export":
            return []
        window = self.actions.get(event.action)
        if window is None:
            if len(self.actions) >= MAX_ACTIONS:
                return []
            # Never done before: the active days so far held none of it (a first time is novelty's to judge).
            window = self.actions[event.action] = self._window().seeded(self.days - 1)
            window.roll(event.ts)
        window.add(1)
        if not window.warm:
            return []
        fires, first = window.crossing()
        if not fires:
            return []
        return [Signal(
            name=f"rate.{event.action}",
            family=self.family,
            points=escalation_points(self.points, first),
            reason=f"did {event.action} {window.value:.0f} times today, usually {window.mean:.1f} a day",
            observed=window.value,
            expected=round(window.mean, 2),
            technique=_TECHNIQUE.get(event.action, ""),
        )]

    def _window(self) -> WindowBaseline:
        return WindowBaseline(DAY, z=self.z, warmup=self.warmup, memory=30, floor=self.floor, learn_empty=True)

    def state(self) -> list:
        return [self.day, self.days, {action: window.state() for action, window in self.actions.items()}]

    def restore(self, state: list | None) -> ActionRates:
        if state:
            self.day, self.days = state[0], state[1]
            self.actions = {action: self._window().restore(saved) for action, saved in state[2].items()}
        return self
