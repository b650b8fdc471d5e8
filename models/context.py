"""What the organisation knows about a user beyond their events: directory entry and ticket assignments."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from models.distinct import LinearCounter

if TYPE_CHECKING:  # population imports the multivariate model; context stays import-light
    from models.population import Population

DAY = 86400
_CUSTOMERS = LinearCounter()  # the size every customer counter has
FORGET_EVERY = 7  # days of event time between sweeps of a ticket book


@dataclass(frozen=True)
class Profile:
    """A user's directory entry, as the models use it (times in epoch seconds)."""

    role: str = ""
    team: str = ""
    privileged: bool = False
    leaving: float | None = None
    tags: tuple[str, ...] = ()

    @cached_property  # read for every event
    def peer_group(self) -> str:
        """Whom the user is compared with: their role, else their team, else everyone."""
        return self.role or self.team or "everyone"

    @cached_property
    def groups(self) -> tuple[str, ...]:
        """The groups whose day is the user's day too: their peer group and their team."""
        return (self.peer_group, f"team:{self.team}") if self.team and self.team != self.peer_group else (self.peer_group,)

    @classmethod
    def from_entry(cls, entry: dict | None) -> Profile:
        if not entry:
            return cls()
        return cls(
            role=entry.get("role") or "",
            team=entry.get("team") or "",
            privileged=bool(entry.get("privileged")),
            leaving=entry.get("leaving"),
            tags=tuple(entry.get("tags") or ()),
        )


class TicketBook:
    """The customers a user has a ticket for, and when.

    An access is justified by a ticket of that customer assigned to the user,
    opened no later than an hour after the access and closed no more than
    `grace` seconds before it. Each customer keeps its tickets' spans apart
    (a ticket in week 1 and another in week 4 justify neither week 2 nor 3),
    overlapping spans merged. Once a week of event time, spans that closed
    more than `keep` seconds before the latest access checked are forgotten:
    by event time, so a backfill that books weeks of tickets ahead of their
    events keeps them (and weekly, as a sweep costs as much as a day's checks).

    Examples
    --------
    >>> book = TicketBook()
    >>> book.assign("C1", opened=1000, closed=5000)
    >>> book.assign("C1", opened=30 * 86400, closed=30 * 86400 + 3600)
    >>> book.covers("C1", 2000), book.covers("C1", 10 * 86400), book.covers("C1", 30 * 86400), book.covers("C2", 2000)
    (True, False, True, False)

    """

    def __init__(self, grace: float = DAY, keep: float = 14 * DAY) -> None:
        self.grace = grace
        self.keep = keep
        self.customers: dict[str, list[list]] = {}  # customer -> [[opened, closed or None], ...] by opening
        self._forgot_day = -FORGET_EVERY  # event-time day of the last forgetting

    def __len__(self) -> int:
        return len(self.customers)

    def assign(self, customer: str, opened: float, closed: float | None = None) -> None:
        spans = self.customers.setdefault(customer, [])
        for span in spans:
            if _overlaps(span, opened, closed):  # the same work, booked twice or extended: widen it
                span[0] = min(span[0], opened)
                span[1] = None if closed is None or span[1] is None else max(span[1], closed)
                return
        spans.append([opened, closed])
        spans.sort(key=lambda span: span[0])

    def covers(self, customer: str, ts: float) -> bool:
        day = int(ts // DAY)
        if day >= self._forgot_day + FORGET_EVERY:
            self._forgot_day = day
            self._forget(before=ts - self.keep)
        for opened, closed in self.customers.get(customer, ()):
            if opened - 3600 <= ts and (closed is None or ts <= closed + self.grace):
                return True
        return False

    def _forget(self, before: float) -> None:
        for customer, spans in list(self.customers.items()):
            kept = [span for span in spans if span[1] is None or span[1] >= before]
            if not kept:
                del self.customers[customer]
            elif len(kept) < len(spans):
                self.customers[customer] = kept

    def state(self) -> dict:
        return self.customers

    @classmethod
    def from_state(cls, state: dict | None) -> TicketBook:
        book = cls()
        for customer, spans in (state or {}).items():
            # A state saved before spans were kept apart holds one [opened, closed] per customer.
            book.customers[customer] = [list(span) for span in spans] if spans and isinstance(spans[0], list) else [list(spans)]
        return book


def _overlaps(span: list, opened: float, closed: float | None) -> bool:
    return (span[1] is None or opened <= span[1]) and (closed is None or closed >= span[0])


@dataclass
class Context:
    """Everything about the world the detector may consult for one event."""

    population: Population
    profile: Profile = field(default_factory=Profile)
    tickets: TicketBook | None = None
    #: Set by the detector for each event: whether a ticket of the user's covers the customer it touches
    #: (None: not a customer touch, or no ticket feed). Judged once, read by every signal.
    justified: bool | None = None
    #: Set by the detector for each event: the latest event-time day on which the user was at *high* or above.
    high_day: int | None = None
    #: The group deeds (`GROUP_DEEDS`) the user was counted in through `did` while this context was in use.
    deeds: list[tuple[str, int]] = field(default_factory=list, repr=False, compare=False)
    _bit_of: str | None = field(default=None, repr=False, compare=False)
    _bit: int = field(default=0, repr=False, compare=False)

    def did(self, what: str, day: int) -> None:
        """Count the user in their groups' share of `what` on `day` (their first such deed that day)."""
        self.population.did(what, day, *self.profile.groups)
        self.deeds.append((what, day))

    def customer_bit(self, record_id: str) -> int:
        """The bit `record_id` sets in a `LinearCounter` of the default size: three signals count the event's
        customer, and it is hashed once."""
        if record_id is not self._bit_of:
            self._bit_of, self._bit = record_id, _CUSTOMERS.bit(record_id)
        return self._bit
