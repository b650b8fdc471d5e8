"""Data leaving: exports, downloads, prints, USB and e-mail, per day against the user's own history."""

from __future__ import annotations

from models.context import Context
from models.event import EXFIL_ACTIONS, AccessEvent
from models.population import shared_day_weight
from models.signal import T1048, T1052, T1567, Signal, escalation_points
from models.window import DAY, WindowBaseline

_TECHNIQUE = {"usb.connect": T1052, "file.print": T1052, "email.send": T1048}


class Exfiltration:
    """Records moved out per day, and exports made per day, vs the user's own active days (most move nothing).

    An export split into several ordinary ones moves no more in each than
    the user's usual export, but makes more exports in a day than they ever
    do: the day's count of exports is the split's evidence, as the day's
    records are a bulk export's. Both measure one activity and are one
    family, capped together (how often they do the other kinds of moving,
    USB and downloads, is `ActionRates`'). A day above the user's own norm
    but within what their peers move in a day (team leads' weekly reports)
    weighs half, and less the more of their group moved records out that day;
    its count of exports, less only the more of the group's members who
    seldom move records out did (a team whose leads export every morning
    has no day of its own in that, and a split on it is the user's).

    Examples
    --------
    >>> from models.context import Context
    >>> from models.population import Population
    >>> from models.event import AccessEvent
    >>> ctx, exfil = Context(Population()), Exfiltration()
    >>> for day in range(6):
    ...     _ = exfil.observe(AccessEvent("e", day * 86400, "ann", "login"), ctx)
    >>> [s.reason for s in exfil.observe(AccessEvent("x", 7 * 86400, "ann", "record.export", records=300), ctx)]
    ['moved 300 records out today by record.export, usually 0']
    >>> [s.reason for s in exfil.observe(AccessEvent("y", 7 * 86400 + 60, "ann", "record.export", records=20), ctx)]
    ['made 2 exports today, usually 0.0 a day']

    """

    family = "exfil"

    def __init__(self, points: float = 20.0, export_points: float = 12.0) -> None:
        self.points = points
        self.export_points = export_points
        self.day = WindowBaseline(DAY, warmup=5, memory=30, floor=5.0, learn_empty=True)  # records moved out
        self.exports = WindowBaseline(DAY, z=3.0, warmup=5, memory=30, floor=0.5, learn_empty=True)

    def observe(self, event: AccessEvent, ctx: Context) -> list[Signal]:
        if event.ts >= self.day.ends:  # a later day: most events fall in the current one
            self.day.roll(event.ts)
            self.exports.roll(event.ts)
        if event.action not in EXFIL_ACTIONS:
            return []
        day = int(event.ts // DAY)
        if self.day.value == 0:
            ctx.did("moved", day)
        self.day.add(max(event.records, 1))
        records = self.day.crossing() if self.day.warm else (False, False)
        exports = (False, False)
        if event.action == "record.export":
            self.exports.add(1)
            exports = self.exports.crossing() if self.exports.warm else exports
        if not (records[0] or exports[0]):
            return []
        signals = []
        if records[0] and (weighed := self._weight(ctx, day))[0] >= 0.05:
            weight, context = weighed
            signals.append(self._signal("exfil.day", self.points, records[1], weight, event, self.day.value,
                                        self.day.mean, f"moved {self.day.value:.0f} records out today by "
                                        f"{event.action}, usually {self.day.mean:.0f}" + context))
        # Several exports are the group's only on a day beyond its usual one: a team where a quarter export
        # every day has no day of its own in one more export each.
        if exports[0] and (weighed := self._weight(ctx, day, beyond_usual=True))[0] >= 0.05:
            weight, context = weighed
            signals.append(self._signal("exfil.exports", self.export_points, exports[1], weight, event,
                                        self.exports.value, self.exports.mean, f"made {self.exports.value:.0f} "
                                        f"exports today, usually {self.exports.mean:.1f} a day" + context))
        return signals

    def _weight(self, ctx: Context, day: int, beyond_usual: bool = False) -> tuple[float, str]:
        """What the day weighs for this user, and why in words: less when it is within what peers move in a day,
        or when much of their group moved records out too (a report everyone in the group runs); with
        `beyond_usual`, only the part of their group beyond its usual day counts."""
        group = ctx.profile.peer_group
        peers = ctx.population.peer(group)
        usual_for_peers = peers.warm and self.day.value <= peers.threshold("moved")
        together = ctx.population.share("moved", day, *ctx.profile.groups, beyond_usual=beyond_usual,
                                            since_yesterday=True)
        weight = (0.5 if usual_for_peers else 1.0) * shared_day_weight(together)
        who = "of their peers or team who seldom move records out did" if beyond_usual else \
            "of their peers or team moved records out"
        context = (f" (within what peers ({group}) move in a day)" if usual_for_peers else "") + \
            (f" ({together:.0%} {who} today too)" if together else "")
        return weight, context

    def _signal(self, name: str, points: float, first: bool, weight: float, event: AccessEvent,
                observed: float, usual: float, reason: str) -> Signal:
        return Signal(
            name=name,
            family=self.family,
            points=round(escalation_points(points, first) * weight, 2),
            reason=reason,
            observed=observed,
            expected=round(usual, 1),
            technique=_TECHNIQUE.get(event.action, T1567),
        )

    def state(self) -> list:
        return [self.day.state(), self.exports.state()]

    def restore(self, state: list | None) -> Exfiltration:
        """From `state`, or from a state saved before exports were counted (records only: their days start now).

        >>> old = Exfiltration().restore([12, 0.5, 0.25, 20000, 0.0, 0.0])
        >>> old.day.warm, old.exports.warm, Exfiltration().restore(old.state()).state() == old.state()
        (True, False, True)
        """
        if state and isinstance(state[0], list):
            self.day.restore(state[0])
            self.exports.restore(state[1])
        else:
            self.day.restore(state)
        return self
