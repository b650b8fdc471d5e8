"""Per-person API keys: shown once, stored as a hash on a compacted topic every worker follows.

A key is ``vk_<id>_<secret>``: the id finds the record, the secret is compared with its SHA-256 (a fast hash is
right for 256 random bits; passwords would need a slow one). Revoking writes the record again, revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import msgspec

from streams.access.roles import Principal, check_roles

PREFIX = "vk"


class KeyRecord(msgspec.Struct, kw_only=True):
    """One key as the ``access`` topic keeps it (key = key_id): never the key itself."""

    key_id: str
    name: str
    roles: list[str]
    digest: str  # SHA-256 of the secret, hex
    created: float
    created_by: str
    revoked: float = 0.0
    revoked_by: str = ""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key(name: str, roles: list[str], by: str, now: float) -> tuple[str, KeyRecord]:
    """A new key for `name` with `roles`: the key to hand over (once) and the record to keep.

    >>> key, record = new_key("ann", ["analyst"], by="admin", now=0.0)
    >>> key.startswith(f"vk_{record.key_id}_"), key.split("_", 2)[2] in record.digest
    (True, False)
    """
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    record = KeyRecord(key_id=key_id, name=name, roles=check_roles(roles), digest=_digest(secret), created=now,
                       created_by=by)
    return f"{PREFIX}_{key_id}_{secret}", record


class KeyRing:
    """The keys a worker knows, as read from the ``access`` topic; `principal` checks a presented key.

    >>> ring = KeyRing()
    >>> key, record = new_key("ann", ["investigator"], by="admin", now=0.0)
    >>> ring.apply(record.key_id.encode(), msgspec.json.encode(record))
    >>> ring.principal(key).name, ring.principal(key + "x"), ring.principal("vk_nope_x")
    ('ann', None, None)
    >>> record.revoked = 5.0
    >>> ring.apply(record.key_id.encode(), msgspec.json.encode(record))
    >>> ring.principal(key) is None
    True
    """

    def __init__(self) -> None:
        self.records: dict[str, KeyRecord] = {}

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """A record of the ``access`` topic (a `Follower` callback); tombstones and garbage forget the key."""
        if key is None:
            return
        try:
            record = msgspec.json.decode(value or b"", type=KeyRecord)
        except (msgspec.DecodeError, msgspec.ValidationError):
            self.records.pop(key.decode(errors="replace"), None)
            return
        self.records[record.key_id] = record

    def principal(self, presented: str) -> Principal | None:
        """Who a presented key belongs to, or None if it is not a live key."""
        prefix, _, rest = presented.partition("_")
        key_id, _, secret = rest.partition("_")
        record = self.records.get(key_id)
        if prefix != PREFIX or record is None or record.revoked or not secret:
            return None
        if not hmac.compare_digest(_digest(secret), record.digest):
            return None
        return self.holder(key_id)

    def holder(self, key_id: str) -> Principal | None:
        """The person a live key id belongs to (a session cookie names the id, not the key)."""
        record = self.records.get(key_id)
        if record is None or record.revoked:
            return None
        return Principal(record.name, frozenset(record.roles), via="key", subject=key_id)
