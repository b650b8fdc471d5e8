"""Salesforce Real-Time Event Monitoring: ApiEvent, ReportEvent and LightningUriEvent records.

What a user read through the API or a report, and which records: ``Records``
(a JSON string of the queried rows' ids, up to Salesforce's cap) gives the
first customer touched and ``RowsProcessed`` how many; ``QueriedEntities``
names the object (``Contact``, ``Account``, ``Case``).

Examples
--------
>>> to_events({"attributes": {"type": "ReportEvent"}, "EventIdentifier": "0a4779b0-0da1-4619-a373-0a36991dff90",
...            "EventDate": "2026-11-02T16:03:11.000+0000", "Username": "agent0021@acme.example",
...            "SourceIp": "198.51.100.7", "ReportId": "00O5e000008Kj2rEAC", "Name": "All contacts with phone",
...            "QueriedEntities": "Contact", "RowsProcessed": 2000, "Operation": "ReportExported"})
... # doctest: +NORMALIZE_WHITESPACE
[{'event_id': '0a4779b0-0da1-4619-a373-0a36991dff90', 'ts': '2026-11-02T16:03:11.000+00:00',
  'user': 'agent0021@acme.example', 'action': 'record.export', 'resource': 'salesforce.Contact', 'records': 2000,
  'src_ip': '198.51.100.7', 'app': 'Salesforce', 'attrs': {'sf_event': 'ReportEvent',
  'sf_report': 'All contacts with phone'}}]
"""

from __future__ import annotations

import re

import orjson

from streams.contract import InvalidRecord
from streams.sources.adapters.fields import dig, required, text

FMT = "Salesforce"
_OFFSET = re.compile(r"([+-]\d\d)(\d\d)$")  # Salesforce writes +0000; ISO-8601 as Python reads it wants +00:00


def to_events(record: dict) -> list[dict]:
    kind = dig(record, "attributes.type") or _kind_of(record)
    rows = record.get("RowsProcessed")
    entity = text(record.get("QueriedEntities"))
    event = {
        "event_id": text(required(record, "EventIdentifier", fmt=FMT)),
        "ts": _OFFSET.sub(r"\1:\2", str(required(record, "EventDate", fmt=FMT))),
        "user": text(required(record, "Username", fmt=FMT)),
        "action": _action(kind, record, rows),
        "resource": f"salesforce.{entity.split(',')[0]}" if entity else "salesforce",
        "record_id": text(record.get("RecordId")) or _first_record(record.get("Records")),
        "records": int(rows) if isinstance(rows, (int, float)) else None,
        "src_ip": text(record.get("SourceIp")),
        "app": "Salesforce",
        "attrs": {"sf_event": kind, **({"sf_report": record["Name"]} if record.get("Name") else {})},
    }
    return [{k: v for k, v in event.items() if v is not None}]


def _kind_of(record: dict) -> str:
    if "RecordId" in record:
        return "LightningUriEvent"
    return "ReportEvent" if "ReportId" in record else "ApiEvent"


def _action(kind: str, record: dict, rows) -> str:
    if kind == "ReportEvent":
        return "record.export" if "Export" in str(record.get("Operation", "")) else "record.search"
    if kind == "LightningUriEvent":
        return "record.view"
    if kind == "ApiEvent":
        return "record.search" if isinstance(rows, (int, float)) and rows > 1 else "record.view"
    raise InvalidRecord(f"Salesforce attributes.type {kind!r} is not ApiEvent, ReportEvent or LightningUriEvent")


def _first_record(records) -> str | None:
    """The first row's Id of ``Records``, a JSON string like ``{"totalSize": 2, "records": [{"Id": …}, …]}``."""
    try:
        rows = orjson.loads(records).get("records") if isinstance(records, str) else None
    except orjson.JSONDecodeError:
        return None
    return text(rows[0].get("Id")) if rows and isinstance(rows[0], dict) else None
