"""`vigil eval` on files people bring: HR dates without a time, and bad records named by file, line and field."""

from __future__ import annotations

import subprocess
import sys
from zoneinfo import ZoneInfo

import orjson

from streams.ops.evaluation import from_files


def write(path, rows) -> None:
    path.write_bytes(b"".join((r if isinstance(r, bytes) else orjson.dumps(r)) + b"\n" for r in rows))


def files(tmp_path):
    write(tmp_path / "events.ndjson", [
        {"event_id": "e1", "ts": "2026-11-02T09:00:00Z", "user": "ann", "action": "login"},
        {"event_id": "e2", "ts": "2026-11-02T09:01:00", "user": "ann", "action": "record.view"},  # no zone
        {"event_id": "e3", "ts": "2026-11-02T09:02:00Z", "user": "ann", "action": "record.view", "record_id": "C1"},
    ])
    write(tmp_path / "directory.ndjson", [
        {"user": "ann", "role": "support_agent", "hired": "2022-01-10", "leaving": "2026-11-30"},  # HR's dates
        {"user": "bob", "tags": "watchlist"},
        b"{not json",
    ])
    (tmp_path / "truth.json").write_text('{"insiders": {}, "malicious_event_ids": []}')
    return [tmp_path / n for n in ("events.ndjson", "truth.json", "directory.ndjson")]


def test_date_only_hr_dates_are_midnight_in_the_configured_zone_and_bad_records_are_named(tmp_path):
    events, truth, directory = files(tmp_path)
    data = from_files(events, truth, directory, zone=ZoneInfo("Europe/Berlin"))
    assert [e["event_id"] for e in data.events] == ["e1", "e3"]
    assert [d["user"] for d in data.directory] == ["ann"] and data.zone.key == "Europe/Berlin"
    assert [(where, reason.split(":")[0]) for where, reason in data.rejected] == [
        ("events.ndjson:2", "'ts' has no time zone"), ("directory.ndjson:2", "'tags' must be a list of strings"),
        ("directory.ndjson:3", "not valid JSON (UTF-8)")]


def test_vigil_eval_on_such_files_says_what_it_left_out_and_finishes_without_a_traceback(tmp_path):
    events, truth, directory = files(tmp_path)
    done = subprocess.run([sys.executable, "-m", "streams.ops.cli", "eval", "--events", str(events), "--truth", str(truth),
                           "--directory", str(directory), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300, env={"VIGIL_DATE_ZONE": "Europe/Berlin",
                                                                           "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "left out directory.ndjson:2: 'tags' must be a list of strings" in done.stdout
    assert "3 records left out" in done.stdout


def test_a_broken_truth_file_is_named_with_its_line(tmp_path):
    events, truth, directory = files(tmp_path)
    truth.write_text('{"insiders": {},\n "malicious_event_ids": [}')
    done = subprocess.run([sys.executable, "-m", "streams.ops.cli", "eval", "--events", str(events), "--truth", str(truth)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "truth.json:2: not valid JSON" in done.stderr
