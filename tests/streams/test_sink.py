"""The sink's rows: scored records as the scoring agent writes them, stored as they came, once each."""

from __future__ import annotations

import msgspec
import orjson
import pytest

from models import AccessEvent, Assessment
from models.signal import Signal
from streams.records import ScoredMessage
from streams.worker.scorer import scored_record
from streams.worker.scoring import encode
from streams.worker.sink import scored_rows

SIGNAL = Signal("unjustified", "unjustified", 18.0, "touched 4 customers with no ticket of theirs today (C1, …)",
                4, 0, "T1213 Data from Information Repositories")


def scored(n: int, **fields):
    access = AccessEvent(f"s{n}", 1793613600.0 + n, "ann", "record.view", record_id=f"C{n}", **fields)
    assessment = Assessment(18.0, 18.0, "low", [SIGNAL] if n % 2 else [], None, n + 1, unjustified=bool(n % 2))
    return scored_record(access, assessment, partition=2, offset=100 + n)


def test_a_scored_message_is_stored_as_the_worker_wrote_it(store):
    message = encode(ScoredMessage([scored(n) for n in range(4)] + [scored(4, attrs={"q": "'; DROP TABLE x"})]))
    rows = scored_rows(message)
    assert [r.key for r in rows] == ["s0", "s1", "s2", "s3", "s4"]
    assert store.insert("scored_events", rows) == 5
    assert store.insert("scored_events", rows + scored_rows(encode(scored(5)))) == 1  # redelivered, one new
    stored = store.query_readonly(
        "SELECT event_id, toUnixTimestamp64Milli(ts), resource, bytes, unjustified, signals, reasons, attrs, src_offset "
        "FROM vigil.scored_events WHERE event_id LIKE 's%' ORDER BY event_id").rows
    assert stored[:2] == [
        ["s0", 1793613600000, "", None, 0, [], [], "{}", 100],
        ["s1", 1793613601000, "", None, 1, ["unjustified"], [SIGNAL.reason], "{}", 101],
    ]
    assert stored[4][7] == '{"q":"\'; DROP TABLE x"}' and len(stored) == 6


def test_a_record_keeps_each_signals_evidence_for_readers_of_vigil_scored():
    assert orjson.loads(encode(scored(1)))["evidence"] == [SIGNAL.to_dict()]


@pytest.mark.parametrize("value", [b"", b"{", b'{"scored": 5}', b'{"scored": [{"user": "ann"}]}', b'{"event_id": 1}'])
def test_what_no_worker_writes_is_refused(value):
    with pytest.raises((msgspec.DecodeError, ValueError)):
        scored_rows(value)


def test_a_batch_with_rows_clickhouse_refuses_stores_the_rest_and_dead_letters_those(store):
    import asyncio

    from streams.store.clickhouse import Row
    from streams.worker.counters import WorkerCounters
    from streams.worker.sink import ClickHouseSink

    class Letters:  # what the sink hands to vigil.deadletter (the real topic is tested in tests/integration)
        def __init__(self):
            self.rejected = []

        async def reject(self, key, value, reason, source):
            self.rejected.append((value, reason, source))

    good = [scored_rows(encode(msgspec.structs.replace(scored(n), event_id=f"bisect-{n}")))[0] for n in range(6)]
    poison = Row("bisect-poison", "ann", 1793613600.0, b'{"event_id": "bisect-poison", "user": "ann", "ts": 1793613600.0, '
                                                      b'"risk": "a lot"}')
    letters, counters = Letters(), WorkerCounters()
    sink = ClickHouseSink(store, counters, letters)
    asyncio.run(sink.write("scored_events", good[:4] + [poison] + good[4:]))

    stored = store.query_readonly("SELECT event_id FROM vigil.scored_events WHERE event_id LIKE 'bisect-%' ORDER BY event_id")
    assert [r[0] for r in stored.rows] == [f"bisect-{n}" for n in range(6)]
    [(value, reason, source)] = letters.rejected
    assert value == poison.json and source == "clickhouse/scored_events/bisect-poison"
    assert reason.startswith("ClickHouse refused the row:") and "risk" in reason
    assert counters.stored == 6


def test_rows_stored_by_agents_writing_at_once_are_all_counted(store):
    import asyncio

    from streams.worker.counters import WorkerCounters
    from streams.worker.sink import ClickHouseSink

    counters = WorkerCounters()
    sink = ClickHouseSink(store, counters, inbox=None)
    batches = [[scored_rows(encode(msgspec.structs.replace(scored(n), event_id=f"together-{b}-{n}")))[0]
                for n in range(5)] for b in range(3)]

    async def three_agents():
        await asyncio.gather(*(sink.write("scored_events", rows) for rows in batches))

    asyncio.run(three_agents())
    assert counters.stored == 15
