"""Okta System Log LogEvents (``GET /api/v1/logs``, or an event hook / log stream of them).

Sign-ins and sign-outs, SSO into an app, and privilege changes map to Vigil's
actions; every other event type keeps Okta's name (``okta.<eventType>``), so
its per-user rate is still learned.

Examples
--------
>>> to_events({"uuid": "f790999f-fe87-467a-9880-6982a583986c", "published": "2026-11-02T08:01:07.777Z",
...            "eventType": "user.authentication.sso", "outcome": {"result": "SUCCESS"},
...            "actor": {"type": "User", "alternateId": "agent0021@example.com"},
...            "client": {"ipAddress": "198.51.100.7", "device": "Computer",
...                       "geographicalContext": {"city": "Berlin", "country": "Germany"}},
...            "target": [{"type": "AppInstance", "alternateId": "Zendesk", "displayName": "Zendesk"}]})
... # doctest: +NORMALIZE_WHITESPACE
[{'event_id': 'f790999f-fe87-467a-9880-6982a583986c', 'ts': '2026-11-02T08:01:07.777Z',
  'user': 'agent0021@example.com', 'action': 'login', 'outcome': 'success', 'src_ip': '198.51.100.7',
  'app': 'Zendesk', 'geo': 'Berlin, Germany', 'attrs': {'okta_event_type': 'user.authentication.sso'}}]
"""

from __future__ import annotations

from streams.contract import InvalidRecord
from streams.sources.adapters.fields import dig, required, text

FMT = "Okta"
ACTIONS = {
    "user.session.start": "login",
    "user.authentication.sso": "login",
    "user.authentication.auth_via_mfa": "login",
    "user.session.end": "logout",
    "group.user_membership.add": "privilege.grant",
    "user.account.privilege.grant": "privilege.grant",
    "application.user_membership.add": "privilege.grant",
}
FAILED = {"FAILURE", "DENY"}


def to_events(event: dict) -> list[dict]:
    actor = dig(event, "actor") or {}
    if actor.get("type") not in (None, "User"):
        raise InvalidRecord(f"Okta actor.type is {actor.get('type')!r}: only a User's actions are attributed")
    kind = text(required(event, "eventType", fmt=FMT))
    app = next((t.get("displayName") or t.get("alternateId") for t in dig(event, "target") or []
                if isinstance(t, dict) and t.get("type") == "AppInstance"), None)
    city, country = dig(event, "client.geographicalContext.city"), dig(event, "client.geographicalContext.country")
    mapped = {
        "event_id": text(required(event, "uuid", fmt=FMT)),
        "ts": required(event, "published", fmt=FMT),
        "user": text(required(event, "actor.alternateId", fmt=FMT)),
        "action": ACTIONS.get(kind, f"okta.{kind}"),
        "outcome": "failure" if dig(event, "outcome.result") in FAILED else "success",
        "src_ip": text(dig(event, "client.ipAddress")),
        "app": text(app),
        "geo": ", ".join(p for p in (city, country) if p) or None,
        "attrs": {"okta_event_type": kind},
    }
    return [{k: v for k, v in mapped.items() if v is not None}]
