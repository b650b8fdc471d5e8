"""Real faults on real processes: a killed worker, a restarted broker, a second worker taking over."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition

from streams.contract import partition_for
from streams.ops.local_kafka import LocalKafka
from streams.settings import Settings
from streams.sources.producer import EventProducer
from streams.store.clickhouse import ClickHouseStore
from tests.integration.conftest import event, free_ports, wait_for

pytestmark = pytest.mark.integration
USERS = [f"k{i}" for i in range(10)]


def stream(per_user: int) -> list[dict]:
    return [event(n, u) | {"event_id": f"{u}-{n}"} for n in range(per_user) for u in USERS]


def send(settings: Settings, events: list[dict]) -> None:
    with EventProducer(settings) as producer:
        producer.send_events(events, per_envelope=25)


def assert_each_event_counted_once(rows: list[list], per_user: int) -> None:
    """rows: (user, stored rows, distinct events, last user_events) per user."""
    assert sorted(rows) == [[u, per_user, per_user, per_user] for u in sorted(USERS)]


PER_USER_SQL = ("SELECT user, count(), uniqExact(event_id), max(user_events) FROM vigil.scored_events "
                "GROUP BY user ORDER BY user")


def test_sigkill_mid_stream_loses_nothing_and_counts_nothing_twice(make_worker):
    worker = make_worker(partitions=2).start()
    events = stream(400)
    send(worker.settings, events)
    wait_for(lambda: worker.health()["stored"] >= 600, interval=0.05, what="the worker mid-stream")
    worker.stop(signal.SIGKILL)

    worker.start()  # state comes back from the changelog; offsets from the last commit
    wait_for(lambda: worker.scalar("SELECT count() FROM vigil.scored_events") >= len(events), timeout=180,
             what="every event stored")
    assert_each_event_counted_once(worker.query(PER_USER_SQL), 400)


def test_broker_restart_mid_stream_loses_nothing(make_worker, tmp_path):
    broker_port, controller_port = free_ports(2)
    broker = LocalKafka(Settings(data_dir=tmp_path / "broker", kafka_bootstrap=f"127.0.0.1:{broker_port}",
                                 kafka_controller_port=controller_port))
    broker.start()
    try:
        worker = make_worker(partitions=2, bootstrap=broker.settings.kafka_bootstrap).start()
        events = stream(300)
        send(worker.settings, events[:1500])
        wait_for(lambda: worker.health()["stored"] >= 500, interval=0.05, what="the worker mid-stream")
        broker.stop()
        broker.start()
        send(worker.settings, events[1500:])
        wait_for(lambda: worker.scalar("SELECT count() FROM vigil.scored_events") >= len(events), timeout=240,
                 what="every event stored after the broker came back")
        assert_each_event_counted_once(worker.query(PER_USER_SQL), 300)
        assert worker.process.poll() is None
    finally:
        broker.stop()


def test_second_worker_takes_over_the_partitions_and_state_of_a_killed_one(make_worker):
    first = make_worker(partitions=4).start()
    second = make_worker(partitions=4, like=first).start()
    events = stream(300)
    send(first.settings, events[:1500])
    wait_for(lambda: first.health()["scored"] + second.health()["scored"] >= 1500, timeout=120,
             what="both workers scoring")
    # The population is the organisation's: each worker knows the parts of the partitions the other owns.
    holding_users = len({partition_for(u.encode(), 4) for u in USERS})
    wait_for(lambda: first.health()["population_parts"] == second.health()["population_parts"] == holding_users,
             what="every partition's part of the population in both workers")
    first.stop(signal.SIGKILL)
    send(first.settings, events[1500:])

    # Each embedded store holds what its worker wrote; together they must hold every event.
    store = ClickHouseStore(first.settings.dsn)
    try:
        firsts = {r[0]: r[1] for r in store.query_readonly("SELECT event_id, user_events FROM vigil.scored_events").rows}
    finally:
        store.close()
    everything = {e["event_id"] for e in events}

    def seconds() -> dict[str, int]:
        return {r[0]: r[1] for r in second.query("SELECT event_id, user_events FROM vigil.scored_events")}

    wait_for(lambda: everything <= set(firsts) | set(seconds()), timeout=240,
             what="every event in one of the two stores (after the group noticed the kill)")
    # No event counted twice in a user's risk: wherever each was scored, a user's count ends at 300.
    counts = firsts | seconds()
    last = {u: max(counts[f"{u}-{n}"] for n in range(300)) for u in USERS}
    assert last == {u: 300 for u in USERS}


def test_clickhouse_outage_holds_the_offsets_and_catches_up_with_nothing_lost(make_worker, tmp_path):
    down = tmp_path / "clickhouse-down"
    worker = make_worker(partitions=2)
    worker.command = (str(Path(__file__).with_name("flaky_clickhouse.py")),)
    worker.env["CLICKHOUSE_DOWN_FILE"] = str(down)
    worker.start()  # up for its migrations, then down
    down.touch()
    events = stream(60)
    send(worker.settings, events[:500])
    wait_for(lambda: worker.health()["scored"] >= 500, what="events scored while ClickHouse is down")
    wait_for(lambda: worker.log.read_text().count("retrying in") >= 3, what="the sink retrying with backoff")
    assert worker.health()["stored"] == 0

    def committed_scored() -> int:  # how far the worker's group has committed vigil.scored, the sink's input
        reader = KafkaConsumer(bootstrap_servers=worker.settings.kafka_bootstrap, group_id=worker.settings.app_id,
                               enable_auto_commit=False)  # asks for the group's offsets without joining it
        try:
            return sum(reader.committed(TopicPartition(worker.settings.topic("scored"), p)) or 0
                       for p in range(worker.settings.partitions))
        finally:
            reader.close()

    assert committed_scored() == 0  # back-pressure: nothing unwritten is acknowledged
    worker.stop(signal.SIGKILL)  # a crash in the middle of the outage loses nothing either,
    worker.start()  # and a worker started while ClickHouse is down scores at once
    assert "ClickHouse is unreachable" in worker.log.read_text()
    send(worker.settings, events[500:])
    wait_for(lambda: worker.health()["scored"] >= 100, what="new events scored after the restart, still in the outage")
    wait_for(lambda: worker.log.read_text().count("retrying in") >= 6, what="the restarted sink retrying")
    down.unlink()  # ClickHouse is back
    wait_for(lambda: worker.scalar("SELECT count() FROM vigil.scored_events") >= len(events), timeout=180,
             what="the sink catching up")
    assert_each_event_counted_once(worker.query(PER_USER_SQL), 60)
    wait_for(lambda: committed_scored() > 0, what="the offsets committed once the rows are stored")
