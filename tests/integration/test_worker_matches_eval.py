"""The product is the worker: `vigil eval` must raise exactly the alerts the worker raises on the same data."""

from __future__ import annotations

import orjson
import pytest
from rich.console import Console

from streams.ops import evaluation
from streams.sources import loading
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration


def alert_keys(alerts: list[dict]) -> list[tuple[str, str, int]]:
    """What must agree: who, which band, which minute of event time."""
    return sorted((a["user"], a["band"], int(a["ts"] // 60)) for a in alerts)


def test_the_worker_and_eval_raise_the_same_alerts(make_worker):
    # A labelled organisation with every insider scenario and the benign confounders; tickets and directory
    # go in ahead of the events, as `vigil demo` and `vigil ingest` feed a backfill. One partition: with
    # several, the worker reads the other partitions' parts of the population wherever their envelopes have
    # got to, which no replay in event-time order reproduces to the minute (tests/streams/test_partitions.py
    # holds the organisation the same whatever the partition count).
    data = evaluation.simulated(seed=11, users=60, days=12)
    worker = make_worker(partitions=1).start()
    org_context = {"directory": data.directory, "tickets": data.tickets}
    with loading.EventProducer(worker.settings) as producer:
        producer.send_all("directory", org_context["directory"], "user")
        producer.send_all("tickets", org_context["tickets"], "ticket_id")
    wait_for(lambda: worker.health()["tickets_booked"] == len(data.tickets), timeout=120, what="tickets booked")
    wait_for(lambda: worker.health()["directory_users"] == len(data.directory), what="directory loaded")
    loading.send_events(worker.settings, data.events, Console(quiet=True))
    wait_for(lambda: worker.health()["scored"] >= len(data.events), timeout=300, what=f"{len(data.events)} events scored")

    expected = evaluation.replay(data, worker.settings.detector, partitions=1).alerts
    assert any(a["band"] in ("high", "critical") for a in expected), "the data set must hold alerts worth comparing"
    got = [orjson.loads(m.value) for m in worker.consume("alerts", len(expected) + 1, timeout=20)]
    assert alert_keys(got) == alert_keys(expected)
    # The reasons an analyst reads are the same too.
    assert sorted(a["alert_id"] + "|".join(a["reasons"]) for a in got) == \
        sorted(a["alert_id"] + "|".join(a["reasons"]) for a in expected)
