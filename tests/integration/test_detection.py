"""The worker runs the same detection as `vigil eval`: an insider's alert, with reasons, comes out of vigil.alerts."""

from __future__ import annotations

import orjson
import pytest

from tests.integration.conftest import wait_for
from tests.integration.scenarios import night_reads, train

pytestmark = pytest.mark.integration


def test_insider_reading_customers_without_tickets_at_night_raises_an_alert(make_worker):
    worker = make_worker(partitions=2).start()
    train(worker, ["ann"])
    for e in night_reads("ann"):
        worker.send("events", e, key="ann")
    worker.flush()

    alerts = [orjson.loads(m.value) for m in worker.consume("alerts", 3, timeout=120)]
    serious = [a for a in alerts if a["band"] in ("high", "critical")]
    assert serious, f"no high alert among {alerts}"
    alert = serious[0]
    assert alert["user"] == "ann" and "-night10-" in alert["event_id"]
    assert any("no ticket of theirs" in r for r in alert["reasons"])
    assert "T1213 Data from Information Repositories" in alert["techniques"]
    # ...and it is stored for the analysts.
    wait_for(lambda: worker.scalar("SELECT count() FROM vigil.alerts WHERE band IN ('high', 'critical')"),
             what="the alert in ClickHouse")
