"""`vigil report breach` lists exactly the customers the simulated insider touched (the simulator's ground truth)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from streams.sources.loading import send_context
from streams.sources.producer import EventProducer
from streams.sources.simulator import SupportOrg
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration


def test_breach_report_matches_ground_truth(make_worker, tmp_path):
    worker = make_worker(partitions=2).start()
    org = SupportOrg(users=40, days=6, seed=11, scenarios=("harvest",), insider_from_day=2)
    events = list(org.events())
    tickets = send_context(worker.settings, org)
    wait_for(lambda: worker.health().get("tickets_booked") == tickets, what="tickets booked")
    with EventProducer(worker.settings) as producer:
        for e in events:
            producer.send("events", e["user"], e)
    wait_for(lambda: worker.scalar("SELECT count() FROM vigil.scored_events") == len(events), timeout=180,
             what=f"{len(events)} scored events")

    (insider,) = org.truth.insiders
    truth = {e["record_id"] for e in events if e["user"] == insider and e.get("record_id")}
    out = tmp_path / "notify.json"
    done = subprocess.run([sys.executable, "-m", "streams.ops.cli", "report", "breach", insider, "--format", "json",
                           "--output", str(out)], env=worker.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    listed = json.loads(out.read_text())
    assert {row["customer"] for row in listed} == truth
    assert "customers touched" in done.stderr and f"{len(truth):,}" in done.stderr
    harvested = {e["record_id"] for e in events if e["event_id"] in set(org.truth.malicious) and e.get("record_id")}
    assert sum(row["without_ticket"] > 0 for row in listed) >= len(harvested) * 0.9
