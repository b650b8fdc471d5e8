"""Intake: what shippers write to source topics, mapped into vigil.events, keyed by user.

source topic (any format of docs/sources.md; set by ``VIGIL_SOURCES``) → adapter → vigil.events

Shippers partition round-robin or by host; Vigil needs each user's events on
one partition, so mapped events go to their user's partition of vigil.events,
in batch envelopes as Vigil's own producers send them. A message
that does not map goes to vigil.deadletter with its raw bytes and the reason,
which names the source field.
"""

from __future__ import annotations

import faust
import orjson

from streams.contract import InvalidRecord
from streams.envelopes import EnvelopeCutter
from streams.settings import Settings
from streams.sources.adapters import TICKET_FORMATS, adapt, records_of, with_customer
from streams.worker.inbox import Inbox, describe
from streams.worker.ticket_index import TicketIndex

BATCH, WITHIN = 500, 0.02  # messages mapped at a time; the longest wait to fill a batch (seconds)


def register(app: faust.App, settings: Settings, events: faust.TopicT, inbox: Inbox) -> None:
    tickets = None
    if any(fmt in TICKET_FORMATS for fmt, _ in settings.source_topics):
        tickets = TicketIndex(settings.kafka_bootstrap, settings.topic("tickets"))
        app.task(tickets.follow)
    for fmt, name in settings.source_topics:
        source = app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
        _intake_agent(app, fmt, source, events, settings.partitions, inbox, tickets if fmt in TICKET_FORMATS else None)


def _intake_agent(app: faust.App, fmt: str, source: faust.TopicT, events: faust.TopicT, partitions: int,
                  inbox: Inbox, tickets: TicketIndex | None) -> None:
    @app.agent(source, name=f"intake-{fmt}-{source.get_topic_name()}")
    async def intake(stream: faust.StreamT) -> None:
        async for batch in stream.take_events(BATCH, within=WITHIN):
            if tickets is not None:  # a ticket's customer must be known before the event is scored
                await tickets.loaded.wait()
            cutter, cut = EnvelopeCutter(partitions), []  # envelopes per partition, as Vigil's own producers send
            for event in batch:
                for mapped in await _mapped(fmt, event.message, inbox):
                    cut += cutter.add(with_customer(mapped, tickets.customers) if tickets else mapped)
            for one in cut + cutter.flush():
                await events.send(value=one.value, partition=one.partition, headers=one.headers)


async def _mapped(fmt: str, message, inbox: Inbox) -> list[dict]:
    """The contract events of one source message; what does not map is dead-lettered with the reason."""
    try:
        records = records_of(fmt, message.value)
    except InvalidRecord as bad:
        await inbox.reject(message.key, message.value, bad.reason, describe(message))
        return []
    mapped = []
    for record in records:
        try:
            mapped += adapt(fmt, record)
        except InvalidRecord as bad:
            raw = message.value if len(records) == 1 else orjson.dumps(record)
            await inbox.reject(message.key, raw, bad.reason, describe(message))
    return mapped
