"""HR's resignations, as Microsoft Purview's HR connector takes them: ``EmailAddress, ResignationDate,
LastWorkingDate`` (CSV), merged into the directory as each leaver's ``leaving`` date.

A directory entry is a whole record on a compacted topic, so a resignation is
written as the user's current entry with its leaving date set: `read_directory`
reads the topic to its end, `resign` finds each leaver by email (or user name)
and sets the date. Dates may be date-only (midnight in the configured zone).

Examples
--------
>>> entries = [{"user": "agent0021", "email": "Agent0021@acme.example", "role": "support_agent"}]
>>> merged, unknown = resign(entries, [{"EmailAddress": "agent0021@acme.example", "ResignationDate": "2026-11-02",
...                                     "LastWorkingDate": "2026-11-27"}, {"EmailAddress": "nobody@acme.example",
...                                     "LastWorkingDate": "2026-11-30"}])
>>> merged, unknown
([{'user': 'agent0021', 'email': 'Agent0021@acme.example', 'role': 'support_agent', 'leaving': '2026-11-27'}], ['nobody@acme.example'])
"""

from __future__ import annotations

import orjson

from streams.contract import InvalidRecord
from streams.settings import Settings
from streams.sources.compacted import latest_values

COLUMNS = ("EmailAddress", "ResignationDate", "LastWorkingDate")


def resign(entries: list[dict], rows: list[dict]) -> tuple[list[dict], list[str]]:
    """The directory entries of the leavers among `rows`, each with its ``leaving`` date; and the addresses of rows
    that match no entry (they are not sent: a directory entry needs more than an address)."""
    by_key = {str(e.get(k, "")).lower(): e for e in entries for k in ("email", "user") if e.get(k)}
    merged, unknown = {}, []
    for row in rows:
        address = str(row.get("EmailAddress") or "").strip()
        leaving = row.get("LastWorkingDate") or row.get("ResignationDate")
        if not address or not leaving:
            raise InvalidRecord("a resignation needs EmailAddress and LastWorkingDate (or ResignationDate)")
        entry = by_key.get(address.lower())
        if entry is None:
            unknown.append(address)
            continue
        merged[entry["user"]] = entry | {"leaving": leaving}
    return list(merged.values()), unknown


def read_directory(settings: Settings) -> list[dict]:
    """Every user's current entry on the compacted directory topic, read to the end it has now."""
    entries = []
    for value in latest_values(settings, "directory").values():
        try:
            entry = orjson.loads(value)
        except orjson.JSONDecodeError:
            continue  # the worker refuses it too: the entry before it stands
        if isinstance(entry, dict):
            entries.append(entry)
    return entries
