"""Stable pseudonyms for users: what people see unless an investigator reveals one identity, with a reason."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable


class Pseudonyms:
    """``u-`` and 12 hex digits of HMAC-SHA256(secret, user): stable, and unlinkable without the secret.

    Twelve digits (48 bits) keep a collision unlikely in an organisation of a million users. The map back is
    built from the users the worker has met (`learn`), never stored.

    >>> names = Pseudonyms(b"secret")
    >>> names.of("alice")
    'u-ec587af70587'
    >>> names.of("alice") == names.of("alice") != names.of("bob")
    True
    >>> names.user(names.of("alice")) is None  # not met yet
    True
    >>> names.learn(["alice", "bob"]); names.user(names.of("alice"))
    'alice'
    """

    def __init__(self, secret: bytes) -> None:
        self.secret = hmac.new(secret, b"vigil pseudonyms", hashlib.sha256).digest()  # not the session key
        self.met: dict[str, str] = {}  # pseudonym -> user

    def of(self, user: str) -> str:
        return "u-" + hmac.new(self.secret, user.encode(), hashlib.sha256).hexdigest()[:12]

    def learn(self, users: Iterable[str]) -> None:
        for user in users:
            self.met[self.of(user)] = user

    def user(self, pseudonym: str) -> str | None:
        return self.met.get(pseudonym)

    def hide(self, record: dict, fields: tuple[str, ...] = ("user",)) -> dict:
        """`record` with each of `fields` that names a user replaced by its pseudonym (a new dict).

        >>> Pseudonyms(b"secret").hide({"user": "alice", "risk": 3})
        {'user': 'u-ec587af70587', 'risk': 3}
        """
        shown = dict(record)
        for field in fields:
            if isinstance(shown.get(field), str):
                shown[field] = self.of(shown[field])
        return shown
