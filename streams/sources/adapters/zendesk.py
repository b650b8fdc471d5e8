"""Zendesk access logs (the Access Logs API or the ``access_log.created`` webhook): which agent read what.

A customer's profile (``/api/v2/users/{id}``) is a touch of that customer,
judged against the agent's tickets as any other; a ticket (``/api/v2/tickets/
{id}``) carries its ``ticket_id`` but no customer, so it counts toward volume
and rates and is not judged for justification (the access log does not say
whose ticket it is). Lists, searches and incremental exports are searches and
exports. ``user`` is Zendesk's numeric user id: put the agents in the
directory under it, or rewrite it in the shipper.

Examples
--------
>>> to_events({"id": "01J5M2QGXR3KZ8N4BVWYH6T9PA", "timestamp": "2026-11-02T14:23:45Z", "user_id": "6596848315901",
...            "ip_address": "198.51.100.7", "method": "GET", "url": "/api/v2/users/90210.json", "status": 200,
...            "client": "Zendesk/1.0", "bytes_sent": 4096, "category": "Users", "summary": "Show user"})
... # doctest: +NORMALIZE_WHITESPACE
[{'event_id': '01J5M2QGXR3KZ8N4BVWYH6T9PA', 'ts': '2026-11-02T14:23:45Z', 'user': '6596848315901',
  'action': 'record.view', 'outcome': 'success', 'resource': 'zendesk.users', 'record_id': '90210', 'bytes': 4096,
  'src_ip': '198.51.100.7', 'app': 'Zendesk/1.0', 'attrs': {'zendesk_summary': 'Show user'}}]
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from streams.sources.adapters.fields import required, text

FMT = "Zendesk"
_ONE = re.compile(r"^/api/v2/(tickets|users)/(\d+)(?:\.json|/[\w/.]*)?$")
_EXPORT = re.compile(r"^/api/v2/(incremental|exports?)/")
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def records(payload: dict) -> list[dict]:
    """The access-log entries of an API page or a webhook event, or the entry itself."""
    entries = payload.get("access_logs") or (payload.get("event") or {}).get("access_logs")
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else [payload]


def to_events(entry: dict) -> list[dict]:
    path = urlsplit(str(required(entry, "url", fmt=FMT))).path
    one = _ONE.match(path)
    kind, ident = one.groups() if one else (None, None)
    method = str(entry.get("method") or "GET").upper()
    status = entry.get("status")
    event = {
        "event_id": text(required(entry, "id", fmt=FMT)),
        "ts": required(entry, "timestamp", fmt=FMT),
        "user": text(required(entry, "user_id", fmt=FMT)),
        "action": _action(path, method, one is not None),
        "outcome": "failure" if isinstance(status, int) and status >= 400 else "success",
        "resource": f"zendesk.{kind}" if kind else f"zendesk.{str(entry.get('category') or 'api').lower()}",
        "record_id": ident if kind == "users" else None,
        "ticket_id": ident if kind == "tickets" else None,
        "bytes": entry.get("bytes_sent") if isinstance(entry.get("bytes_sent"), int) else None,
        "src_ip": text(entry.get("ip_address")),
        "app": text(entry.get("client")),
        "attrs": {"zendesk_summary": entry["summary"]} if entry.get("summary") else None,
    }
    return [{k: v for k, v in event.items() if v is not None}]


def _action(path: str, method: str, one: bool) -> str:
    if method in _WRITES:
        return "record.update"
    if _EXPORT.match(path):
        return "record.export"
    return "record.view" if one else "record.search"
