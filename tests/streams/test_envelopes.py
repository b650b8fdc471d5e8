"""Envelopes and event time: the worker's consumer delivers what `vigil eval` replays, in the same order."""

from __future__ import annotations

import random
from collections import namedtuple

import pytest
from faust.types import TP

from streams.contract import read_message
from streams.envelopes import EVENT_TIME_HEADER, EnvelopeCutter, envelopes, in_event_time_order
from streams.worker.kafka_driver import EventTimeOrder, event_time

Record = namedtuple("Record", "offset timestamp headers value")
NINE = 1793610000  # 2026-11-02 09:00 UTC, seconds
TOPIC = "vigil.events"


def organisation_events(seed: int, users: int = 40, events: int = 3000) -> list[dict]:
    rng = random.Random(seed)
    times = sorted(NINE + rng.uniform(0, 3 * 86400) for _ in range(events))
    return [{"event_id": f"e{i}", "ts": round(t * 1000), "user": f"u{rng.randrange(users)}", "action": "login"}
            for i, t in enumerate(times)]


def test_an_envelope_spans_at_most_five_minutes_and_500_events_of_one_partition():
    events = organisation_events(seed=1)
    cut = envelopes(events, partitions=4)
    assert sorted(e["event_id"] for one in cut for e in one.events) == sorted(e["event_id"] for e in events)
    for one in cut:
        times = [e["ts"] / 1000 for e in one.events]
        assert len(one.events) <= 500 and max(times) - min(times) <= 300
        assert one.headers == {EVENT_TIME_HEADER: str(min(e["ts"] for e in one.events)).encode()}
        assert read_message(one.value).enveloped  # what the scorer reads
    assert {one.partition for one in cut} == {0, 1, 2, 3}


def test_no_envelope_stays_open_once_the_stream_is_five_minutes_past_its_start():
    # A quiet partition's evening envelope goes out with the evening, so the consumer can keep it in step.
    cutter = EnvelopeCutter(partitions=4)
    for event in organisation_events(seed=2, users=6, events=400):  # six users: partitions are often quiet
        cutter.add(event)
        now = event["ts"] / 1000
        assert all(now - one.start <= 300 for one in cutter.open.values() if one.start is not None)


def test_an_event_without_a_valid_time_travels_in_the_current_envelope_and_dates_nothing():
    cutter = EnvelopeCutter(partitions=1)
    cutter.add({"user": "ann", "ts": "not a time"})
    cutter.add({"user": "ann", "ts": (NINE + 60) * 1000})
    [one] = cutter.flush()
    assert len(one.events) == 2 and one.headers == {EVENT_TIME_HEADER: str((NINE + 60) * 1000).encode()}


@pytest.mark.parametrize("seed", range(5))
def test_the_consumer_delivers_a_backlog_in_the_order_eval_replays_it(seed):
    # Every partition's envelopes are in Kafka; fetches bring each partition a random number of records at a
    # time, as aiokafka's byte limits do, and the first fetch something of each (it asks for every assigned
    # partition). The consumer's order must be exactly the evaluator's global merge.
    rng = random.Random(seed)
    cut = envelopes(organisation_events(seed), partitions=4, per_envelope=rng.choice([5, 50, 500]))
    queues: dict[int, list[Record]] = {}
    for one in cut:
        queue = queues.setdefault(one.partition, [])
        queue.append(Record(len(queue), 0, list(one.headers.items()), one.value))
    expected = [(p, r.offset) for p, r in in_event_time_order(
        {p: [(event_time(r), r) for r in q] for p, q in queues.items()})]

    order = EventTimeOrder({TOPIC}, highwater=lambda tp: len(queues[tp.partition]))
    position, delivered = dict.fromkeys(queues, 0), []
    while any(position[p] < len(q) for p, q in queues.items()):
        fetched = {}
        for p, q in queues.items():
            n = rng.choice([0, 1, 3, 10]) if delivered else rng.choice([1, 3, 10])
            if n and position[p] < len(q):
                fetched[TP(TOPIC, p)] = q[position[p]:position[p] + n]
                position[p] += len(fetched[TP(TOPIC, p)])
        delivered += [(tp.partition, r.offset) for tp, r in order.iterate(fetched)]
    delivered += [(tp.partition, r.offset) for tp, r in order.iterate({})]  # the last poll comes back empty
    assert delivered == expected


def test_a_partition_that_has_caught_up_holds_nobody_back():
    # Live traffic: partition 1 has nothing more in Kafka, so partition 0's later record goes out at once.
    a, b = TP(TOPIC, 0), TP(TOPIC, 1)
    order = EventTimeOrder({TOPIC}, highwater={a: 2, b: 1}.get)
    fetched = {a: [Record(0, 10, (), b""), Record(1, 30, (), b"")], b: [Record(0, 20, (), b"")]}
    assert [(tp.partition, r.timestamp) for tp, r in order.iterate(fetched)] == [(0, 10), (1, 20), (0, 30)]


def test_held_records_give_way_to_time_memory_and_a_rebalance():
    a, b = TP(TOPIC, 0), TP(TOPIC, 1)
    behind = {a: 100, b: 100}.get  # both partitions have more in Kafka
    fetched = {a: [Record(0, 10, (), b"x" * 10)], b: [Record(0, 20, (), b"x" * 10), Record(1, 30, (), b"x" * 10)]}
    holding = EventTimeOrder({TOPIC}, behind, held_bytes=1000)
    assert [r.timestamp for _, r in holding.iterate(fetched)] == [10]  # 20 and 30 wait for partition 0
    assert list(holding.iterate({})) == []  # the next poll brought nothing of partition 0: still waiting
    holding.clear()  # Faust seeks back to the committed offsets and reads them again
    assert list(holding.iterate({})) == []
    capped = EventTimeOrder({TOPIC}, behind, held_bytes=15)
    assert [r.timestamp for _, r in capped.iterate(fetched)] == [10, 20, 30]  # past the cap nobody waits


def test_other_topics_keep_faust_round_robin_and_a_bad_header_falls_back_to_the_record_time():
    tickets, events = TP("vigil.tickets-by-user", 0), TP(TOPIC, 0)
    order = EventTimeOrder({TOPIC}, highwater=lambda tp: None)
    fetched = {events: [Record(0, 5, [(EVENT_TIME_HEADER, b"soon")], b"")], tickets: [Record(0, 99, (), b"")]}
    assert [tp.topic for tp, _ in order.iterate(fetched)] == ["vigil.tickets-by-user", TOPIC]
    assert event_time(Record(0, 5, [(EVENT_TIME_HEADER, b"soon")], b"")) == 5


def test_a_partition_that_stays_behind_holds_the_others_back_for_two_seconds_at_most():
    a, b = TP(TOPIC, 0), TP(TOPIC, 1)
    now = [0.0]
    order = EventTimeOrder({TOPIC}, highwater={a: 9, b: 9}.get, clock=lambda: now[0])  # a marker keeps 0 "behind"
    fetched = {a: [Record(0, 10, (), b"")], b: [Record(0, 20, (), b"")]}
    assert [r.timestamp for _, r in order.iterate(fetched)] == [10]
    now[0] = 1.9
    assert list(order.iterate({})) == []
    now[0] = 2.1
    assert [r.timestamp for _, r in order.iterate({})] == [20]


def test_a_wait_after_everything_was_delivered_gets_its_full_two_seconds():
    a, b = TP(TOPIC, 0), TP(TOPIC, 1)
    now, high = [0.0], {a: 9, b: 9}
    order = EventTimeOrder({TOPIC}, highwater=high.get, clock=lambda: now[0])
    assert [r.timestamp for _, r in order.iterate({a: [Record(0, 10, (), b"")], b: [Record(0, 20, (), b"")]})] == [10]
    now[0] = 1.0  # partition 0's next record arrives; partition 1's as well: all goes out
    high.update({a: 2, b: 2})
    assert [r.timestamp for _, r in order.iterate({a: [Record(1, 30, (), b"")], b: [Record(1, 40, (), b"")]})] == [20, 30, 40]
    now[0], high[a], high[b] = 5.0, 9, 9
    assert [r.timestamp for _, r in order.iterate({a: [Record(2, 50, (), b"")], b: [Record(2, 60, (), b"")]})] == [50]


def test_the_worker_takes_its_events_topic_in_event_time(tmp_path):
    from streams.settings import Settings
    from streams.store.clickhouse import ClickHouseStore
    from streams.worker.app import create_app

    settings = Settings(data_dir=tmp_path, kafka_bootstrap="127.0.0.1:1", topic_prefix="acme")
    app = create_app(settings, ClickHouseStore(f"chdb://{tmp_path / 'clickhouse'}"))
    assert isinstance(app.consumer.scheduler, EventTimeOrder)
    assert app.consumer.scheduler.topics == {"acme.events"}
