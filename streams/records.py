"""The records Vigil writes to its own topics, each defined once; ClickHouse's columns are derived from them.

An access event is defined by the contract (`streams/contract.py`, `models/event.py`); what the worker
makes of it is here: the scored record, the alert, the hook action and the analyst's verdict. Producers
build them with keywords, consumers decode them with the same types (a message that does not fit is
dead-lettered with the reason), and `tests/streams/test_records.py` holds the migrations to these fields.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import msgspec

from models.risk import BANDS
from models.signal import Signal


class Record(msgspec.Struct, kw_only=True):
    """A record of one of Vigil's topics and the table it is stored in."""

    #: Fields that travel on the topic but are not columns of the table.
    not_stored: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        """The table's columns, in the record's order.

        >>> AlertRecord.columns()[:4]
        ('alert_id', 'ts', 'user', 'band')
        """
        return tuple(f for f in cls.__struct_fields__ if f not in cls.not_stored)

    def to_dict(self) -> dict:
        return msgspec.structs.asdict(self)


class ScoredRecord(Record, kw_only=True):
    """An event as it goes to vigil.scored: its row of vigil.scored_events (the sink stores it as it is;
    ClickHouse reads null as the column's default) and each signal's `evidence` in full (docs/events.md)."""

    not_stored: ClassVar[tuple[str, ...]] = ("evidence",)

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


class AlertRecord(Record, kw_only=True):
    """A user's risk crossed into a higher band (vigil.alerts); ``alert_id`` is the event's id and the band."""

    alert_id: str
    ts: float
    user: str
    band: Literal[BANDS]
    previous: Literal[BANDS]
    risk: float
    reasons: list[str]
    techniques: list[str]
    families: list[str]
    event_id: str


class ActionRecord(Record, kw_only=True):
    """One step of a response hook (vigil.actions): requested, succeeded, failed or skipped, and why."""

    action_id: str
    ts: float
    alert_id: str
    user: str
    hook: str
    status: str
    detail: str
    attempt: int

    @property
    def row_id(self) -> str:
        """One action moves through several statuses: each (action, status, attempt) is its own row."""
        return f"{self.action_id}/{self.status}/{self.attempt}"


class FeedbackRecord(Record, kw_only=True):
    """An analyst's verdict on an alert (vigil.feedback); the worker applies it to the user's detector."""

    not_stored: ClassVar[tuple[str, ...]] = ("families", "alert_ts")

    feedback_id: str
    ts: float
    alert_id: str
    user: str
    verdict: str
    analyst: str
    note: str
    families: list[str]  # the alert's evidence, which a benign verdict silences
    alert_ts: float  # the alert's event time, from which the silence runs


class AuditRecord(Record, kw_only=True):
    """One entry of the audit trail (vigil.audit): who did what, to whom, why, and how it ended."""

    audit_id: str
    ts: float
    who: str  # the person (key name, OIDC subject, or the break-glass token)
    roles: list[str]
    action: str
    subject: str  # whom or what it concerned, as the person saw it: a pseudonym, an alert, a key id
    reason: str
    outcome: str  # ok, refused, failed
    detail: str

    @property
    def user(self) -> str:
        """The row's owner for the sink's duplicate check: the person who acted."""
        return self.who
