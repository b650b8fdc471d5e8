"""The vertical slice on real parts: Kafka 4 broker → `vigil worker` (Faust) → embedded ClickHouse."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import orjson
import pytest

from streams.store.clickhouse import QueryRejected
from tests.integration.conftest import event, wait_for

pytestmark = pytest.mark.integration


def stored(worker) -> int:
    return worker.scalar("SELECT count() FROM vigil.scored_events")


def test_events_in_scored_rows_out(make_worker):
    worker = make_worker(partitions=3).start()
    users = ("ann", "bob", "cy")
    for n in range(100):
        for user in users:
            worker.send("events", event(n, user), key=user)
    worker.send("events", event(500, "dee"), key=None)  # unkeyed: re-routed to dee's partition, still scored
    worker.flush()

    wait_for(lambda: stored(worker) == 301, what="301 scored rows")
    rows = worker.query("SELECT user, count(), uniqExact(event_id), max(user_events) FROM vigil.scored_events "
                        "GROUP BY user ORDER BY user")
    assert rows == [["ann", 100, 100, 100], ["bob", 100, 100, 100], ["cy", 100, 100, 100], ["dee", 1, 1, 1]]
    # Every user's events came from one partition: the state and its changelog follow the key.
    assert worker.scalar("SELECT max(p) FROM (SELECT uniqExact(src_partition) AS p FROM vigil.scored_events GROUP BY user)") == 1


def test_query_path_is_authenticated_and_read_only(make_worker):
    worker = make_worker().start()
    with pytest.raises(QueryRejected, match="read-only"):
        worker.query("DROP TABLE vigil.scored_events")
    with pytest.raises(QueryRejected, match="exactly one"):
        worker.query("SELECT 1; SELECT 2")
    request = urllib.request.Request(f"{worker.settings.web_url}/query", data=b'{"sql": "SELECT 1"}', method="POST",
                                     headers={"Authorization": "Bearer wrong"})
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(request, timeout=10)
    assert denied.value.code == 401
    assert worker.scalar("SELECT count() FROM vigil.scored_events") == 0  # the table is still there


def test_malformed_messages_go_to_deadletter_and_neighbours_are_scored(make_worker):
    worker = make_worker().start()
    bad = {
        b"{not json": "not valid JSON",
        b'{"event_id": "x1", "ts": 1793577600000, "user": "ann"}': "missing required field 'action'",
        b'{"event_id": "x2", "ts": "yesterday", "user": "ann", "action": "login"}': "'ts' is not ISO-8601",
        b'{"event_id": "x3", "ts": 1793577600000, "user": 7, "action": "login"}': "'user' must be a non-empty string",
        b"\xff\xfe\x00garbage": "not valid JSON",
        b'[1, 2, 3]': "expected a JSON object",
    }
    worker.send("events", event(1), key="ann")
    for raw in bad:
        worker.send("events", raw, key="ann")
    worker.send("events", event(2), key="ann")
    worker.flush()

    wait_for(lambda: stored(worker) == 2, what="the two valid events")
    letters = worker.consume("deadletter", len(bad))
    assert len(letters) == len(bad)
    for letter in letters:
        headers = dict(letter.headers)
        assert bad[letter.value] in headers["vigil.reason"].decode()  # raw bytes kept exactly, with the reason
        assert headers["vigil.source"].decode().startswith(f"{worker.settings.topic('events')}/")
    assert worker.process.poll() is None  # still running


def test_redelivered_batch_creates_no_duplicate_rows(make_worker):
    worker = make_worker().start()
    for n in range(50):
        worker.send("events", event(n), key="ann")
    worker.flush()
    wait_for(lambda: stored(worker) == 50, what="50 scored rows")

    # Redeliver everything the scoring agent produced, as after a crash before the commit.
    scored = worker.consume("scored", 50, timeout=5)  # every message those 50 events made (fewer than 50)
    assert sum(len(orjson.loads(m.value)["scored"]) for m in scored) == 50
    for message in scored:
        worker.send("scored", message.value, partition=message.partition)
    worker.send("scored", b'{"scored": [{"user": "ann"}]}', key="ann")  # no worker writes this: kept, not stored
    sentinel = orjson.loads(scored[0].value)["scored"][0] | {"event_id": "sentinel"}
    worker.send("scored", sentinel, key="ann")
    worker.flush()

    wait_for(lambda: worker.scalar("SELECT count() FROM vigil.scored_events WHERE event_id = 'sentinel'"),
             what="the sentinel after the redelivered batch")
    assert worker.query("SELECT count(), uniqExact(event_id) FROM vigil.scored_events") == [[51, 51]]
    (letter,) = worker.consume("deadletter", 1)
    assert letter.value == b'{"scored": [{"user": "ann"}]}'
    assert dict(letter.headers)["vigil.reason"].startswith(b"not a scored record")


def test_user_state_survives_restart_from_the_changelog(make_worker):
    worker = make_worker().start()
    for n in range(40):
        worker.send("events", event(n), key="ann")
    worker.flush()
    wait_for(lambda: stored(worker) == 40, what="40 scored rows")
    worker.stop()

    # Lose the local table store: the state must come back from the Kafka changelog.
    shutil.rmtree(worker.settings.data_dir / "faust")
    worker.start()
    worker.send("events", event(40), key="ann")
    worker.flush()
    wait_for(lambda: stored(worker) == 41, what="the event after the restart")
    assert worker.scalar("SELECT user_events FROM vigil.scored_events WHERE event_id = 'ann-40'") == 41


def test_ingest_cli_sends_valid_rows_and_dead_letters_the_rest(make_worker, tmp_path):
    worker = make_worker().start()
    csv_file = tmp_path / "events.csv"
    csv_file.write_text(
        "event_id,ts,user,action,records,resource\n"
        "c1,2026-11-02T10:00:00Z,ann,record.view,1,crm.customers\n"
        "c2,2026-11-02T10:01:00Z,ann,record.export,-5,crm.customers\n"
        "c3,2026-11-02T10:02:00,ann,record.view,1,crm.customers\n"
        "c4,1793578000000,bob,record.search,12,crm.customers\n"
    )
    done = subprocess.run([sys.executable, "-m", "streams.ops.cli", "ingest", str(csv_file)], env=worker.env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "rejected (to dead-letter)" in done.stdout
    wait_for(lambda: stored(worker) == 2, what="the two valid CSV rows")
    assert sorted(r[0] for r in worker.query("SELECT event_id FROM vigil.scored_events")) == ["c1", "c4"]
    reasons = sorted(dict(m.headers)["vigil.reason"].decode() for m in worker.consume("deadletter", 2))
    assert reasons[0].startswith("'records' must be a whole number") and "no time zone" in reasons[1]


def test_what_other_clients_write_wrongly_is_dead_lettered_once_and_nothing_stalls(make_worker):
    worker = make_worker().start()
    alert = {"alert_id": "x:high", "ts": 1793613600.0, "user": "ann", "band": "high", "previous": "low", "risk": 60.0,
             "reasons": ["r"], "techniques": [], "families": ["unjustified"], "event_id": "x"}
    bad = {  # topic, value → what the dead letter's reason must say
        ("alerts", orjson.dumps(alert | {"band": "severe"})): "not a AlertRecord",  # three agents read vigil.alerts
        ("alerts", b"not json"): "not a AlertRecord: JSON is malformed",
        ("actions", b'{"action_id": 1}'): "not a ActionRecord: Expected `str`, got `int` - at `$.action_id`",
        ("feedback", b"[]"): "invalid feedback",  # dead-lettered by the scoring agent, which applies verdicts
        ("responses", b"{}"): "not a AlertRecord: Object missing required field",
        ("tickets-by-user", b'{"customer_id": "C1"}'): "invalid ticket assignment: KeyError",
        ("scored", orjson.dumps({"event_id": "poison", "user": "ann", "ts": 1793613600.0, "risk": "a lot"})):
            "ClickHouse refused the row",
    }
    for (topic, value), _ in bad.items():
        worker.send(topic, value, key="ann")
    worker.send("alerts", alert, key="ann")
    for n in range(5):
        worker.send("events", event(n), key="ann")
    worker.flush()

    wait_for(lambda: stored(worker) == 5 and worker.scalar("SELECT count() FROM vigil.alerts WHERE alert_id = 'x:high'"),
             timeout=120, what="the good events and the good alert stored past the bad ones")
    letters = worker.consume("deadletter", len(bad) + 1, timeout=30)
    reasons = sorted(dict(m.headers)["vigil.reason"].decode() for m in letters)
    assert len(letters) == len(bad), reasons  # each bad message once, though several agents read it
    for expected in bad.values():
        assert any(r.startswith(expected) for r in reasons), (expected, reasons)
    assert {m.value for m in letters} == {value for _, value in bad}  # the raw bytes, as they came
    assert worker.health()["dead_letters"] == len(bad) and worker.process.poll() is None


def test_a_runaway_query_through_the_worker_stops_at_its_limit_and_scoring_goes_on(make_worker):
    from streams.store.clickhouse import QueryRejected

    worker = make_worker(query_max_seconds=1, query_max_rows_read=10_000_000).start()
    with pytest.raises(QueryRejected, match=r"reads more than 10,000,000 rows \(VIGIL_QUERY_MAX_ROWS_READ\)"):
        worker.query("SELECT count() FROM numbers_mt(1000000000000) WHERE cityHash64(number) % 7 = 3")
    with pytest.raises(QueryRejected, match=r"ran longer than 1 s \(VIGIL_QUERY_MAX_SECONDS\)"):
        worker.query("SELECT count() FROM numbers(9000000) WHERE cityHash64(toString(cityHash64(number))) % 7 = 3 "
                     "AND sleepEachRow(0.000001) = 0")
    for n in range(20):
        worker.send("events", event(n), key="ann")
    worker.flush()
    wait_for(lambda: stored(worker) == 20, what="events scored and stored after the refused queries")


def test_a_query_whose_client_goes_away_is_stopped_and_recorded(make_worker):
    import socket

    from streams.settings import api_token

    worker = make_worker(query_max_seconds=3600, query_max_rows_read=10**15).start()  # only the client can stop it
    body = orjson.dumps({"sql": "SELECT count() FROM numbers_mt(1000000000000) WHERE cityHash64(number) % 7 = 3"})
    head = (f"POST /query HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {api_token(worker.settings)}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    with socket.create_connection((worker.settings.web_host, worker.settings.web_port)) as client:
        client.sendall(head.encode() + body)
        time.sleep(2)  # pacing, not an assertion: let the query start before the client leaves
    # Were the query still running, the embedded engine would hold this question back for an hour.
    cancelled = "SELECT count() FROM vigil.audit WHERE action = 'query' AND outcome = 'cancelled'"
    wait_for(lambda: worker.scalar(cancelled) == 1, what="the abandoned query stopped and recorded")
    for n in range(5):
        worker.send("events", event(n), key="ann")
    worker.flush()
    wait_for(lambda: stored(worker) == 5, what="scoring and storing go on")
