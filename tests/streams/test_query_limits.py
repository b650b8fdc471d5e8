"""Bounded queries on the real engine: every analyst's query carries time, memory and row limits it cannot lift."""

from __future__ import annotations

import pytest

from streams.store.clickhouse import ClickHouseStore, QueryLimits, QueryRejected
from tests.streams.conftest import insert_scored, scored_row


@pytest.fixture(scope="module")
def tight(tmp_path_factory):
    store = ClickHouseStore(f"chdb://{tmp_path_factory.mktemp('limits')}",
                            limits=QueryLimits(seconds=1, memory_mb=64, rows_read=1_000_000_000, result_rows=1000))
    store.migrate()
    yield store
    store.close()


@pytest.mark.parametrize("sql, refusal", [
    ("SELECT count() FROM numbers_mt(1000000000000) WHERE cityHash64(number) % 7 = 3",
     "reads more than 1,000,000,000 rows (VIGIL_QUERY_MAX_ROWS_READ)"),
    ("SELECT number FROM numbers(5000)", "returns more than 1,000 rows (VIGIL_QUERY_MAX_RESULT_ROWS)"),
    ("SELECT length(groupArray(toString(number))) FROM numbers(40000000)",
     "needs more than 64 MB (VIGIL_QUERY_MAX_MEMORY_MB)"),
    ("SELECT count() FROM numbers(900000000) WHERE cityHash64(toString(cityHash64(number))) % 7 = 3",  # ~10 s
     "ran longer than 1 s (VIGIL_QUERY_MAX_SECONDS)"),
    ("SELECT 1 SETTINGS max_execution_time = 0", "the query path is read-only"),
])
def test_a_runaway_query_is_stopped_at_its_limit_saying_which(tight, sql, refusal):
    with pytest.raises(QueryRejected, match=refusal.replace("(", r"\(").replace(")", r"\)")):
        tight.query_readonly(sql)


def test_the_store_goes_on_after_a_refused_query(tight):
    with pytest.raises(QueryRejected):
        tight.query_readonly("SELECT number FROM numbers(5000)")
    assert insert_scored(tight, [scored_row("after-limit")]) == 1
    assert tight.query_readonly("SELECT count() FROM vigil.scored_events").rows == [[1]]
