"""The scoring agent: vigil.events → models → vigil.scored / vigil.alerts, bad input → vigil.deadletter."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import faust
import msgspec
import orjson
from faust.streams import _current_event
from mode.utils.collections import LRUCache

from models import AccessEvent, Assessment, Context, Population, TicketBook, UserDetector
from models.signal import Signal
from streams import kafka_driver
from streams.contract import (InvalidRecord, Message, Rejected, dead_letter_headers, parse_ticket, partition_for,
                              read_message)
from streams.counters import WorkerCounters
from streams.directory import Directory
from streams.live import LiveBoard
from streams.settings import Settings

log = logging.getLogger(__name__)

SCORED_PER_MESSAGE = 500
YIELD_EVERY = 50  # events scored between turns of the event loop
encode = msgspec.json.Encoder().encode  # scored records (ScoredMessage) to JSON


def register(app: faust.App, settings: Settings, topics: dict[str, faust.TopicT], directory: Directory,
             counters: WorkerCounters, board: LiveBoard
             ) -> tuple[faust.types.TableT, Callable[[bytes], UserDetector | None]]:
    """Add the scoring agents and the tables they own to `app`; return the user-state table, and a function
    that gives a user's detector as this worker has it now (None for a user it has no state of)."""
    # Tables keyed by user (bytes), co-partitioned with vigil.events: a user's
    # state, tickets and events live in the same partition and move together.
    # Values are JSON the agents encode themselves (value_type=bytes): once, when a commit takes its snapshot.
    user_state = app.Table("user-state", partitions=settings.partitions, key_type=bytes, value_type=bytes,
                           help="Each user's detector state and the last source offset it counted.")
    ticket_books = app.Table("ticket-books", partitions=settings.partitions, key_type=bytes, value_type=bytes,
                             help="The customers each user has a ticket for.")
    detector_config = settings.detector
    events, scored, alerts, deadletter = (topics[n] for n in ("events", "scored", "alerts", "deadletter"))
    populations: dict[int, Population] = {}
    # The recently active users' detectors, live: decoding and rebuilding a user's state for every
    # message costs more than the models do. The table stays the truth; this is a read cache of it.
    recent: LRUCache[bytes, UserEntry] = LRUCache(limit=settings.detector_cache_users)
    unsaved = Unsaved()
    # Let the producer's sender, the fetcher and the web API run between events, or every produce request
    # waits for an envelope (up to 500 events of CPU) to finish; but not after every one-event message.
    pace = Pace(every=YIELD_EVERY)

    async def emit() -> None:
        """Send what the messages scored since the last emit produced (call holding the lock)."""
        outputs, unsaved.outputs = unsaved.outputs, Outputs()
        for partition, records in outputs.scored.items():
            # One message per SCORED_PER_MESSAGE records, in the source partition: a produce per event
            # costs more than scoring it. The sink and every reader take both forms (docs/events.md).
            for start in range(0, len(records), SCORED_PER_MESSAGE):
                chunk = encode(ScoredMessage(records[start:start + SCORED_PER_MESSAGE]))
                await scored.send(value=chunk, partition=partition, force=True)
        for key, value in outputs.alerts:
            await alerts.send(key=key, value=value, force=True)

    async def save_state() -> None:
        """Before each offset commit, save the users' state the scoring agent changed since the last one.

        Faust has chosen the offsets to commit when this runs, and those events were scored (a take batch
        is acknowledged after its body), so a snapshot taken now covers them and perhaps more, which the
        offsets in the state tell a replay to skip. Writing each changed user once per commit (about a
        second) rather than once per message is most of what the changelog costs.
        """
        async with unsaved.lock:  # between messages: each detector agrees with the offset it counted
            await emit()  # a saved state says its events were scored: their records go to Kafka first
            users = [(key, event, orjson.dumps(entry.state())) for key, (event, entry) in unsaved.users.items()]
            crowds = [(_population_key(partition), event, orjson.dumps(populations[partition].state()))
                      for partition, event in unsaved.populations.items() if partition in populations]
            books = [(key, event, orjson.dumps(book.state())) for key, (event, book) in unsaved.books.items()]
            unsaved.users.clear()
            unsaved.populations.clear()
            unsaved.books.clear()
        if not (users or crowds or books):
            return
        await app.producer.flush()
        # Delivered before Faust commits (it waits only for its own sends).
        await write_state(user_state, users + crowds)
        await write_state(ticket_books, books)

    async def write_state(table: faust.types.TableT, entries: list[tuple[bytes, faust.types.EventT, bytes]]) -> None:
        """Write entries to `table`'s store and changelog, the changelog a record batch at a time.

        What `table[key] = value` does, but for many keys at once: Faust would queue each record in a
        buffer drained one send at a time, and pause delivery to every agent until it is nearly empty.
        """
        store, by_partition = table.data, {}
        for key, event, value in entries:
            with handling(event):  # the store keeps it in the partition of the user's message
                store[key] = value
            by_partition.setdefault(event.message.partition, []).append((key, value))
        written = await kafka_driver.produce_batches(app, table.changelog_topic.get_topic_name(), by_partition)
        for tp, offset in written.items():  # how far this worker's store is up to date, for a restart's recovery
            store.set_persisted_offset(tp, offset)

    kafka_driver.save_before_commit(app, save_state)

    @app.on_partitions_revoked.connect
    async def forget_partitions(app, revoked, **kwargs) -> None:
        # Another worker may own (and update) them before they come back. Faust has committed (and so
        # saved) before this signal: what is still unsaved here is uncommitted, and the next owner replays it.
        for tp in revoked:
            populations.pop(tp.partition, None)
            unsaved.populations.pop(tp.partition, None)
        for changed in (unsaved.users, unsaved.books):
            for key in [key for key, (event, _) in changed.items() if event.message.tp in revoked]:
                del changed[key]
        recent.clear()

    def user_entry(key: bytes) -> UserEntry:
        """The user's detector as the table holds it plus what this worker has observed since."""
        if key in unsaved.users:  # not yet saved: the cache may have let it go
            return unsaved.users[key][1]
        entry = recent.get(key)
        if entry is None:
            state = _decode(user_state.get(key))
            entry = UserEntry(UserDetector(detector_config, state.get("detector")), ticket_book(key),
                              state.get("offset", -1), state.get("live"))
            recent[key] = entry
        return entry

    def detector_now(key: bytes) -> UserDetector | None:
        """What the user's detector holds now, events scored since the last save included (read only)."""
        entry = unsaved.users[key][1] if key in unsaved.users else recent.get(key)
        if entry is not None:
            return entry.detector
        saved = user_state.get(key)
        return UserDetector(detector_config, _decode(saved).get("detector")) if saved is not None else None

    def ticket_book(key: bytes) -> TicketBook:
        """The user's ticket book: the one their live detector scores with, else the table's."""
        if key in unsaved.books:
            return unsaved.books[key][1]
        entry = unsaved.users[key][1] if key in unsaved.users else recent.get(key)
        return entry.book if entry is not None else TicketBook.from_state(_decode(ticket_books.get(key)))

    def population(partition: int) -> Population:
        if partition not in populations:
            saved = user_state.get(_population_key(partition))
            populations[partition] = Population.from_state(orjson.loads(saved) if saved else None, seed=partition)
        return populations[partition]

    async def dead_letter(message: faust.types.Message, reason: str, item: object = None, index: int | None = None) -> None:
        """The raw bytes (or, inside an envelope, the bad item) with the reason and where it came from."""
        counters.dead_letters += 1
        source = f"{message.topic}/{message.partition}/{message.offset}" + ("" if index is None else f"#{index}")
        await deadletter.send(key=message.key, value=message.value if index is None else orjson.dumps(item),
                              headers=dead_letter_headers(reason, source))

    async def score_message(event: faust.types.EventT, batch: Outputs) -> None:
        message = event.message
        try:
            read = read_message(message.value)
        except InvalidRecord as bad:
            await pace.tick()
            await dead_letter(message, bad.reason)
            return
        await score_events(event, read, batch)

    async def score_events(event: faust.types.EventT, read: Message, batch: Outputs) -> None:
        """Score the events of one message in order."""
        message, enveloped = event.message, read.enveloped
        users: dict[bytes, tuple[UserEntry, Context] | None] = {}
        crowd = population(message.partition)
        records = []
        horizon = time.time() + settings.max_future_seconds
        for index, access in enumerate(read.events):
            await pace.tick()
            if type(access) is Rejected:
                await dead_letter(message, access.reason, access.item, index if enveloped else None)
                continue
            if access.ts > horizon:
                # A future date would drag the user's event-time windows ahead of every real event.
                reason = f"'ts' is {(access.ts - time.time()) / 3600:.0f} h in the future"
                if enveloped:
                    await dead_letter(message, reason, read.item(index), index)
                else:
                    await dead_letter(message, reason)
                continue
            key = access.user.encode()
            if key not in users:  # a user's home is checked once per message
                at_home = partition_for(key, settings.partitions) == message.partition if enveloped else message.key == key
                if not at_home:
                    # Sent to the wrong partition: re-send it as it came, keyed, to where the user's state lives.
                    await events.send(key=key, value=orjson.dumps(read.item(index)) if enveloped else message.value)
                    continue
                entry = user_entry(key)
                if entry.offset >= message.offset:
                    users[key] = None  # redelivered after a restart: already counted in this user's state
                else:
                    users[key] = (entry, Context(crowd, directory.profile(key), entry.book))
            if users[key] is None:
                continue
            entry, context = users[key]
            assessment = entry.detector.observe(access, context)
            records.append(scored_record(access, assessment, message))
            board.risk(access.user, assessment.risk, assessment.band, access.ts)
            entry.live = {"risk": assessment.risk, "band": assessment.band, "ts": access.ts}
            if assessment.alert:
                counters.alerts += 1
                batch.alerts.append((key, orjson.dumps(alert_record(access, assessment))))
        for key, pair in users.items():
            if pair is not None:
                pair[0].offset = message.offset
                unsaved.users[key] = (event, pair[0])
        if not records:
            return
        counters.scored += len(records)
        batch.scored.setdefault(message.partition, []).extend(records)
        batch.count += len(records)
        unsaved.populations[message.partition] = event

    @user_state.on_recover
    async def show_owned_users() -> None:
        # After every rebalance the board shows exactly the users whose partitions this worker now owns.
        states = ((key, _decode(value)) for key, value in user_state.items() if not key.startswith(b"\x00"))
        board.reload([{"user": key.decode(), **state["live"]} for key, state in states if state.get("live")])

    @app.agent(events, name="score")
    async def score(stream: faust.StreamT) -> None:
        # Micro-batches: a batch's outputs go to Kafka together; the users' state it changed is saved
        # before its offsets are committed (`save_state`). A crash replays from the last commit with the
        # state saved with it: the replay scores again what was not saved (the sink keeps one row per event)
        # and skips what the state has counted, so no event is lost or counted twice in a user's risk.
        async for taken in stream.take_events(settings.score_batch, within=settings.score_batch_seconds):
            for event in taken:
                async with unsaved.lock:  # one message at a time: a state snapshot falls between two
                    try:
                        await score_message(event, unsaved.outputs)
                    except Exception as e:  # a bug must neither stop the stream nor lose the event
                        log.exception("scoring failed at %s/%s", event.message.partition, event.message.offset)
                        await dead_letter(event.message, f"internal error: {type(e).__name__}: {e}")
                        # A detector may be half-way through an event: forget the unsaved learning, keep the saved state.
                        recent.clear()
                        unsaved.users.clear()
                    if unsaved.outputs.count >= SCORED_PER_MESSAGE:
                        await emit()
            async with unsaved.lock:
                await emit()

    @app.agent(topics["feedback"], name="apply-feedback")
    async def apply_feedback(stream: faust.StreamT) -> None:
        """Analysts' verdicts change the user's detector: benign silences that evidence, malicious pins."""
        async for event in stream.events():
            try:
                verdict = orjson.loads(event.message.value)
                key = verdict["user"].encode()
                async with unsaved.lock:
                    entry = user_entry(key)
                    entry.detector.apply_verdict(verdict["verdict"], verdict.get("families", []), verdict["alert_ts"],
                                                 settings.suppress_days * 86400)
                    unsaved.users[key] = (event, entry)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as bad:
                await dead_letter(event.message, f"invalid feedback: {bad}")
                continue
            counters.feedback_applied += 1

    @app.agent(topics["tickets"], name="route-tickets")
    async def route_tickets(stream: faust.StreamT) -> None:
        """Tickets arrive keyed by ticket; re-key them by assignee, next to the assignee's events."""
        async for event in stream.events():
            try:
                ticket = parse_ticket(event.message.value)
            except InvalidRecord as bad:
                await dead_letter(event.message, bad.reason)
                continue
            await topics["tickets-by-user"].send(key=ticket["assignee"].encode(), value=orjson.dumps(ticket))

    @app.agent(topics["tickets-by-user"], name="book-tickets")
    async def book_tickets(stream: faust.StreamT) -> None:
        async for event in stream.events():
            ticket = orjson.loads(event.message.value)
            key = event.message.key
            async with unsaved.lock:  # saved with the next commit, like the users' state
                book = ticket_book(key)
                book.assign(ticket["customer_id"], ticket["opened"], ticket["closed"])
                unsaved.books[key] = (event, book)
            counters.tickets_booked += 1

    return user_state, detector_now


@dataclass
class UserEntry:
    """A user's detector and ticket book, the last source offset the detector counted, their latest risk."""

    detector: UserDetector
    book: TicketBook
    offset: int
    live: dict | None

    def state(self) -> dict:
        """What the user-state table keeps of this entry (the book has its own table)."""
        return {"offset": self.offset, "detector": self.detector.state(), "live": self.live}


@dataclass
class Outputs:
    """What scored messages produce, held until a batch ends or SCORED_PER_MESSAGE records are waiting."""

    scored: dict[int, list[ScoredRecord]] = field(default_factory=dict)  # source partition -> scored records, in order
    count: int = 0  # scored records
    alerts: list[tuple[bytes, bytes]] = field(default_factory=list)  # key, value


@dataclass
class Unsaved:
    """What scoring and booking have changed since the last commit and not yet sent, and the lock that keeps
    messages whole."""

    outputs: Outputs = field(default_factory=Outputs)
    users: dict[bytes, tuple[faust.types.EventT, UserEntry]] = field(default_factory=dict)  # key -> (its last message, entry)
    books: dict[bytes, tuple[faust.types.EventT, TicketBook]] = field(default_factory=dict)  # key -> (its last ticket, book)
    populations: dict[int, faust.types.EventT] = field(default_factory=dict)  # partition -> its last message
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Pace:
    """A turn of the event loop every `every` ticks, for CPU-bound work done in a coroutine.

    Examples
    --------
    >>> pace = Pace(every=50)
    >>> async def score(events):
    ...     for _ in range(events):
    ...         await pace.tick()  # then the work of one event
    >>> asyncio.run(score(120))
    >>> pace.count  # ticks since the last turn (at 100)
    20

    """

    def __init__(self, every: int) -> None:
        self.every = every
        self.count = 0

    async def tick(self) -> None:
        self.count += 1
        if self.count >= self.every:
            self.count = 0
            await asyncio.sleep(0)


@contextmanager
def handling(event: faust.types.EventT):
    """Write to a table's store as if handling `event`: Faust's store puts a key in the partition of the
    current event, and at a commit that is whichever event ran last, not the one that changed the key."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


def _decode(value: bytes | None) -> dict:
    """A value of the user-state or ticket-books table (JSON), or an empty one."""
    return orjson.loads(value) if value else {}


def _population_key(partition: int) -> bytes:
    # A reserved key (user names cannot start with NUL): written while handling
    # this partition's events, so Faust keeps it in this partition's changelog.
    return f"\x00population/{partition}".encode()


class ScoredRecord(msgspec.Struct):
    """An event as it goes to vigil.scored: its row of vigil.scored_events (the sink stores it as it is;
    ClickHouse reads null as the column's default) and each signal's `evidence` in full (docs/events.md)."""

    event_id: str
    ts: float
    user: str
    action: str
    outcome: str
    resource: str | None
    record_id: str | None
    records: int
    bytes: int | None
    ticket_id: str | None
    unjustified: bool
    src_ip: str | None
    device: str | None
    app: str | None
    geo: str | None
    attrs: str  # JSON text
    score: float
    risk: float
    band: str
    signals: list[str]
    reasons: list[str]
    user_events: int
    src_partition: int
    src_offset: int
    evidence: list[Signal]  # encoded as objects with every field of a Signal


class ScoredMessage(msgspec.Struct):
    scored: list[ScoredRecord]


def scored_record(access: AccessEvent, assessment: Assessment, message: faust.types.Message) -> ScoredRecord:
    signals = assessment.signals
    return ScoredRecord(
        access.event_id, access.ts, access.user, access.action, access.outcome, access.resource, access.record_id,
        access.records, access.bytes, access.ticket_id, assessment.unjustified, access.src_ip, access.device,
        access.app, access.geo, orjson.dumps(access.attrs).decode() if access.attrs else "{}",
        assessment.score, assessment.risk, assessment.band, [s.name for s in signals], [s.reason for s in signals],
        assessment.events_seen, message.partition, message.offset, signals,
    )


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
        "techniques": alert.techniques,
        "families": alert.families,
        "event_id": access.event_id,
    }

