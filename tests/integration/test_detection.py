"""The worker runs the same detection as `vigil eval`: an insider's alert, with reasons, comes out of vigil.alerts."""

from __future__ import annotations

import orjson
import pytest

from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

MONDAY = 1793577600  # 2026-11-02 00:00 UTC
DAY = 86400


def iso(ts: float) -> int:
    return int(ts * 1000)


def test_insider_reading_customers_without_tickets_at_night_raises_an_alert(make_worker):
    worker = make_worker(partitions=2).start()
    worker.send("directory", {"user": "ann", "role": "support_agent", "team": "team-01"}, key="ann")

    events, tickets, n = [], [], 0
    for day in range(10):  # ten ordinary days: 32 reads of customers on her tickets, 09:00-17:00
        for hour in range(9, 17):
            for i in range(4):
                n += 1
                ts = MONDAY + day * DAY + hour * 3600 + i * 600
                customer = f"C{n:06d}"
                tickets.append({"ticket_id": f"T{n}", "customer_id": customer, "assignee": "ann",
                                "opened": iso(ts - 300), "closed": iso(ts + 3600)})
                events.append({"event_id": f"ann-{n}", "ts": iso(ts), "user": "ann", "action": "record.view",
                               "resource": "crm.customers", "record_id": customer, "ticket_id": f"T{n}",
                               "device": "laptop-1", "src_ip": "10.0.0.1", "app": "crm-web"})
    night = MONDAY + 10 * DAY + 2 * 3600  # then 02:00, customers on none of her tickets
    for i in range(60):
        events.append({"event_id": f"ann-night-{i}", "ts": iso(night + i * 40), "user": "ann", "action": "record.view",
                       "resource": "crm.customers", "record_id": f"X{i:06d}", "device": "laptop-1",
                       "src_ip": "10.0.0.1", "app": "crm-web"})

    for ticket in tickets:
        worker.send("tickets", ticket, key=ticket["ticket_id"])
    worker.flush()
    wait_for(lambda: worker.health().get("tickets_booked") == len(tickets), what="tickets booked")
    wait_for(lambda: worker.health().get("directory_users") == 1, what="the directory entry")
    for e in events:
        worker.send("events", e, key="ann")
    worker.flush()

    alerts = [orjson.loads(m.value) for m in worker.consume("alerts", 3, timeout=120)]
    serious = [a for a in alerts if a["band"] in ("high", "critical")]
    assert serious, f"no high alert among {alerts}"
    alert = serious[0]
    assert alert["user"] == "ann" and alert["event_id"].startswith("ann-night-")
    assert any("no ticket assigned" in r for r in alert["reasons"])
    assert "T1213 Data from Information Repositories" in alert["techniques"]
    # ...and it is stored for the analysts.
    wait_for(lambda: worker.scalar("SELECT count() FROM vigil.alerts WHERE band IN ('high', 'critical')"),
             what="the alert in ClickHouse")
