"""The event contract: what is accepted, and the reason given for what is not."""

from __future__ import annotations

import pytest

from streams.contract import InvalidRecord, parse_directory_entry, parse_event, parse_ticket

VALID = {"event_id": "e1", "ts": "2026-11-02T10:00:00Z", "user": "ann", "action": "record.view"}


def test_minimal_event_gets_defaults():
    e = parse_event(VALID)
    assert (e.outcome, e.records, e.bytes, e.attrs) == ("success", 1, None, {})
    assert e.ts == 1793613600.0


def test_epoch_milliseconds_and_iso_agree():
    assert parse_event(VALID | {"ts": 1793613600000}).ts == parse_event(VALID).ts
    assert parse_event(VALID | {"ts": "2026-11-02T11:00:00+01:00"}).ts == parse_event(VALID).ts


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"ts": "2026-11-02T10:00:00"}, "no time zone"),
        ({"ts": 1793613600}, "outside 2000–2100"),  # seconds, not milliseconds
        ({"ts": True}, "got a boolean"),
        ({"user": ""}, "'user' must be a non-empty string"),
        ({"user": None}, "missing required field 'user'"),
        ({"records": -1}, "'records' must be a whole number"),
        ({"records": "3"}, "'records' must be a whole number"),
        ({"outcome": "maybe"}, "'outcome' must be one of"),
        ({"attrs": [1]}, "'attrs' must be an object"),
        ({"src_ip": 10}, "'src_ip' must be a string"),
        ({"event_id": "x" * 300}, "longer than 256"),
        ({"attrs": {"blob": "x" * 20000}}, "larger than 16 KiB"),
    ],
)
def test_invalid_events_say_why(change, reason):
    with pytest.raises(InvalidRecord, match=reason):
        parse_event(VALID | change)


@pytest.mark.parametrize("raw, reason", [(b"", "empty"), (b"{", "not valid JSON"), (b"\xff", "not valid JSON"),
                                         (b"42", "expected a JSON object")])
def test_invalid_bytes_say_why(raw, reason):
    with pytest.raises(InvalidRecord, match=reason):
        parse_event(raw)


def test_directory_and_ticket_records():
    entry = parse_directory_entry({"user": "ann", "role": "support_agent", "leaving": "2026-12-01T00:00:00Z",
                                   "tags": ["watchlist"]})
    assert entry["leaving"] and entry["tags"] == ["watchlist"] and entry["privileged"] is False
    ticket = parse_ticket({"ticket_id": "T1", "customer_id": "C1", "assignee": "ann", "opened": 1793613600000})
    assert ticket["closed"] is None
    with pytest.raises(InvalidRecord, match="'tags' must be a list"):
        parse_directory_entry({"user": "ann", "tags": "x"})
