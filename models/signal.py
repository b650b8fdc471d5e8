"""What a detector says about one event."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class Signal:
    """One reason an event looks risky.

    Parameters
    ----------
    name
        Stable identifier of the signal (``volume``, ``rare_hour``, ``first_seen.device``…).
    points
        Risk points the signal adds to the user's risk.
    reason
        The reason in words an analyst can act on, with the numbers behind it.
    observed
        The value that was observed (count, share, …).
    expected
        The baseline it was compared to.

    """

    name: str
    points: float
    reason: str
    observed: float | str
    expected: float | str

    def to_dict(self) -> dict:
        return asdict(self)
