"""A compacted topic read to the end it has now: the latest value of each key (for the CLI, which joins no group)."""

from __future__ import annotations

import time

from kafka import KafkaConsumer, TopicPartition

from streams.settings import Settings


def latest_values(settings: Settings, name: str, timeout: float = 30) -> dict[bytes, bytes]:
    """Each key's latest value on Vigil's topic `name` (``directory``, ``tickets``); keys whose latest is a
    tombstone are left out."""
    topic = settings.topic(name)
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False, group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        values: dict[bytes, bytes | None] = {}
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < ends[tp] for tp in partitions) and time.monotonic() < deadline:
            for messages in consumer.poll(timeout_ms=500).values():
                values.update((m.key, m.value) for m in messages if m.key is not None)
        return {k: v for k, v in values.items() if v is not None}
    finally:
        consumer.close()
