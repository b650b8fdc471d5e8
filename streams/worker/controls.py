"""Switches a person flips and every worker obeys, kept on the compacted ``controls`` topic (so they survive
restarts): today, whether automation is paused."""

from __future__ import annotations

import msgspec


class AutomationSwitch(msgspec.Struct, kw_only=True):
    """The ``automation`` switch: paused or not, by whom, why, since when (wall clock)."""

    paused: bool = False
    by: str = ""
    reason: str = ""
    ts: float = 0.0


class Controls:
    """The switches as last set; `apply` is a `Follower` callback.

    >>> controls = Controls()
    >>> controls.apply(b"automation", msgspec.json.encode(AutomationSwitch(paused=True, by="ann", reason="audit")))
    >>> controls.automation.paused, controls.automation.by
    (True, 'ann')
    >>> controls.apply(b"automation", b"not json")  # ignored: the last good setting stands
    >>> controls.automation.paused
    True
    """

    def __init__(self) -> None:
        self.automation = AutomationSwitch()

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        if key == b"automation" and value:
            try:
                self.automation = msgspec.json.decode(value, type=AutomationSwitch)
            except (msgspec.DecodeError, msgspec.ValidationError):
                pass
