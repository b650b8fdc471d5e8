"""Read a whole topic from its beginning and keep following it, in every worker: what Kafka Streams calls a global table."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer

log = logging.getLogger(__name__)


class Follower:
    """Hands every record of `topic` to `apply(key, value)`, from the beginning, for as long as the worker runs.

    No consumer group: each worker needs every record, not a share of them.
    `loaded` is set once the topic has been read to the end it had at start.
    """

    def __init__(self, bootstrap: str, topic: str, apply: Callable[[bytes | None, bytes | None], None]) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.apply = apply
        self.loaded = asyncio.Event()

    async def follow(self) -> None:
        # Without a group id, aiokafka assigns every partition of the topic to this consumer.
        consumer = AIOKafkaConsumer(self.topic, bootstrap_servers=self.bootstrap, group_id=None,
                                    enable_auto_commit=False, auto_offset_reset="earliest")
        await consumer.start()
        try:
            ends = None
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=5000)
                for records in batches.values():
                    for record in records:
                        self.apply(record.key, record.value)
                if self.loaded.is_set() or not consumer.assignment():
                    continue
                ends = ends or await consumer.end_offsets(list(consumer.assignment()))
                if all([await consumer.position(tp) >= end for tp, end in ends.items()]):
                    self.loaded.set()
                    log.info("%s read to its end", self.topic)
        finally:
            await consumer.stop()
