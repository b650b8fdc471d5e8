"""The directory from the identity provider: SCIM 2.0 users (RFC 7643/7644) as Vigil's directory entries.

`vigil directory pull` pages through ``GET /Users`` at ``VIGIL_SCIM_URL`` (the
same endpoint automation suspends users at) and sends one entry per user to
vigil.directory, keyed by user.

Examples
--------
>>> directory_entry({"userName": "agent0021", "active": True, "title": "support_agent",
...                  ENTERPRISE: {"department": "Support EMEA", "manager": {"value": "2819c223", "displayName": "Lee"}}})
... # doctest: +NORMALIZE_WHITESPACE
{'user': 'agent0021', 'role': 'support_agent', 'team': 'Support EMEA', 'department': 'Support EMEA', 'manager': 'Lee',
 'email': '', 'tags': []}
>>> directory_entry({"userName": "old.account", "active": False})["tags"]
['inactive']
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from collections.abc import Iterator

import orjson

from streams.contract import InvalidRecord

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PAGE = 100


def directory_entry(user: dict) -> dict:
    """One SCIM User as a directory entry; `InvalidRecord` if it has no userName."""
    if not user.get("userName"):
        raise InvalidRecord(f"SCIM user {user.get('id', '?')!r} has no userName")
    enterprise = user.get(ENTERPRISE) or {}
    manager = enterprise.get("manager") or {}
    department = enterprise.get("department") or ""
    emails = [e for e in user.get("emails") or [] if isinstance(e, dict) and e.get("value")]
    email = next((e["value"] for e in emails if e.get("primary")), emails[0]["value"] if emails else "")
    return {"user": user["userName"], "role": user.get("title") or "", "team": department, "department": department,
            "manager": manager.get("displayName") or manager.get("value") or "", "email": email,
            "tags": [] if user.get("active", True) else ["inactive"]}


def scim_users(base_url: str, token: str | None, timeout: float = 30, page: int = PAGE) -> Iterator[dict]:
    """Every user of the SCIM endpoint, a page at a time (``startIndex`` is 1-based)."""
    headers = {"Accept": "application/scim+json", **({"Authorization": f"Bearer {token}"} if token else {})}
    start = 1
    while True:
        query = urllib.parse.urlencode({"startIndex": start, "count": page})
        request = urllib.request.Request(f"{base_url.rstrip('/')}/Users?{query}", headers=headers)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            listing = orjson.loads(response.read())
        users = listing.get("Resources") or []
        yield from users
        start += len(users)
        if not users or start > int(listing.get("totalResults", 0)):
            return
