"""Batch envelopes: one message, many events of one partition, the same guarantees as single events."""

from __future__ import annotations

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from streams.contract import envelope, partition_for
from tests.integration.conftest import event, wait_for

pytestmark = pytest.mark.integration


def test_envelope_events_are_scored_once_bad_items_dead_lettered_strays_rerouted(make_worker):
    worker = make_worker(partitions=2).start()
    users = [f"user{i}" for i in range(12)]
    home = {u: partition_for(u.encode(), 2) for u in users}
    here = [u for u in users if home[u] == 0]
    stray = next(u for u in users if home[u] == 1)
    items = [event(n, u) for n in range(20) for u in here] + [{"event_id": "bad", "user": "x"}, event(0, stray)]
    message = envelope(items)
    worker.send("events", message, partition=0)  # Vigil's producers address envelopes by partition
    worker.flush()
    expected = 20 * len(here) + 1
    wait_for(lambda: worker.scalar("SELECT count() FROM vigil.scored_events") == expected, what=f"{expected} rows")
    (letter,) = worker.consume("deadletter", 1)
    headers = dict(letter.headers)
    assert "missing required field 'ts'" in headers["vigil.reason"].decode()
    assert headers["vigil.source"].decode().endswith(f"#{len(items) - 2}")  # which item of which message

    # An envelope of valid events (the typed decoder's path): the stray goes home as it came, the one dated
    # next year is dead-lettered on its own.
    future = event(1, here[1]) | {"event_id": "future", "ts": "2099-01-01T00:00:00Z"}
    worker.send("events", envelope([event(20, here[0]), event(1, stray), future, event(21, here[0])]), partition=0)
    worker.flush()
    expected += 3
    wait_for(lambda: worker.scalar("SELECT count() FROM vigil.scored_events") == expected, what=f"{expected} rows")
    (late,) = [dict(m.headers) for m in worker.consume("deadletter", 2) if b"future" in dict(m.headers)["vigil.reason"]]
    assert late["vigil.source"].decode().endswith("#2")
    assert worker.scalar("SELECT count() FROM vigil.scored_events WHERE event_id = {e:String} AND src_partition = 1",
                         {"e": f"{stray}-1"}) == 1

    # Redelivery as at-least-once does it: the same offsets again, after a restart.
    worker.stop()
    rewind(worker)
    worker.start()
    worker.send("events", event(99, here[0]), key=here[0])
    worker.flush()
    wait_for(lambda: worker.scalar("SELECT count() FROM vigil.scored_events") >= expected + 1, what="the sentinel")
    assert worker.query("SELECT count(), uniqExact(event_id) FROM vigil.scored_events") == [[expected + 1, expected + 1]]
    assert worker.scalar("SELECT max(user_events) FROM vigil.scored_events WHERE user = {u:String}", {"u": here[0]}) == 23


def rewind(worker) -> None:
    """Move the stopped worker's consumer group back to the start of vigil.events."""
    consumer = KafkaConsumer(bootstrap_servers=worker.settings.kafka_bootstrap, group_id=worker.settings.app_id,
                             enable_auto_commit=False)
    topic = worker.settings.topic("events")
    partitions = [TopicPartition(topic, p) for p in range(worker.settings.partitions)]
    consumer.assign(partitions)
    consumer.commit({tp: OffsetAndMetadata(0, "", -1) for tp in partitions})
    consumer.close()
