"""What the simulated insiders do, one function per scenario, each scaled by the insider's intensity.

Intensity 0 is the quietest version of a scenario, 1 the loudest; every
scenario also draws its pacing, hours and duration, so an evaluation can
show where detection starts rather than one point. A scenario function
gets the organisation, the insider, the day and the insider's shift that
day (None when they do not work), and returns the day's malicious events.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streams.sources.simulator import Agent, Shift, SupportOrg

Act = Callable[["SupportOrg", "Agent", int, "Shift | None"], list[dict]]


def _scale(low: float, high: float, intensity: float) -> int:
    return round(low + (high - low) * intensity)


def _reads(org: SupportOrg, a: Agent, at: datetime, ctx: dict, count: int, gap: tuple[float, float],
           resource: str = "crm.customers") -> tuple[list[dict], datetime]:
    """`count` reads of random customers, `gap` seconds apart; the reads and the time of the last."""
    out = []
    for _ in range(count):
        at += timedelta(seconds=org.rng.uniform(*gap))
        out.append(org.event(a, at, "record.view", ctx, resource=resource, record_id=org.customer()))
    return out, at


def harvest(org: SupportOrg, a: Agent, day: int, shift: Shift | None) -> list[dict]:
    """Reads customers on none of their tickets at night, a few more every night; exports every other night."""
    rng, n = org.rng, day - a.start_day
    at = org.local_midnight(a, day) + timedelta(hours=1, minutes=rng.uniform(0, 60))
    ctx = {"device": a.device, "src_ip": a.ips[1], "app": a.app}
    out = [org.event(a, at, "login", ctx)]
    reads, at = _reads(org, a, at, ctx, _scale(3, 12, a.intensity) + _scale(1, 6, a.intensity) * n, (20, 90))
    out += reads
    if n % 2 == 1:
        records = _scale(10, 30, a.intensity) + 10 * n
        out.append(org.event(a, at + timedelta(minutes=2), "record.export", ctx, resource="crm.customers",
                             records=records, bytes=4_000 * records))
    out.append(org.event(a, at + timedelta(minutes=5), "logout", ctx))
    return out


def slow_harvest(org: SupportOrg, a: Agent, day: int, shift: Shift | None) -> list[dict]:
    """Low and slow: a few customers a working day outside their tickets, inside their shift, for weeks."""
    if shift is None or day >= a.start_day + a.duration:
        return []
    rng, out = org.rng, []
    burst = a.pacing == "burst"
    at = shift.start + timedelta(hours=rng.uniform(0.5, shift.hours - 1.5))
    for _ in range(_scale(2, 10, a.intensity)):
        at = at + timedelta(minutes=rng.uniform(1, 4)) if burst else \
            shift.start + timedelta(hours=rng.uniform(0.3, shift.hours - 0.3))
        customer = org.customer()
        for view in range(rng.randint(1, 2)):
            out.append(org.event(a, at + timedelta(seconds=40 * view), "record.view", shift.ctx,
                                 resource=shift.resource, record_id=customer))
    return out


def split_export(org: SupportOrg, a: Agent, day: int, shift: Shift | None) -> list[dict]:
    """Several small exports a working day, each the size of the ones they make anyway, for two weeks."""
    if shift is None or day >= a.start_day + a.duration:
        return []
    rng, out = org.rng, []
    for _ in range(_scale(1, 5, a.intensity)):
        at = shift.start + timedelta(hours=rng.uniform(0.5, shift.hours - 0.5))
        records = rng.randint(15, 40)
        out.append(org.event(a, at, "record.export", shift.ctx, resource=shift.resource, records=records,
                             bytes=records * 400))
    return out


def departing(org: SupportOrg, a: Agent, day: int, shift: Shift | None) -> list[dict]:
    """Serving notice: bulk-exports customers at night, twice."""
    n = day - a.start_day
    if n not in (0, 2):
        return []
    rng = org.rng
    at = org.local_midnight(a, day) + timedelta(hours=rng.uniform(0.5, 3))
    ctx = {"device": a.device, "src_ip": a.ips[1], "app": a.app}
    out = [org.event(a, at, "login", ctx)]
    reads, at = _reads(org, a, at, ctx, rng.randint(3, 6), (30, 120))
    out += reads
    records = _scale(200, 3000, a.intensity)
    out.append(org.event(a, at + timedelta(minutes=1), "record.export", ctx, resource="crm.customers",
                         records=records, bytes=records * 400))
    out.append(org.event(a, at + timedelta(minutes=4), "logout", ctx))
    return out


def usb_leaving(org: SupportOrg, a: Agent, day: int, shift: Shift | None) -> list[dict]:
    """Before leaving: USB connects go from now and then to several a day, each with a few files."""
    if shift is None:
        return []
    rng, out = org.rng, []
    for _ in range(_scale(1, 5, a.intensity)):
        at = shift.start + timedelta(hours=rng.uniform(0.5, shift.hours - 0.5))
        out.append(org.event(a, at, "usb.connect", shift.ctx, attrs={"media": "usb-stick"}))
        out.append(org.event(a, at + timedelta(minutes=2), "file.download", shift.ctx, resource="crm.customers",
                             records=rng.randint(5, 40)))
    return out


def stolen_credentials(org: SupportOrg, a: Agent, day: int, shift: Shift | None) -> list[dict]:
    """The account is used from a new IP and device at odd hours for a few nights."""
    if day - a.start_day >= 4:
        return []
    rng = org.rng
    at = org.local_midnight(a, day) + timedelta(hours=rng.uniform(1, 4))
    ctx = {"device": f"unknown-{rng.randrange(10**6):06d}", "src_ip": f"203.0.113.{rng.randint(1, 254)}", "app": a.app}
    out = [org.event(a, at, "login", ctx)]
    reads, at = _reads(org, a, at, ctx, _scale(5, 40, a.intensity), (10, 60))
    out += reads
    out.append(org.event(a, at + timedelta(minutes=1), "logout", ctx))
    return out


def masquerade(org: SupportOrg, a: Agent, day: int, shift: Shift | None) -> list[dict]:
    """A colleague signs in as this user, from the colleague's own desk, in working hours, and reads customers."""
    if day - a.start_day >= a.duration:
        return []
    rng, colleague = org.rng, a.accomplice
    at = org.local_midnight(colleague, day) + timedelta(hours=colleague.shift_start + rng.uniform(1, 6))
    ctx = {"device": colleague.device, "src_ip": colleague.ips[0], "app": colleague.app}
    out = [org.event(a, at, "login", ctx)]
    return out + _reads(org, a, at, ctx, _scale(4, 25, a.intensity), (20, 120))[0]


def self_grant(org: SupportOrg, a: Agent, day: int, shift: Shift | None) -> list[dict]:
    """Grants themselves a billing role, then reads payment data for a few days."""
    n = day - a.start_day
    if n >= 3:
        return []
    rng = org.rng
    at = org.local_midnight(a, day) + timedelta(hours=a.shift_start + rng.uniform(1, 6))
    ctx = {"device": a.device, "src_ip": a.ips[0], "app": a.app}
    out = []
    if n == 0:
        out.append(org.event(a, at, "privilege.grant", ctx, resource="iam.roles",
                             attrs={"role": "billing-admin", "target": a.user}))
    return out + _reads(org, a, at, ctx, _scale(3, 25, a.intensity), (20, 120), resource="billing.payments")[0]


def privilege_creep(org: SupportOrg, a: Agent, day: int, shift: Shift | None) -> list[dict]:
    """Access to one more system every few days (granted by others), each used for a handful of reads."""
    n = day - a.start_day
    if shift is None or n % 3 or n // 3 >= len(CREEP):
        return []
    rng, resource, out = org.rng, CREEP[n // 3], []
    at = shift.start + timedelta(hours=rng.uniform(1, shift.hours - 1))
    return out + _reads(org, a, at, shift.ctx, _scale(3, 15, a.intensity), (20, 120), resource=resource)[0]


CREEP = ("billing.payments", "crm.vip", "hr.salaries", "finance.ledger")


def search_drip(org: SupportOrg, a: Agent, day: int, shift: Shift | None) -> list[dict]:
    """Pulls customers out through many broad searches, every day."""
    rng = org.rng
    at = org.local_midnight(a, day) + timedelta(hours=a.shift_start + rng.uniform(1, 5))
    ctx = {"device": a.device, "src_ip": a.ips[0], "app": a.app}
    out = []
    for _ in range(_scale(2, 10, a.intensity)):
        at += timedelta(minutes=rng.uniform(3, 12))
        out.append(org.event(a, at, "record.search", ctx, resource="crm.customers", records=rng.randint(25, 60),
                             attrs={"query": "last_name:*"}))
    return out


SCENARIOS: dict[str, Act] = {f.__name__: f for f in (
    harvest, slow_harvest, split_export, departing, usb_leaving, stolen_credentials, masquerade, self_grant,
    privilege_creep, search_drip)}
#: The scenarios that are quiet by design: a few records a day, in working hours.
LOW_AND_SLOW = ("slow_harvest", "split_export", "usb_leaving", "privilege_creep", "masquerade")


def fits(scenario: str, a: Agent) -> bool:
    """Whether `a` is a plausible insider for `scenario` (split exports need someone who exports at all)."""
    return {"split_export": a.exporter, "usb_leaving": a.usb}.get(scenario, True)


def prepare(org: SupportOrg, a: Agent) -> None:
    """Draw what the scenario needs beyond intensity: duration, pacing, a leaving date, an accomplice."""
    rng = org.rng
    a.duration = rng.randint(10, 20)
    a.pacing = rng.choice(("spread", "burst"))
    if a.scenario in ("departing", "usb_leaving"):
        a.leaving_day = a.start_day + rng.randint(5, 20)
    if a.scenario == "masquerade":
        a.duration = rng.randint(2, 5)
        team = [b for b in org.agents if b.team == a.team and b is not a and b.role == "support_agent"]
        a.accomplice = rng.choice(team)


def act(org: SupportOrg, a: Agent, day: int, shift: Shift | None) -> list[dict]:
    return SCENARIOS[a.scenario](org, a, day, shift)
