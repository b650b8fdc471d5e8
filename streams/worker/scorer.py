"""The scorer: one message of vigil.events in, scored records, alerts and dead letters out. No Kafka, no Faust.

The worker's scoring agent and `vigil eval` both drive a `Scorer`, so what
the evaluation measures is what the worker does: the same directory
profiles, ticket books, organisation-wide population, detectors and
analyst feedback. The drivers only differ in where the state lives
(`UserStore`) and where the outputs go.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import orjson

from models import (
    AccessEvent,
    Assessment,
    Context,
    DetectorConfig,
    Organisation,
    Population,
    Profile,
    TicketBook,
    UserDetector,
)
from models.risk import BANDS
from streams.contract import (
    InvalidRecord,
    Message,
    Rejected,
    partition_for,
    read_message,
)
from streams.records import AlertRecord, ScoredRecord


@dataclass
class UserEntry:
    """A user's detector and ticket book, the last source offset the detector counted, their latest risk."""

    detector: UserDetector
    book: TicketBook
    offset: int = -1
    live: dict | None = None

    def state(self) -> dict:
        """What the user-state table keeps of this entry (the book has its own table)."""
        return {"offset": self.offset, "detector": self.detector.state(), "live": self.live}


class UserStore(Protocol):
    """Where users' entries and the partitions' populations live: the worker's tables, or a dict in `vigil eval`."""

    def entry(self, key: bytes) -> UserEntry:
        """The user's entry, created empty for a user never seen."""

    def population(self, partition: int) -> Population:
        """What scoring in one partition sees of the organisation (its own part created empty if never seen)."""


class MemoryStore:
    """Users in a dict and one organisation of every partition's part: `vigil eval`, and tests without a broker.

    >>> store = MemoryStore(DetectorConfig())
    >>> store.entry(b"ann") is store.entry(b"ann"), store.population(3) is store.population(3)
    (True, True)
    """

    def __init__(self, config: DetectorConfig) -> None:
        self.config = config
        self.users: dict[bytes, UserEntry] = {}
        self.organisation = Organisation()

    def entry(self, key: bytes) -> UserEntry:
        if key not in self.users:
            self.users[key] = UserEntry(UserDetector(self.config), TicketBook())
        return self.users[key]

    def population(self, partition: int) -> Population:
        return self.organisation.partition(partition)


@dataclass
class Scored:
    """What scoring one message produced, for the driver to send and save."""

    records: list[ScoredRecord] = field(default_factory=list)
    alerts: list[tuple[bytes, dict]] = field(default_factory=list)  # key, alert record
    dead_letters: list[tuple[str, bytes | None, int | None]] = field(default_factory=list)  # reason, bad item (None: the raw message), index
    reroutes: list[tuple[bytes, bytes]] = field(default_factory=list)  # key, value: events sent to the wrong partition
    users: dict[bytes, UserEntry] = field(default_factory=dict)  # entries that counted this message


class Scorer:
    """Scores the messages of vigil.events against users' detectors, profiles, ticket books and populations.

    Parameters
    ----------
    config
        The detectors' tuning.
    partitions
        Partitions of vigil.events: a user's events belong in ``murmur2(user) % partitions``.
    store
        Where entries and populations live.
    profile
        The directory profile of a user (by key).
    max_future_seconds
        Events dated further ahead of `clock` are dead-lettered.
    clock
        Wall-clock time, only to refuse events from the future.

    Examples
    --------
    >>> scorer = Scorer(DetectorConfig(), partitions=1, store=MemoryStore(DetectorConfig()))
    >>> out = scorer.score(b'{"event_id": "e1", "ts": 1793607300000, "user": "ann", "action": "login"}',
    ...                    partition=0, offset=0, key=b"ann")
    >>> [(r.user, r.band, r.src_offset) for r in out.records], list(out.users)
    ([('ann', 'low', 0)], [b'ann'])
    >>> scorer.score(b"{not json", partition=0, offset=1, key=b"ann").dead_letters[0][0][:14]
    'not valid JSON'

    """

    def __init__(self, config: DetectorConfig, partitions: int, store: UserStore,
                 profile: Callable[[bytes], Profile] = lambda key: Profile(), max_future_seconds: float = 86400.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.partitions = partitions
        self.store = store
        self.profile = profile
        self.max_future_seconds = max_future_seconds
        self.clock = clock

    def score(self, raw: bytes, partition: int, offset: int, key: bytes | None) -> Scored:
        """Score one message (a single event or an envelope) read at `partition`/`offset`."""
        try:
            read = read_message(raw)
        except InvalidRecord as bad:
            return Scored(dead_letters=[(bad.reason, None, None)])
        return self.score_events(read, partition, offset, key)

    def score_events(self, read: Message, partition: int, offset: int, key: bytes | None) -> Scored:
        """Score the events of one message in order."""
        out, enveloped = Scored(), read.enveloped
        users: dict[bytes, tuple[UserEntry, Context] | None] = {}
        crowd = self.store.population(partition)
        horizon = self.clock() + self.max_future_seconds
        for index, access in enumerate(read.events):
            if type(access) is Rejected:
                out.dead_letters.append((access.reason, orjson.dumps(access.item) if enveloped else None,
                                         index if enveloped else None))
                continue
            if access.ts > horizon:
                # A future date would drag the user's event-time windows ahead of every real event.
                reason = f"'ts' is {(access.ts - self.clock()) / 3600:.0f} h in the future"
                out.dead_letters.append((reason, orjson.dumps(read.item(index)) if enveloped else None,
                                         index if enveloped else None))
                continue
            user = access.user.encode()
            if user not in users:  # a user's home is checked once per message
                at_home = partition_for(user, self.partitions) == partition if enveloped else key == user
                if not at_home:
                    # Sent to the wrong partition: re-send it as it came, keyed, to where the user's state lives.
                    out.reroutes.append((user, orjson.dumps(read.item(index)) if enveloped else read.raw))
                    continue
                entry = self.store.entry(user)
                if entry.offset >= offset:
                    users[user] = None  # redelivered after a restart: already counted in this user's state
                else:
                    users[user] = (entry, Context(crowd, self.profile(user), entry.book))
            if users[user] is None:
                continue
            entry, context = users[user]
            assessment = entry.detector.observe(access, context)
            out.records.append(scored_record(access, assessment, partition, offset))
            entry.live = {"risk": assessment.risk, "band": assessment.band, "ts": access.ts}
            if assessment.alert:
                out.alerts.append((user, alert_record(access, assessment)))
        for user, pair in users.items():
            if pair is not None:
                pair[0].offset = offset
                out.users[user] = pair[0]
        return out

    def book(self, key: bytes, ticket: dict) -> UserEntry:
        """Assign a validated ticket (`contract.parse_ticket`) to its assignee, whose key is `key`."""
        entry = self.store.entry(key)
        entry.book.assign(ticket["customer_id"], ticket["opened"], ticket["closed"])
        return entry

    def apply_verdict(self, verdict: dict, suppress_days: float) -> tuple[bytes, UserEntry, dict | None]:
        """An analyst's verdict on an alert (a decoded vigil.feedback message); KeyError or ValueError if malformed.

        A malicious verdict that lifts the user to critical is itself an alert, of the ``verdict`` family: it
        is what automation would act on, and it rests on a person's word alone (the response agent asks a
        second person to approve a suspension).
        """
        key = verdict["user"].encode()
        entry = self.store.entry(key)
        previous = entry.detector.bands.level
        crowd = self.store.population(partition_for(key, self.partitions))
        entry.detector.apply_verdict(verdict["verdict"], verdict.get("families", []), verdict["alert_ts"],
                                     suppress_days * 86400, Context(crowd, self.profile(key), entry.book))
        if verdict["verdict"] != "malicious" or previous == len(BANDS) - 1:
            return key, entry, None
        alert = AlertRecord(
            alert_id=f"verdict:{verdict['feedback_id']}", ts=verdict["ts"], user=verdict["user"], band=BANDS[-1],
            previous=BANDS[previous], risk=self.config.band_thresholds[-1],
            reasons=[f"judged malicious by {verdict['analyst']} (alert {verdict['alert_id']})"
                     + (f": {verdict['note']}" if verdict.get("note") else "")],
            techniques=[], families=["verdict"], event_id="")
        return key, entry, alert.to_dict()


def scored_record(access: AccessEvent, assessment: Assessment, partition: int, offset: int) -> ScoredRecord:
    signals = assessment.signals
    return ScoredRecord(
        event_id=access.event_id, ts=access.ts, user=access.user, action=access.action, outcome=access.outcome,
        resource=access.resource, record_id=access.record_id, records=access.records, bytes=access.bytes,
        ticket_id=access.ticket_id, unjustified=assessment.unjustified, src_ip=access.src_ip, device=access.device,
        app=access.app, geo=access.geo, attrs=orjson.dumps(access.attrs).decode() if access.attrs else "{}",
        score=assessment.score, risk=assessment.risk, band=assessment.band, signals=[s.name for s in signals],
        reasons=[s.reason for s in signals], user_events=assessment.events_seen, src_partition=partition,
        src_offset=offset, evidence=signals,
    )


def alert_record(access: AccessEvent, assessment: Assessment) -> dict:
    alert = assessment.alert
    return AlertRecord(
        alert_id=f"{access.event_id}:{alert.band}",  # deterministic: the same event crossing the same band
        ts=access.ts, user=access.user, band=alert.band, previous=alert.previous, risk=alert.risk,
        reasons=alert.reasons, techniques=alert.techniques, families=alert.families, event_id=access.event_id,
    ).to_dict()
