"""Reading fields out of a source record, nested (``{"event": {"action": …}}``) or flat (``{"event.action": …}``)."""

from __future__ import annotations

from typing import Any

from streams.contract import InvalidRecord

_MISSING = object()


def dig(record: dict, path: str, default: Any = None) -> Any:
    """The value at a dotted `path`, whether the record nests it or spells it out flat.

    >>> dig({"event": {"action": "login"}}, "event.action"), dig({"event.action": "login"}, "event.action")
    ('login', 'login')
    >>> dig({"source": {"geo.city_name": "Oslo"}}, "source.geo.city_name"), dig({}, "user.name", "—")
    ('Oslo', '—')
    """
    if path in record:
        return record[path]
    head, _, rest = path.partition(".")
    while rest:
        value = record.get(head, _MISSING) if isinstance(record, dict) else _MISSING
        if isinstance(value, dict):
            found = dig(value, rest, _MISSING)
            if found is not _MISSING:
                return found
        more, _, rest = rest.partition(".")
        head = f"{head}.{more}"
    return default


def first(record: dict, *paths: str) -> Any:
    """The first of `paths` that holds a value other than None or "".

    >>> first({"user": {"id": "u7"}}, "user.name", "user.id")
    'u7'
    """
    for path in paths:
        value = dig(record, path)
        if value not in (None, ""):
            return value
    return None


def required(record: dict, *paths: str, fmt: str) -> Any:
    """Like `first`, but a record without any of `paths` is refused, naming them.

    >>> required({}, "user.name", "user.id", fmt="ECS")
    Traceback (most recent call last):
    ...
    streams.contract.InvalidRecord: ECS record has no user.name or user.id
    """
    value = first(record, *paths)
    if value is None:
        raise InvalidRecord(f"{fmt} record has no {' or '.join(paths)}")
    return value


def text(value: Any) -> str | None:
    """A value as the contract's strings are: text, or None."""
    return None if value in (None, "") else str(value)
