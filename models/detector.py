"""One user's detector: every signal, their risk, and the alerts it raises."""

from __future__ import annotations

from dataclasses import dataclass, field

from models.event import AccessEvent
from models.novelty import FirstSeen
from models.rhythm import WeeklyRhythm
from models.risk import BANDS, DecayingRisk, RiskBands
from models.signal import Signal
from models.volume import HourlyVolume


@dataclass(frozen=True)
class DetectorConfig:
    """Tuning shared by every user's detector. Validated once, here."""

    half_life_hours: float = 24.0
    band_thresholds: tuple[float, float, float] = (25.0, 50.0, 80.0)
    hysteresis: float = 0.8
    reasons_kept: int = 5

    def __post_init__(self) -> None:
        if self.half_life_hours <= 0:
            raise ValueError(f"half_life_hours must be positive, got {self.half_life_hours}")
        RiskBands(self.band_thresholds, self.hysteresis)  # validates both


@dataclass(frozen=True)
class Alert:
    """A user's risk crossed into a higher band."""

    band: str
    previous: str
    risk: float
    reasons: list[str]


@dataclass(frozen=True)
class Assessment:
    """What the detector concluded from one event."""

    score: float
    risk: float
    band: str
    signals: list[Signal] = field(default_factory=list)
    alert: Alert | None = None
    events_seen: int = 0


class UserDetector:
    """Scores a user's events against their own history, one event at a time.

    `observe` judges an event, then learns from it. State is plain data
    (`state` / `from_state`), small enough to live in a changelog.

    Examples
    --------
    >>> from models.event import AccessEvent
    >>> detector = UserDetector(DetectorConfig(half_life_hours=24))
    >>> a = detector.observe(AccessEvent("e1", 0, "ann", "login", device="laptop-1"))
    >>> (a.score, a.risk, a.band, a.events_seen)
    (0.0, 0.0, 'low', 1)

    """

    def __init__(self, config: DetectorConfig, state: dict | None = None) -> None:
        state = state or {}
        self.config = config
        self.volume = HourlyVolume.from_state(state.get("volume"))
        self.rhythm = WeeklyRhythm.from_state(state.get("rhythm"))
        self.first_seen = FirstSeen.from_state(state.get("first_seen"))
        self.risk = DecayingRisk(config.half_life_hours * 3600)
        self.risk.value, self.risk.ts = state.get("risk", (0.0, 0.0))
        self.bands = RiskBands(config.band_thresholds, config.hysteresis)
        self.bands.level = state.get("band", 0)
        self.events = state.get("events", 0)
        # Recent reasons with their points and time, to explain an alert.
        self.recent: list[list] = state.get("recent", [])

    def observe(self, event: AccessEvent) -> Assessment:
        signals = [s for s in (self.volume.observe(event), self.rhythm.observe(event)) if s]
        signals += self.first_seen.observe(event)
        self.events += 1
        score = float(sum(s.points for s in signals))
        risk = self.risk.update(score, event.ts)
        for s in signals:
            self.recent.append([s.points, event.ts, s.reason])
        del self.recent[: -self.config.reasons_kept]
        previous = self.bands.level
        band = self.bands.update(risk)
        alert = None
        if self.bands.level > previous:
            alert = Alert(band=band, previous=BANDS[previous], risk=round(risk, 2), reasons=self.top_reasons(event.ts))
        return Assessment(round(score, 2), round(risk, 2), band, signals, alert, self.events)

    def top_reasons(self, ts: float, n: int = 3) -> list[str]:
        """The reasons that weigh most in the risk now, their points faded to `ts`."""
        half_life = self.risk.half_life
        weighed = sorted(self.recent, key=lambda r: r[0] * 0.5 ** (max(ts - r[1], 0) / half_life), reverse=True)
        return [reason for _, _, reason in weighed[:n]]

    def state(self) -> dict:
        return {
            "volume": self.volume.state(),
            "rhythm": self.rhythm.state(),
            "first_seen": self.first_seen.state(),
            "risk": [round(self.risk.value, 4), self.risk.ts],
            "band": self.bands.level,
            "events": self.events,
            "recent": self.recent,
        }
