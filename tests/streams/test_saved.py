"""How the worker's tables hold state: compressed JSON that reads back whole, and older plain JSON still read."""

from __future__ import annotations

import orjson
import pytest

from models import DetectorConfig, UserDetector
from streams.worker import saved
from streams.worker.scorer import MemoryStore, Scorer

DAY0 = 1793577600  # 2026-11-02 00:00 UTC, a Monday


def loud_month() -> Scorer:
    """Ann reads her usual few customers for three weeks, then a hundred more a day off any ticket and exports them."""
    config = DetectorConfig()
    scorer = Scorer(config, 1, MemoryStore(config), clock=lambda: DAY0 + 40 * 86400)
    offset = 0
    for day in range(28):
        harvest = day >= 21
        for n in range(120 if harvest else 12):
            ts = DAY0 + day * 86400 + 9 * 3600 + n * 120
            customer = f"C{day}{n:03d}" if harvest else f"C0{n % 12:03d}"  # new customers, or her usual twelve
            event = {"event_id": f"ann-{day}-{n}", "ts": ts * 1000, "user": "ann", "resource": "crm.customers",
                     "action": "record.export" if harvest and n % 40 == 39 else "record.view",
                     "record_id": customer, "src_ip": "10.0.0.7" if not harvest or n % 2 else f"198.51.100.{n % 50}"}
            scorer.score(orjson.dumps(event), partition=0, offset=offset, key=b"ann")
            offset += 1
    return scorer


def test_a_loud_users_saved_state_reads_back_whole_in_about_half_its_json():
    entry = loud_month().store.entry(b"ann")
    state = entry.state()
    assert entry.detector.bands.level >= 2, "the month must make Ann loud: her ledger holds reasons"
    stored, as_json = saved.encode(state), orjson.dumps(state)
    assert saved.decode(stored) == orjson.loads(as_json)  # its tuples as lists: what any JSON gives back
    assert UserDetector(DetectorConfig(), saved.decode(stored)["detector"]).state() == entry.detector.state()
    assert len(stored) < 0.6 * len(as_json)


def test_a_state_an_older_worker_saved_as_plain_json_still_reads():
    as_json = orjson.dumps(loud_month().store.entry(b"ann").state())
    assert saved.decode(as_json) == orjson.loads(as_json)


@pytest.mark.parametrize("value", [b"\x78\x01garbage", b"not json", b"\x00\x01"])
def test_a_value_that_is_neither_says_so(value):
    with pytest.raises(ValueError):
        saved.decode(value)
