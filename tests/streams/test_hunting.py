"""Every saved hunting query on known data, in the real embedded engine (rows go in the way the sink writes them)."""

from __future__ import annotations

import pytest

from streams.store.hunting import QueryParameterError, library, parse_params, saved
from tests.streams.conftest import insert_scored, scored_row

MONDAY = 1793577600  # 2026-11-02 00:00 UTC
DAY, HOUR = 86400, 3600


@pytest.fixture(scope="module")
def hunt(store):
    """Three weeks: ann works 9-17 on 5 customers; bob too, plus a new IP on day 10; eve does the same for
    two weeks, then in week 3 reads 40 customers with no ticket at 02:00 and exports 500 records."""
    rows, n = [], 0

    def add(user, ts, **fields):
        nonlocal n
        n += 1
        rows.append(scored_row(f"h{n}", user=user, ts=ts, **fields))

    for day in range(21):
        if day % 7 >= 5:
            continue
        for user in ("ann", "bob", "eve"):
            for hour in range(9, 17):
                ip = "10.9.9.9" if user == "bob" and day == 10 else "10.0.0.1"
                add(user, MONDAY + day * DAY + hour * HOUR, record_id=f"C{hour % 5}", ticket_id=f"T{day}-{hour}", src_ip=ip)
        add("ann", MONDAY + day * DAY + 11 * HOUR + 60, action="record.export", record_id="", records=80)
    for i in range(40):
        add("eve", MONDAY + 15 * DAY + 2 * HOUR + i * 30, record_id=f"X{i}", unjustified=True, risk=60.0 + i, score=5.0)
    add("eve", MONDAY + 15 * DAY + 2 * HOUR + 1500, action="record.export", record_id="", records=500, risk=99.0, score=20.0)
    insert_scored(store, rows)
    return rows


def run(store, name, **params):
    query = saved(name)
    result = store.query_readonly(query.sql, query.bind(parse_params([f"{k}={v}" for k, v in params.items()])))
    return [dict(zip(result.columns, row)) for row in result.rows]


def test_riskiest_users(store, hunt):
    top = run(store, "riskiest-users", limit=2)
    assert [r["user"] for r in top] == ["eve", "ann"]  # ann and bob tie at 0: by name
    assert top[0]["peak_risk"] == 99.0


def test_user_timeline_is_in_order_and_windowed(store, hunt):
    rows = run(store, "user-timeline", user="eve", since="2026-11-17T00:00:00Z", until="2026-11-18")
    assert len(rows) == 41 + 8  # the night, plus her working day
    assert [r["ts"] for r in rows] == sorted(r["ts"] for r in rows)


def test_who_accessed_a_customer(store, hunt):
    assert [r["user"] for r in run(store, "customer-accessors", customer="X7")] == ["eve"]
    assert sorted(r["user"] for r in run(store, "customer-accessors", customer="C3")) == ["ann", "bob", "eve"]


def test_access_without_ticket(store, hunt):
    rows = run(store, "access-without-ticket")
    assert [(r["user"], r["touches"], r["customers"]) for r in rows] == [("eve", 40, 40)]


def test_after_hours_exporters_use_each_users_own_rhythm(store, hunt):
    rows = run(store, "after-hours-exporters")
    assert [(r["user"], r["records"], r["hours_utc"]) for r in rows] == [("eve", 500, [2])]  # ann exports at 11:00


def test_first_seen_ips_by_day(store, hunt):
    rows = run(store, "first-seen-ips", since="2026-11-03")
    assert [(str(r["day"]), r["user"], r["src_ip"]) for r in rows] == [("2026-11-12", "bob", "10.9.9.9")]


def test_breadth_growth_week_over_week(store, hunt):
    rows = run(store, "breadth-growth")
    assert [r["user"] for r in rows] == ["eve"]
    assert rows[0]["customers"] >= 40 and rows[0]["growth"] >= 8  # 1 customer a day, then 9


def test_customers_touched_by_is_exactly_the_users_records(store, hunt):
    expected = {r["record_id"] for r in hunt if r["user"] == "eve" and r["record_id"]}
    rows = run(store, "customers-touched-by", user="eve")
    assert {r["customer"] for r in rows} == expected
    x0 = next(r for r in rows if r["customer"] == "X0")
    assert (x0["views"], x0["times"], x0["without_ticket"]) == (1, 1, 1)


def test_unattributed_bulk_names_what_no_list_can_itemise(store, hunt):
    rows = run(store, "unattributed-bulk", user="eve")
    assert [(r["action"], r["records_moved"]) for r in rows] == [("record.export", 500)]


def test_parameters_are_typed_and_required():
    with pytest.raises(QueryParameterError, match="needs --param user"):
        saved("user-timeline").bind({})
    with pytest.raises(QueryParameterError, match="not a valid UInt32"):
        saved("riskiest-users").bind({"limit": "-1"})
    with pytest.raises(QueryParameterError, match="has no parameter"):
        saved("riskiest-users").bind({"drop": "1"})
    with pytest.raises(QueryParameterError, match="no saved query"):
        saved("nope")


def test_every_saved_query_is_documented():
    for query in library().values():
        assert query.description and "{" in query.sql or not query.parameters
