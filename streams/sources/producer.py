"""Sends records to Vigil's topics, keyed so that each user's events share a partition."""

from __future__ import annotations

from typing import Iterable

import orjson
from kafka import KafkaProducer

from streams.contract import envelope, partition_for
from streams.settings import Settings


class EventProducer:
    """A kafka-python producer tuned for bulk sends (batched, acks from the leader)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.producer = KafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            client_id="vigil-producer",
            acks="all",
            enable_idempotence=True,  # a retried send is not written twice (each event counts once)
            linger_ms=20,
            batch_size=512 * 1024,
            max_request_size=4 * 1024 * 1024,
        )

    def send(self, topic: str, key: str | bytes | None, value: bytes | dict, headers: dict[str, bytes] | None = None) -> None:
        if isinstance(value, dict):
            value = orjson.dumps(value)
        if isinstance(key, str):
            key = key.encode()
        self.producer.send(self.settings.topic(topic), key=key, value=value,
                           headers=list((headers or {}).items()) or None)

    def send_events(self, events: Iterable[dict], per_envelope: int = 500) -> int:
        """Send events as batch envelopes: each holds up to `per_envelope` events of one partition, in order."""
        topic = self.settings.topic("events")
        partitions = len(self.producer.partitions_for(topic))
        pending: dict[int, list[dict]] = {}
        sent = 0
        for event in events:
            p = partition_for(str(event["user"]).encode(), partitions)
            batch = pending.setdefault(p, [])
            batch.append(event)
            if len(batch) >= per_envelope:
                self.producer.send(topic, value=envelope(batch), partition=p)
                pending[p] = []
            sent += 1
        for p, batch in pending.items():
            if batch:
                self.producer.send(topic, value=envelope(batch), partition=p)
        return sent

    def send_all(self, topic: str, records: Iterable[dict], key_field: str) -> int:
        n = 0
        for record in records:
            self.send(topic, record[key_field], record)
            n += 1
        return n

    def close(self) -> None:
        self.producer.flush()
        self.producer.close()

    def __enter__(self) -> EventProducer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
