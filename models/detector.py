"""One user's detector: every signal, their risk, and the alerts it raises."""

from __future__ import annotations

from dataclasses import dataclass, field

from models.breadth import CustomerBreadth
from models.bulk import BulkRead
from models.context import DAY, Context, Profile
from models.event import EXFIL_ACTIONS, AccessEvent
from models.exfil import Exfiltration
from models.groupday import GroupDayPoints
from models.lookback import DepartureLookback
from models.multivariate import FEATURES
from models.novelty import FirstSeen
from models.offhours import OutsideAtRareHours
from models.peers import PeerDeviation
from models.persistence import Persistence
from models.privilege import PrivilegeChange
from models.recurrence import DEEDS, GROUP_DEED, Recurrence
from models.rates import ActionRates
from models.rhythm import WeeklyRhythm
from models.risk import BANDS, KINDS, RiskBands, RiskLedger
from models.signal import T1213, Signal
from models.unjustified import UnjustifiedAccess, justified
from models.volume import RecordVolume
from models.window import HOUR, SHIFT_GAP_HOURS


#: Evidence of how much a user does today (the "how much" kind but its weekly sums, judged against the peers'
#: weeks): what a team's busy day (an incident, a catch-up) raises for all of it.
BUSY_DAY_FAMILIES = frozenset(KINDS) - {"cumulative"}
HIGH = BANDS.index("high")


@dataclass(frozen=True)
class DetectorConfig:
    """Tuning shared by every user's detector. Validated once, here."""

    half_life_hours: float = 24.0
    band_thresholds: tuple[float, float, float] = (25.0, 50.0, 80.0)
    hysteresis: float = 0.8
    family_cap: float = 30.0
    leaving_window_days: float = 30.0
    modifiers: tuple[tuple[str, float], ...] = (("privileged", 1.25), ("leaving", 1.5), ("watchlist", 1.5))
    #: Half-Space Trees on each closed user-hour, against the organisation's past days of user-hours.
    multivariate: bool = True

    def __post_init__(self) -> None:
        if self.half_life_hours <= 0:
            raise ValueError(f"half_life_hours must be positive, got {self.half_life_hours}")
        if self.family_cap <= 0:
            raise ValueError(f"family_cap must be positive, got {self.family_cap}")
        RiskBands(self.band_thresholds, self.hysteresis)  # validates both


@dataclass(frozen=True)
class Alert:
    """A user's risk crossed into a higher band."""

    band: str
    previous: str
    risk: float
    reasons: list[str]
    techniques: list[str]
    families: list[str] = field(default_factory=list)  # the evidence behind the reasons, for analyst feedback


@dataclass(slots=True)  # built for every event: a frozen dataclass costs twice as much to build
class Assessment:
    """What the detector concluded from one event."""

    score: float
    risk: float
    band: str
    signals: list[Signal] = field(default_factory=list)
    alert: Alert | None = None
    events_seen: int = 0
    unjustified: bool = False  # a customer record touched with no ticket of theirs assigned


class HourProfile:
    """The current user-hour, summarised for the multivariate model (volume and breadth are read at close)."""

    def __init__(self, hour: int = -1) -> None:
        self.hour = hour
        self.values = dict.fromkeys(FEATURES, 0.0)

    def state(self) -> list:
        return [self.hour, [self.values[f] for f in FEATURES]]

    def restore(self, state: list | None) -> HourProfile:
        if state:
            self.hour, values = state
            self.values = dict(zip(FEATURES, values))
        return self


class UserDetector:
    """Scores a user's events against their own history, their peers and the organisation.

    `observe` judges an event, then learns from it. The per-user state is
    plain data (`state`, and the `state` argument), a few hundred bytes.

    Examples
    --------
    >>> from models.context import Context
    >>> from models.population import Population
    >>> from models.event import AccessEvent
    >>> detector = UserDetector(DetectorConfig())
    >>> a = detector.observe(AccessEvent("e1", 0, "ann", "login", device="laptop-1"), Context(Population()))
    >>> (a.score, a.risk, a.band, a.events_seen)
    (0.0, 0.0, 'low', 1)

    """

    def __init__(self, config: DetectorConfig, state: dict | None = None) -> None:
        state = state or {}
        self.config = config
        rhythm, novelty, exfil = WeeklyRhythm(), FirstSeen(), Exfiltration()
        self.signals = {
            "volume": RecordVolume(),
            "breadth": CustomerBreadth(),
            "rhythm": rhythm,
            "first_seen": novelty,
            "unjustified": UnjustifiedAccess(),
            "offhours": OutsideAtRareHours(rhythm),  # reads the hour as `rhythm`, observed before it, judged it
            "bulk": BulkRead(),
            "exfil": exfil,
            "peers": PeerDeviation(),
            "privilege": PrivilegeChange(),
            "persistence": Persistence(novelty=novelty, exfil=exfil),  # reads what `novelty` met and `exfil` knows
            "rates": ActionRates(),
        }
        for name, signal in self.signals.items():
            signal.restore(state.get(name))
        self._observers = [signal.observe for signal in self.signals.values()]  # looked up once, called per event
        # The signals whose state the detector reads per event, by name once.
        self._rhythm, self._novelty = rhythm, novelty
        self._unjustified, self._persistence = self.signals["unjustified"], self.signals["persistence"]
        self.ledger = RiskLedger(config.half_life_hours * 3600, config.family_cap).restore(state.get("ledger"))
        self.bands = RiskBands(config.band_thresholds, config.hysteresis)
        self.bands.level = state.get("band", 0)
        self.events = state.get("events", 0)
        self.hour = HourProfile().restore(state.get("hour"))
        # Analyst feedback: families judged benign, until when (event time); pinned at critical.
        self.suppressed: dict[str, float] = state.get("suppressed", {})
        self.pinned: bool = state.get("pinned", False)
        self.day: int = state.get("day", -1)  # event-time day of the latest event
        # The latest day counted among their groups' active members (saved only when not the latest day).
        self.arrived: int = state.get("arrived", self.day)
        self.high_day: int | None = state.get("high_day")  # the latest day they were at *high* or above
        self.lookback = DepartureLookback(window_days=config.leaving_window_days).restore(state.get("lookback"))
        # The group deeds (what, day) the user is counted in, today's and yesterday's, until they reach *high*.
        self.deeds: list[tuple[str, int]] = [tuple(d) for d in state.get("deeds", ())]
        self.withdrawn: list[tuple[str, int]] = [tuple(d) for d in state.get("withdrawn", ())]  # until a verdict
        self.recurrence = Recurrence().restore(state.get("recurrence"))
        self.group_day = GroupDayPoints(self.ledger.half_life).restore(state.get("group_day"))

    def observe(self, event: AccessEvent, ctx: Context) -> Assessment:
        if self.events == 0:
            ctx.population.welcome(ctx.profile.peer_group)
        day = int(event.ts // DAY)
        if day > self.day:
            self.day = day
            self.recurrence.roll(day, ctx)
            self.deeds = [deed for deed in self.deeds if deed[1] >= day - 1]
            self.withdrawn = [deed for deed in self.withdrawn if deed[1] >= day - 1]
        # A session's first event makes a working day among the groups' members; a shift's tail past midnight does not.
        if self.arrived < day and event.hour - self.hour.hour >= SHIFT_GAP_HOURS:
            self.arrived = day
            ctx.population.arrive(day, *ctx.profile.groups)
        ctx.justified, ctx.high_day = justified(event, ctx), self.high_day
        later_hour = event.ts >= (self.hour.hour + 1) * HOUR  # `event.hour > self.hour.hour`, without the property
        signals = self._hour_anomaly(event, ctx) if later_hour else []
        for observe in self._observers:
            if found := observe(event, ctx):
                signals += found
        if found := self.lookback.observe(self._persistence, ctx, event.ts):
            signals += found
        if ctx.deeds:  # counted in a group's share of the day just now
            self.deeds += ctx.deeds
            ctx.deeds = []
        self._profile(event)
        self.events += 1

        score = 0.0
        if signals:
            signals, score = self._weigh_and_add(signals, ctx, event.ts, day)
        if self.group_day.added_today:  # the group may have joined in since: their day, not the user's
            self.group_day.reweigh(event.ts, self.ledger, ctx)
        risk = self.ledger.get(event.ts)
        if self.pinned:
            risk = max(risk, self.config.band_thresholds[-1])
        previous = self.bands.level
        band = self.bands.update(risk)
        alert = None
        if self.bands.level >= HIGH:
            self.high_day = day
            if self.deeds:
                self._withdraw(ctx)
        if self.bands.level > previous:
            top = self.ledger.top(event.ts)
            alert = Alert(band=band, previous=BANDS[previous], risk=round(risk, 2),
                          reasons=[r for _, _, r, _ in top], techniques=sorted({t for *_, t in top if t}),
                          families=[f for f, *_ in top])
        return Assessment(score, round(risk, 2), band, signals, alert, self.events, self._unjustified.last_unjustified)

    def _withdraw(self, ctx: Context) -> None:
        """The user is at *high*: their deeds stop counting in their groups' share of the day (a colleague under
        suspicion does not make a day the group's, nor excuse the next insider)."""
        for what, day in self.deeds:
            ctx.population.withdraw(what, day, *ctx.profile.groups)
        self.withdrawn += self.deeds
        self.deeds = []

    def apply_verdict(self, verdict: str, families: list[str], ts: float, suppress_for: float,
                      ctx: Context | None = None) -> None:
        """An analyst's verdict on an alert raised at event time `ts`.

        ``benign``: the alert's evidence families stop counting for this user
        until ``ts + suppress_for`` and their points are dropped now, so the
        same behaviour raises no repeat alert; the baselines keep learning.
        What they did that their groups did too (today's and yesterday's deeds,
        withdrawn at *high*) counts in the groups' day again (`ctx`'s population).
        ``malicious``: the user stays critical until ``clear``.
        """
        if verdict == "benign":
            if ctx is not None:
                for what, day in self.withdrawn:
                    ctx.population.rejoin(what, day, *ctx.profile.groups)
                self.deeds, self.withdrawn = self.deeds + self.withdrawn, []
            for family in families:
                self.suppressed[family] = max(self.suppressed.get(family, 0.0), ts + suppress_for)
                self.ledger.families.pop(family, None)
                self.group_day.forget(family)
            self.bands.level = 0
            self.bands.update(self.ledger.get(ts))
        elif verdict == "malicious":
            self.pinned = True
            self.bands.level = len(BANDS) - 1
        elif verdict == "clear":
            self.pinned = False
        else:
            raise ValueError(f"verdict must be benign, malicious or clear; got {verdict!r}")

    def _weigh_and_add(self, signals: list[Signal], ctx: Context, ts: float, day: int) -> tuple[list[Signal], float]:
        """Weigh the event's signals by the directory and the team's day, read the day's evidence of deeds across
        days, and add it all to the ledger: the signals (with any pattern of deeds found) and the event's score."""
        def counted(found: list[Signal]) -> list[Signal]:  # an analyst judged the others benign for this user
            return [s for s in found if self.suppressed.get(s.family, 0.0) <= ts]

        team_day = self._team_day(signals, ctx, day)
        weighed = [(s, s.points * (team_day if s.family in BUSY_DAY_FAMILIES else 1.0)) for s in counted(signals)]
        # What the user did, as the day's evidence of deeds: before the directory's modifiers, which weigh risk.
        if deeds := [(s.family, points) for s, points in weighed if s.family in DEEDS]:
            found = self.recurrence.observe(day, deeds, ctx, self.config.family_cap)
            signals = signals + found
            weighed += [(s, s.points) for s in counted(found)]
        modifier, why = self._modifier(ctx.profile, ts)
        for s, points in weighed:
            self.ledger.add(s.family, points * modifier, ts, s.reason + why, s.technique)
            if s.family in GROUP_DEED:
                self.group_day.added(s.family, points * modifier, ts, ctx)
        return signals, round(sum(s.points for s in signals) * modifier, 2)

    @staticmethod
    def _team_day(signals: list[Signal], ctx: Context, day: int) -> float:
        """What "how much" evidence weighs today: less the more of the user's team or peers are busier than
        their own usual day, today or yesterday (an incident tripling a team's tickets is the team's days, not the
        user's; yesterday's share is complete, today's grows as the day goes)."""
        if not any(s.family in BUSY_DAY_FAMILIES for s in signals):
            return 1.0
        groups = ctx.profile.groups
        return min(ctx.population.day_weight("busy", day, *groups), ctx.population.day_weight("busy", day - 1, *groups))

    def _modifier(self, profile: Profile, ts: float) -> tuple[float, str]:
        """Directory context that makes the same behaviour riskier."""
        active = {
            "privileged": profile.privileged,
            "leaving": profile.leaving is not None and ts >= profile.leaving - self.config.leaving_window_days * DAY,
            "watchlist": "watchlist" in profile.tags,
        }
        factor, names = 1.0, []
        for name, weight in self.config.modifiers:
            if active.get(name):
                factor *= weight
                names.append(name)
        return factor, (f" [{', '.join(names)}]" if names else "")

    # -- the multivariate view of each closed user-hour -------------------------------------
    def _profile(self, event: AccessEvent) -> None:
        values = self.hour.values
        if self._unjustified.last_unjustified:
            values["unjustified"] = min(values["unjustified"] + 1 / 10, 1.0)
        if self._rhythm.rare:
            values["rare_hour"] = 1.0
        if event.action in EXFIL_ACTIONS:
            values["exfil"] = min(values["exfil"] + max(event.records, 1) / 100, 1.0)
        if fresh := self._novelty.fresh:
            values["new_context"] = min(values["new_context"] + fresh / 3, 1.0)

    def _hour_anomaly(self, event: AccessEvent, ctx: Context) -> list[Signal]:
        """Judge the user-hour that `event`, the first of a later hour, closes."""
        closed, self.hour = self.hour, HourProfile(event.hour)
        if closed.hour < 0 or self.events < 100 or not self.config.multivariate:  # first days teach it nothing useful
            return []
        # The signals have not rolled to the new hour yet: their windows still hold the closed one.
        for feature, window in (("volume", self.signals["volume"].hour), ("breadth", self.signals["breadth"].hour)):
            if window.index == closed.hour:
                closed.values[feature] = min(window.value / max(window.threshold if window.warm else 20.0, 1.0), 2.0) / 2
        model = ctx.population.hours
        score = model.score_and_learn(closed.values, closed.hour // 24, event.hour // 24)
        if score < model.threshold:
            return []
        strongest = sorted(closed.values.items(), key=lambda kv: kv[1], reverse=True)[:3]
        # An hour made unusual by what much of the user's group did that day too (quarter-end exports) is the group's.
        deed = GROUP_DEED.get(strongest[0][0])  # the hour's features are named after the deeds' families
        weight = ctx.population.day_weight(deed, closed.hour // 24, *ctx.profile.groups) if deed else 1.0
        if weight == 0:
            return []
        described = ", ".join(f"{name.replace('_', ' ')} {value:.0%}" for name, value in strongest)
        return [Signal(
            name="multivariate.hour",
            family="multivariate",
            points=round((10 * (score - model.threshold) / (1 - model.threshold) + 5) * weight, 2),
            reason=f"the hour {closed.hour % 24:02d}:00 UTC was an unusual combination ({described} of this user’s norm)",
            observed=round(score, 3),
            expected=model.threshold,
            technique=T1213,
        )]

    def state(self) -> dict:
        state = {name: signal.state() for name, signal in self.signals.items() if name != "privilege"}
        state |= {
            "ledger": self.ledger.state(),
            "band": self.bands.level,
            "events": self.events,
            "hour": self.hour.state(),
            "suppressed": {f: until for f, until in self.suppressed.items() if until > self.ledger_ts()},
            "pinned": self.pinned,
            "day": self.day,
            "lookback": self.lookback.state(),
            "recurrence": self.recurrence.state(),
            "deeds": self.deeds,
        }
        if self.arrived != self.day:  # most users were counted at work on their latest day: saved only if not
            state["arrived"] = self.arrived
        if self.high_day is not None:
            state["high_day"] = self.high_day
        if self.withdrawn:
            state["withdrawn"] = self.withdrawn
        if group_day := self.group_day.state():
            state["group_day"] = group_day
        return state

    def ledger_ts(self) -> float:
        """Event time of the latest evidence (suppressions that ended before it are dropped from the state)."""
        return max((e[1] for e in self.ledger.families.values()), default=0.0)
