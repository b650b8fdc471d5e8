"""The scoring agents: vigil.events → `Scorer` → vigil.scored / vigil.alerts, bad input → vigil.deadletter.

Three parts: the `Scorer` (streams/worker/scorer.py, shared with `vigil eval`) does the
work; `TableStore` keeps the users' state between the Faust tables and memory and
saves it before each offset commit; the agents below only move messages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import faust
import msgspec
import orjson
from mode.utils.collections import LRUCache

from models import Organisation, Population, TicketBook, UserDetector
from streams.contract import InvalidRecord, dead_letter_headers, parse_ticket
from streams.records import ScoredMessage, ScoredRecord
from streams.settings import Settings
from streams.worker import kafka_driver, saved
from streams.worker.counters import WorkerCounters
from streams.worker.directory import Directory
from streams.worker.live import LiveBoard
from streams.worker.population_feed import PopulationFeed
from streams.worker.scorer import Scored, Scorer, UserEntry

log = logging.getLogger(__name__)

SCORED_PER_MESSAGE = 500
YIELD_EVERY = 50  # one-event messages scored between turns of the event loop
encode = msgspec.json.Encoder().encode  # scored records (ScoredMessage) to JSON


@dataclass
class Outputs:
    """What scored messages produce, held until a batch ends or SCORED_PER_MESSAGE records are waiting."""

    scored: dict[int, list[ScoredRecord]] = field(default_factory=dict)  # source partition -> scored records, in order
    count: int = 0  # scored records
    alerts: list[tuple[bytes, bytes]] = field(default_factory=list)  # key, value


class TableStore:
    """The users' entries and the organisation's population: Faust tables as the truth, memory in between.

    Decoding and rebuilding a user's state for every message costs more than the models do, so the
    recently active users' entries stay live (an LRU read cache of the table). What scoring changed since
    the last commit is unsaved; `snapshot` takes it for the next commit. The population is organisation-wide:
    the parts of the partitions this worker owns live here (restored from the table), the others arrive from
    the workers that own them (`streams/worker/population_feed.py`).
    """

    def __init__(self, settings: Settings, user_state: faust.types.TableT, ticket_books: faust.types.TableT,
                 counters: WorkerCounters) -> None:
        self.config = settings.detector
        self.counters = counters
        self.user_state = user_state
        self.ticket_books = ticket_books
        self.recent: LRUCache[bytes, UserEntry] = LRUCache(limit=settings.detector_cache_users)
        self.organisation = Organisation()
        self.owned: set[int] = set()  # partitions whose population part is live here
        self.users: dict[bytes, tuple[faust.types.EventT, UserEntry]] = {}  # unsaved: key -> (its last message, entry)
        self.books: dict[bytes, tuple[faust.types.EventT, TicketBook]] = {}  # unsaved: key -> (its last ticket, book)
        self.crowds: dict[int, faust.types.EventT] = {}  # unsaved populations: partition -> its last message

    def entry(self, key: bytes) -> UserEntry:
        """The user's entry as the table holds it plus what this worker has observed since."""
        entry = self.live(key)
        if entry is None:
            state = saved.decode(self.user_state.get(key))
            entry = UserEntry(UserDetector(self.config, state.get("detector")), self._book(key),
                              state.get("offset", -1), state.get("live"))
            self.recent[key] = entry
        return entry

    def live(self, key: bytes) -> UserEntry | None:
        """The user's entry if this worker holds it in memory (unsaved changes first: the cache may let go)."""
        return self.users[key][1] if key in self.users else self.recent.get(key)

    def _book(self, key: bytes) -> TicketBook:
        if key in self.books:
            return self.books[key][1]
        return TicketBook.from_state(saved.decode(self.ticket_books.get(key)))

    def detector_now(self, key: bytes) -> UserDetector | None:
        """What the user's detector holds now, events scored since the last save included (read only)."""
        entry = self.live(key)
        if entry is not None:
            return entry.detector
        value = self.user_state.get(key)
        return UserDetector(self.config, saved.decode(value).get("detector")) if value is not None else None

    def population(self, partition: int) -> Population:
        if partition not in self.owned:  # the table's part is the truth, whatever another worker last published
            self.organisation.partition(partition, saved.decode(self.user_state.get(_population_key(partition))))
            self.owned.add(partition)
            self.counters.population_parts = len(self.organisation.parts)
        return self.organisation.partition(partition)

    def published(self, partition: int, state: bytes) -> None:
        """Another worker's part of the population, as it published it (ignored for a partition owned here)."""
        if partition not in self.owned:
            self.organisation.adopt_part(partition, saved.decode(state))
            self.counters.population_parts = len(self.organisation.parts)

    def changed(self, event: faust.types.EventT, scored: Scored) -> None:
        for key, entry in scored.users.items():
            self.users[key] = (event, entry)
        if scored.records:
            self.crowds[event.message.partition] = event

    def snapshot(self) -> tuple[list, list]:
        """(users and populations, books) changed since the last snapshot, encoded; forgets them."""
        users = [(key, event, saved.encode(entry.state())) for key, (event, entry) in self.users.items()]
        crowds = [(_population_key(partition), event, saved.encode(self.organisation.partition(partition).state()))
                  for partition, event in self.crowds.items() if partition in self.owned]
        books = [(key, event, saved.encode(book.state())) for key, (event, book) in self.books.items()]
        self.users.clear()
        self.crowds.clear()
        self.books.clear()
        return users + crowds, books

    def revoke(self, revoked: set) -> None:
        """Another worker may own (and update) these partitions before they come back: forget them."""
        for tp in revoked:  # its part stays, as last saved, until the next owner publishes
            self.owned.discard(tp.partition)
            self.organisation.forget(tp.partition)
            self.crowds.pop(tp.partition, None)
        for changed in (self.users, self.books):
            for key in [key for key, (event, _) in changed.items() if event.message.tp in revoked]:
                del changed[key]
        self.recent.clear()

    def forget_unsaved(self) -> None:
        """A detector may be half-way through an event: drop the unsaved learning, keep the saved state."""
        self.recent.clear()
        self.users.clear()


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

    async def tick(self, weight: int = 1) -> None:
        self.count += weight
        if self.count >= self.every:
            self.count = 0
            await asyncio.sleep(0)


class Delivery:
    """What the scoring agents send, in order: scored records and alerts (held and sent together), dead letters,
    re-routed events; and, before each offset commit, the users' state the store holds unsaved.

    `lock` keeps messages whole: a state snapshot falls between two, so each saved detector agrees with the
    offset it counted.
    """

    def __init__(self, app: faust.App, topics: dict[str, faust.TopicT], store: TableStore, counters: WorkerCounters,
                 board: LiveBoard, tables: tuple[faust.types.TableT, faust.types.TableT]) -> None:
        self.app = app
        self.topics = topics
        self.store = store
        self.counters = counters
        self.board = board
        self.user_state, self.ticket_books = tables
        self.outputs = Outputs()
        self.lock = asyncio.Lock()

    def deliver(self, result: Scored) -> None:
        """Hold one message's scored records and alerts for `emit` (call holding the lock)."""
        for record in result.records:
            self.board.risk(record.user, record.risk, record.band, record.ts)
        for key, alert in result.alerts:
            self.outputs.alerts.append((key, orjson.dumps(alert)))
        self.counters.alerts += len(result.alerts)
        if result.records:
            self.counters.scored += len(result.records)
            self.outputs.scored.setdefault(result.records[0].src_partition, []).extend(result.records)
            self.outputs.count += len(result.records)

    async def emit(self) -> None:
        """Send what the messages scored since the last emit produced (call holding the lock)."""
        sending, self.outputs = self.outputs, Outputs()
        for partition, records in sending.scored.items():
            # One message per SCORED_PER_MESSAGE records, in the source partition: a produce per event
            # costs more than scoring it. The sink and every reader take both forms (docs/events.md).
            for start in range(0, len(records), SCORED_PER_MESSAGE):
                chunk = encode(ScoredMessage(records[start:start + SCORED_PER_MESSAGE]))
                await self.topics["scored"].send(value=chunk, partition=partition, force=True)
        for key, value in sending.alerts:
            await self.topics["alerts"].send(key=key, value=value, force=True)

    async def dead_letter(self, message: faust.types.Message, reason: str, item: bytes | None = None,
                          index: int | None = None) -> None:
        """The raw bytes (or, inside an envelope, the bad item) with the reason and where it came from."""
        self.counters.dead_letters += 1
        source = f"{message.topic}/{message.partition}/{message.offset}" + ("" if index is None else f"#{index}")
        await self.topics["deadletter"].send(key=message.key, value=message.value if item is None else item,
                                             headers=dead_letter_headers(reason, source))

    async def save_state(self) -> None:
        """Before each offset commit, save the users' state scoring changed since the last one.

        Faust has chosen the offsets to commit when this runs, and those events were scored (a take batch
        is acknowledged after its body), so a snapshot taken now covers them and perhaps more, which the
        offsets in the state tell a replay to skip. Writing each changed user once per commit (about a
        second) rather than once per message is most of what the changelog costs.
        """
        async with self.lock:
            await self.emit()  # a saved state says its events were scored: their records go to Kafka first
            users, books = self.store.snapshot()
        if not (users or books):
            return
        await self.app.producer.flush()
        # Delivered before Faust commits (it waits only for its own sends).
        await self._write(self.user_state, users)
        await self._write(self.ticket_books, books)
        for key, _, value in users:  # the parts of the population, for the other workers
            if key.startswith(POPULATION_PREFIX):
                await self.topics["population"].send(key=key[len(POPULATION_PREFIX):], value=value)

    async def _write(self, table: faust.types.TableT, entries: list[tuple[bytes, faust.types.EventT, bytes]]) -> None:
        """Write entries to `table`'s store and changelog, the changelog a record batch at a time.

        What `table[key] = value` does, but for many keys at once: Faust would queue each record in a
        buffer drained one send at a time, and pause delivery to every agent until it is nearly empty.
        """
        data, by_partition = table.data, {}
        for key, event, value in entries:
            with kafka_driver.handling(event):  # the store keeps it in the partition of the user's message
                data[key] = value
            by_partition.setdefault(event.message.partition, []).append((key, value))
        written = await kafka_driver.produce_batches(self.app, table.changelog_topic.get_topic_name(), by_partition)
        for tp, offset in written.items():  # how far this worker's store is up to date, for a restart's recovery
            data.set_persisted_offset(tp, offset)


def register(app: faust.App, settings: Settings, topics: dict[str, faust.TopicT], directory: Directory,
             counters: WorkerCounters, board: LiveBoard) -> tuple[faust.types.TableT, Callable[[bytes], UserDetector | None]]:
    """Add the scoring agents and the tables they own to `app`; return the user-state table, and a function
    that gives a user's detector as this worker has it now (None for a user it has no state of)."""
    # Tables keyed by user (bytes), co-partitioned with vigil.events: a user's
    # state, tickets and events live in the same partition and move together.
    # Values are JSON the store encodes itself (value_type=bytes): once, when a commit takes its snapshot.
    user_state = app.Table("user-state", partitions=settings.partitions, key_type=bytes, value_type=bytes,
                           help="Each user's detector state and the last source offset it counted.")
    ticket_books = app.Table("ticket-books", partitions=settings.partitions, key_type=bytes, value_type=bytes,
                             help="The customers each user has a ticket for.")
    store = TableStore(settings, user_state, ticket_books, counters)
    scorer = Scorer(settings.detector, settings.partitions, store, directory.profile, settings.max_future_seconds)
    delivery = Delivery(app, topics, store, counters, board, (user_state, ticket_books))
    kafka_driver.save_before_commit(app, delivery.save_state)
    kafka_driver.order_by_event_time(app, settings.topic("events"))  # a backfill's partitions keep pace (envelopes.py)

    @app.on_partitions_revoked.connect
    async def forget_partitions(app, revoked, **kwargs) -> None:
        # Faust has committed (and so saved) before this signal: what is still unsaved here is
        # uncommitted, and the next owner replays it.
        store.revoke(revoked)

    @user_state.on_recover
    async def show_owned_users() -> None:
        # After every rebalance the board shows exactly the users whose partitions this worker now owns.
        states = ((key, saved.decode(value)) for key, value in user_state.items() if not key.startswith(b"\x00"))
        board.reload([{"user": key.decode(), **state["live"]} for key, state in states if state.get("live")])

    _score_agent(app, settings, topics, directory, scorer, store, delivery)
    _feedback_and_ticket_agents(app, settings, topics, scorer, store, delivery)
    app.task(PopulationFeed(settings.kafka_bootstrap, settings.topic("population"), store.published).follow)
    return user_state, store.detector_now


def _score_agent(app: faust.App, settings: Settings, topics: dict[str, faust.TopicT], directory: Directory,
                 scorer: Scorer, store: TableStore, delivery: Delivery) -> None:
    pace = Pace(every=YIELD_EVERY)

    @app.agent(topics["events"], name="score")
    async def score(stream: faust.StreamT) -> None:
        # Micro-batches: a batch's outputs go to Kafka together; the users' state it changed is saved
        # before its offsets are committed (`Delivery.save_state`). A crash replays from the last commit with
        # the state saved with it: the replay scores again what was not saved (the sink keeps one row per
        # event) and skips what the state has counted, so no event is lost or counted twice in a user's risk.
        async for taken in stream.take_events(settings.score_batch, within=settings.score_batch_seconds):
            # No event is scored against an empty profile. Waited for inside the loop: until an agent iterates
            # its stream, Faust does not route that topic's messages to it.
            await directory.loaded.wait()
            for event in taken:
                message = event.message
                async with delivery.lock:
                    try:
                        result = scorer.score(message.value, message.partition, message.offset, message.key)
                    except Exception as e:  # a bug must neither stop the stream nor lose the event
                        log.exception("scoring failed at %s/%s", message.partition, message.offset)
                        store.forget_unsaved()
                        result = Scored(dead_letters=[(f"internal error: {type(e).__name__}: {e}", None, None)])
                    for reason, item, index in result.dead_letters:
                        await delivery.dead_letter(message, reason, item, index)
                    for key, value in result.reroutes:
                        await topics["events"].send(key=key, value=value)
                    store.changed(event, result)
                    delivery.deliver(result)
                    if delivery.outputs.count >= SCORED_PER_MESSAGE:
                        await delivery.emit()
                # Let the producer's sender, the fetcher and the web API run between envelopes.
                await pace.tick(max(len(result.records), 1))
            async with delivery.lock:
                await delivery.emit()


def _feedback_and_ticket_agents(app: faust.App, settings: Settings, topics: dict[str, faust.TopicT], scorer: Scorer,
                                store: TableStore, delivery: Delivery) -> None:
    counters = delivery.counters

    @app.agent(topics["feedback"], name="apply-feedback")
    async def apply_feedback(stream: faust.StreamT) -> None:
        """Analysts' verdicts change the user's detector: benign silences that evidence, malicious pins."""
        async for event in stream.events():
            try:
                async with delivery.lock:
                    key, entry, alert = scorer.apply_verdict(orjson.loads(event.message.value), settings.suppress_days)
                    store.users[key] = (event, entry)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as bad:
                await delivery.dead_letter(event.message, f"invalid feedback: {bad}")
                continue
            counters.feedback_applied += 1
            if alert is not None:  # a malicious verdict lifted the user: automation hears of it like any alert
                await topics["alerts"].send(key=key, value=orjson.dumps(alert))
                counters.alerts += 1

    @app.agent(topics["tickets"], name="route-tickets")
    async def route_tickets(stream: faust.StreamT) -> None:
        """Tickets arrive keyed by ticket; re-key them by assignee, next to the assignee's events."""
        async for event in stream.events():
            try:
                ticket = parse_ticket(event.message.value, settings.date_tz)
            except InvalidRecord as bad:
                await delivery.dead_letter(event.message, bad.reason)
                continue
            await topics["tickets-by-user"].send(key=ticket["assignee"].encode(), value=orjson.dumps(ticket))

    @app.agent(topics["tickets-by-user"], name="book-tickets")
    async def book_tickets(stream: faust.StreamT) -> None:
        async for event in stream.events():
            try:
                async with delivery.lock:  # saved with the next commit, like the users' state
                    entry = scorer.book(event.message.key, orjson.loads(event.message.value))
                    store.books[event.message.key] = (event, entry.book)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as bad:
                await delivery.dead_letter(event.message, f"invalid ticket assignment: {bad!r}")
                continue
            counters.tickets_booked += 1


POPULATION_PREFIX = b"\x00population/"


def _population_key(partition: int) -> bytes:
    # A reserved key (user names cannot start with NUL): written while handling
    # this partition's events, so Faust keeps it in this partition's changelog.
    return POPULATION_PREFIX + str(partition).encode()
