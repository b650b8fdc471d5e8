"""ClickHouseStore on the real embedded engine (chdb)."""

from __future__ import annotations

import pytest

from streams.clickhouse import ClickHouseStore, QueryRejected


def scored(event_id: str, user: str = "ann", ts: float = 1793613600.0) -> dict:
    return {"event_id": event_id, "ts": ts, "user": user, "action": "record.view", "outcome": "success",
            "resource": "crm.customers", "record_id": "C1", "records": 1, "bytes": None, "attrs_json": "{}",
            "score": 0.0, "risk": 0.0, "band": "low", "signals": [], "user_events": 1, "src_partition": 0,
            "src_offset": 0}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = ClickHouseStore(f"chdb://{tmp_path_factory.mktemp('ch')}")
    s.migrate()
    yield s
    s.close()


def test_migrations_are_idempotent(store):
    tables = lambda: store.query_readonly("SELECT name FROM system.tables WHERE database = 'vigil' ORDER BY name").rows
    before = tables()
    assert store.migrate() == ["001_scored_events.sql", "002_alerts.sql"]
    assert tables() == before == [["alerts"], ["scored_events"]]


def test_redelivered_rows_are_not_stored_twice(store):
    batch = [scored(f"r{i}") for i in range(100)]
    assert store.insert_scored(batch) == 100
    assert store.insert_scored(batch[50:] + [scored("r-new")]) == 1  # half redelivered, one new
    assert store.insert_scored(batch[:3] + batch[:3]) == 0  # duplicates within a batch too
    assert store.query_readonly("SELECT count(), uniqExact(event_id) FROM vigil.scored_events "
                                "WHERE event_id LIKE 'r%'").rows == [[101, 101]]


@pytest.mark.parametrize("sql, why", [
    ("DROP TABLE vigil.scored_events", "read-only"),
    ("INSERT INTO vigil.alerts (alert_id) VALUES ('x')", "read-only"),
    ("SELECT * FROM file('/etc/passwd', 'LineAsString')", "read-only"),
    ("SELECT 1 SETTINGS readonly = 0", "read-only"),
    ("SELECT 1; DROP TABLE vigil.alerts", "exactly one"),
    ("", "exactly one"),
])
def test_query_path_refuses_anything_but_one_read(store, sql, why):
    with pytest.raises(QueryRejected, match=why):
        store.query_readonly(sql)
    assert store.query_readonly("EXISTS TABLE vigil.alerts").rows == [[1]]


def test_parameters_are_bound_not_pasted(store):
    store.insert_scored([scored("p1", user="o'brien")])
    rows = store.query_readonly("SELECT event_id FROM vigil.scored_events WHERE user = {u:String}", {"u": "o'brien"})
    assert rows.rows == [["p1"]]


def test_a_refused_query_does_not_make_the_writer_read_only(store):
    with pytest.raises(QueryRejected):
        store.query_readonly("DROP TABLE vigil.alerts")
    assert store.insert_scored([scored("after-refusal")]) == 1
