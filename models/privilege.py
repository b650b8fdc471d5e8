"""Privilege changes a user makes for themselves."""

from __future__ import annotations

from models.context import Context
from models.event import AccessEvent
from models.signal import T1098, Signal


class PrivilegeChange:
    """A ``privilege.grant`` whose target is the actor (or unnamed), by a user the directory does not list as privileged.

    Examples
    --------
    >>> from models.context import Context
    >>> from models.population import Population
    >>> from models.event import AccessEvent
    >>> PrivilegeChange().observe(AccessEvent("e", 0, "ann", "privilege.grant", attrs={"role": "billing-admin"}),
    ...                           Context(Population()))[0].reason
    'granted themselves billing-admin without being a privileged user'

    """

    family = "privilege"

    def __init__(self, points: float = 30.0) -> None:
        self.points = points

    def observe(self, event: AccessEvent, ctx: Context) -> list[Signal]:
        if event.action != "privilege.grant" or ctx.profile.privileged:
            return []
        target = event.attrs.get("target", event.user)
        if target != event.user:
            return []
        role = event.attrs.get("role", "a privilege")
        return [Signal(
            name="privilege.self_grant",
            family=self.family,
            points=self.points,
            reason=f"granted themselves {role} without being a privileged user",
            observed=str(role),
            expected="no self-grants",
            technique=T1098,
        )]

    def state(self) -> None:
        return None

    def restore(self, state) -> PrivilegeChange:
        return self
