"""A seeded synthetic customer-support organisation, with labelled insiders and benign confounders.

Agents work their own shifts in their own time zones, get tickets, and read
and update the records of the customers on those tickets; some export small
ticket lists or use USB sticks now and then; team leads export reports; a
billing team works on payment data; IT admins log in to machines all over
the building. The insiders (`streams/sources/insiders.py`) act with an
*intensity* between 0 (the quietest) and 1, drawn per insider unless given,
so an evaluation can show where detection starts. The benign confounders
must not alert. Everything derives from `seed`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterator

from streams.sources import insiders

START = datetime(2026, 9, 7, tzinfo=timezone.utc)  # a Monday, far enough back for a few months of simulation
TIME_ZONES = (-8, -5, 0, 1, 2, 5)  # hours from UTC
CUSTOMERS = 50_000
SCENARIOS = tuple(insiders.SCENARIOS)
#: Benign confounders: who they touch ("person": a few agents, "team": one team, "org": everyone, or a role),
#: and for how many days from their first they count as the confounder's (None: to the end of the run).
CONFOUNDERS = {
    "new_hire": ("person", 14), "role_change": ("person", None), "on_call": ("person", 5),
    "vacation": ("person", 3), "team_transfer": ("person", None), "hot_desk": ("person", None),
    "roaming_admin": ("admins", None), "tool_rollout": ("team", None), "incident_surge": ("team", 3),
    "monthly_report": ("leads", None), "quarter_end": ("billing", 3),
    "ip_change": ("org", 3), "dst": ("org", 3), "holiday": ("org", 7),
}


@dataclass
class Agent:
    user: str
    team: str
    role: str
    tz: int
    shift_start: int  # local hour
    device: str
    ips: list[str]
    hired_day: int = -30  # before the simulation: has history
    leaving_day: int | None = None
    app: str = "crm-web"
    exporter: bool = False  # exports a small ticket list now and then
    usb: bool = False  # uses a USB stick now and then
    scenario: str = ""
    intensity: float = 0.0
    start_day: int = 0  # first day of the scenario
    duration: int = 0  # days the scenario lasts, where it ends
    pacing: str = "spread"  # spread over the shift, or in one burst
    accomplice: Agent | None = None  # who acts through this account (masquerade)
    confounders: dict[str, int] = field(default_factory=dict)  # confounder -> its first day
    tags: list[str] = field(default_factory=list)

    @property
    def resource(self) -> str:
        return "billing.payments" if self.role == "billing_specialist" else "crm.customers"


@dataclass
class Shift:
    """One working shift of one agent: when, from where, on what."""

    start: datetime
    hours: float
    ctx: dict  # device, src_ip, app
    resource: str

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=self.hours)


@dataclass
class Truth:
    """What really happened: who the insiders are, how hard they acted, and which events were theirs."""

    insiders: dict[str, str] = field(default_factory=dict)  # user -> scenario
    intensity: dict[str, float] = field(default_factory=dict)  # user -> intensity of their scenario
    malicious: list[str] = field(default_factory=list)
    confounders: dict[str, list[str]] = field(default_factory=dict)  # user -> confounders
    confounder_days: dict[str, list[str]] = field(default_factory=dict)  # confounder -> [first, last] date it counts

    def to_dict(self) -> dict:
        return {"insiders": self.insiders, "intensity": self.intensity, "malicious_event_ids": self.malicious,
                "confounders": self.confounders, "confounder_days": self.confounder_days}


class SupportOrg:
    """The simulated organisation: its directory, ticket assignments and access events.

    Parameters
    ----------
    users
        Number of people (at least 20: teams of 20, one team lead each).
    days
        Days of activity, starting on Monday 2026-09-07 (UTC).
    seed
        Everything (people, tickets, times, who the insiders are) derives from it.
    insiders_per_scenario
        How many insiders act out each scenario.
    scenarios
        Which insider scenarios to include.
    insider_from_day
        Earliest day an insider starts (each starts between it and the middle of the run).
    intensity
        Every insider's intensity in [0, 1]; None draws each from `intensity_range`.
    intensity_range
        Where drawn intensities lie.
    confounders
        Which benign confounders to include.

    Examples
    --------
    >>> org = SupportOrg(users=40, days=3, seed=7, scenarios=("harvest",))
    >>> events = list(org.events())
    >>> len(events) > 1000, events == sorted(events, key=lambda e: e["ts"])
    (True, True)
    >>> list(org.truth.insiders.values())
    ['harvest']

    """

    def __init__(self, users: int = 200, days: int = 14, seed: int = 42, insiders_per_scenario: int = 1,
                 scenarios: tuple[str, ...] = SCENARIOS, insider_from_day: int = 3, intensity: float | None = None,
                 intensity_range: tuple[float, float] = (0.0, 1.0), confounders: tuple[str, ...] = tuple(CONFOUNDERS)) -> None:
        if users < 20:
            raise ValueError(f"the simulation needs at least 20 users (a team), got {users}")
        if days < 1:
            raise ValueError(f"days must be at least 1, got {days}")
        unknown = set(scenarios) - set(SCENARIOS)
        if unknown:
            raise ValueError(f"unknown scenarios {sorted(unknown)}; choose from {', '.join(SCENARIOS)}")
        unknown = set(confounders) - set(CONFOUNDERS)
        if unknown:
            raise ValueError(f"unknown confounders {sorted(unknown)}; choose from {', '.join(CONFOUNDERS)}")
        if intensity is not None and not 0 <= intensity <= 1:
            raise ValueError(f"intensity must be in [0, 1], got {intensity}")
        self.days = days
        self.seed = seed
        self.rng = random.Random(seed)
        self.agents = [self._agent(i) for i in range(users)]
        self.truth = Truth()
        self.ticket_log: list[dict] = []
        self.org_days: dict[str, int] = {}  # organisation-wide confounder -> its first day
        self.team_days: dict[str, tuple[str, int]] = {}  # team confounder -> (team, first day)
        self._seq = 0
        self._cast(scenarios, insiders_per_scenario, insider_from_day, intensity, intensity_range)
        self._confound(confounders)

    # -- who is who ----------------------------------------------------------------------
    def _agent(self, i: int) -> Agent:
        rng = self.rng
        team = i // 20
        if i % 20 == 0:
            role = "team_lead"
        elif i % 20 == 19 and team % 2 == 1:
            role = "it_admin"
        else:
            role = "billing_specialist" if team % 5 == 4 else "support_agent"
        return Agent(
            user=f"agent{i:04d}", team=f"team-{team:02d}", role=role, tz=rng.choice(TIME_ZONES),
            shift_start=rng.choice((7, 8, 8, 9, 9, 10)), device=f"laptop-{i:04d}",
            ips=[f"10.{i // 250}.{i % 250}.{rng.randint(10, 250)}", f"172.16.{rng.randint(0, 255)}.{rng.randint(1, 254)}"],
            exporter=rng.random() < 0.3, usb=rng.random() < 0.25,
        )

    def _cast(self, scenarios, per_scenario: int, from_day: int, intensity, intensity_range) -> None:
        rng = self.rng
        pool = self._pool = [a for a in self.agents if a.role == "support_agent"]
        rng.shuffle(pool)
        latest = max(from_day, self.days // 2)
        for scenario in scenarios:
            for _ in range(per_scenario):
                agent = next((a for a in reversed(pool) if insiders.fits(scenario, a)), pool[-1])
                pool.remove(agent)
                agent.scenario = scenario
                agent.intensity = intensity if intensity is not None else round(rng.uniform(*intensity_range), 3)
                agent.start_day = rng.randint(from_day, latest) if self.days > from_day else 0
                insiders.prepare(self, agent)
                self.truth.insiders[agent.user] = scenario
                self.truth.intensity[agent.user] = agent.intensity

    def _confound(self, confounders: tuple[str, ...]) -> None:
        rng = self.rng
        per_person = max(1, len(self.agents) // 100)
        teams = sorted({a.team for a in self.agents})
        for confounder in confounders:
            who, length = CONFOUNDERS[confounder]
            first = rng.randint(1, max(1, self.days - 5))
            if who == "person":
                chosen = [self._pool.pop() for _ in range(per_person) if self._pool]
            elif who == "team":
                team = rng.choice(teams)
                self.team_days[confounder] = (team, first)
                chosen = [a for a in self.agents if a.team == team]
            elif who in ("leads", "billing", "admins"):
                role = {"leads": "team_lead", "billing": "billing_specialist", "admins": "it_admin"}[who]
                chosen = [a for a in self.agents if a.role == role]
                if confounder in ("monthly_report", "roaming_admin"):
                    first = 0  # what these people always do: it counts from the start
            else:
                self.org_days[confounder] = first
                chosen = self.agents
            chosen = [a for a in chosen if not a.scenario]  # an insider in a surging team is still only an insider
            for agent in chosen:
                agent.confounders[confounder] = first
                if confounder == "new_hire":
                    agent.hired_day = first
                self.truth.confounders.setdefault(agent.user, []).append(confounder)
            if chosen:
                last = self.days - 1 if length is None else min(first + length - 1, self.days - 1)
                self.truth.confounder_days[confounder] = [(START + timedelta(days=d)).date().isoformat() for d in (first, last)]

    def directory(self) -> list[dict]:
        entries = []
        for a in self.agents:
            role = "billing_specialist" if "role_change" in a.confounders else a.role
            entries.append({
                "user": a.user, "role": role, "team": a.team, "department": "customer-support",
                "manager": f"agent{(int(a.user[5:]) // 20) * 20:04d}",
                "hired": _iso(START + timedelta(days=a.hired_day)),
                "leaving": _iso(START + timedelta(days=a.leaving_day)) if a.leaving_day is not None else None,
                "privileged": a.role in ("team_lead", "it_admin"), "tags": a.tags,
            })
        return entries

    # -- behaviour -----------------------------------------------------------------------
    def events(self) -> Iterator[dict]:
        """Every access event of the simulation, in event-time order."""
        # Shifts in far time zones cross UTC midnight, so sort the whole run, not day by day.
        everything: list[dict] = []
        for day in range(self.days):
            for agent in self.agents:
                everything += self._day(agent, day)
        everything.sort(key=lambda e: e["ts"])
        yield from everything

    def _day(self, a: Agent, day: int) -> list[dict]:
        if day < a.hired_day:
            return []
        shift = None if self._off(a, day) else self._shift(a, day)
        out = self._workday(a, day, shift) if shift else []
        on_call = a.confounders.get("on_call")
        if on_call is not None and on_call <= day < on_call + 5 and not self._off(a, day):
            night = Shift(START + timedelta(days=day, hours=22 - a.tz), 3, shift.ctx if shift else self._ctx(a, day),
                          a.resource)
            out += self._workday(a, day, night, night_shift=True)
        if a.scenario and day >= a.start_day:
            made = insiders.act(self, a, day, shift)
            self.truth.malicious += [e["event_id"] for e in made]
            out += made
        return out

    def _off(self, a: Agent, day: int) -> bool:
        vacation = a.confounders.get("vacation")
        holiday = self.org_days.get("holiday")
        return (vacation is not None and vacation - 10 <= day < vacation) or \
            (holiday is not None and holiday <= day < holiday + 4)

    def _tz(self, a: Agent, day: int) -> float:
        tz = a.tz
        if day >= a.confounders.get("team_transfer", 10**6):
            tz = (a.tz + 8 + 12) % 24 - 12  # moved to a team eight time zones east
        if day >= a.confounders.get("dst", 10**6) and a.tz < 0:
            tz -= 1  # the Americas fell back an hour (their offset from UTC grew)
        return tz

    def _ctx(self, a: Agent, day: int) -> dict:
        rng = self.rng
        ips = a.ips
        if day >= self.org_days.get("ip_change", 10**6):
            ips = [_moved(ip) for ip in ips]  # the office moved to a new address range
        if day >= a.confounders.get("team_transfer", 10**6):
            ips = [f"10.77.{int(a.user[5:]) % 250}.9", ips[1]]
        ip = ips[rng.random() < 0.3] if rng.random() > 0.01 else f"198.51.100.{rng.randint(1, 254)}"
        device = a.device
        if day >= a.confounders.get("hot_desk", 10**6):
            device = f"desk-{rng.randrange(400):03d}"  # a different hot desk most days
        rollout = self.team_days.get("tool_rollout")
        app = "crm-next" if rollout and a.team == rollout[0] and day >= rollout[1] else a.app
        return {"device": device, "src_ip": ip, "app": app}

    def _shift(self, a: Agent, day: int) -> Shift | None:
        rng = self.rng
        date = START + timedelta(days=day)
        if date.weekday() >= 5 and rng.random() > 0.05 or rng.random() < 0.04:
            return None  # weekend (but the odd catch-up), sick days
        start = date + timedelta(hours=a.shift_start - self._tz(a, day), minutes=rng.gauss(0, 15))
        hours = 8 + (rng.random() < 0.1) * rng.uniform(0.5, 1.5)
        role_changed = day >= a.confounders.get("role_change", 10**6)
        return Shift(start, hours, self._ctx(a, day), "billing.payments" if role_changed else a.resource)

    def _tickets_today(self, a: Agent, day: int, night_shift: bool) -> int:
        if night_shift:
            return self.rng.randint(2, 3)
        tickets = self.rng.randint(4, 8)
        if day == a.confounders.get("vacation") or day == self.org_days.get("holiday", -9) + 4:
            tickets += 4  # catching up
        surge = self.team_days.get("incident_surge")
        if surge and a.team == surge[0] and surge[1] <= day < surge[1] + 3:
            tickets *= 3  # an incident: the whole team's load triples
        return tickets

    def _workday(self, a: Agent, day: int, shift: Shift, night_shift: bool = False) -> list[dict]:
        rng, ctx, start = self.rng, shift.ctx, shift.start
        out = [self.event(a, start, "login", ctx)]
        if a.role == "it_admin":
            out += self._admin_rounds(a, shift)
        for n in range(self._tickets_today(a, day, night_shift)):
            opened = start + timedelta(hours=rng.uniform(0, shift.hours - 1))
            customer = self.ticket(a, day, n, opened, suffix="n" if night_shift else "")
            ticket_id = self.ticket_log[-1]["ticket_id"]
            for action in ["record.view"] * rng.randint(2, 4) + ["record.update"] * rng.randint(0, 2):
                at = opened + timedelta(minutes=rng.uniform(0, 55))
                out.append(self.event(a, at, action, ctx, resource=shift.resource, record_id=customer, ticket_id=ticket_id))
            if rng.random() < 0.2:
                out.append(self.event(a, opened + timedelta(minutes=rng.uniform(0, 55)), "record.search", ctx,
                                       resource=shift.resource, records=rng.randint(1, 8)))
            if rng.random() < 0.05:  # a look at a customer with no ticket: a colleague's case, a phone call
                out.append(self.event(a, opened + timedelta(minutes=rng.uniform(0, 55)), "record.view", ctx,
                                       resource=shift.resource, record_id=self.customer()))
        if not night_shift:
            out += self._routine(a, day, shift)
        out.append(self.event(a, shift.end, "logout", ctx))
        return out

    def _routine(self, a: Agent, day: int, shift: Shift) -> list[dict]:
        """Exports, USB and reports that are part of some people's ordinary work."""
        rng, ctx, date, out = self.rng, shift.ctx, START + timedelta(days=day), []
        at = shift.start + timedelta(hours=rng.uniform(1, shift.hours - 1))
        if a.exporter and rng.random() < 0.2:
            records = rng.randint(5, 30)
            out.append(self.event(a, at, "record.export", ctx, resource=shift.resource, records=records,
                                   bytes=records * 400))
        if a.usb and rng.random() < 0.15:
            out.append(self.event(a, at + timedelta(minutes=5), "usb.connect", ctx, attrs={"media": "usb-stick"}))
            out.append(self.event(a, at + timedelta(minutes=6), "file.download", ctx, records=rng.randint(1, 5)))
        if a.role == "team_lead":
            if date.weekday() == 4:  # the Friday ticket report
                out.append(self.event(a, shift.start + timedelta(hours=6), "record.export", ctx, resource="crm.tickets",
                                       records=rng.randint(80, 200), bytes=rng.randint(50_000, 200_000)))
            if date.day == 1:  # the monthly customer report
                out.append(self.event(a, shift.start + timedelta(hours=3), "record.export", ctx,
                                       resource="reports.monthly", records=rng.randint(800, 2000),
                                       bytes=rng.randint(1_000_000, 4_000_000)))
        quarter = a.confounders.get("quarter_end")
        if quarter is not None and quarter <= day < quarter + 3:  # quarter-end reporting: several big exports
            for k in range(rng.randint(2, 4)):
                records = rng.randint(200, 900)
                out.append(self.event(a, shift.start + timedelta(hours=2 + k), "record.export", ctx,
                                       resource="reports.quarterly", records=records, bytes=records * 500))
        return out

    def _admin_rounds(self, a: Agent, shift: Shift) -> list[dict]:
        """An IT admin logs in to machines all over the building, most of them for the first time."""
        rng, out = self.rng, []
        roaming = "roaming_admin" in a.confounders
        for k in range(rng.randint(3, 8) if roaming else rng.randint(0, 2)):
            at = shift.start + timedelta(hours=rng.uniform(0.2, shift.hours - 0.5))
            ctx = shift.ctx | {"device": f"ws-{rng.randrange(3000):04d}"}
            out.append(self.event(a, at, "login", ctx))
            out.append(self.event(a, at + timedelta(minutes=rng.uniform(2, 20)), "admin.session", ctx,
                                   resource="it.workstations"))
        return out

    # -- shared with the insiders ------------------------------------------------------------
    def ticket(self, a: Agent, day: int, n: int, opened: datetime, suffix: str = "") -> str:
        """Assign a new ticket to `a`; return its customer."""
        customer = self.customer()
        self.ticket_log.append({"ticket_id": f"T{self.seed}-{day:02d}-{a.user[5:]}-{n}{suffix}", "customer_id": customer,
                                "assignee": a.user, "opened": _iso(opened), "closed": _iso(opened + timedelta(hours=1))})
        return customer

    def customer(self) -> str:
        return f"C{self.rng.randrange(CUSTOMERS):06d}"

    def local_midnight(self, a: Agent, day: int) -> datetime:
        return START + timedelta(days=day, hours=-self._tz(a, day))

    def event(self, a: Agent, at: datetime, action: str, ctx: dict, user: str | None = None, **fields) -> dict:
        self._seq += 1
        return {"event_id": f"sim{self.seed}-{self._seq:08d}", "ts": _iso(at), "user": user or a.user, "action": action,
                "outcome": "success", **ctx, **fields}


def _moved(ip: str) -> str:
    """The same desk's address after the office moved: 10.a.b.c becomes 10.(a+200).b.c."""
    first, second, rest = ip.split(".", 2)
    return f"{first}.{int(second) + 200}.{rest}" if first == "10" else ip


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
