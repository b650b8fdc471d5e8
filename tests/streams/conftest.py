from __future__ import annotations

import pytest

from streams.store.clickhouse import ClickHouseStore, Row


def scored_row(event_id: str, user: str = "ann", ts: float = 1793613600.0, **fields) -> dict:
    """A record as the scoring agent sends it to vigil.scored."""
    return {"event_id": event_id, "ts": ts, "user": user, "action": "record.view", "outcome": "success",
            "resource": "crm.customers", "record_id": "C1", "records": 1, "bytes": None, "attrs": "{}",
            "score": 0.0, "risk": 0.0, "band": "low", "signals": [], "reasons": [], "user_events": 1, "src_partition": 0,
            "src_offset": 0, "unjustified": False} | fields


def insert_scored(store: ClickHouseStore, records: list[dict]) -> int:
    """Store scored records as the sink does; how many were new."""
    return store.insert("scored_events", [Row.of(r, r["event_id"]) for r in records])


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = ClickHouseStore(f"chdb://{tmp_path_factory.mktemp('ch')}")
    s.migrate()
    yield s
    s.close()
