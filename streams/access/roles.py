"""The roles a person can hold, and the person a request acts for."""

from __future__ import annotations

from dataclasses import dataclass

from streams.errors import VigilError

#: What each role lets a person do; every role includes viewing.
ROLES = {
    "viewer": "the pseudonymised live view and alerts",
    "analyst": "verdicts, and queries on pseudonymised data",
    "investigator": "reveals identities (one at a time, with a reason), breach reports and raw queries",
    "responder": "reinstates users, approves verdict-only suspensions, pauses and resumes automation",
    "admin": "API keys and the audit trail",
}


class UnknownRole(VigilError, ValueError):
    pass


def check_roles(roles: list[str]) -> list[str]:
    """`roles` if every one is known and there is at least one; `UnknownRole` says which are.

    >>> check_roles(["analyst", "viewer"])
    ['analyst', 'viewer']
    >>> check_roles(["god"])
    Traceback (most recent call last):
    ...
    streams.access.roles.UnknownRole: unknown role 'god': the roles are viewer, analyst, investigator, responder, admin
    """
    for role in roles or ["(none)"]:
        if role not in ROLES:
            raise UnknownRole(f"unknown role {role!r}: the roles are {', '.join(ROLES)}")
    return list(roles)


@dataclass(frozen=True)
class Principal:
    """The person a request acts for: a name for the audit trail and the roles they hold.

    >>> ann = Principal("ann", frozenset({"analyst"}), via="key")
    >>> ann.has("analyst"), ann.has("viewer"), ann.has("investigator")
    (True, True, False)
    """

    name: str
    roles: frozenset[str]
    via: str  # key, token (break-glass), oidc
    subject: str = ""  # what a session cookie names: the key id; empty for OIDC (no sessions)

    def has(self, role: str) -> bool:
        return role in self.roles or (role == "viewer" and bool(self.roles))


#: Whoever holds the worker's own token (VIGIL_API_TOKEN or data_dir/api-token): every role, for break-glass
#: and for the operator's own CLI; the audit trail names it as such.
BREAK_GLASS = Principal("break-glass token", frozenset(ROLES), via="token")
