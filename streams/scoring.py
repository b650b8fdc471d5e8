"""The scoring agent: vigil.events → models → vigil.scored / vigil.alerts, bad input → vigil.deadletter."""

from __future__ import annotations

import logging

import faust
import orjson

from models import AccessEvent, Assessment, UserDetector
from streams.contract import InvalidRecord, parse_event
from streams.settings import Settings

log = logging.getLogger(__name__)


def register(app: faust.App, settings: Settings, topics: dict[str, faust.TopicT]) -> faust.types.TableT:
    """Add the scoring agent and the per-user state table it owns to `app`."""
    # Keyed by the message key (the user, as bytes): the table's changelog
    # partition is the event's partition, so a user's state moves with them.
    user_state = app.Table(
        "user-state",
        partitions=settings.partitions,
        key_type=bytes,  # Faust derives the codecs from the types: raw keys, JSON values
        help="Each user's detector state and the last source offset it has counted.",
    )
    detector_config = settings.detector
    events, scored, alerts, deadletter = (topics[n] for n in ("events", "scored", "alerts", "deadletter"))

    async def dead_letter(message: faust.types.Message, reason: str) -> None:
        await deadletter.send(
            key=message.key,
            value=message.value,
            headers={
                "vigil.reason": reason.encode(),
                "vigil.source": f"{message.topic}/{message.partition}/{message.offset}".encode(),
            },
        )

    async def score_one(message: faust.types.Message) -> None:
        try:
            access = parse_event(message.value)
        except InvalidRecord as bad:
            await dead_letter(message, bad.reason)
            return
        key = access.user.encode()
        if message.key != key:
            # Mis-keyed: send it to the partition where the user's state lives; scored there.
            await events.send(key=key, value=message.value)
            return
        state = user_state.get(key)
        if state is not None and state["offset"] >= message.offset:
            return  # redelivered after a restart: already counted in this user's state
        detector = UserDetector(detector_config, state and state["detector"])
        assessment = detector.observe(access)
        user_state[key] = {"offset": message.offset, "detector": detector.state()}
        await scored.send(key=key, value=orjson.dumps(scored_record(access, assessment, message)))
        if assessment.alert:
            await alerts.send(key=key, value=orjson.dumps(alert_record(access, assessment)))

    @app.agent(events, name="score")
    async def score(stream: faust.StreamT) -> None:
        async for event in stream.events():
            try:
                await score_one(event.message)
            except Exception as e:  # a bug must neither stop the stream nor lose the event
                log.exception("scoring failed at %s/%s", event.message.partition, event.message.offset)
                await dead_letter(event.message, f"internal error: {type(e).__name__}: {e}")

    return user_state


def scored_record(access: AccessEvent, assessment: Assessment, message: faust.types.Message) -> dict:
    """The event as it goes to vigil.scored: every contract field plus what the models concluded."""
    return {
        "event_id": access.event_id,
        "ts": access.ts,
        "user": access.user,
        "action": access.action,
        "outcome": access.outcome,
        "resource": access.resource,
        "record_id": access.record_id,
        "records": access.records,
        "bytes": access.bytes,
        "ticket_id": access.ticket_id,
        "src_ip": access.src_ip,
        "device": access.device,
        "app": access.app,
        "geo": access.geo,
        "attrs_json": orjson.dumps(access.attrs).decode(),
        "score": assessment.score,
        "risk": assessment.risk,
        "band": assessment.band,
        "signals": [s.to_dict() for s in assessment.signals],
        "user_events": assessment.events_seen,
        "src_partition": message.partition,
        "src_offset": message.offset,
    }


def alert_record(access: AccessEvent, assessment: Assessment) -> dict:
    alert = assessment.alert
    return {
        # Deterministic: the same event crossing the same band is the same alert.
        "alert_id": f"{access.event_id}:{alert.band}",
        "ts": access.ts,
        "user": access.user,
        "band": alert.band,
        "previous": alert.previous,
        "risk": alert.risk,
        "reasons": alert.reasons,
        "event_id": access.event_id,
    }
