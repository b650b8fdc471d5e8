"""Every worker follows the whole compacted directory topic: who each user is, kept in memory."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition

from models import Profile
from streams.contract import InvalidRecord, parse_directory_entry

log = logging.getLogger(__name__)


class Directory:
    """Profiles by user, from ``vigil.directory`` read from the beginning and followed.

    No consumer group: each worker needs every entry, not a share of them
    (what Kafka Streams calls a global table). A tombstone removes a user;
    an invalid entry is logged and skipped, leaving the previous one.
    """

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.profiles: dict[bytes, Profile] = {}
        self.loaded = asyncio.Event()  # set once the topic has been read to its end at start
        self.rejected = 0

    def profile(self, user: bytes) -> Profile:
        return self.profiles.get(user) or Profile()

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        if value is None:
            self.profiles.pop(key, None)
            return
        try:
            self.profiles[key] = Profile.from_entry(parse_directory_entry(value))
        except InvalidRecord as bad:
            self.rejected += 1
            log.warning("directory entry for %r rejected: %s", key, bad.reason)

    async def follow(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                    auto_offset_reset="earliest")
        await consumer.start()
        try:
            partitions = [TopicPartition(self.topic, p) for p in sorted(await consumer.partitions_for_topic(self.topic) or [])]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            while True:
                for records in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                    for record in records:
                        self.apply(record.key, record.value)
                if not self.loaded.is_set() and all(await _position(consumer, tp) >= end for tp, end in ends.items()):
                    self.loaded.set()
                    log.info("directory loaded: %d users", len(self.profiles))
        finally:
            await consumer.stop()


async def _position(consumer: AIOKafkaConsumer, tp: TopicPartition) -> int:
    return await consumer.position(tp)
