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


@pytest.mark.parametrize("partitions", [1, 4])
def test_the_worker_and_eval_raise_the_same_alerts(make_worker, partitions):
    # A labelled organisation with every insider scenario and the benign confounders; tickets and directory
    # go in ahead of the events, as `vigil demo` and `vigil ingest` feed a backfill. With several partitions
    # each judgement reads the other partitions' parts of the population wherever their envelopes have got
    # to: the same as eval's replay because the consumer takes partitions in event time (envelopes.py).
    # The whole backfill is in Kafka before the worker reads it: while a producer is still sending, a
    # partition that has nothing yet holds nobody back, and the order hangs on when the sends land.
    data = evaluation.simulated(seed=11, users=60, days=12)
    worker = make_worker(partitions=partitions).start()
    with loading.EventProducer(worker.settings) as producer:
        producer.send_all("directory", data.directory, "user")
        producer.send_all("tickets", data.tickets, "ticket_id")
    wait_for(lambda: worker.health()["tickets_booked"] == len(data.tickets), timeout=120, what="tickets booked")
    wait_for(lambda: worker.health()["directory_users"] == len(data.directory), what="directory loaded")
    worker.stop()
    loading.send_events(worker.settings, data.events, Console(quiet=True))
    worker.start()  # its ticket books come back from their changelog
    wait_for(lambda: worker.health()["scored"] >= len(data.events), timeout=300, what=f"{len(data.events)} events scored")

    expected = evaluation.replay(data, worker.settings.detector, partitions=partitions).alerts
    assert any(a["band"] in ("high", "critical") for a in expected), "the data set must hold alerts worth comparing"
    got = [orjson.loads(m.value) for m in worker.consume("alerts", len(expected) + 1, timeout=20)]
    assert alert_keys(got) == alert_keys(expected)
    # The reasons an analyst reads are the same too.
    assert sorted(a["alert_id"] + "|".join(a["reasons"]) for a in got) == \
        sorted(a["alert_id"] + "|".join(a["reasons"]) for a in expected)
