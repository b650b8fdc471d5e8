"""The audit trail: who did what to whom, when, why, and how it ended: appended to ``vigil.audit`` and stored
in ClickHouse, where the query path (read-only) cannot change it."""

from __future__ import annotations

import time
import uuid

from streams.records import AuditRecord

#: What is recorded, by the worker's API and by the CLI.
ACTIONS = ("reveal", "query", "report", "verdict", "approve", "reinstate", "automation.pause", "automation.resume",
           "key.add", "key.revoke", "sign-in")


def audit_record(who: str, roles: frozenset[str] | list[str], action: str, subject: str = "", reason: str = "",
                 outcome: str = "ok", detail: str = "", now: float | None = None) -> AuditRecord:
    """One entry of the trail. `subject` is whom or what the action concerned, as the person saw it
    (a pseudonym, an alert id, a key id); `outcome` is ``ok``, ``refused`` or ``failed``.

    >>> entry = audit_record("ann", {"investigator"}, "reveal", "u-ec587af70587", reason="case 7", now=1.0)
    >>> entry.who, entry.action, entry.subject, entry.outcome, entry.roles
    ('ann', 'reveal', 'u-ec587af70587', 'ok', ['investigator'])
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    return AuditRecord(audit_id=uuid.uuid4().hex, ts=time.time() if now is None else now, who=who,
                       roles=sorted(roles), action=action, subject=subject, reason=reason[:2000], outcome=outcome,
                       detail=detail[:4000])
