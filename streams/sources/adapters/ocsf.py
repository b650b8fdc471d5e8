"""OCSF 1.x events: Authentication (3002), File System Activity (1001), Web Resources Activity (6001),
API Activity (6003) and Datastore Activity (6005).

Examples
--------
>>> to_events({"class_uid": 6005, "activity_id": 1, "time": 1793610900000, "status_id": 1,
...            "metadata": {"uid": "ds-77", "version": "1.3.0", "product": {"name": "CRM"}},
...            "actor": {"user": {"name": "agent0021"}}, "src_endpoint": {"ip": "10.1.2.3", "hostname": "laptop-21"},
...            "database": {"name": "crm"}, "table": {"name": "customers"}, "query_info": {"num_results": 1},
...            "unmapped": {"record_id": "C004211"}})
... # doctest: +NORMALIZE_WHITESPACE
[{'event_id': 'ds-77', 'ts': 1793610900000, 'user': 'agent0021', 'action': 'record.view', 'outcome': 'success',
  'resource': 'crm.customers', 'record_id': 'C004211', 'records': 1, 'src_ip': '10.1.2.3', 'device': 'laptop-21',
  'app': 'CRM', 'attrs': {'ocsf_class_uid': 6005, 'ocsf_activity_id': 1}}]
"""

from __future__ import annotations

import hashlib

import orjson

from streams.contract import InvalidRecord
from streams.sources.adapters.fields import dig, first, required, text

FMT = "OCSF"
# class_uid -> activity_id -> Vigil action (OCSF 1.x enumerations)
ACTIONS = {
    3002: {1: "login", 2: "logout"},
    1001: {1: "file.create", 2: "file.read", 3: "file.update", 4: "file.delete", 5: "file.rename", 14: "file.read"},
    6001: {1: "record.create", 2: "record.view", 3: "record.update", 4: "record.delete", 5: "record.search",
           6: "record.import", 7: "record.export", 8: "record.share"},
    6003: {1: "api.create", 2: "api.read", 3: "api.update", 4: "api.delete"},
    6005: {1: "record.view", 2: "record.update", 3: "login", 4: "record.search", 5: "record.update",
           6: "record.create", 7: "record.delete"},
}
FAILURE = 2  # status_id


def to_events(event: dict) -> list[dict]:
    class_uid = required(event, "class_uid", fmt=FMT)
    if class_uid not in ACTIONS:
        raise InvalidRecord(f"OCSF class_uid {class_uid} is not one Vigil maps (3002, 1001, 6001, 6003, 6005)")
    activity = dig(event, "activity_id")
    action = ACTIONS[class_uid].get(activity)
    if action is None:
        raise InvalidRecord(f"OCSF activity_id {activity!r} of class {class_uid} has no Vigil action")
    mapped = {
        "event_id": text(first(event, "metadata.uid")) or _digest(event),
        "ts": required(event, "time", fmt=FMT),
        "user": text(required(event, "actor.user.name", "user.name", "actor.user.email_addr", "user.email_addr",
                              "actor.user.uid", "user.uid", fmt=FMT)),
        "action": action,
        "outcome": "failure" if dig(event, "status_id") == FAILURE else "success",
        "resource": _resource(event, class_uid),
        "record_id": text(first(event, "unmapped.record_id", "file.path")),
        "records": first(event, "query_info.num_results"),
        "bytes": first(event, "file.size"),
        "src_ip": text(first(event, "src_endpoint.ip")),
        "device": text(first(event, "src_endpoint.hostname", "device.hostname")),
        "app": text(first(event, "metadata.product.name", "api.service.name")),
        "attrs": {"ocsf_class_uid": class_uid, "ocsf_activity_id": activity},
    }
    if class_uid == 6001 and isinstance(event.get("web_resources"), list):
        resources = event["web_resources"]
        first_one = resources[0] if resources and isinstance(resources[0], dict) else {}
        mapped["record_id"] = text(first_one.get("uid") or first_one.get("name"))
        mapped["resource"] = text(first_one.get("type"))
        mapped["records"] = len(resources) or None
    return [{k: v for k, v in mapped.items() if v is not None}]


def _resource(event: dict, class_uid: int) -> str | None:
    if class_uid == 6005:
        names = [dig(event, "database.name"), dig(event, "table.name")]
        return ".".join(str(n) for n in names if n) or None
    if class_uid == 6003:
        return text(first(event, "api.service.name", "api.operation"))
    return text(first(event, "file.parent_folder"))


def _digest(event: dict) -> str:
    return "ocsf-" + hashlib.sha256(orjson.dumps(event, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]
