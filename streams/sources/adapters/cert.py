"""The CERT Insider Threat Test Dataset (r4.2 and later): one row of its logon, device, file, email or http CSV.

Each row carries the file it came from as ``kind``. Dates are ``MM/DD/YYYY
HH:MM:SS`` without a zone (read in the zone given); users are ``DOMAIN/ID``
(the ``ID`` is the user, as in the LDAP files). `streams/ops/cert.py` reads a
whole release, its LDAP files as the directory and, if given, its answer key.

Examples
--------
>>> to_events({"kind": "device", "id": "{Q3C7-W3WW47AR-9327DZJQ}", "date": "01/04/2010 07:51:43",
...            "user": "DTAA/ACM2278", "pc": "PC-2318", "activity": "Connect"})
... # doctest: +NORMALIZE_WHITESPACE
[{'event_id': '{Q3C7-W3WW47AR-9327DZJQ}', 'ts': '2010-01-04T07:51:43+00:00', 'user': 'ACM2278',
  'action': 'usb.connect', 'device': 'PC-2318'}]
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from urllib.parse import urlsplit

from streams.contract import InvalidRecord
from streams.sources.adapters.fields import text

KINDS = ("logon", "device", "file", "email", "http")
ACTIVITIES = {("logon", "Logon"): "login", ("logon", "Logoff"): "logout",
              ("device", "Connect"): "usb.connect", ("device", "Disconnect"): "usb.disconnect"}


def to_events(row: dict, zone: tzinfo = timezone.utc) -> list[dict]:
    kind = row.get("kind")
    if kind not in KINDS:
        raise InvalidRecord(f"CERT row of unknown file {kind!r} (expected one of {', '.join(KINDS)})")
    for column in ("id", "date", "user"):
        if not row.get(column):
            raise InvalidRecord(f"CERT {kind}.csv row has no {column!r}")
    event = {"event_id": row["id"], "ts": _iso(row["date"], zone), "user": row["user"].rsplit("/", 1)[-1],
             "action": _action(kind, row), "device": text(row.get("pc"))}
    if kind == "file":
        event["record_id"] = text(row.get("filename"))  # a file copied to removable media
    elif kind == "email":
        event |= {"bytes": int(row["size"]) if str(row.get("size", "")).isdigit() else None,
                  "attrs": {"recipients": sum(len(str(row.get(f) or "").split(";")) for f in ("to", "cc", "bcc")
                                              if row.get(f)),
                            "attachments": int(row["attachments"]) if str(row.get("attachments", "")).isdigit() else 0}}
    elif kind == "http":
        event["resource"] = text(urlsplit(str(row.get("url", ""))).hostname)
    return [{k: v for k, v in event.items() if v is not None}]


def _action(kind: str, row: dict) -> str:
    if kind in ("logon", "device"):
        action = ACTIVITIES.get((kind, row.get("activity")))
        if action is None:
            raise InvalidRecord(f"CERT {kind}.csv activity {row.get('activity')!r} is not known")
        return action
    return {"file": "file.copy", "email": "email.send", "http": "http"}[kind]


def _iso(date: str, zone: tzinfo) -> str:
    try:
        return datetime.strptime(date, "%m/%d/%Y %H:%M:%S").replace(tzinfo=zone).isoformat()
    except ValueError:
        raise InvalidRecord(f"CERT 'date' {date!r} is not MM/DD/YYYY HH:MM:SS") from None
