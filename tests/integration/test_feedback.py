"""Analyst feedback, from the CLI through vigil.feedback to the worker's state and to ClickHouse."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.integration.conftest import wait_for
from tests.integration.scenarios import night_reads, train

pytestmark = pytest.mark.integration


def serious_alerts(worker) -> list[list]:
    return worker.query("SELECT alert_id, families FROM vigil.alerts WHERE user = 'ann' "
                        "AND band IN ('high', 'critical') ORDER BY ts")


def test_benign_verdict_stops_repeat_alerts_for_that_reason_and_user(make_worker):
    worker = make_worker().start()
    train(worker, ["ann"])
    for e in night_reads("ann", day=10):
        worker.send("events", e, key="ann")
    worker.flush()
    first = wait_for(lambda: serious_alerts(worker), what="the first night's alert")
    alert_id, families = first[-1]

    done = subprocess.run([sys.executable, "-m", "streams.ops.cli", "feedback", alert_id, "--verdict", "benign",
                           "--note", "night shift on the migration project", "--analyst", "sam"],
                          env=worker.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    wait_for(lambda: worker.health().get("feedback_applied") == 1, what="the verdict applied")

    for e in night_reads("ann", day=11):  # the same behaviour the next night
        worker.send("events", e, key="ann")
    worker.flush()
    wait_for(lambda: worker.scalar("SELECT count() FROM vigil.scored_events WHERE event_id LIKE 'ann-night11-%'") == 60,
             what="the second night scored")
    again = [a for a in serious_alerts(worker)[len(first):] if set(a[1]) & set(families)]
    assert again == []
    stored = worker.query("SELECT verdict, analyst, note FROM vigil.feedback WHERE alert_id = {a:String}", {"a": alert_id})
    assert stored == [["benign", "sam", "night shift on the migration project"]]


def test_feedback_on_an_unknown_alert_says_so(make_worker):
    worker = make_worker().start()
    done = subprocess.run([sys.executable, "-m", "streams.ops.cli", "feedback", "no-such-alert", "--verdict", "benign"],
                          env=worker.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "no alert 'no-such-alert'" in done.stderr


def test_a_subject_access_request_exports_everything_held_about_one_user_and_nobody_else(make_worker, tmp_path):
    import orjson

    from tests.integration.conftest import event

    worker = make_worker().start()
    worker.send("directory", {"user": "ann", "role": "support_agent", "hired": "2022-01-10"}, key="ann")
    for n in range(5):
        worker.send("events", event(n), key="ann")
        worker.send("events", event(n, user="bob"), key="bob")
    worker.send("alerts", {"alert_id": "ann-4:high", "ts": 1793610000.0, "user": "ann", "band": "high",
                           "previous": "low", "risk": 55.0, "reasons": ["r"], "techniques": [], "families": ["time"],
                           "event_id": "ann-4"}, key="ann")
    worker.flush()
    wait_for(lambda: worker.scalar("SELECT count() FROM vigil.scored_events") == 10
             and worker.scalar("SELECT count() FROM vigil.alerts") == 1, what="events and the alert stored")

    done = subprocess.run([sys.executable, "-m", "streams.ops.cli", "report", "subject", "ann", "--output",
                           str(tmp_path / "ann")], env=worker.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "ann"
    events = orjson.loads((folder / "events.json").read_bytes())
    assert [e["event_id"] for e in events] == [f"ann-{n}" for n in range(5)] and {e["user"] for e in events} == {"ann"}
    assert [a["alert_id"] for a in orjson.loads((folder / "alerts.json").read_bytes())] == ["ann-4:high"]
    assert orjson.loads((folder / "directory.json").read_bytes())["role"] == "support_agent"
    summary = orjson.loads((folder / "summary.json").read_bytes())
    assert summary["records"] == {"events": 5, "alerts": 1, "actions": 0, "verdicts": 0, "directory": 1}
