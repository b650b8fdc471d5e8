"""Alerts in the formats a SOC's tools read: Vigil's own record, an OCSF Detection Finding (2004), or ECS.

`VIGIL_WEBHOOK_FORMAT` chooses the webhook body; `VIGIL_FINDINGS_TOPIC`, when
set, gets every alert in that format too, for a SIEM to consume.

Examples
--------
>>> alert = AlertRecord(alert_id="ann-9:high", ts=1793610900.5, user="ann", band="high", previous="medium",
...                     risk=61.2, reasons=["touched 12 customers with no ticket of theirs today (C1, C2, …)"],
...                     techniques=["T1213"], families=["unjustified"], event_id="ann-9")
>>> finding = as_ocsf(alert)
>>> finding["class_uid"], finding["type_uid"], finding["severity_id"], finding["finding_info"]["uid"]
(2004, 200401, 4, 'ann-9:high')
>>> as_ecs(alert)["event"]["kind"], as_ecs(alert)["user"], as_ecs(alert)["threat"]["technique"]["id"]
('alert', {'name': 'ann'}, ['T1213'])
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version

import faust
import orjson

from streams.records import AlertRecord
from streams.settings import Settings
from streams.worker.inbox import Inbox

OCSF_VERSION = "1.5.0"
SEVERITY_ID = {"low": 2, "medium": 3, "high": 4, "critical": 5}  # OCSF severity_id: Low, Medium, High, Critical
RISK_LEVEL_ID = {"low": 1, "medium": 2, "high": 3, "critical": 4}  # OCSF risk_level_id
ECS_SEVERITY = {"low": 21, "medium": 47, "high": 73, "critical": 99}  # ECS event.severity, as Elastic's rules use it


def _vigil_version() -> str:
    try:
        return version("vigil-ueba")
    except PackageNotFoundError:
        return "0"


PRODUCT = {"name": "Vigil", "vendor_name": "Vigil", "version": _vigil_version()}


def as_vigil(alert: AlertRecord) -> dict:
    return alert.to_dict()


def as_ocsf(alert: AlertRecord) -> dict:
    """An OCSF 1.5 Detection Finding: the user as an observable and the finding's resource, reasons as its desc."""
    band = alert.band
    return {
        "class_uid": 2004, "class_name": "Detection Finding", "category_uid": 2, "category_name": "Findings",
        "activity_id": 1, "activity_name": "Create", "type_uid": 200401, "type_name": "Detection Finding: Create",
        "time": int(alert.ts * 1000),
        "severity_id": SEVERITY_ID[band], "severity": band.capitalize(),
        "status_id": 1, "status": "New",
        "risk_score": round(alert.risk), "risk_level_id": RISK_LEVEL_ID[band], "risk_level": band.capitalize(),
        "message": f"{alert.user}: insider risk {alert.previous} → {band} ({alert.risk:.0f})",
        "metadata": {"version": OCSF_VERSION, "product": PRODUCT, "uid": alert.alert_id,
                     "correlation_uid": alert.event_id},
        "finding_info": {
            "uid": alert.alert_id, "title": f"Insider risk of {alert.user} rose to {band}",
            "desc": "; ".join(alert.reasons), "types": alert.families,
            "analytic": {"name": "Vigil user-behaviour analytics", "uid": "vigil-ueba", "type_id": 2, "type": "Behavioral"},
            "attacks": [{"technique": {"uid": t.split()[0], "name": t}} for t in alert.techniques],
        },
        "resources": [{"type": "User", "uid": alert.user, "name": alert.user}],
        "observables": [{"name": "user.name", "type_id": 4, "type": "User Name", "value": alert.user}],
    }


def as_ecs(alert: AlertRecord) -> dict:
    """An ECS alert document, as Elastic's detection alerts look: event.kind alert, the user, the MITRE techniques."""
    return {
        "@timestamp": datetime.fromtimestamp(alert.ts, tz=timezone.utc).isoformat(timespec="milliseconds"),
        "event": {"kind": "alert", "category": ["iam"], "type": ["info"], "id": alert.alert_id, "module": "vigil",
                  "severity": ECS_SEVERITY[alert.band], "risk_score": alert.risk, "reason": "; ".join(alert.reasons)},
        "user": {"name": alert.user},
        "rule": {"name": f"Insider risk rose to {alert.band}", "category": ", ".join(alert.families)},
        "threat": {"framework": "MITRE ATT&CK", "technique": {"id": [t.split()[0] for t in alert.techniques]}},
        "message": f"{alert.user}: insider risk {alert.previous} → {alert.band} ({alert.risk:.0f})",
        "labels": {"vigil_band": alert.band, "vigil_event_id": alert.event_id},
    }


FORMATS: dict[str, Callable[[AlertRecord], dict]] = {"vigil": as_vigil, "ocsf": as_ocsf, "ecs": as_ecs}


def register(app: faust.App, settings: Settings, alerts: faust.TopicT, inbox: Inbox) -> None:
    """With `findings_topic` set: every alert, in `findings_format`, keyed by user, for a SIEM to consume."""
    if not settings.findings_topic:
        return
    findings = app.topic(settings.findings_topic, key_type=bytes, value_type=bytes, key_serializer="raw",
                         value_serializer="raw")
    render = FORMATS[settings.findings_format]

    @app.agent(alerts, name="publish-findings")
    async def publish_findings(stream: faust.StreamT) -> None:
        async for event in stream.events():
            if (alert := await inbox.decode(event, AlertRecord, dead_letter=False)) is not None:  # the sink keeps it
                await findings.send(key=alert.user.encode(), value=orjson.dumps(render(alert)))
