"""The event contract (docs/events.md): raw Kafka bytes in, validated records out, or a reason why not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone, tzinfo
from typing import Any

import msgspec
import orjson
from kafka.partitioner.default import murmur2

from models import AccessEvent
from streams.errors import VigilError

# Event time outside this window is a producer bug (seconds, not milliseconds; a zeroed clock).
MIN_TS = 946684800.0  # 2000-01-01T00:00:00Z
MAX_TS = 4102444800.0  # 2100-01-01T00:00:00Z
MAX_ID_LENGTH = 256
MAX_ATTRS_BYTES = 16 * 1024
MAX_RECORDS = 2**32 - 1  # the stored columns' range (UInt32, UInt64): ClickHouse would wrap a larger count silently
MAX_BYTES = 2**64 - 1
OUTCOMES = ("success", "failure")

_STRINGS = ("resource", "record_id", "ticket_id", "src_ip", "device", "app", "geo")


class InvalidRecord(VigilError, ValueError):
    """A message that breaks the contract. `reason` says which rule, for the dead-letter topic."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_event(raw: bytes | str | dict) -> AccessEvent:
    """Validate one access event.

    Examples
    --------
    >>> parse_event(b'{"event_id": "e1", "ts": "2026-11-02T09:15:00+01:00", "user": "ann", "action": "login"}').ts
    1793607300.0
    >>> parse_event(b'{"event_id": "e1", "ts": 1793607300000, "user": "ann"}')
    Traceback (most recent call last):
    ...
    streams.contract.InvalidRecord: missing required field 'action'

    """
    obj = json_object(raw)
    fields = {
        "event_id": _required_id(obj, "event_id"),
        "ts": parse_ts(obj.get("ts"), "ts", required=True),
        "user": _required_id(obj, "user"),
        "action": _required_id(obj, "action"),
    }
    outcome = obj.get("outcome", "success")
    if outcome not in OUTCOMES:
        raise InvalidRecord(f"'outcome' must be one of {', '.join(OUTCOMES)}, got {_show(outcome)}")
    fields["outcome"] = outcome
    for name in _STRINGS:
        fields[name] = _optional_str(obj, name)
    fields["records"] = _count(obj, "records", 1, MAX_RECORDS)
    fields["bytes"] = _count(obj, "bytes", None, MAX_BYTES)
    attrs = obj.get("attrs", {})
    if not isinstance(attrs, dict):
        raise InvalidRecord(f"'attrs' must be an object, got {type(attrs).__name__}")
    if attrs and len(orjson.dumps(attrs)) > MAX_ATTRS_BYTES:
        raise InvalidRecord(f"'attrs' is larger than {MAX_ATTRS_BYTES // 1024} KiB")
    fields["attrs"] = attrs
    return AccessEvent(**fields)


@dataclass(slots=True)
class Rejected:
    """An event of a message that breaks the contract: the item as it came, and why."""

    item: Any
    reason: str


@dataclass(slots=True)
class Message:
    """The events of one Kafka message, in order, each parsed or rejected."""

    events: list[AccessEvent | Rejected]
    enveloped: bool
    raw: bytes
    _items: list | None = None

    def item(self, index: int) -> Any:
        """The `index`th event as it came, for one that is re-sent or dead-lettered (decoded again, once)."""
        if self._items is None:
            decoded = decode_message(self.raw)
            self._items = decoded if isinstance(decoded, list) else [decoded]
        return self._items[index]


def read_message(raw: bytes) -> Message:
    """Parse one message of `vigil.events`: a single event or a batch envelope.

    A message that breaks the contract as a whole (not JSON, not an object,
    a malformed envelope) raises `InvalidRecord`; a bad event inside an
    envelope is `Rejected` on its own. Valid messages take a typed decoder
    (msgspec, in C); anything it refuses is judged again by `parse_event`,
    whose verdict and reason are the contract's.

    Examples
    --------
    >>> m = read_message(b'{"envelope": 1, "events": [{"event_id": "e1", "ts": 1793607300000, "user": "ann", '
    ...                  b'"action": "login"}, {"event_id": "e2", "user": "ann", "action": "login"}]}')
    >>> m.enveloped, m.events[0].ts, m.events[1].reason
    (True, 1793607300.0, "missing required field 'ts'")

    """
    try:
        return _read_typed(raw)
    except (msgspec.DecodeError, InvalidRecord):
        pass
    decoded = decode_message(raw)
    items = decoded if isinstance(decoded, list) else [decoded]
    return Message([_parse_or_reject(item) for item in items], isinstance(decoded, list), raw, items)


def _parse_or_reject(item: Any) -> AccessEvent | Rejected:
    try:
        return parse_event(item)
    except InvalidRecord as bad:
        return Rejected(item, bad.reason)


class _WireEvent(msgspec.Struct):
    """An event as the typed decoder reads it; `_accept` applies the rules types cannot say."""

    event_id: str
    ts: float | datetime
    user: str
    action: str
    outcome: str = "success"
    resource: str | None = None
    record_id: str | None = None
    records: int | None = 1
    bytes: int | None = None
    ticket_id: str | None = None
    src_ip: str | None = None
    device: str | None = None
    app: str | None = None
    geo: str | None = None
    attrs: dict[str, Any] = {}
    envelope: Any = msgspec.UNSET  # present: an envelope after all, for parse_event's path to judge


class _WireEnvelope(msgspec.Struct):
    envelope: int
    events: list[_WireEvent]


_SINGLE = msgspec.json.Decoder(_WireEvent)
_ENVELOPE = msgspec.json.Decoder(_WireEnvelope)
_ENVELOPE_START = b'{"envelope":1,'  # how Vigil's producers write one (orjson, `envelope` below)


def _read_typed(raw: bytes) -> Message:
    if raw[:len(_ENVELOPE_START)] == _ENVELOPE_START:
        wire = _ENVELOPE.decode(raw)
        if wire.envelope != 1:
            raise InvalidRecord("not a version 1 envelope")
        return Message([_accept(w) for w in wire.events], True, raw)
    return Message([_accept(_SINGLE.decode(raw))], False, raw)


def _accept(w: _WireEvent) -> AccessEvent:
    """The typed decoder's event if it passes every rule of `parse_event`, else InvalidRecord (without a
    reason: the caller asks `parse_event` for it)."""
    ts = w.ts
    if type(ts) is datetime:
        if ts.tzinfo is None:
            raise InvalidRecord("")
        ts = ts.timestamp()
    else:
        ts = ts / 1000
    records = 1 if w.records is None else w.records
    if (not MIN_TS <= ts < MAX_TS or w.outcome not in OUTCOMES or not 0 <= records <= MAX_RECORDS
            or (w.bytes is not None and not 0 <= w.bytes <= MAX_BYTES)
            or w.envelope is not msgspec.UNSET or (w.attrs and len(orjson.dumps(w.attrs)) > MAX_ATTRS_BYTES)):
        raise InvalidRecord("")
    for required in (w.event_id, w.user, w.action):
        if not required or len(required) > MAX_ID_LENGTH or required.isspace():
            raise InvalidRecord("")
    for optional in (w.resource, w.record_id, w.ticket_id, w.src_ip, w.device, w.app, w.geo):
        if optional is not None and len(optional) > MAX_ID_LENGTH:
            raise InvalidRecord("")
    return AccessEvent(w.event_id, ts, w.user, w.action, w.outcome, w.resource, w.record_id, records, w.bytes,
                       w.ticket_id, w.src_ip, w.device, w.app, w.geo, w.attrs)


def decode_message(raw: bytes) -> dict | list:
    """One event's JSON object, or the list of events of a batch envelope ``{"envelope": 1, "events": [...]}``.

    Vigil's own producers send envelopes of events that share a partition, in
    order; anyone else may send one event per message. Both are the contract.

    Examples
    --------
    >>> decode_message(b'{"envelope": 1, "events": [{"event_id": "e1"}, {"event_id": "e2"}]}')
    [{'event_id': 'e1'}, {'event_id': 'e2'}]
    >>> decode_message(b'{"event_id": "e1"}')
    {'event_id': 'e1'}

    """
    obj = json_object(raw)
    if "envelope" not in obj:
        return obj
    events = obj.get("events")
    if obj["envelope"] != 1 or not isinstance(events, list):
        raise InvalidRecord("an envelope is {\"envelope\": 1, \"events\": [...]}")
    return events


def dead_letter_headers(reason: str, source: str) -> dict[str, bytes]:
    """The headers of a dead letter: which rule it broke, in words, and where it came from.

    >>> dead_letter_headers("empty message", "vigil.events/0/42")
    {'vigil.reason': b'empty message', 'vigil.source': b'vigil.events/0/42'}
    """
    return {"vigil.reason": reason.encode(), "vigil.source": source.encode()}


def envelope(events: list[dict]) -> bytes:
    return orjson.dumps({"envelope": 1, "events": events})


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, as the Java client) gives `key`."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def parse_directory_entry(raw: bytes | str | dict, zone: tzinfo = timezone.utc) -> dict[str, Any]:
    """Validate a directory record (who a user is: role, team, manager, dates, tags).

    Dates may be date-only, as HR systems write them: midnight in `zone`.

    >>> parse_directory_entry({"user": "ann", "hired": "2022-01-10", "leaving": "2026-12-31T17:00:00Z"})["hired"]
    1641772800.0
    """
    obj = json_object(raw)
    entry = {"user": _required_id(obj, "user")}
    for name in ("role", "team", "department", "manager", "email"):
        entry[name] = _optional_str(obj, name) or ""
    for name in ("hired", "leaving"):
        entry[name] = parse_ts(obj.get(name), name, zone=zone)
    entry["privileged"] = bool(obj.get("privileged", False))
    tags = obj.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InvalidRecord("'tags' must be a list of strings")
    entry["tags"] = tags
    return entry


def parse_ticket(raw: bytes | str | dict, zone: tzinfo = timezone.utc) -> dict[str, Any]:
    """Validate a ticket assignment (which customer's records an agent has reason to touch); dates as in
    `parse_directory_entry`."""
    obj = json_object(raw)
    return {
        "ticket_id": _required_id(obj, "ticket_id"),
        "customer_id": _required_id(obj, "customer_id"),
        "assignee": _required_id(obj, "assignee"),
        "opened": parse_ts(obj.get("opened"), "opened", required=True, zone=zone),
        "closed": parse_ts(obj.get("closed"), "closed", zone=zone),
    }


def parse_ts(value: Any, name: str, required: bool = False, zone: tzinfo | None = None) -> float | None:
    """ISO-8601 with a zone, or epoch milliseconds, to epoch seconds; where a date will do (`zone` given), a
    date-only ``YYYY-MM-DD`` is midnight in `zone`.

    >>> parse_ts("2026-11-02", "leaving", zone=timezone.utc), parse_ts("2026-11-02T01:00:00+01:00", "ts")
    (1793577600.0, 1793577600.0)
    >>> parse_ts("2026-11-02", "ts")
    Traceback (most recent call last):
    ...
    streams.contract.InvalidRecord: 'ts' has no time zone: '2026-11-02' (add Z or +hh:mm)
    """
    if zone is not None and isinstance(value, str) and len(value) == 10:
        try:
            value = datetime.combine(date.fromisoformat(value), time(0), zone).isoformat()
        except ValueError:
            pass  # not a date: judged below
    if value is None:
        if required:
            raise InvalidRecord(f"missing required field '{name}'")
        return None
    if isinstance(value, bool):
        raise InvalidRecord(f"'{name}' must be ISO-8601 with a zone or epoch milliseconds, got a boolean")
    if isinstance(value, (int, float)):
        ts = value / 1000
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))  # RFC 3339 allows t and z
        except ValueError:
            raise InvalidRecord(f"'{name}' is not ISO-8601: {_show(value)}") from None
        if parsed.tzinfo is None:
            raise InvalidRecord(f"'{name}' has no time zone: {_show(value)} (add Z or +hh:mm)")
        ts = parsed.timestamp()
    else:
        raise InvalidRecord(f"'{name}' must be ISO-8601 with a zone or epoch milliseconds, got {type(value).__name__}")
    if not MIN_TS <= ts < MAX_TS:
        raise InvalidRecord(f"'{name}' is outside 2000–2100: {_show(value)} (epoch values are milliseconds)")
    return ts


def json_object(raw: bytes | str | dict) -> dict:
    """`raw` as a JSON object, or `InvalidRecord` saying what it is instead."""
    if isinstance(raw, dict):
        return raw
    if raw is None or not raw:
        raise InvalidRecord("empty message")
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise InvalidRecord(f"not valid JSON (UTF-8): {e}") from None
    if not isinstance(obj, dict):
        raise InvalidRecord(f"expected a JSON object, got {type(obj).__name__}")
    return obj


def _required_id(obj: dict, name: str) -> str:
    value = obj.get(name)
    if value is None:
        raise InvalidRecord(f"missing required field '{name}'")
    if not isinstance(value, str) or not value.strip():
        raise InvalidRecord(f"'{name}' must be a non-empty string, got {_show(value)}")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidRecord(f"'{name}' is longer than {MAX_ID_LENGTH} characters")
    return value


def _optional_str(obj: dict, name: str) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRecord(f"'{name}' must be a string, got {_show(value)}")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidRecord(f"'{name}' is longer than {MAX_ID_LENGTH} characters")
    return value


def _count(obj: dict, name: str, default: int | None, maximum: int) -> int | None:
    value = obj.get(name)
    if value is None:  # absent or null: the default
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise InvalidRecord(f"'{name}' must be a whole number from 0 to {maximum:,}, got {_show(value)}")
    return value


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
