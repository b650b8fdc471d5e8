"""Reading what other processes wrote: each message decoded to its record type, or dead-lettered with the reason.

Any client with access to the cluster can write to Vigil's topics, so no agent
trusts a message's shape: it decodes through `Inbox.decode`, which sends what
does not fit to vigil.deadletter with its raw bytes and a reason that names the
field, and returns None so the agent goes on with the next message. Where
several agents read one topic, the one that stores it dead-letters; the others
pass over what does not fit.
"""

from __future__ import annotations

from functools import cache
from typing import TypeVar

import faust
import msgspec

from streams.contract import dead_letter_headers
from streams.worker.counters import WorkerCounters

Record = TypeVar("Record")


@cache
def decoder(shape: type) -> msgspec.json.Decoder:
    return msgspec.json.Decoder(shape)


def describe(message: faust.types.Message) -> str:
    """Where a message came from, as the dead-letter header says it: ``topic/partition/offset``."""
    return f"{message.topic}/{message.partition}/{message.offset}"


class Inbox:
    """Decodes the messages of the topics an agent reads, and dead-letters those that do not fit."""

    def __init__(self, deadletter: faust.TopicT, counters: WorkerCounters) -> None:
        self.deadletter = deadletter
        self.counters = counters

    async def decode(self, event: faust.EventT, shape: type[Record], dead_letter: bool = True) -> Record | None:
        """`event`'s value as `shape`; None if it does not fit, after dead-lettering it (if `dead_letter`)."""
        try:
            return decoder(shape).decode(event.message.value)
        except (msgspec.DecodeError, msgspec.ValidationError) as bad:
            if dead_letter:
                await self.reject(event.message.key, event.message.value,
                                  f"not a {shape.__name__}: {bad}", describe(event.message))
            return None

    async def reject(self, key: bytes | None, value: bytes, reason: str, source: str) -> None:
        """Send `value` to vigil.deadletter as it came, with why and from where."""
        self.counters.dead_letters += 1
        await self.deadletter.send(key=key, value=value, headers=dead_letter_headers(reason, source))
