"""Vigil's Kafka transport on the real broker: uncommitted partitions rewind, every message is delivered once."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid

import aiokafka
import faust
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from streams.worker.kafka_driver import produce_batches, seek_to_committed_or_beginning

pytestmark = pytest.mark.integration


def test_fetched_but_uncommitted_events_are_read_again_after_the_seek(kafka):
    topic, other = f"driver-{uuid.uuid4().hex[:8]}", f"driver-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka)
    admin.create_topics([NewTopic(topic, 1, 1), NewTopic(other, 1, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=kafka, acks="all")
    for n in range(5):
        producer.send(topic, f"e{n}".encode())
        producer.send(other, f"c{n}".encode())
    producer.flush()
    producer.close()

    async def fetch_seek_fetch() -> tuple[list, list, dict, int]:
        consumer = aiokafka.AIOKafkaConsumer(topic, other, bootstrap_servers=kafka, group_id=f"g-{uuid.uuid4().hex[:8]}",
                                             enable_auto_commit=False, auto_offset_reset="earliest")
        await consumer.start()
        try:
            async def read(n: int) -> list[bytes]:
                values: list[bytes] = []
                while len(values) < n:
                    for batch in (await consumer.getmany(timeout_ms=1000)).values():
                        values += [r.value for r in batch]
                return values

            first = await read(10)  # fetched, then (as in a rebalance) dropped before anything was committed
            committed = await seek_to_committed_or_beginning(consumer, leave={other})
            again = await asyncio.wait_for(read(5), timeout=30)
            return first, again, committed, await consumer.position(aiokafka.TopicPartition(other, 0))
        finally:
            await consumer.stop()

    first, again, committed, other_position = asyncio.run(fetch_seek_fetch())
    assert sorted(first) == sorted([f"e{n}".encode() for n in range(5)] + [f"c{n}".encode() for n in range(5)])
    assert set(committed.values()) == {None}
    assert again == [f"e{n}".encode() for n in range(5)]  # every event of the uncommitted partition, in order
    assert other_position == 5  # a topic left alone keeps its position


def test_every_message_reaches_the_agent_once_and_in_order_whichever_path_it_takes(kafka, tmp_path):
    topic, count = f"probe-{uuid.uuid4().hex[:8]}", 3000
    admin = KafkaAdminClient(bootstrap_servers=kafka)
    admin.create_topics([NewTopic(topic, 3, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=kafka, acks="all", linger_ms=5)
    for n in range(count):
        producer.send(topic, key=f"u{n % 7}".encode(), value=str(n).encode())
    producer.flush()
    producer.close()

    out = tmp_path / "received.json"
    probe = subprocess.Popen([sys.executable, "-m", "tests.integration.delivery_probe", kafka, topic, str(count), str(out)],
                             stdout=open(tmp_path / "probe.log", "wb"), stderr=subprocess.STDOUT)
    try:
        probe.wait(120)
    finally:
        if probe.poll() is None:
            probe.kill()
            probe.wait()
    assert out.exists(), (tmp_path / "probe.log").read_text()[-3000:]
    result = json.loads(out.read_text())
    values = [int(v) for _, v in result["received"]]
    assert sorted(values) == list(range(count))  # each message once
    for partition in {p for p, _ in result["received"]}:
        in_partition = [int(v) for p, v in result["received"] if p == partition]
        assert in_partition == sorted(in_partition)  # in order within its partition
    assert result["paths"]["await"] > count / 2  # most went the cheap way ...
    assert result["paths"]["wait_first"] > 0  # ... and a full buffer took Faust's


def test_records_produced_a_batch_at_a_time_arrive_in_order_and_their_last_offsets_are_returned(kafka, tmp_path):
    topic = f"batches-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka)
    admin.create_topics([NewTopic(topic, 3, 1)])
    admin.close()
    # 16 KB batches: 300 records of ~1 KB fill several per partition; partition 2 gets none.
    records = {p: [(f"k{p}-{n}".encode(), bytes([65 + p]) * 1000 + str(n).encode()) for n in range(300)] for p in (0, 1)}

    async def produce() -> dict:
        app = faust.App(f"batches-{uuid.uuid4().hex[:8]}", broker=f"kafka://{kafka}", datadir=str(tmp_path),
                        producer_max_batch_size=16 * 1024)
        await app.producer.start()
        try:
            return await produce_batches(app, topic, records)
        finally:
            await app.producer.stop()

    last = asyncio.run(produce())
    assert last == {faust.types.TP(topic, 0): 299, faust.types.TP(topic, 1): 299}
    consumer = KafkaConsumer(bootstrap_servers=kafka, auto_offset_reset="earliest", consumer_timeout_ms=10_000)
    for p, pairs in records.items():
        consumer.assign([TopicPartition(topic, p)])
        consumer.seek_to_beginning()
        got = []
        for message in consumer:
            got.append((message.key, message.value))
            if len(got) == len(pairs):
                break
        assert got == pairs
    consumer.close()
