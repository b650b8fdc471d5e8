"""The ClickHouse sink: batches of vigil.scored and vigil.alerts, written idempotently off the event loop."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import faust
import orjson

from streams.clickhouse import ClickHouseStore
from streams.counters import WorkerCounters
from streams.settings import Settings

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

    async def write(self, insert: Callable[[list[dict]], int], records: list[dict]) -> int:
        delay = 0.5
        while True:
            try:
                if self.prepare is not None:
                    await self.run(self.prepare)
                    self.prepare = None
                stored = await self.run(insert, records)
                self.counters.stored += stored
                return stored
            except Exception as e:
                log.warning("ClickHouse insert of %d records failed (%s); retrying in %.1fs", len(records), e, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)


def _unpack(value: dict) -> list[dict]:
    """A scored record, or the scored records of an envelope."""
    return value["scored"] if "scored" in value else [value]


def register(app: faust.App, settings: Settings, topics: dict[str, faust.TopicT], sink: ClickHouseSink) -> None:
    size, within = settings.sink_batch_size, settings.sink_flush_seconds

    @app.agent(topics["scored"], name="store-scored")
    async def store_scored(stream: faust.StreamT) -> None:
        async for batch in stream.take(size, within=within):
            records = [r for v in batch for r in _unpack(orjson.loads(v))]
            for start in range(0, len(records), size):  # envelopes hold many rows: insert at most `size` at a time
                await sink.write(sink.store.insert_scored, records[start:start + size])

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
