"""The ClickHouse sink: batches of vigil.scored, alerts, actions and feedback, written idempotently off the event loop."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import faust
import msgspec

from streams.records import ActionRecord, AlertRecord, AuditRecord, FeedbackRecord
from streams.settings import Settings
from streams.store.clickhouse import ClickHouseStore, Row
from streams.worker.counters import WorkerCounters
from streams.worker.inbox import Inbox, describe

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0
REFUSALS = 3  # a batch ClickHouse refuses this often, while it answers, is split to find the rows it refuses


class ClickHouseSink:
    """Writes batches through one thread, so ClickHouse I/O never blocks the event loop.

    While ClickHouse is unreachable a batch is retried with exponential
    backoff until it is stored: Faust acknowledges a batch only after the
    agent's loop body returns, so the offsets of unwritten events are never
    committed (back-pressure, not loss). A batch that ClickHouse answers but
    refuses `REFUSALS` times is split in halves until the refused rows are
    found; those go to the dead-letter topic with ClickHouse's reason, the
    rest is stored, and storage goes on. `prepare` (the schema migrations)
    runs once before the first write, so a worker started while ClickHouse is
    down scores at once and stores later.
    """

    def __init__(self, store: ClickHouseStore, counters: WorkerCounters, inbox: Inbox,
                 prepare: Callable[[], object] = lambda: None) -> None:
        self.store = store
        self.counters = counters
        self.inbox = inbox
        self.prepare: Callable[[], object] | None = prepare
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clickhouse")

    async def run(self, fn: Callable, *args):
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def write(self, table: str, rows: list[Row]) -> None:
        """Store `rows`, skipping those already stored; dead-letter the ones ClickHouse refuses."""
        refusal = await self._insert(table, rows)
        if refusal is None:
            return
        if len(rows) == 1:
            row = rows[0]
            await self.inbox.reject(row.user.encode(), bytes(row.json), f"ClickHouse refused the row: {refusal}",
                                    f"clickhouse/{table}/{row.key}")
            return
        half = len(rows) // 2
        await self.write(table, rows[:half])
        await self.write(table, rows[half:])

    async def _insert(self, table: str, rows: list[Row]) -> str | None:
        """None once stored; ClickHouse's reason once it refused these rows `REFUSALS` times while it answers."""
        delay, refusals = 0.5, 0
        while True:
            try:
                if self.prepare is not None:
                    await self.run(self.prepare)
                    self.prepare = None
                stored = await self.run(self.store.insert, table, rows)
                self.counters.stored += stored  # not `+= await …`: that reads the count before the await
                return None
            except Exception as e:
                if self.prepare is None and await self.run(self.store.reachable):
                    refusals += 1
                    if refusals >= REFUSALS:
                        return str(e)[:500]
                log.warning("ClickHouse insert of %d rows failed (%s); retrying in %.1fs", len(rows), e, delay)
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


#: The records stored as they came: their type, what makes each row unique, and whether the sink dead-letters
#: what does not fit (the scoring agent, which applies verdicts, dead-letters bad feedback).
RECORDS = {"alerts": (AlertRecord, lambda r: r.alert_id, True), "actions": (ActionRecord, lambda r: r.row_id, True),
           "feedback": (FeedbackRecord, lambda r: r.feedback_id, False),
           "audit": (AuditRecord, lambda r: r.audit_id, True)}


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
                    await sink.inbox.reject(message.key, message.value, f"not a scored record: {bad}", describe(message))
            for start in range(0, len(rows), size):  # envelopes hold many rows: insert at most `size` at a time
                await sink.write("scored_events", rows[start:start + size])

    for table, (shape, key_of, dead_letter) in RECORDS.items():
        _store_records(app, topics[table], table, shape, key_of, dead_letter, sink, size, within)


def _store_records(app: faust.App, topic: faust.TopicT, table: str, shape: type, key_of: Callable, dead_letter: bool,
                   sink: ClickHouseSink, size: int, within: float) -> None:
    @app.agent(topic, name=f"store-{table}")
    async def store(stream: faust.StreamT) -> None:
        async for batch in stream.take_events(size, within=within):
            rows = []
            for event in batch:
                if (record := await sink.inbox.decode(event, shape, dead_letter)) is not None:
                    rows.append(Row(key_of(record), record.user, record.ts, event.message.value))
            if rows:
                await sink.write(table, rows)
