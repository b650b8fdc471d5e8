"""Adapters: one record of a format a SOC already ships, mapped to Vigil's access events.

Each format's module holds one pure function, ``to_events(record: dict) ->
list[dict]``, that returns contract events (`docs/events.md`) or raises
`InvalidRecord` whose reason names the source field. `adapt` runs it and then
holds the result to the contract, so an adapter can never let through what the
contract refuses. The intake agent (`streams/worker/intake.py`) and `vigil
ingest --format NAME` both go through `records_of` and `adapt`;
`docs/sources.md` has a field-mapping table and a sample record for each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from streams.contract import InvalidRecord, json_object, parse_event
from streams.sources.adapters import (
    cloudtrail,
    ecs,
    ocsf,
    okta,
    pgaudit,
    salesforce,
    zendesk,
)

Adapter = Callable[[dict], list[dict]]

ADAPTERS: dict[str, Adapter] = {
    "ecs": ecs.to_events,
    "ocsf": ocsf.to_events,
    "okta": okta.to_events,
    "cloudtrail": cloudtrail.to_events,
    "salesforce": salesforce.to_events,
    "pgaudit": pgaudit.to_events,
    "zendesk": zendesk.to_events,
}
#: Formats whose records are lines of text (a CSV log), not JSON documents.
LINE_FORMATS = frozenset({"pgaudit"})
#: Formats whose events may name a ticket and not its customer: `with_customer` fills it in from the ticket feed.
TICKET_FORMATS = frozenset({"zendesk"})


def records_of(fmt: str, raw: bytes) -> list[dict]:
    """The source records in one message or line: a JSON object, a CloudTrail log file's ``Records``, a Zendesk page
    or webhook of ``access_logs``, or a CSV log line's named columns (`LINE_FORMATS`).

    >>> records_of("cloudtrail", b'{"Records": [{"eventID": "a"}, {"eventID": "b"}]}')
    [{'eventID': 'a'}, {'eventID': 'b'}]
    >>> records_of("ecs", b"[1, 2]")
    Traceback (most recent call last):
    ...
    streams.contract.InvalidRecord: expected a JSON object, got list
    """
    if fmt == "pgaudit":
        return [pgaudit.record_of_line(raw)]
    record = json_object(raw)
    if fmt == "cloudtrail" and isinstance(record.get("Records"), list):
        return [r for r in record["Records"] if isinstance(r, dict)]
    if fmt == "zendesk":
        return zendesk.records(record)
    return [record]


def adapt(fmt: str, record: dict) -> list[dict]:
    """The contract events of one source record; `InvalidRecord` naming the source field or the contract's rule."""
    events = ADAPTERS[fmt](record)
    for event in events:
        try:
            parse_event(event)
        except InvalidRecord as bad:
            raise InvalidRecord(f"the {fmt} record maps to an event the contract refuses: {bad.reason}") from None
    return events


def with_customer(event: dict, customers: Mapping[str, str]) -> dict:
    """`event` with the customer of its ticket as ``record_id``, when it names a ticket and no record.

    >>> with_customer({"user": "ann", "ticket_id": "35436"}, {"35436": "C0042"})
    {'user': 'ann', 'ticket_id': '35436', 'record_id': 'C0042'}
    """
    if "record_id" not in event and (customer := customers.get(event.get("ticket_id", ""))):
        event["record_id"] = customer
    return event
