"""One definition per record: the tables the migrations create hold exactly the fields the records define."""

from __future__ import annotations

import msgspec
import pytest

from streams.records import ActionRecord, AlertRecord, FeedbackRecord, ScoredRecord
from streams.store.clickhouse import TABLES


@pytest.mark.parametrize("table, record", [("scored_events", ScoredRecord), ("alerts", AlertRecord),
                                           ("actions", ActionRecord), ("feedback", FeedbackRecord)])
def test_each_table_holds_exactly_its_records_fields(store, table, record):
    written = store.query_readonly(
        "SELECT name FROM system.columns WHERE database = 'vigil' AND table = {table:String} "
        "AND default_kind NOT IN ('MATERIALIZED', 'ALIAS') ORDER BY position", {"table": table}).rows
    assert [name for [name] in written] == list(record.columns())
    assert TABLES[table].columns == record.columns()


def test_records_are_built_with_keywords_and_decoded_with_their_types():
    with pytest.raises(TypeError):
        AlertRecord("a:high", 1.0, "ann", "high", "low", 60.0, [], [], [], "a")  # positional: refused
    alert = AlertRecord(alert_id="a:high", ts=1.0, user="ann", band="high", previous="low", risk=60.0, reasons=["r"],
                        techniques=[], families=["unjustified"], event_id="a")
    assert msgspec.json.decode(msgspec.json.encode(alert), type=AlertRecord) == alert
    with pytest.raises(msgspec.ValidationError, match=r"\$\.band"):
        msgspec.json.decode(msgspec.json.encode(alert.to_dict() | {"band": "severe"}), type=AlertRecord)


def test_the_event_is_one_record_wherever_it_is_read_or_stored():
    import dataclasses

    from models.event import AccessEvent
    from streams.contract import _WireEvent

    event_fields = [f.name for f in dataclasses.fields(AccessEvent)]
    assert [f for f in _WireEvent.__struct_fields__ if f != "envelope"] == event_fields  # the fast decoder
    stored = ScoredRecord.columns()
    assert [f for f in stored if f in event_fields] == event_fields  # every field of the event is stored
