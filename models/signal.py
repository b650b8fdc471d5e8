"""What a detector says about one event."""

from __future__ import annotations

from dataclasses import asdict, dataclass

#: MITRE ATT&CK techniques the signals point to.
T1213 = "T1213 Data from Information Repositories"
T1078 = "T1078 Valid Accounts"
T1567 = "T1567 Exfiltration Over Web Service"
T1052 = "T1052 Exfiltration Over Physical Medium"
T1048 = "T1048 Exfiltration Over Alternative Protocol"
T1098 = "T1098 Account Manipulation"
#: Each technique by its ID alone (how saved state names it).
TECHNIQUES = {t.split(" ", 1)[0]: t for t in (T1213, T1078, T1567, T1052, T1048, T1098)}


def escalation_points(points: float, first: bool) -> float:
    """Points of a firing: full the first time a window or day fires, two thirds for each escalation after.

    >>> escalation_points(15, True), escalation_points(15, False)
    (15, 9.9)
    """
    return points if first else round(points * 0.66, 2)


@dataclass(frozen=True, slots=True)
class Signal:
    """One reason an event looks risky.

    Parameters
    ----------
    name
        Stable identifier (``volume.hour``, ``rare_hour``, ``first_seen.device``…).
    family
        What kind of evidence it is (``volume``, ``time``, ``novelty``…); risk is capped per family,
        so one noisy source cannot make a user critical on its own.
    points
        Risk points the signal adds.
    reason
        The reason in words an analyst can act on, with the numbers behind it.
    observed
        The value that was observed.
    expected
        The baseline it was compared to.
    technique
        The MITRE ATT&CK technique it points to, if one fits.

    """

    name: str
    family: str
    points: float
    reason: str
    observed: float | str
    expected: float | str
    technique: str = ""

    def to_dict(self) -> dict:
        return asdict(self)
