"""The event contract: what is accepted, and the reason given for what is not."""

from __future__ import annotations

import json
import random

import pytest

from streams.contract import (
    InvalidRecord,
    Rejected,
    decode_message,
    envelope,
    parse_directory_entry,
    parse_event,
    parse_ticket,
    read_message,
)

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


# -- the typed fast path (read_message) must judge exactly as parse_event does --------------------------------
TRICKY = [None, True, False, 0, -1, 1.5, 10**20, 2**64, "", " ", "\t", "x" * 256, "x" * 257, "ann", "2026-11-02T10:00:00Z",
          "2026-11-02t10:00:00z", "2026-11-02T10:00:00", "2026-11-02 10:00:00+01:00", "2026-11-02T10:00Z", "yesterday",
          1793613600000, 1793613600000.5, 1793613600, 4102444800000, "success", "failure", [], {}, {"k": "v"},
          {"blob": "A" * 17000}, "<script>x</script>", "'; DROP TABLE t; --"]
FIELDS = ["event_id", "ts", "user", "action", "outcome", "resource", "record_id", "records", "bytes", "ticket_id",
          "src_ip", "device", "app", "geo", "attrs", "envelope"]


def judged_by_parse_event(raw: bytes):
    try:
        decoded = decode_message(raw)
    except InvalidRecord as bad:
        return "message", bad.reason
    items = decoded if isinstance(decoded, list) else [decoded]
    judged = []
    for item in items:
        try:
            judged.append(parse_event(item))
        except InvalidRecord as bad:
            judged.append(bad.reason)
    return isinstance(decoded, list), judged


def judged_by_read_message(raw: bytes):
    try:
        message = read_message(raw)
    except InvalidRecord as bad:
        return "message", bad.reason
    return message.enveloped, [e.reason if isinstance(e, Rejected) else e for e in message.events]


def mutated(rng: random.Random) -> dict:
    e = dict(VALID, event_id=f"e{rng.randrange(10**6)}", device="laptop-1", records=3)
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        field = rng.choice(FIELDS)
        if rng.random() < 0.2:
            e.pop(field, None)
        else:
            e[field] = rng.choice(TRICKY)
    return e


def dumps(obj) -> bytes:
    """Compact JSON as orjson writes it, for integers past 64 bits too."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def test_the_typed_decoder_judges_every_message_as_parse_event_does():
    rng = random.Random(7)
    assert envelope([VALID]) == dumps({"envelope": 1, "events": [VALID]})
    for n in range(4000):
        if n % 3 == 0:  # an envelope as Vigil's producers write it, some of its events bad
            raw = dumps({"envelope": 1, "events": [mutated(rng) for _ in range(rng.randrange(1, 6))]})
        elif n % 3 == 1:
            raw = dumps(mutated(rng))
        else:  # bytes that are not quite an event or an envelope
            raw = rng.choice([b"", b"{", b"\xff", b"42", b"[]", b'{"envelope": 1}', b'{"envelope": 2, "events": []}',
                              b'{"envelope":1,"events":"nope"}', b'{"envelope":1,"events":[1]}', b'{"envelope": true, "events": []}',
                              dumps(mutated(rng))[: rng.randrange(1, 40)]])
        assert judged_by_read_message(raw) == judged_by_parse_event(raw), raw
