"""The ClickHouse sink: batches of vigil.scored and vigil.alerts, written idempotently off the event loop."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import faust
import msgspec
import orjson

from streams.contract import dead_letter_headers
from streams.settings import Settings
from streams.store.clickhouse import ClickHouseStore, Row
from streams.worker.counters import WorkerCounters

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0


class ClickHouseSink:
    """Writes batches through one thread, so ClickHouse I/O never blocks the event loop.

    A batch is retried with exponential backoff until it is stored: Faust
    acknowledges a `take()` batch only after the loop body returns, so the
    offsets of unwritten events are never committed (back-pressure, not loss).
    `prepare` (the schema migrations) runs once before the first write, so a
    worker started while ClickHouse is down scores at once and stores later.
    """

    def __init__(self, store: ClickHouseStore, counters: WorkerCounters, prepare: Callable[[], object] = lambda: None) -> None:
        self.store = store
        self.counters = counters
        self.prepare: Callable[[], object] | None = prepare
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clickhouse")

    async def run(self, fn: Callable, *args):
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def write(self, insert: Callable[..., int], *args) -> int:
        delay = 0.5
        while True:
            try:
                if self.prepare is not None:
                    await self.run(self.prepare)
                    self.prepare = None
                stored = await self.run(insert, *args)
                self.counters.stored += stored
                return stored
            except Exception as e:
                log.warning("ClickHouse insert of %d records failed (%s); retrying in %.1fs", len(args[-1]), e, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)


class _Keys(msgspec.Struct):
    """What the duplicate check needs of a row; the rest of it passes to ClickHouse as it came."""

    event_id: str
    user: str
    ts: float


class _ScoredRows(msgspec.Struct):
    scored: list[msgspec.Raw] | msgspec.UnsetType = msgspec.UNSET  # unset: the message is a single row


class _ScoredKeys(msgspec.Struct):
    scored: list[_Keys]


_KEYS = msgspec.json.Decoder(_Keys)
_ROWS = msgspec.json.Decoder(_ScoredRows)
_ROW_KEYS = msgspec.json.Decoder(_ScoredKeys)


def scored_rows(value: bytes) -> list[Row]:
    """The rows of one vigil.scored message: `{"scored": [row, …]}`, or a single row.

    Examples
    --------
    >>> [(r.key, bytes(r.json)) for r in scored_rows(b'{"scored": [{"event_id": "e1", "user": "ann", "ts": 1.5}]}')]
    [('e1', b'{"event_id": "e1", "user": "ann", "ts": 1.5}')]

    """
    raws = _ROWS.decode(value).scored
    if raws is msgspec.UNSET:
        keys = _KEYS.decode(value)
        return [Row(keys.event_id, keys.user, keys.ts, value)]
    return [Row(k.event_id, k.user, k.ts, raw) for k, raw in zip(_ROW_KEYS.decode(value).scored, raws)]


def register(app: faust.App, settings: Settings, topics: dict[str, faust.TopicT], sink: ClickHouseSink) -> None:
    size, within = settings.sink_batch_size, settings.sink_flush_seconds

    @app.agent(topics["scored"], name="store-scored")
    async def store_scored(stream: faust.StreamT) -> None:
        async for batch in stream.take_events(size, within=within):
            rows = []
            for event in batch:
                try:
                    rows += scored_rows(event.message.value)
                except (msgspec.DecodeError, ValueError) as bad:  # not what a worker writes: keep it, say why
                    message = event.message
                    await topics["deadletter"].send(key=message.key, value=message.value, headers=dead_letter_headers(
                        f"not a scored record: {bad}", f"{message.topic}/{message.partition}/{message.offset}"))
            for start in range(0, len(rows), size):  # envelopes hold many rows: insert at most `size` at a time
                await sink.write(sink.store.insert, "scored_events", rows[start:start + size])

    @app.agent(topics["alerts"], name="store-alerts")
    async def store_alerts(stream: faust.StreamT) -> None:
        async for batch in stream.take(size, within=within):
            await sink.write(sink.store.insert_alerts, [orjson.loads(v) for v in batch])

    @app.agent(topics["actions"], name="store-actions")
    async def store_actions(stream: faust.StreamT) -> None:
        async for batch in stream.take(size, within=within):
            await sink.write(sink.store.insert_actions, [orjson.loads(v) for v in batch])

    @app.agent(topics["feedback"], name="store-feedback")
    async def store_feedback(stream: faust.StreamT) -> None:
        async for batch in stream.take(size, within=within):
            await sink.write(sink.store.insert_feedback, [orjson.loads(v) for v in batch])
