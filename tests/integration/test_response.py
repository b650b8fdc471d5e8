"""Automation on real peers: a real SCIM 2.0 server (scim2-server) and a webhook receiver, both on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest

from streams.access.pseudonyms import Pseudonyms
from streams.settings import secret_key
from tests.integration.conftest import SCIM_TOKEN, free_port, wait_for
from tests.integration.scenarios import night_reads, train

pytestmark = pytest.mark.integration
WEBHOOK_SECRET = "webhook-test-secret"


@pytest.fixture
def webhook():
    """A webhook receiver that keeps every request and whether its signature was right."""
    received: list[dict] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            stamp = self.headers["X-Vigil-Timestamp"]
            expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            received.append({"alert": json.loads(body), "signed": hmac.compare_digest(expected, self.headers["X-Vigil-Signature"]),
                             "idempotency_key": self.headers["Idempotency-Key"], "at": time.monotonic()})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


def test_alert_deactivates_the_user_on_the_scim_server(make_worker, scim, webhook, record_property):
    url, received = webhook
    worker = make_worker(respond_at="high", scim_url=scim.url, scim_token=SCIM_TOKEN, webhook_url=url,
                         webhook_secret=WEBHOOK_SECRET).start()
    scim.create("ann")
    train(worker, ["ann"])
    assert scim.active("ann")

    produced = time.monotonic()
    for e in night_reads("ann"):
        worker.send("events", e, key="ann")
    worker.flush()
    wait_for(lambda: not scim.active("ann"), interval=0.05, timeout=60, what="ann deactivated on the SCIM server")
    elapsed = time.monotonic() - produced
    record_property("produce_to_deactivation_seconds", round(elapsed, 2))
    print(f"\nproduce → SCIM deactivation: {elapsed:.2f} s")

    assert received and all(r["signed"] for r in received)
    # The webhook names the user by pseudonym (VIGIL_WEBHOOK_PSEUDONYMS); SCIM, which must act, by name.
    assert received[0]["alert"]["user"] == Pseudonyms(secret_key(worker.settings)).of("ann")
    assert received[0]["idempotency_key"] == received[0]["alert"]["alert_id"]
    wait_for(lambda: worker.scalar("SELECT count() FROM vigil.actions WHERE hook = 'scim' AND status = 'succeeded'"),
             what="the SCIM action in ClickHouse")

    done = subprocess.run([sys.executable, "-m", "streams.ops.cli", "reinstate", "ann"], env=worker.env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert scim.active("ann")
    wait_for(lambda: worker.scalar("SELECT count() FROM vigil.actions WHERE detail LIKE '%reinstated%'"),
             what="the reinstatement recorded")


def test_a_burst_of_alerts_trips_the_circuit_breaker(make_worker, scim):
    worker = make_worker(respond_at="high", scim_url=scim.url, scim_token=SCIM_TOKEN, breaker_max=2,
                         never_suspend=["breakglass"]).start()
    users = ["breakglass"] + [f"u{i}" for i in range(5)]
    for user in users:
        scim.create(user)
    for i, user in enumerate(users):  # what a model bug would send: everyone critical at once
        worker.send("alerts", {"alert_id": f"burst-{i}:critical", "ts": time.time(), "user": user, "band": "critical",
                               "previous": "low", "risk": 99.0, "reasons": ["test"], "techniques": [], "families": [],
                               "event_id": f"burst-{i}"}, key=user)
    worker.flush()
    actions = lambda: worker.query("SELECT user, status, detail FROM vigil.actions WHERE status != 'requested' "  # noqa: E731
                                   "ORDER BY user")
    wait_for(lambda: len(actions()) == len(users), what="one outcome per alert")
    assert [scim.active(u) for u in users] == [True, False, False, True, True, True]
    outcomes = {user: (status, detail) for user, status, detail in actions()}
    assert outcomes["breakglass"] == ("skipped", "never-suspend allowlist")
    assert [outcomes[u][1] for u in ("u2", "u3", "u4")] == ["circuit breaker open"] * 3
    system = [orjson.loads(m.value) for m in worker.consume("alerts", len(users) + 1)
              if m.key == b"vigil-automation"]
    assert system and "automation stopped" in system[0]["reasons"][0] and system[0]["band"] == "critical"


def test_a_hook_that_keeps_failing_is_dead_lettered_and_said_in_a_critical_alert(make_worker):
    closed = f"http://127.0.0.1:{free_port()}/nobody-listens"
    worker = make_worker(respond_at="high", webhook_url=closed, webhook_secret=WEBHOOK_SECRET, hook_attempts=3).start()
    worker.send("alerts", {"alert_id": "x:critical", "ts": time.time(), "user": "ann", "band": "critical",
                           "previous": "low", "risk": 99.0, "reasons": ["test"], "techniques": [], "families": [],
                           "event_id": "x"}, key="ann")
    worker.flush()
    (letter,) = worker.consume("deadletter", 1)
    assert "webhook failed 3 times" in dict(letter.headers)["vigil.reason"].decode()
    assert orjson.loads(letter.value)["alert_id"] == "x:critical"  # the action is kept, to replay by hand
    failed = wait_for(lambda: worker.scalar("SELECT count() FROM vigil.actions WHERE status = 'failed'") == 3 or None,
                      what="three failed attempts recorded")
    assert failed


def test_alerts_go_out_as_ocsf_findings_on_the_webhook_and_a_findings_topic(make_worker, webhook):
    from py_ocsf_models.events.findings.detection_finding import DetectionFinding

    url, received = webhook
    worker = make_worker(respond_at="high", webhook_url=url, webhook_secret=WEBHOOK_SECRET, webhook_format="ocsf",
                         findings_topic=f"siem-findings-{free_port()}", findings_format="ecs").start()
    worker.send("alerts", {"alert_id": "o-1:high", "ts": time.time(), "user": "ann", "band": "high", "previous": "low",
                           "risk": 61.0, "reasons": ["touched 12 customers with no ticket of theirs today"],
                           "techniques": ["T1213 Data from Information Repositories"], "families": ["unjustified"],
                           "event_id": "o-1"}, key="ann")
    worker.flush()
    wait_for(lambda: received, what="the webhook")
    [call] = received
    assert call["signed"] and call["idempotency_key"] == "o-1:high"
    finding = DetectionFinding(**call["alert"])
    assert (finding.class_uid, finding.finding_info.uid, finding.severity_id) == (2004, "o-1:high", 4)

    from kafka import KafkaConsumer
    reader = KafkaConsumer(worker.settings.findings_topic, bootstrap_servers=worker.settings.kafka_bootstrap,
                           auto_offset_reset="earliest", consumer_timeout_ms=30_000)
    try:
        message = next(iter(reader))
    finally:
        reader.close()
    assert message.key == b"ann" and orjson.loads(message.value)["event"]["kind"] == "alert"


def test_the_directory_is_pulled_from_the_identity_provider_over_scim(make_worker, scim):
    worker = make_worker(scim_url=scim.url, scim_token=SCIM_TOKEN).start()
    for n in range(3):
        scim.call("POST", "/Users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": f"agent{n}",
                                     "title": "support_agent", "active": n != 2})
    done = subprocess.run([sys.executable, "-m", "streams.ops.cli", "directory", "pull"], env=worker.env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "3 users from" in done.stdout
    wait_for(lambda: worker.health()["directory_users"] == 3, what="the worker's directory of 3 users")
    entries = {m.key: orjson.loads(m.value) for m in worker.consume("directory", 3)}
    assert entries[b"agent0"]["role"] == "support_agent" and entries[b"agent2"]["tags"] == ["inactive"]
    from streams.sources.scim import scim_users
    assert sorted(u["userName"] for u in scim_users(scim.url, SCIM_TOKEN, page=2)) == ["agent0", "agent1", "agent2"]


def test_hrs_resignations_set_the_leavers_date_in_the_directory(make_worker, scim, tmp_path):
    worker = make_worker(scim_url=scim.url, scim_token=SCIM_TOKEN).start()
    for name in ("dana", "eli"):
        scim.call("POST", "/Users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name,
                                     "title": "support_agent", "emails": [{"value": f"{name}@acme.example", "primary": True}]})
    cli = lambda *args: subprocess.run([sys.executable, "-m", "streams.ops.cli", *args], env=worker.env,  # noqa: E731
                                       capture_output=True, text=True, timeout=60)
    assert cli("directory", "pull").returncode == 0
    (tmp_path / "resignations.csv").write_text("EmailAddress,ResignationDate,LastWorkingDate\n"
                                               "Dana@acme.example,2026-11-02,2026-11-27\n"
                                               "ghost@acme.example,2026-11-02,2026-11-30\n"
                                               "eli@acme.example,yesterday,2026-12-01\n")
    done = cli("directory", "resignations", str(tmp_path / "resignations.csv"))
    assert done.returncode == 0, done.stderr
    assert "1 leavers' entries updated" in done.stdout
    assert "resignations.csv:4: 'ResignationDate' is not ISO-8601" in done.stderr
    assert "not in the directory: ghost@acme.example" in done.stderr
    entries = [orjson.loads(m.value) for m in worker.consume("directory", 3)]
    dana = [e for e in entries if e["user"] == "dana"]
    assert dana[-1]["leaving"] == "2026-11-27" and dana[-1]["role"] == "support_agent"
