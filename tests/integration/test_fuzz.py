"""Thousands of malformed messages mixed with valid events: the worker stays up, loses nothing, runs nothing."""

from __future__ import annotations

import random

import orjson
import pytest

from tests.integration.conftest import event, wait_for

pytestmark = pytest.mark.integration
INJECTIONS = ["'; DROP TABLE vigil.scored_events; --", "1) OR 1=1 --", "<script>window.__pwned=1</script>",
              "<img src=x onerror=window.__pwned=1>", "{sql:String}", "${db}", "\\x00\\u202e"]


def malformed(rng: random.Random, n: int) -> bytes:
    """One message that breaks the contract in one of many ways."""
    valid = event(n, "fuzz")
    kind = rng.randrange(12)
    if kind == 0:
        return orjson.dumps(valid)[: rng.randrange(1, 40)]  # truncated JSON
    if kind == 1:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))  # random bytes, invalid UTF-8
    if kind == 2:
        missing = rng.choice(["event_id", "ts", "user", "action"])
        return orjson.dumps({k: v for k, v in valid.items() if k != missing})
    if kind == 3:
        return orjson.dumps(valid | {rng.choice(["user", "event_id", "action"]): rng.choice([7, 1.5, None, [], {}, True])})
    if kind == 4:
        return orjson.dumps(valid | {"ts": rng.choice([-1, 10**15, "2026-13-45T00:00:00Z", "yesterday", True])})
    if kind == 5:
        return orjson.dumps(valid | {"ts": "2099-01-01T00:00:00Z"})  # far in the future
    if kind == 6:
        return orjson.dumps(valid | {"attrs": {"blob": "A" * rng.randrange(20_000, 400_000)}})  # huge
    if kind == 7:
        return orjson.dumps(valid | {"records": rng.choice([-5, "many", 2.5])})
    if kind == 8:
        return orjson.dumps([valid])  # not an object
    if kind == 9:
        return orjson.dumps({"envelope": 1, "events": "nope"})
    if kind == 10:
        return orjson.dumps(valid | {"user": "u" * 300})
    return b""


def test_fuzzed_stream_dead_letters_every_bad_message_and_scores_every_valid_one(make_worker):
    rng = random.Random(2026)
    worker = make_worker(partitions=2).start()
    bad, valid = 0, []
    for n in range(3500):
        if rng.random() < 0.8:
            worker.send("events", malformed(rng, n), key="fuzz")
            bad += 1
        else:
            user = f"user{n % 7}"
            fields = {rng.choice(["device", "app", "resource", "src_ip", "geo"]): rng.choice(INJECTIONS)}
            e = event(n, user, **fields) | {"event_id": f"valid-{n}"}
            valid.append(e)
            worker.send("events", e, key=user)
    worker.flush()

    wait_for(lambda: worker.scalar("SELECT count() FROM vigil.scored_events") == len(valid), timeout=180,
             what=f"{len(valid)} valid events stored")
    letters = worker.consume("deadletter", bad, timeout=120)
    assert len(letters) == bad
    assert all(dict(m.headers).get("vigil.reason") for m in letters)
    assert worker.process.poll() is None
    # The injected strings are data: stored verbatim, nothing executed.
    stored = {r[0] for r in worker.query("SELECT arrayJoin([device, app, resource, src_ip, geo]) FROM vigil.scored_events")}
    assert set(INJECTIONS) <= stored
    assert worker.scalar("EXISTS TABLE vigil.scored_events") == 1
    assert worker.health()["dead_letters"] == bad
