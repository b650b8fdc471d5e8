"""Every worker follows the whole compacted directory topic: who each user is, kept in memory."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer

from models import Profile
from streams.contract import InvalidRecord, parse_directory_entry
from streams.counters import WorkerCounters

log = logging.getLogger(__name__)


class Directory:
    """Profiles by user, from ``vigil.directory`` read from the beginning and followed.

    No consumer group: each worker needs every entry, not a share of them
    (what Kafka Streams calls a global table). A tombstone removes a user;
    an invalid entry is logged and skipped, leaving the previous one.
    """

    def __init__(self, bootstrap: str, topic: str, counters: WorkerCounters) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.counters = counters
        self.profiles: dict[bytes, Profile] = {}
        self.loaded = asyncio.Event()  # set once the topic has been read to its end at start

    def profile(self, user: bytes) -> Profile:
        return self.profiles.get(user) or Profile()

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        if value is None:
            self.profiles.pop(key, None)
        else:
            try:
                self.profiles[key] = Profile.from_entry(parse_directory_entry(value))
            except InvalidRecord as bad:
                self.counters.directory_rejected += 1
                log.warning("directory entry for %r rejected: %s", key, bad.reason)
        self.counters.directory_users = len(self.profiles)

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
                    log.info("directory loaded: %d users", len(self.profiles))
        finally:
            await consumer.stop()
