"""How events travel in vigil.events: batch envelopes, cut by count and by event time, read in event-time order.

A backfill sends weeks of events as fast as Kafka takes them. Each partition
is a queue of its own, so a consumer that takes partitions round-robin lets
a quiet partition run hours of event time ahead of a busy one, and the
organisation-wide population (a team's day, the shared hours model) is then
judged with some teams' mornings counted and others' not. Two rules keep the
worker in event time, as Kafka Streams does:

- an envelope holds at most `PER_ENVELOPE` events of one partition, is closed
  once the stream has moved `SPAN_SECONDS` of event time past its first event,
  and carries that event's time in the `EVENT_TIME_HEADER` header (not the
  record's timestamp, which retention reads: a month-old timestamp would be
  deleted at once);
- the consumer takes envelopes of all partitions in order of that time
  (`streams/worker/kafka_driver.py` `EventTimeOrder`), and `vigil eval` replays
  the very same envelopes in the same order (`in_event_time_order`), so the
  two score the same messages in the same sequence.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from streams.contract import InvalidRecord, envelope, parse_ts, partition_for

PER_ENVELOPE = 500  # events, well under Kafka's 1 MB message
SPAN_SECONDS = 300.0  # event time one envelope may span: the most one partition runs ahead of another
EVENT_TIME_HEADER = "vigil-event-time"  # epoch milliseconds of the envelope's first event, ASCII


@dataclass
class Envelope:
    """Events of one partition on their way to vigil.events, and when they begin.

    >>> one = Envelope(0)
    >>> one.add({"ts": "2026-11-02T09:01:00Z"}, 1793610060.0); one.add({"ts": "yesterday"}, None)
    >>> one.headers, len(one.events)
    ({'vigil-event-time': b'1793610060000'}, 2)
    """

    partition: int
    events: list[dict] = field(default_factory=list)
    start: float | None = None  # event time of its earliest event (that has a valid one), seconds

    def add(self, event: dict, ts: float | None) -> None:
        self.events.append(event)
        if ts is not None and (self.start is None or ts < self.start):
            self.start = ts

    @property
    def value(self) -> bytes:
        return envelope(self.events)

    @property
    def time_ms(self) -> int | None:
        return None if self.start is None else round(self.start * 1000)

    @property
    def headers(self) -> dict[str, bytes]:
        """The event-time header (none if no event has a valid time: the worker dead-letters those)."""
        return {} if self.start is None else {EVENT_TIME_HEADER: str(self.time_ms).encode()}


class EnvelopeCutter:
    """Groups events, given in event-time order, into envelopes per partition. An envelope is cut when full,
    or once the stream has moved more than `span` seconds past its first event: a quiet partition's evening
    envelope goes out with the evening, not with that partition's next event in the morning.

    Examples
    --------
    >>> cutter = EnvelopeCutter(partitions=1, per_envelope=3, span=300)
    >>> nine = 1793610000  # 2026-11-02 09:00 UTC
    >>> seconds = [0, 60, 120, 180, 600]  # the fourth finds the first envelope full, the fifth is too late for the next
    >>> cut = [e for s in seconds for e in cutter.add({"user": "ann", "ts": (nine + s) * 1000})]
    >>> [[e["ts"] // 1000 - nine for e in envelope.events] for envelope in cut + cutter.flush()]
    [[0, 60, 120], [180], [600]]
    >>> quiet = EnvelopeCutter(partitions=2, span=300)  # ann and ida hash to partitions 0 and 1
    >>> [[e.partition for e in quiet.add({"user": user, "ts": (nine + s) * 1000})]
    ...  for user, s in (("ann", 0), ("ida", 200), ("ida", 400))]  # ida's second event closes ann's envelope
    [[], [], [0]]
    """

    def __init__(self, partitions: int, per_envelope: int = PER_ENVELOPE, span: float = SPAN_SECONDS) -> None:
        if partitions < 1 or per_envelope < 1 or span <= 0:
            raise ValueError("an envelope cutter needs partitions ≥ 1, per_envelope ≥ 1 and span > 0")
        self.partitions, self.per_envelope, self.span = partitions, per_envelope, span
        self.open: dict[int, Envelope] = {}
        self.oldest = float("inf")  # earliest start among the open envelopes

    def add(self, event: dict) -> list[Envelope]:
        """Add one event; return the envelopes it closed (a full one of its partition, and any the stream has
        moved past), in partition order."""
        partition = partition_for(str(event["user"]).encode(), self.partitions)
        ts = _seconds(event)
        closed = []
        current = self.open.get(partition)
        if current is not None and len(current.events) >= self.per_envelope:
            closed.append(self.open.pop(partition))
        if ts is not None and ts - self.oldest > self.span:
            closed += self._older_than(ts - self.span)
        current = self.open.get(partition)
        if current is None:
            current = self.open[partition] = Envelope(partition)
        current.add(event, ts)
        if ts is not None:
            self.oldest = min(self.oldest, ts)
        return closed

    def _older_than(self, start: float) -> list[Envelope]:
        old = [p for p in sorted(self.open) if self.open[p].start is not None and self.open[p].start < start]
        closed = [self.open.pop(p) for p in old]
        self.oldest = min((e.start for e in self.open.values() if e.start is not None), default=float("inf"))
        return closed

    def flush(self) -> list[Envelope]:
        """The envelopes still open, in partition order."""
        closed = [self.open[p] for p in sorted(self.open)]
        self.open.clear()
        self.oldest = float("inf")
        return closed


def envelopes(events: Iterable[dict], partitions: int, per_envelope: int = PER_ENVELOPE,
              span: float = SPAN_SECONDS) -> list[Envelope]:
    """Every envelope `events` make, in the order a producer sends them."""
    cutter = EnvelopeCutter(partitions, per_envelope, span)
    cut = [closed for event in events for closed in cutter.add(event)]
    return cut + cutter.flush()


def in_event_time_order(per_partition: Mapping[int, Iterable[tuple[int, object]]]) -> Iterator[tuple[int, object]]:
    """(partition, item) of every partition's (time, item) queue, by time, ties by partition: what the worker's
    consumer delivers when every partition's queue is already in Kafka.

    >>> list(in_event_time_order({0: [(10, "a"), (30, "c")], 1: [(10, "b"), (20, "d")]}))
    [(0, 'a'), (1, 'b'), (1, 'd'), (0, 'c')]
    """
    def tagged(partition: int, queue: Iterable[tuple[int, object]]) -> Iterator[tuple[int, int, object]]:
        return ((t, partition, item) for t, item in queue)

    queues = [tagged(p, queue) for p, queue in sorted(per_partition.items())]
    for _, partition, item in heapq.merge(*queues, key=lambda entry: entry[:2]):
        yield partition, item


def _seconds(event: dict) -> float | None:
    try:
        return parse_ts(event.get("ts"), "ts")
    except InvalidRecord:
        return None  # the worker dead-letters it; it does not date its envelope
