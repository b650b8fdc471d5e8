"""A data-protection subject access request: everything Vigil holds about one user, as files they can be given.

`vigil report subject USER --output DIR` writes one JSON file per kind of
record — the user's directory entry, their scored events, the alerts about
them, what automation did to them, and analysts' verdicts — plus a
``summary.json`` that counts each and says what is kept how long.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from streams.ops.query import run_query
from streams.settings import Settings
from streams.sources.compacted import latest_values

#: kind -> the read-only query of it (each bound to one user, in event-time order).
HELD = {
    "events": "SELECT * FROM vigil.scored_events WHERE user = {user:String} ORDER BY ts",
    "alerts": "SELECT * FROM vigil.alerts WHERE user = {user:String} ORDER BY ts",
    "actions": "SELECT * FROM vigil.actions WHERE user = {user:String} ORDER BY ts",
    "verdicts": "SELECT * FROM vigil.feedback WHERE user = {user:String} ORDER BY ts",
}


def export_subject(settings: Settings, user: str, folder: Path) -> dict[str, int]:
    """Write what Vigil holds about `user` into `folder`; return how many records of each kind."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for kind, sql in HELD.items():
        result = run_query(settings, sql, {"user": user})
        rows = [dict(zip(result.columns, row)) for row in result.rows]
        (folder / f"{kind}.json").write_bytes(orjson.dumps(rows, default=str, option=orjson.OPT_INDENT_2))
        counts[kind] = len(rows)
    entry = latest_values(settings, "directory").get(user.encode())
    (folder / "directory.json").write_bytes(entry or b"null")
    counts["directory"] = int(entry is not None)
    summary = {"user": user, "records": counts, "retention_days": settings.retention_days,
               "kept": "scored events, alerts, actions and verdicts are dropped after retention_days; the directory "
                       "entry until it is replaced or removed",
               "not_exported": "the user's detector state (their baselines and current risk, derived from the events "
                               "above) in the worker's changelog"}
    (folder / "summary.json").write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    return counts
