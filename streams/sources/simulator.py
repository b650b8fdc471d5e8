"""A seeded synthetic customer-support organisation, with labelled insiders and benign confounders.

Agents work their own shifts in their own time zones, get tickets, and read
and update the records of the customers on those tickets; team leads export
reports; a billing team works on payment data. Insider scenarios:

- ``harvest`` — reads customers on none of their tickets, at night, a little more every night;
- ``departing`` — an employee serving notice bulk-exports customers at night;
- ``stolen_credentials`` — the account is used from a new IP and device at odd hours;
- ``self_grant`` — grants themselves a billing role, then reads payment data;
- ``search_drip`` — pulls customers out through many broad searches.

Benign confounders that must not alert: new hires, role changes, the
monthly report export, on-call night shifts, return from vacation and a
team-wide rollout of a new tool. Everything derives from `seed`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterator

START = datetime(2026, 11, 2, tzinfo=timezone.utc)  # a Monday
TIME_ZONES = (-8, -5, 0, 1, 2, 5)  # hours from UTC
CUSTOMERS = 50_000
SCENARIOS = ("harvest", "departing", "stolen_credentials", "self_grant", "search_drip")
CONFOUNDERS = ("new_hire", "role_change", "on_call", "vacation", "tool_rollout", "monthly_report")


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
    scenario: str = ""
    start_day: int = 0  # first day of the scenario or confounder
    confounders: list[str] = field(default_factory=list)

    @property
    def resource(self) -> str:
        return "billing.payments" if self.role == "billing_specialist" else "crm.customers"


@dataclass
class Truth:
    """What really happened: who the insiders are, from when, and which events were theirs."""

    insiders: dict[str, str] = field(default_factory=dict)  # user -> scenario
    malicious: list[str] = field(default_factory=list)
    confounders: dict[str, list[str]] = field(default_factory=dict)  # user -> confounders

    def to_dict(self) -> dict:
        return {"insiders": self.insiders, "malicious_event_ids": self.malicious, "confounders": self.confounders}


class SupportOrg:
    """The simulated organisation: its directory, ticket assignments and access events.

    Parameters
    ----------
    users
        Number of people (at least 20: teams of 20, one team lead each).
    days
        Days of activity, starting on Monday 2026-11-02 (UTC).
    seed
        Everything (people, tickets, times, who the insiders are) derives from it.
    insiders_per_scenario
        How many insiders act out each scenario.
    scenarios
        Which insider scenarios to include.
    insider_from_day
        Earliest day an insider starts (each starts between it and the middle of the run).

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
                 scenarios: tuple[str, ...] = SCENARIOS, insider_from_day: int = 3) -> None:
        if users < 20:
            raise ValueError(f"the simulation needs at least 20 users (a team), got {users}")
        if days < 1:
            raise ValueError(f"days must be at least 1, got {days}")
        unknown = set(scenarios) - set(SCENARIOS)
        if unknown:
            raise ValueError(f"unknown scenarios {sorted(unknown)}; choose from {', '.join(SCENARIOS)}")
        self.days = days
        self.seed = seed
        self.rng = random.Random(seed)
        self.agents = [self._agent(i) for i in range(users)]
        self.truth = Truth()
        self.ticket_log: list[dict] = []
        self._seq = 0
        self._cast(scenarios, insiders_per_scenario, insider_from_day)

    # -- who is who ----------------------------------------------------------------------
    def _agent(self, i: int) -> Agent:
        rng = self.rng
        team = i // 20
        role = "team_lead" if i % 20 == 0 else ("billing_specialist" if team % 5 == 4 else "support_agent")
        return Agent(
            user=f"agent{i:04d}", team=f"team-{team:02d}", role=role, tz=rng.choice(TIME_ZONES),
            shift_start=rng.choice((7, 8, 8, 9, 9, 10)), device=f"laptop-{i:04d}",
            ips=[f"10.{i // 250}.{i % 250}.{rng.randint(10, 250)}", f"172.16.{rng.randint(0, 255)}.{rng.randint(1, 254)}"],
        )

    def _cast(self, scenarios: tuple[str, ...], per_scenario: int, from_day: int) -> None:
        rng = self.rng
        pool = [a for a in self.agents if a.role == "support_agent"]
        rng.shuffle(pool)
        latest = max(from_day, self.days // 2)
        for scenario in scenarios:
            for _ in range(per_scenario):
                agent = pool.pop()
                agent.scenario = scenario
                agent.start_day = rng.randint(from_day, latest) if self.days > from_day else 0
                if scenario == "departing":
                    agent.leaving_day = agent.start_day + rng.randint(5, 20)
                self.truth.insiders[agent.user] = scenario
        # Benign confounders, a few people each (more in a bigger organisation).
        per_confounder = max(1, len(self.agents) // 100)
        for confounder in ("new_hire", "role_change", "on_call", "vacation"):
            for _ in range(per_confounder):
                agent = pool.pop()
                agent.confounders.append(confounder)
                agent.start_day = rng.randint(1, max(1, self.days - 5))
                if confounder == "new_hire":
                    agent.hired_day = agent.start_day
                self.truth.confounders.setdefault(agent.user, []).append(confounder)
        rollout_team = rng.choice(sorted({a.team for a in self.agents}))
        self.rollout_day = rng.randint(1, max(1, self.days - 2))
        for agent in self.agents:
            if agent.team == rollout_team:
                agent.confounders.append("tool_rollout")
                self.truth.confounders.setdefault(agent.user, []).append("tool_rollout")
            if agent.role == "team_lead":
                agent.confounders.append("monthly_report")
                self.truth.confounders.setdefault(agent.user, []).append("monthly_report")

    def directory(self) -> list[dict]:
        entries = []
        for a in self.agents:
            role = "billing_specialist" if "role_change" in a.confounders else a.role
            entries.append({
                "user": a.user, "role": role, "team": a.team, "department": "customer-support",
                "manager": f"agent{(int(a.user[5:]) // 20) * 20:04d}",
                "hired": _iso(START + timedelta(days=a.hired_day)),
                "leaving": _iso(START + timedelta(days=a.leaving_day)) if a.leaving_day is not None else None,
                "privileged": a.role == "team_lead", "tags": [],
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
        if "vacation" in a.confounders and a.start_day - 10 <= day < a.start_day:
            return []
        out = self._workday(a, day)
        if "on_call" in a.confounders and a.start_day <= day < a.start_day + 5:
            out += self._workday(a, day, night=True)
        if a.scenario and day >= a.start_day:
            out += self._insider(a, day)
        return out

    def _workday(self, a: Agent, day: int, night: bool = False) -> list[dict]:
        rng = self.rng
        date = START + timedelta(days=day)
        if not night and (date.weekday() >= 5 and rng.random() > 0.05 or rng.random() < 0.04):
            return []  # weekend (but the odd catch-up), sick days
        local_start = 22 if night else a.shift_start
        start = date + timedelta(hours=local_start - a.tz, minutes=rng.gauss(0, 15))
        hours = 3 if night else 8 + (rng.random() < 0.1) * rng.uniform(0.5, 1.5)
        ip = a.ips[rng.random() < 0.3] if rng.random() > 0.01 else f"198.51.100.{rng.randint(1, 254)}"
        app = "crm-next" if "tool_rollout" in a.confounders and day >= self.rollout_day else a.app
        role_changed = "role_change" in a.confounders and day >= a.start_day
        resource = "billing.payments" if role_changed else a.resource
        ctx = {"device": a.device, "src_ip": ip, "app": app}
        out = [self._event(a, start, "login", ctx)]
        tickets = rng.randint(2, 3) if night else rng.randint(4, 8)
        if "vacation" in a.confounders and day == a.start_day:
            tickets += 4  # catching up
        for n in range(tickets):
            ticket_id, customer = f"T{self.seed}-{day:02d}-{a.user[5:]}-{n}{'n' if night else ''}", self._customer()
            opened = start + timedelta(hours=rng.uniform(0, hours - 1))
            self.ticket_log.append({"ticket_id": ticket_id, "customer_id": customer, "assignee": a.user,
                                    "opened": _iso(opened), "closed": _iso(opened + timedelta(hours=1))})
            for action in ["record.view"] * rng.randint(2, 4) + ["record.update"] * rng.randint(0, 2):
                at = opened + timedelta(minutes=rng.uniform(0, 55))
                out.append(self._event(a, at, action, ctx, resource=resource, record_id=customer, ticket_id=ticket_id))
            if rng.random() < 0.2:
                out.append(self._event(a, opened + timedelta(minutes=rng.uniform(0, 55)), "record.search", ctx,
                                       resource=resource, records=rng.randint(1, 8)))
            if rng.random() < 0.05:  # a look at a customer with no ticket: a colleague's case, a phone call
                out.append(self._event(a, opened + timedelta(minutes=rng.uniform(0, 55)), "record.view", ctx,
                                       resource=resource, record_id=self._customer()))
        if a.role == "team_lead" and not night:
            if date.weekday() == 4:  # the Friday ticket report
                out.append(self._event(a, start + timedelta(hours=6), "record.export", ctx, resource="crm.tickets",
                                       records=rng.randint(80, 200), bytes=rng.randint(50_000, 200_000)))
            if date.day == 1:  # the monthly customer report
                out.append(self._event(a, start + timedelta(hours=3), "record.export", ctx, resource="reports.monthly",
                                       records=rng.randint(800, 2000), bytes=rng.randint(1_000_000, 4_000_000)))
        out.append(self._event(a, start + timedelta(hours=hours), "logout", ctx))
        return out

    def _insider(self, a: Agent, day: int) -> list[dict]:
        rng = self.rng
        n = day - a.start_day  # how many days into the scenario
        local = START + timedelta(days=day, hours=-a.tz)  # local midnight, in UTC
        out: list[dict] = []
        if a.scenario == "harvest":
            at = local + timedelta(hours=1, minutes=rng.uniform(0, 60))
            ctx = {"device": a.device, "src_ip": a.ips[1], "app": a.app}
            out.append(self._event(a, at, "login", ctx))
            for _ in range(8 + 6 * n):
                at += timedelta(seconds=rng.uniform(20, 90))
                out.append(self._event(a, at, "record.view", ctx, resource="crm.customers", record_id=self._customer()))
            if n % 2 == 1:
                out.append(self._event(a, at + timedelta(minutes=2), "record.export", ctx, resource="crm.customers",
                                       records=20 + 10 * n, bytes=4_000 * (20 + 10 * n)))
            out.append(self._event(a, at + timedelta(minutes=5), "logout", ctx))
        elif a.scenario == "departing" and n in (0, 2):
            at = local + timedelta(hours=rng.uniform(0.5, 3))
            ctx = {"device": a.device, "src_ip": a.ips[1], "app": a.app}
            out.append(self._event(a, at, "login", ctx))
            for _ in range(rng.randint(3, 6)):
                at += timedelta(seconds=rng.uniform(30, 120))
                out.append(self._event(a, at, "record.view", ctx, resource="crm.customers", record_id=self._customer()))
            records = rng.randint(500, 3000)
            out.append(self._event(a, at + timedelta(minutes=1), "record.export", ctx, resource="crm.customers",
                                   records=records, bytes=records * 400))
            out.append(self._event(a, at + timedelta(minutes=4), "logout", ctx))
        elif a.scenario == "stolen_credentials" and n < 4:
            at = local + timedelta(hours=rng.uniform(1, 4))
            ctx = {"device": f"unknown-{rng.randrange(10**6):06d}", "src_ip": f"203.0.113.{rng.randint(1, 254)}",
                   "app": a.app}
            out.append(self._event(a, at, "login", ctx))
            for _ in range(rng.randint(15, 40)):
                at += timedelta(seconds=rng.uniform(10, 60))
                out.append(self._event(a, at, "record.view", ctx, resource="crm.customers", record_id=self._customer()))
            out.append(self._event(a, at + timedelta(minutes=1), "logout", ctx))
        elif a.scenario == "self_grant" and n < 3:
            at = local + timedelta(hours=a.shift_start + rng.uniform(1, 6))
            ctx = {"device": a.device, "src_ip": a.ips[0], "app": a.app}
            if n == 0:
                out.append(self._event(a, at, "privilege.grant", ctx, resource="iam.roles",
                                       attrs={"role": "billing-admin", "target": a.user}))
            for _ in range(rng.randint(10, 25)):
                at += timedelta(seconds=rng.uniform(20, 120))
                out.append(self._event(a, at, "record.view", ctx, resource="billing.payments", record_id=self._customer()))
        elif a.scenario == "search_drip":
            at = local + timedelta(hours=a.shift_start + rng.uniform(1, 5))
            ctx = {"device": a.device, "src_ip": a.ips[0], "app": a.app}
            for _ in range(rng.randint(6, 10)):
                at += timedelta(minutes=rng.uniform(3, 12))
                out.append(self._event(a, at, "record.search", ctx, resource="crm.customers",
                                       records=rng.randint(25, 60), attrs={"query": "last_name:*"}))
        self.truth.malicious += [e["event_id"] for e in out]
        return out

    def _customer(self) -> str:
        return f"C{self.rng.randrange(CUSTOMERS):06d}"

    def _event(self, a: Agent, at: datetime, action: str, ctx: dict, **fields) -> dict:
        self._seq += 1
        return {"event_id": f"sim{self.seed}-{self._seq:08d}", "ts": _iso(at), "user": a.user, "action": action,
                "outcome": "success", **ctx, **fields}


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
