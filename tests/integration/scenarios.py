"""Event builders shared by the integration tests: ordinary working days, and a night of harvesting."""

from __future__ import annotations

MONDAY = 1793577600  # 2026-11-02 00:00 UTC
DAY = 86400


def ms(ts: float) -> int:
    return int(ts * 1000)


def ordinary_days(user: str, days: int = 10) -> tuple[list[dict], list[dict]]:
    """(events, tickets): 32 reads a day, 09:00-17:00 UTC, each of a customer on the user's own ticket."""
    events, tickets = [], []
    for day in range(days):
        for hour in range(9, 17):
            for i in range(4):
                n = len(events)
                ts = MONDAY + day * DAY + hour * 3600 + i * 600
                customer = f"C-{user}-{n:05d}"
                tickets.append({"ticket_id": f"T-{user}-{n}", "customer_id": customer, "assignee": user,
                                "opened": ms(ts - 300), "closed": ms(ts + 3600)})
                events.append({"event_id": f"{user}-{n}", "ts": ms(ts), "user": user, "action": "record.view",
                               "resource": "crm.customers", "record_id": customer, "ticket_id": f"T-{user}-{n}",
                               "device": "laptop-1", "src_ip": "10.0.0.1", "app": "crm-web"})
    return events, tickets


def night_reads(user: str, day: int = 10, count: int = 60) -> list[dict]:
    """At 02:00 UTC, `count` customers on none of the user's tickets."""
    night = MONDAY + day * DAY + 2 * 3600
    return [{"event_id": f"{user}-night{day}-{i}", "ts": ms(night + i * 40), "user": user, "action": "record.view",
             "resource": "crm.customers", "record_id": f"X-{day}-{i:05d}", "device": "laptop-1",
             "src_ip": "10.0.0.1", "app": "crm-web"} for i in range(count)]


def train(worker, users: list[str], days: int = 10) -> None:
    """Send the users' directory entries, tickets and ordinary days; wait until all are scored."""
    from tests.integration.conftest import wait_for

    total, tickets_total = 0, 0
    for user in users:
        worker.send("directory", {"user": user, "role": "support_agent", "team": "team-01"}, key=user)
        events, tickets = ordinary_days(user, days)
        for ticket in tickets:
            worker.send("tickets", ticket, key=ticket["ticket_id"])
        tickets_total += len(tickets)
        worker.flush()
        wait_for(lambda: worker.health().get("tickets_booked") == tickets_total, what="tickets booked")
        for e in events:
            worker.send("events", e, key=user)
        total += len(events)
    worker.flush()
    wait_for(lambda: worker.health().get("directory_users") == len(users), what="directory entries")
    wait_for(lambda: worker.health().get("scored") >= total, timeout=120, what=f"{total} ordinary events scored")
