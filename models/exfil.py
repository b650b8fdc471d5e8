"""Data leaving: exports, downloads, prints, USB and e-mail, per day against the user's own history."""

from __future__ import annotations

from models.context import Context
from models.event import EXFIL_ACTIONS, AccessEvent
from models.signal import T1048, T1052, T1567, Signal, escalation_points
from models.window import DAY, WindowBaseline

_TECHNIQUE = {"usb.connect": T1052, "file.print": T1052, "email.send": T1048}


class Exfiltration:
    """Records moved out per day vs the user's own active days (most of which move nothing).

    A day above the user's own norm but within what their peers move in a
    day (team leads' weekly reports) weighs half.

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

    """

    family = "exfil"

    def __init__(self, points: float = 20.0) -> None:
        self.points = points
        self.day = WindowBaseline(DAY, warmup=5, memory=30, floor=5.0, learn_empty=True)

    def observe(self, event: AccessEvent, ctx: Context) -> list[Signal]:
        if event.ts >= self.day.ends:  # a later day: most events fall in the current one
            self.day.roll(event.ts)
        if event.action not in EXFIL_ACTIONS:
            return []
        day, group = int(event.ts // DAY), ctx.profile.peer_group
        if self.day.value == 0:
            ctx.population.did("moved", day, *ctx.profile.groups)
        self.day.add(max(event.records, 1))
        if not self.day.warm:
            return []
        fires, first = self.day.crossing()
        if not fires:
            return []
        peers = ctx.population.peer(group)
        usual_for_peers = peers.warm and self.day.value <= peers.threshold("moved")
        together = ctx.population.share("moved", day, *ctx.profile.groups)  # a report everyone in the group runs
        weight = (0.5 if usual_for_peers else 1.0) * ctx.population.day_weight("moved", day, *ctx.profile.groups)
        if weight < 0.05:
            return []
        context = (f" (within what peers ({group}) move in a day)" if usual_for_peers else "") + \
            (f" ({together:.0%} of their peers or team moved records out today too)" if together else "")
        return [Signal(
            name="exfil.day",
            family=self.family,
            points=round(escalation_points(self.points, first) * weight, 2),
            reason=f"moved {self.day.value:.0f} records out today by {event.action}, usually {self.day.mean:.0f}" + context,
            observed=self.day.value,
            expected=round(self.day.mean, 1),
            technique=_TECHNIQUE.get(event.action, T1567),
        )]

    def state(self) -> list:
        return self.day.state()

    def restore(self, state: list | None) -> Exfiltration:
        self.day.restore(state)
        return self
