"""A user's risk: points per kind of evidence that fade with a half-life in event time, and the bands they fall in."""

from __future__ import annotations

from models.signal import TECHNIQUES

BANDS = ("low", "medium", "high", "critical")


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
        medium, high, critical = self.thresholds  # asked for every event: no loop
        rising = (risk >= medium) + (risk >= high) + (risk >= critical)
        if rising > self.level:
            self.level = rising
        else:
            while self.level and risk < self.thresholds[self.level - 1] * self.hysteresis:
                self.level -= 1
        return BANDS[self.level]


#: Families that measure the same activity: together they are one kind of evidence ("how much"), capped once.
KINDS = {"volume": "amount", "breadth": "amount", "peer": "amount", "multivariate": "amount", "rate": "amount",
         "cumulative": "amount"}


class RiskLedger:
    """Risk points per evidence family, each fading with the half-life and capped, and capped again per kind.

    The user's risk is the sum over kinds of evidence of ``min(sum of the
    kind's families, cap)``, each family itself at most `cap`. Families that
    measure the same activity (volume, breadth, peers: `KINDS`) are one kind,
    so a busy day cannot corroborate itself: one kind alone cannot reach
    *high*; different kinds (what, when, where, how much, how long) can. Each
    family keeps its strongest recent reason, so an alert can say why in words.

    Examples
    --------
    >>> ledger = RiskLedger(half_life=3600, cap=30)
    >>> ledger.add("time", 20, ts=0, reason="active at 03:00", technique="")
    20.0
    >>> ledger.add("time", 20, ts=0, reason="active at 04:00", technique="")
    30.0
    >>> ledger.add("volume", 20, ts=0, reason="touched 90 records", technique="")
    50.0
    >>> ledger.add("breadth", 20, ts=0, reason="touched 80 customers", technique="")  # the same busy hour
    60.0
    >>> [r[0] for r in ledger.top(ts=3600)]
    ['time', 'volume', 'breadth']

    """

    def __init__(self, half_life: float, cap: float = 30.0) -> None:
        if half_life <= 0:
            raise ValueError(f"half_life must be positive, got {half_life}")
        self.half_life = half_life
        self.cap = float(cap)
        # family -> [points, ts, strongest reason, technique, points of that reason]
        self.families: dict[str, list] = {}

    def _fade(self, points: float, since: float, ts: float) -> float:
        return points * 0.5 ** (max(ts - since, 0.0) / self.half_life)

    def add(self, family: str, points: float, ts: float, reason: str, technique: str) -> float:
        entry = self.families.get(family)
        if entry is None:
            self.families[family] = [points, ts, reason, technique, points]
        else:
            faded = self._fade(entry[0], entry[1], ts)
            reason_weight = self._fade(entry[4], entry[1], ts)
            if points >= reason_weight:
                entry[2], entry[3], entry[4] = reason, technique, points
            else:
                entry[4] = reason_weight
            entry[0], entry[1] = faded + points, max(ts, entry[1])
        return self.get(ts)

    def take(self, family: str, points: float, since: float, ts: float) -> None:
        """Take back `points` that went into `family` at `since` (faded as they would have), at `ts`.

        >>> ledger = RiskLedger(half_life=3600)
        >>> ledger.add("exfil", 20, ts=0, reason="moved 600 records out", technique="")
        20.0
        >>> ledger.take("exfil", 20, since=0, ts=3600)
        >>> ledger.get(3600)
        0.0
        """
        if (entry := self.families.get(family)) is not None:
            faded = self._fade(entry[0], entry[1], ts) - self._fade(points, since, ts)
            entry[0], entry[1] = max(faded, 0.0), max(ts, entry[1])

    def contributions(self, ts: float) -> dict[str, float]:
        return {f: min(self._fade(e[0], e[1], ts), self.cap) for f, e in self.families.items()}

    def get(self, ts: float) -> float:
        cap, half_life = self.cap, self.half_life
        total, amount = 0.0, 0.0
        for family, entry in self.families.items():  # asked for every event: `_fade` and min/max written out
            since = ts - entry[1]
            points = entry[0] * 0.5 ** (since / half_life) if since > 0 else entry[0]
            if points > cap:
                points = cap
            if family in KINDS:
                amount += points
            else:
                total += points
        return total + min(amount, cap)

    def top(self, ts: float, n: int = 3) -> list[tuple[str, float, str, str]]:
        """(family, contribution, reason, technique) of the families weighing most now."""
        ranked = sorted(self.contributions(ts).items(), key=lambda kv: kv[1], reverse=True)
        return [(f, round(c, 1), self.families[f][2], self.families[f][3]) for f, c in ranked[:n] if c >= 0.5]

    def state(self) -> dict:
        """Plain data; families that have faded to nothing by the latest evidence are left out."""
        latest = max((e[1] for e in self.families.values()), default=0.0)
        return {f: [round(e[0], 3), e[1], e[2], e[3].split(" ", 1)[0], round(e[4], 3)]  # technique by its ID
                for f, e in self.families.items() if self._fade(e[0], e[1], latest) >= 0.5}

    def restore(self, state: dict | None) -> RiskLedger:
        self.families = {f: [e[0], e[1], e[2], TECHNIQUES.get(e[3], e[3]), e[4]] for f, e in (state or {}).items()}
        return self
