from __future__ import annotations

from streams.sources.files import read_records


def test_ndjson_and_csv_records(tmp_path):
    nd = tmp_path / "e.ndjson"
    nd.write_bytes(b'{"a": 1}\n\n{broken\n[1]\n')
    lines = list(read_records(nd))
    assert [(l.where, l.obj) for l in lines] == [("e.ndjson:1", {"a": 1}), ("e.ndjson:3", None), ("e.ndjson:4", None)]
    assert lines[1].raw == b"{broken"  # raw bytes kept for the dead-letter topic

    csv = tmp_path / "e.csv"
    csv.write_text('event_id,ts,records,attrs,privileged\ne1,1793613600000,3,"{""k"": 1}",yes\n')
    (line,) = read_records(csv)
    assert line.obj == {"event_id": "e1", "ts": 1793613600000, "records": 3, "attrs": {"k": 1}, "privileged": True}
