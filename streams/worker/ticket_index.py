"""Which customer each ticket is about, for sources that name a ticket and not its customer (Zendesk's access log).

Every worker reads the whole compacted vigil.tickets topic (as it does the
directory), so the index does not depend on the partition count. Kept only
when such a source is configured: one entry per ticket.
"""

from __future__ import annotations

from streams.contract import InvalidRecord, parse_ticket
from streams.worker.follower import Follower


class TicketIndex:
    def __init__(self, bootstrap: str, topic: str) -> None:
        self.customers: dict[str, str] = {}  # ticket id -> customer id
        self.follower = Follower(bootstrap, topic, self.apply)
        self.loaded = self.follower.loaded
        self.follow = self.follower.follow

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        if value is None:
            if key is not None:
                self.customers.pop(key.decode(errors="replace"), None)
            return
        try:
            ticket = parse_ticket(value)
        except InvalidRecord:
            return  # the ticket agents dead-letter it
        self.customers[ticket["ticket_id"]] = ticket["customer_id"]
