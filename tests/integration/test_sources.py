"""Real sources in: a real shipper (kcat) writes ECS lines to a source topic, and a file of a vendor's format is
ingested; the worker maps, re-keys and scores them, and dead-letters what does not map, saying why."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid

import orjson
import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from streams.contract import parse_ts
from tests.integration.conftest import wait_for
from tests.streams.test_adapters import CLOUDTRAIL_FILE, ECS_FLAT, ECS_NESTED

pytestmark = pytest.mark.integration


def stored(worker) -> int:
    return worker.scalar("SELECT count() FROM vigil.scored_events")


def shipper_topic(bootstrap: str, name: str, partitions: int) -> str:
    """A topic a shipper already writes to, with its own partition count."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
    finally:
        admin.close()
    return name


def ecs_nested_line(n: int, user: str) -> bytes:
    """As Elastic Agent writes ECS: nested objects."""
    return orjson.dumps(ECS_NESTED | {"@timestamp": f"2026-11-02T09:{n:02d}:00.000Z", "user": {"name": user},
                                      "event": ECS_NESTED["event"] | {"id": f"{user}-{n}", "action": "record.view"}})


def consume_topic(worker, topic: str, count: int) -> list:
    from kafka import KafkaConsumer

    reader = KafkaConsumer(topic, bootstrap_servers=worker.settings.kafka_bootstrap, auto_offset_reset="earliest",
                           consumer_timeout_ms=10_000)
    try:
        return [m for _, m in zip(range(count), reader)]
    finally:
        reader.close()


def ecs_line(n: int, user: str) -> bytes:
    return orjson.dumps(ECS_FLAT | {"event.id": f"{user}-{n}", "user.name": user, "event.action": "record.view",
                                    "@timestamp": f"2026-11-02T09:{n:02d}:00.000Z", "vigil.records": 1})


def test_ecs_lines_shipped_by_kcat_are_rekeyed_by_user_scored_and_the_unmappable_dead_lettered(kafka, make_worker,
                                                                                               tmp_path):
    kcat = shutil.which("kcat") or pytest.fail("kcat is missing: `apt-get install kcat` (make test installs it)")
    source = shipper_topic(kafka, f"logs-ecs-{uuid.uuid4().hex[:8]}", partitions=3)
    worker = make_worker(partitions=2, sources=f"ecs:{source}").start()

    lines = [ecs_line(n, user) for n in range(6) for user in ("ann", "bob")]
    bad = {orjson.dumps({k: v for k, v in orjson.loads(lines[0]).items() if k != "user.name"}):
           "ECS record has no user.name", b"<13>Nov  2 09:00:00 crm: not json": "not valid JSON"}
    (tmp_path / "ecs.ndjson").write_bytes(b"\n".join(lines + list(bad)) + b"\n")
    # No key: the shipper spreads lines over the partitions; Vigil must put each user's events together.
    subprocess.run([kcat, "-P", "-b", worker.settings.kafka_bootstrap, "-t", source, "-l", str(tmp_path / "ecs.ndjson")],
                   check=True, timeout=60)

    wait_for(lambda: stored(worker) == len(lines), timeout=120, what="the shipped ECS events scored and stored")
    rows = worker.query("SELECT user, count(), max(user_events), uniqExact(src_partition) FROM vigil.scored_events "
                        "GROUP BY user ORDER BY user")
    assert rows == [["ann", 6, 6, 1], ["bob", 6, 6, 1]]  # every event of a user counted, in one partition
    # Each envelope the intake sent carries its earliest event's time, which the consumer orders partitions by.
    sent = worker.consume("events", 1, timeout=20)
    assert sent
    for message in sent:
        first = min(parse_ts(e["ts"], "ts") for e in orjson.loads(message.value)["events"])
        assert dict(message.headers)["vigil-event-time"] == str(round(first * 1000)).encode()
    letters = worker.consume("deadletter", len(bad) + 1, timeout=20)
    assert {m.value: dict(m.headers)["vigil.reason"].decode() for m in letters}.keys() == bad.keys()
    for letter in letters:
        headers = dict(letter.headers)
        assert headers["vigil.reason"].decode().startswith(bad[letter.value])
        assert headers["vigil.source"].decode().startswith(f"{source}/")


RSYSLOG_CONF = """\
global(workDirectory="{home}")
module(load="imfile" mode="polling" PollingInterval="1")
module(load="mmjsonparse")
module(load="omkafka")
input(type="imfile" File="{home}/audit.json" Tag="crm" ruleset="vigil")
template(name="raw" type="string" string="%msg%")
template(name="user" type="string" string="%$!user!name%")
ruleset(name="vigil") {{
  action(type="mmjsonparse" cookie="" useRawMsg="on")
  action(type="omkafka" broker=["{bootstrap}"] topic="{topic}" template="raw" key="user" dynaKey="on"
         partitions.auto="on")
}}
"""


def test_rsyslog_tails_a_json_audit_file_into_a_source_topic_and_the_worker_scores_it(make_worker, tmp_path):
    rsyslogd = shutil.which("rsyslogd") or pytest.fail("rsyslogd is missing: `apt-get install rsyslog rsyslog-kafka`")
    source = f"crm-audit-{uuid.uuid4().hex[:8]}"  # not there yet: the worker creates the source topics it reads
    worker = make_worker(partitions=2, sources=f"ecs:{source}").start()
    home = tmp_path / "rsyslog"
    home.mkdir()
    audit = home / "audit.json"
    audit.write_bytes(b"")
    (home / "rsyslog.conf").write_text(RSYSLOG_CONF.format(home=home, bootstrap=worker.settings.kafka_bootstrap,
                                                           topic=source))
    shipper = subprocess.Popen([rsyslogd, "-n", "-f", str(home / "rsyslog.conf"), "-i", str(home / "rsyslogd.pid")],
                               stdout=subprocess.DEVNULL, stderr=open(home / "rsyslogd.log", "wb"))
    try:
        with open(audit, "ab") as log:  # the application appends its audit lines as it runs
            for n in range(8):
                log.write(ecs_nested_line(n, "cy") + b"\n")
                log.flush()
        wait_for(lambda: stored(worker) == 8, timeout=120, what="the audit lines shipped by rsyslog, scored and stored")
    finally:
        shipper.terminate()
        shipper.wait(30)
    assert worker.query("SELECT user, count(), max(user_events) FROM vigil.scored_events GROUP BY user") == [["cy", 8, 8]]
    keys = {m.key for m in consume_topic(worker, source, 8)}
    assert keys == {b"cy"}  # rsyslog keyed each line by its user, as docs/sources.md shows


def test_a_cloudtrail_log_file_is_ingested_record_by_record(make_worker, tmp_path):
    worker = make_worker().start()
    trail = tmp_path / "123456789012_CloudTrail_us-east-1_20261102T2120Z.json"
    trail.write_bytes(orjson.dumps(CLOUDTRAIL_FILE, option=orjson.OPT_INDENT_2))  # one document, over many lines
    done = subprocess.run([sys.executable, "-m", "streams.ops.cli", "ingest", "--format", "cloudtrail", str(trail)],
                          env=worker.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"{trail.name}:1 record 3: CloudTrail userIdentity.type 'AWSService' names no person" in done.stderr
    wait_for(lambda: stored(worker) == 2, what="the two people's records")
    assert worker.query("SELECT user, action, outcome FROM vigil.scored_events ORDER BY user") == [
        ["alice", "privilege.grant", "success"], ["bob", "login", "failure"]]
    [letter] = worker.consume("deadletter", 1)
    assert orjson.loads(letter.value)["eventID"] == "e7a1b2c3-0000-4000-8000-000000000003"


def test_zendesk_ticket_views_are_judged_against_the_agents_tickets_through_the_ticket_feed(make_worker, tmp_path):
    source = f"zendesk-access-{uuid.uuid4().hex[:8]}"
    worker = make_worker(sources=f"zendesk:{source}").start()
    agent = "6596848315901"
    for ticket, customer, assignee in (("35436", "90210", agent), ("777", "55555", "another-agent")):
        worker.send("tickets", {"ticket_id": ticket, "customer_id": customer, "assignee": assignee,
                                "opened": "2026-11-01"}, key=ticket)
    worker.flush()
    wait_for(lambda: worker.health()["tickets_booked"] == 2, what="the tickets booked")

    def entry(n: int, ticket: str) -> dict:
        return {"id": f"zd-{n}", "timestamp": f"2026-11-02T10:0{n}:00Z", "user_id": agent, "method": "GET",
                "url": f"/api/v2/tickets/{ticket}.json", "status": 200, "ip_address": "198.51.100.7"}

    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=worker.settings.kafka_bootstrap)
    producer.send(source, orjson.dumps({"access_logs": [entry(1, "35436")]}))  # an API page, as a poller ships it
    producer.flush()
    producer.close()
    (tmp_path / "access.ndjson").write_bytes(orjson.dumps(entry(2, "777")) + b"\n")
    done = subprocess.run([sys.executable, "-m", "streams.ops.cli", "ingest", "--format", "zendesk",
                           str(tmp_path / "access.ndjson")], env=worker.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

    wait_for(lambda: stored(worker) == 2, what="both ticket views scored")
    assert worker.query("SELECT event_id, record_id, ticket_id, unjustified FROM vigil.scored_events "
                        "ORDER BY event_id") == [["zd-1", "90210", "35436", 0], ["zd-2", "55555", "777", 1]]
