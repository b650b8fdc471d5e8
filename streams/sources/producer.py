"""Sends records to Vigil's topics, keyed so that each user's events share a partition."""

from __future__ import annotations

from typing import Iterable

import orjson
from kafka import KafkaProducer

from streams.envelopes import PER_ENVELOPE, Envelope, envelopes
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

    def event_partitions(self) -> int:
        """How many partitions vigil.events has."""
        return len(self.producer.partitions_for(self.settings.topic("events")))

    def send_envelopes(self, cut: Iterable[Envelope]) -> int:
        """Send envelopes (`streams/envelopes.py`) to their partitions of vigil.events, each with its event-time
        header; return the events sent."""
        topic, sent = self.settings.topic("events"), 0
        for one in cut:
            self.producer.send(topic, value=one.value, partition=one.partition,
                               headers=list(one.headers.items()) or None)
            sent += len(one.events)
        return sent

    def send_events(self, events: Iterable[dict], per_envelope: int = PER_ENVELOPE) -> int:
        """Send events, in event-time order, as batch envelopes of one partition each (`streams/envelopes.py`)."""
        return self.send_envelopes(envelopes(events, self.event_partitions(), per_envelope))

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
