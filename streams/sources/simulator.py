"""A seeded synthetic customer-support organisation, with an insider among the agents.

Agents work their own shifts in their own time zones, get tickets, and read
and update the records of the customers on those tickets; team leads export
a weekly report. One agent (the insider) starts, a few days in, to read
customer records that are on none of their tickets, at night, a little more
every night, and exports some of them. Everything derives from `seed`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterator

START = datetime(2026, 11, 2, tzinfo=timezone.utc)  # a Monday
TIME_ZONES = (-8, -5, 0, 1, 2, 5)  # hours from UTC
CUSTOMERS = 20_000


@dataclass
class Agent:
    user: str
    team: str
    role: str
    tz: int
    shift_start: int  # local hour
    device: str
    ips: list[str]
    tickets: list[tuple[str, str]] = field(default_factory=list)  # (ticket_id, customer_id) open today


@dataclass
class Truth:
    """What really happened: who the insiders are and which events were theirs."""

    insiders: dict[str, str] = field(default_factory=dict)  # user -> scenario
    malicious: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"insiders": self.insiders, "malicious_event_ids": self.malicious}


class SupportOrg:
    """The simulated organisation: its directory, ticket assignments and access events.

    Parameters
    ----------
    users
        Number of agents (at least 2: one is the insider).
    days
        Days of activity, starting on Monday 2026-11-02 (UTC).
    seed
        Everything (people, tickets, times, the insider) derives from it.
    insider_from_day
        The first night the insider harvests records.

    Examples
    --------
    >>> org = SupportOrg(users=5, days=2, seed=7)
    >>> events = list(org.events())
    >>> len(events) > 100, events == sorted(events, key=lambda e: e["ts"])
    (True, True)
    >>> list(org.truth.insiders.values())
    ['night harvesting outside tickets']

    """

    def __init__(self, users: int = 200, days: int = 14, seed: int = 42, insider_from_day: int = 3) -> None:
        if users < 2:
            raise ValueError(f"the simulation needs at least 2 users, got {users}")
        if days < 1:
            raise ValueError(f"days must be at least 1, got {days}")
        self.days = days
        self.seed = seed
        self.insider_from_day = insider_from_day
        self.rng = random.Random(seed)
        self.agents = [self._agent(i) for i in range(users)]
        self.insider = self.rng.choice([a for a in self.agents if a.role == "support_agent"])
        self.truth = Truth(insiders={self.insider.user: "night harvesting outside tickets"})
        self.ticket_log: list[dict] = []
        self._seq = 0

    def _agent(self, i: int) -> Agent:
        rng = self.rng
        team = f"team-{i // 20:02d}"
        return Agent(
            user=f"agent{i:04d}",
            team=team,
            role="team_lead" if i % 20 == 0 else "support_agent",
            tz=rng.choice(TIME_ZONES),
            shift_start=rng.choice((7, 8, 8, 9, 9, 10)),
            device=f"laptop-{i:04d}",
            ips=[f"10.{i // 250}.{i % 250}.{rng.randint(10, 250)}", f"172.16.{rng.randint(0, 255)}.{rng.randint(1, 254)}"],
        )

    def directory(self) -> list[dict]:
        return [
            {"user": a.user, "role": a.role, "team": a.team, "department": "customer-support",
             "manager": f"agent{(int(a.user[5:]) // 20) * 20:04d}", "hired": "2024-01-15T00:00:00Z",
             "privileged": False, "tags": []}
            for a in self.agents
        ]

    def events(self) -> Iterator[dict]:
        """Every access event of the simulation, in event-time order."""
        # Shifts in far time zones cross UTC midnight, so sort the whole run, not day by day.
        everything: list[dict] = []
        for day in range(self.days):
            for agent in self.agents:
                everything += self._workday(agent, day)
                if agent is self.insider and day >= self.insider_from_day:
                    everything += self._harvest(agent, day)
        everything.sort(key=lambda e: e["ts"])
        yield from everything

    # -- behaviour -----------------------------------------------------------------
    def _workday(self, a: Agent, day: int) -> list[dict]:
        rng = self.rng
        date = START + timedelta(days=day)
        if date.weekday() >= 5 and rng.random() > 0.05:  # the odd weekend catch-up
            return []
        if rng.random() < 0.04:  # sick day, holiday
            return []
        start = date + timedelta(hours=a.shift_start - a.tz, minutes=rng.gauss(0, 15))
        hours = 8 + (rng.random() < 0.1) * rng.uniform(0.5, 1.5)  # overtime now and then
        ip = a.ips[rng.random() < 0.3] if rng.random() > 0.01 else f"198.51.100.{rng.randint(1, 254)}"
        ctx = {"device": a.device, "src_ip": ip, "app": "crm-web"}
        out = [self._event(a, start, "login", ctx)]
        a.tickets = []
        for _ in range(rng.randint(4, 8)):
            ticket = (f"T{self.seed}-{day:02d}-{a.user[5:]}-{len(a.tickets)}", f"C{rng.randrange(CUSTOMERS):06d}")
            a.tickets.append(ticket)
            opened = start + timedelta(hours=rng.uniform(0, hours - 1))
            self.ticket_log.append({"ticket_id": ticket[0], "customer_id": ticket[1], "assignee": a.user,
                                    "opened": _iso(opened), "closed": _iso(opened + timedelta(hours=1))})
            for action in ["record.view"] * rng.randint(2, 4) + ["record.update"] * rng.randint(0, 2):
                at = opened + timedelta(minutes=rng.uniform(0, 55))
                out.append(self._event(a, at, action, ctx, resource="crm.customers", record_id=ticket[1], ticket_id=ticket[0]))
            if rng.random() < 0.2:
                out.append(self._event(a, opened + timedelta(minutes=rng.uniform(0, 55)), "record.search", ctx,
                                       resource="crm.customers", records=rng.randint(1, 8)))
        if a.role == "team_lead" and date.weekday() == 4:  # Friday report
            out.append(self._event(a, start + timedelta(hours=6), "record.export", ctx, resource="crm.tickets",
                                   records=rng.randint(80, 200), bytes=rng.randint(50_000, 200_000)))
        out.append(self._event(a, start + timedelta(hours=hours), "logout", ctx))
        return out

    def _harvest(self, a: Agent, day: int) -> list[dict]:
        """Night reads of customers on none of the insider's tickets, growing each night."""
        rng = self.rng
        night = day - self.insider_from_day
        local_1am = START + timedelta(days=day, hours=1 - a.tz)
        at = local_1am + timedelta(minutes=rng.uniform(0, 60))
        ctx = {"device": a.device, "src_ip": a.ips[1], "app": "crm-web"}
        out = [self._event(a, at, "login", ctx)]
        for _ in range(10 + 8 * night):
            at += timedelta(seconds=rng.uniform(20, 90))
            customer = f"C{rng.randrange(CUSTOMERS):06d}"
            out.append(self._event(a, at, "record.view", ctx, resource="crm.customers", record_id=customer))
        if night % 2 == 1:
            out.append(self._event(a, at + timedelta(minutes=2), "record.export", ctx, resource="crm.customers",
                                   records=20 + 10 * night, bytes=4_000 * (20 + 10 * night)))
        out.append(self._event(a, at + timedelta(minutes=5), "logout", ctx))
        self.truth.malicious += [e["event_id"] for e in out]
        return out

    def _event(self, a: Agent, at: datetime, action: str, ctx: dict, **fields) -> dict:
        self._seq += 1
        event = {"event_id": f"sim{self.seed}-{self._seq:08d}", "ts": _iso(at), "user": a.user, "action": action,
                 "outcome": "success", **ctx, **fields}
        return event


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
