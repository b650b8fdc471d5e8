"""Intake: what shippers write to source topics, mapped into vigil.events, keyed by user.

source topic (ECS, OCSF, Okta, CloudTrail; set by ``VIGIL_SOURCES``) → adapter → vigil.events

Shippers partition round-robin or by host; Vigil needs each user's events on
one partition, so every mapped event is re-keyed by its user here. A message
that does not map goes to vigil.deadletter with its raw bytes and the reason,
which names the source field.
"""

from __future__ import annotations

import faust
import orjson

from streams.contract import InvalidRecord
from streams.settings import Settings
from streams.sources.adapters import adapt, records_of
from streams.worker.inbox import Inbox, describe


def register(app: faust.App, settings: Settings, events: faust.TopicT, inbox: Inbox) -> None:
    for fmt, name in settings.source_topics:
        source = app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
        _intake_agent(app, fmt, source, events, inbox)


def _intake_agent(app: faust.App, fmt: str, source: faust.TopicT, events: faust.TopicT, inbox: Inbox) -> None:
    @app.agent(source, name=f"intake-{fmt}-{source.get_topic_name()}")
    async def intake(stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            try:
                records = records_of(fmt, message.value)
            except InvalidRecord as bad:
                await inbox.reject(message.key, message.value, bad.reason, describe(message))
                continue
            for record in records:
                try:
                    mapped = adapt(fmt, record)
                except InvalidRecord as bad:
                    raw = message.value if len(records) == 1 else orjson.dumps(record)
                    await inbox.reject(message.key, raw, bad.reason, describe(message))
                    continue
                for event in mapped:
                    await events.send(key=event["user"].encode(), value=orjson.dumps(event))
