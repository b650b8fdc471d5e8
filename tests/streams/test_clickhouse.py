"""ClickHouseStore on the real embedded engine (chdb)."""

from __future__ import annotations

import pytest

from streams.store.clickhouse import QueryRejected
from tests.streams.conftest import insert_scored
from tests.streams.conftest import scored_row as scored


def test_migrations_run_twice_without_change(store):
    tables = lambda: store.query_readonly("SELECT name, create_table_query FROM system.tables "  # noqa: E731
                                          "WHERE database = 'vigil' ORDER BY name").rows
    before = tables()
    assert store.migrate() == []
    assert tables() == before
    assert [name for name, _ in before] == [
        "actions", "alerts", "audit", "customer_access", "customer_access_mv", "feedback", "schema_migrations",
        "scored_events", "user_hourly", "user_hourly_mv"]


def test_redelivered_rows_are_not_stored_twice(store):
    batch = [scored(f"r{i}") for i in range(100)]
    assert insert_scored(store, batch) == 100
    assert insert_scored(store, batch[50:] + [scored("r-new")]) == 1  # half redelivered, one new
    assert insert_scored(store, batch[:3] + batch[:3]) == 0  # duplicates within a batch too
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
    insert_scored(store, [scored("p1", user="o'brien")])
    rows = store.query_readonly("SELECT event_id FROM vigil.scored_events WHERE user = {u:String}", {"u": "o'brien"})
    assert rows.rows == [["p1"]]


def test_a_refused_query_does_not_make_the_writer_read_only(store):
    with pytest.raises(QueryRejected):
        store.query_readonly("DROP TABLE vigil.alerts")
    assert insert_scored(store, [scored("after-refusal")]) == 1


HOSTILE_KEYS = ["a'b", "a\\'b", "\\", "'", "''", "\\\\'", "`", "x\ny", "x\ty", "\x00", "{keys:Array(String)}",
                "'); DROP TABLE vigil.alerts; --", "é€😀", "%s", "$1"]


def test_keys_that_try_to_leave_their_quotes_are_stored_once_and_found_again(store):
    rows = [scored(key, user=key) for key in HOSTILE_KEYS]
    assert insert_scored(store, rows) == len(HOSTILE_KEYS)
    assert insert_scored(store, rows) == 0  # each found by the duplicate check, as it was written
    stored = store.query_readonly("SELECT event_id, user FROM vigil.scored_events WHERE event_id IN {k:Array(String)}",
                                  {"k": HOSTILE_KEYS}).rows
    assert sorted(stored) == sorted([k, k] for k in HOSTILE_KEYS)
    assert store.query_readonly("EXISTS TABLE vigil.alerts").rows == [[1]]


def test_the_duplicate_check_reaches_rows_at_the_earliest_millisecond(store):
    first = scored("ms-edge", ts=1793613600.0005)  # stored as .000 or .001: the check must still see it
    assert insert_scored(store, [first]) == 1
    assert insert_scored(store, [first]) == 0
