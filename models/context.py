"""What the organisation knows about a user beyond their events: directory entry and ticket assignments."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # population imports the multivariate model; context stays import-light
    from models.population import Population

DAY = 86400


@dataclass(frozen=True)
class Profile:
    """A user's directory entry, as the models use it (times in epoch seconds)."""

    role: str = ""
    team: str = ""
    privileged: bool = False
    hired: float | None = None
    leaving: float | None = None
    tags: tuple[str, ...] = ()

    @cached_property  # read for every event
    def peer_group(self) -> str:
        """Whom the user is compared with: their role, else their team, else everyone."""
        return self.role or self.team or "everyone"

    @classmethod
    def from_entry(cls, entry: dict | None) -> Profile:
        if not entry:
            return cls()
        return cls(
            role=entry.get("role") or "",
            team=entry.get("team") or "",
            privileged=bool(entry.get("privileged")),
            hired=entry.get("hired"),
            leaving=entry.get("leaving"),
            tags=tuple(entry.get("tags") or ()),
        )


class TicketBook:
    """The customers a user has a ticket for, and when.

    An access is justified by a ticket of that customer assigned to the user,
    opened no later than an hour after the access and closed no more than
    `grace` seconds before it. Tickets closed long ago are forgotten.

    Examples
    --------
    >>> book = TicketBook()
    >>> book.assign("C1", opened=1000, closed=5000)
    >>> book.covers("C1", 2000), book.covers("C1", 5000 + 2 * 86400), book.covers("C2", 2000)
    (True, False, False)

    """

    def __init__(self, grace: float = DAY, keep: float = 14 * DAY) -> None:
        self.grace = grace
        self.keep = keep
        self.customers: dict[str, list] = {}  # customer -> [opened, closed or None]

    def __len__(self) -> int:
        return len(self.customers)

    def assign(self, customer: str, opened: float, closed: float | None = None) -> None:
        known = self.customers.get(customer)
        if known:  # several tickets for one customer: the widest span covers
            opened = min(opened, known[0])
            closed = None if closed is None or known[1] is None else max(closed, known[1])
        self.customers[customer] = [opened, closed]
        self._forget(before=max(opened, closed or opened) - self.keep)

    def covers(self, customer: str, ts: float) -> bool:
        span = self.customers.get(customer)
        if span is None:
            return False
        opened, closed = span
        return opened - 3600 <= ts and (closed is None or ts <= closed + self.grace)

    def _forget(self, before: float) -> None:
        for customer, (_, closed) in list(self.customers.items()):
            if closed is not None and closed < before:
                del self.customers[customer]

    def state(self) -> dict:
        return self.customers

    @classmethod
    def from_state(cls, state: dict | None) -> TicketBook:
        book = cls()
        book.customers = dict(state or {})
        return book


@dataclass
class Context:
    """Everything about the world the detector may consult for one event."""

    population: Population
    profile: Profile = field(default_factory=Profile)
    tickets: TicketBook | None = None
