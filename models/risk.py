"""A user's risk: points that fade with a half-life in event time, and the bands they fall in."""

from __future__ import annotations

BANDS = ("low", "medium", "high", "critical")


class DecayingRisk:
    """Sum of risk points, each fading by half every `half_life` seconds of event time.

    Parameters
    ----------
    half_life
        Seconds of event time after which a point counts half.

    Examples
    --------
    >>> risk = DecayingRisk(half_life=3600)
    >>> risk.update(40, ts=0)
    40.0
    >>> risk.get(ts=3600)
    20.0
    >>> risk.update(10, ts=7200)
    20.0

    """

    def __init__(self, half_life: float) -> None:
        if half_life <= 0:
            raise ValueError(f"half_life must be positive, got {half_life}")
        self.half_life = half_life
        self.value = 0.0
        self.ts = 0.0

    def get(self, ts: float) -> float:
        # An event older than the last one does not make risk grow back.
        elapsed = max(ts - self.ts, 0.0)
        return self.value * 0.5 ** (elapsed / self.half_life)

    def update(self, points: float, ts: float) -> float:
        self.value = self.get(ts) + points
        self.ts = max(ts, self.ts)
        return self.value


class RiskBands:
    """Maps risk to a severity band, rising at once and falling with hysteresis.

    A band is entered when risk reaches its threshold and left only when risk
    falls below ``threshold * hysteresis``, so a user hovering at a boundary
    does not flap between bands and storm the SOC with alerts.

    Parameters
    ----------
    thresholds
        Risk at which medium, high and critical begin (ascending).
    hysteresis
        Fraction of a band's threshold that risk must fall below to leave it.

    Examples
    --------
    >>> bands = RiskBands((25, 50, 80), hysteresis=0.8)
    >>> [bands.update(r) for r in (10, 30, 24, 21, 19, 55)]
    ['low', 'medium', 'medium', 'medium', 'low', 'high']

    """

    def __init__(self, thresholds: tuple[float, float, float] = (25, 50, 80), hysteresis: float = 0.8) -> None:
        if list(thresholds) != sorted(thresholds) or len(thresholds) != 3:
            raise ValueError(f"thresholds must be three ascending numbers, got {thresholds}")
        if not 0 < hysteresis <= 1:
            raise ValueError(f"hysteresis must be in (0, 1], got {hysteresis}")
        self.thresholds = tuple(thresholds)
        self.hysteresis = hysteresis
        self.level = 0

    @property
    def band(self) -> str:
        return BANDS[self.level]

    def update(self, risk: float) -> str:
        """Move to the band `risk` belongs in and return it."""
        rising = sum(risk >= t for t in self.thresholds)
        if rising > self.level:
            self.level = rising
        else:
            while self.level and risk < self.thresholds[self.level - 1] * self.hysteresis:
                self.level -= 1
        return self.band
