"""Elastic Common Schema, as Elastic Agent, Filebeat, Logstash and Vector write it (nested or dotted keys).

``event.id`` is the idempotency key; a document without one gets the SHA-256 of
its canonical JSON, so a redelivered document is still the same event.

Examples
--------
>>> to_events({"@timestamp": "2026-11-02T09:15:00.000Z", "event": {"id": "e-1", "action": "record.view",
...            "outcome": "success", "dataset": "crm.audit"}, "user": {"name": "agent0021"},
...            "source": {"ip": "10.1.2.3"}, "host": {"name": "laptop-21"}, "vigil": {"record_id": "C004211"}})
... # doctest: +NORMALIZE_WHITESPACE
[{'event_id': 'e-1', 'ts': '2026-11-02T09:15:00.000Z', 'user': 'agent0021', 'action': 'record.view',
  'outcome': 'success', 'resource': 'crm.audit', 'record_id': 'C004211', 'src_ip': '10.1.2.3',
  'device': 'laptop-21'}]
"""

from __future__ import annotations

import hashlib

import orjson

from streams.sources.adapters.fields import first, required, text

FMT = "ECS"
OUTCOMES = {"success": "success", "failure": "failure"}  # ECS's "unknown" says nothing: the contract's default


def to_events(doc: dict) -> list[dict]:
    event = {
        "event_id": text(first(doc, "event.id")) or _digest(doc),
        "ts": required(doc, "@timestamp", "event.created", fmt=FMT),
        "user": text(required(doc, "user.name", "user.email", "user.id", fmt=FMT)),
        "action": text(required(doc, "event.action", fmt=FMT)),
        "outcome": OUTCOMES.get(str(first(doc, "event.outcome")).lower()),
        "resource": text(first(doc, "vigil.resource", "event.dataset", "data_stream.dataset", "service.name")),
        "record_id": text(first(doc, "vigil.record_id", "entity.id")),
        "records": first(doc, "vigil.records"),
        "bytes": first(doc, "file.size", "network.bytes", "http.response.body.bytes"),
        "ticket_id": text(first(doc, "vigil.ticket_id")),
        "src_ip": text(first(doc, "source.ip", "client.ip")),
        "device": text(first(doc, "host.name", "host.hostname")),
        "app": text(first(doc, "process.name", "user_agent.name")),
        "geo": text(first(doc, "source.geo.city_name", "source.geo.country_name")),
        "attrs": first(doc, "labels"),
    }
    return [{k: v for k, v in event.items() if v is not None}]


def _digest(doc: dict) -> str:
    return "ecs-" + hashlib.sha256(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]
