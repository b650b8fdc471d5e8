"""The event contract (docs/events.md): raw Kafka bytes in, validated records out, or a reason why not."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from kafka.partitioner.default import murmur2

from models import AccessEvent

# Event time outside this window is a producer bug (seconds, not milliseconds; a zeroed clock).
MIN_TS = 946684800.0  # 2000-01-01T00:00:00Z
MAX_TS = 4102444800.0  # 2100-01-01T00:00:00Z
MAX_ID_LENGTH = 256
MAX_ATTRS_BYTES = 16 * 1024
OUTCOMES = ("success", "failure")

_STRINGS = ("resource", "record_id", "ticket_id", "src_ip", "device", "app", "geo")


class InvalidRecord(ValueError):
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
    obj = _object(raw)
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
    fields["records"] = _count(obj, "records", default=1)
    fields["bytes"] = _count(obj, "bytes", default=None)
    attrs = obj.get("attrs", {})
    if not isinstance(attrs, dict):
        raise InvalidRecord(f"'attrs' must be an object, got {type(attrs).__name__}")
    if attrs and len(orjson.dumps(attrs)) > MAX_ATTRS_BYTES:
        raise InvalidRecord(f"'attrs' is larger than {MAX_ATTRS_BYTES // 1024} KiB")
    fields["attrs"] = attrs
    return AccessEvent(**fields)


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
    obj = _object(raw)
    if "envelope" not in obj:
        return obj
    events = obj.get("events")
    if obj["envelope"] != 1 or not isinstance(events, list):
        raise InvalidRecord("an envelope is {\"envelope\": 1, \"events\": [...]}")
    return events


def envelope(events: list[dict]) -> bytes:
    return orjson.dumps({"envelope": 1, "events": events})


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, as the Java client) gives `key`."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def parse_directory_entry(raw: bytes | str | dict) -> dict[str, Any]:
    """Validate a directory record (who a user is: role, team, manager, dates, tags)."""
    obj = _object(raw)
    entry = {"user": _required_id(obj, "user")}
    for name in ("role", "team", "department", "manager"):
        entry[name] = _optional_str(obj, name) or ""
    for name in ("hired", "leaving"):
        entry[name] = parse_ts(obj.get(name), name)
    entry["privileged"] = bool(obj.get("privileged", False))
    tags = obj.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InvalidRecord("'tags' must be a list of strings")
    entry["tags"] = tags
    return entry


def parse_ticket(raw: bytes | str | dict) -> dict[str, Any]:
    """Validate a ticket assignment (which customer's records an agent has reason to touch)."""
    obj = _object(raw)
    return {
        "ticket_id": _required_id(obj, "ticket_id"),
        "customer_id": _required_id(obj, "customer_id"),
        "assignee": _required_id(obj, "assignee"),
        "opened": parse_ts(obj.get("opened"), "opened", required=True),
        "closed": parse_ts(obj.get("closed"), "closed"),
    }


def parse_ts(value: Any, name: str, required: bool = False) -> float | None:
    """ISO-8601 with a zone, or epoch milliseconds, to epoch seconds."""
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
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
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


def _object(raw: bytes | str | dict) -> dict:
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


def _count(obj: dict, name: str, default: int | None) -> int | None:
    value = obj.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRecord(f"'{name}' must be a whole number ≥ 0, got {_show(value)}")
    return value


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
