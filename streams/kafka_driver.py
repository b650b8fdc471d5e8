"""Faust's aiokafka transport with one fix: a partition nobody has committed yet rewinds to its beginning.

After a rebalance Faust drops what it had fetched but not yet handed to an
agent and seeks every partition back to its committed offset. aiokafka's
`seek_to_committed` only seeks when the committed offset is above 0
(aio-libs/aiokafka#1003), so a partition with no commit yet — a new
deployment, a quiet partition — stays where the dropped fetch left it, and
those events are never scored. Here such partitions go back to their
beginning, which is what `consumer_auto_offset_reset="earliest"` promises;
anything read twice is absorbed by the state's offset check and the
idempotent sink. Changelog partitions are left alone: Faust's recovery
positions them itself.

Selected with the broker URL scheme `vigil+kafka://`.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping

import aiokafka
from faust.transport import drivers
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

SCHEME = "vigil+kafka"
log = logging.getLogger(__name__)


async def seek_to_committed_or_beginning(consumer: aiokafka.AIOKafkaConsumer,
                                        leave: Collection[str] = ()) -> dict[aiokafka.TopicPartition, int | None]:
    """Seek each assigned partition (but those of the topics in `leave`) to its committed offset,
    or to its beginning if it has none; return the committed offsets."""
    committed = await consumer.seek_to_committed()
    uncommitted = [tp for tp, offset in committed.items() if not offset and tp.topic not in leave]
    if uncommitted:
        log.info("no committed offset for %s: reading from the beginning",
                 ", ".join(f"{tp.topic}/{tp.partition}" for tp in sorted(uncommitted)))
        await consumer.seek_to_beginning(*uncommitted)
    return committed


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    async def seek_to_committed(self) -> Mapping[TP, int]:
        return await self.call_thread(seek_to_committed_or_beginning, self._ensure_consumer(),
                                      self.app.tables.changelog_topics)


class Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> ConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(faust_aiokafka.Transport):
    Consumer = Consumer


drivers.TRANSPORTS.aliases.setdefault(SCHEME, f"{__name__}:Transport")
