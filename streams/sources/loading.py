"""Loading records into Kafka with progress: files (validated, rejects dead-lettered) and simulations."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from streams.contract import (
    InvalidRecord,
    dead_letter_headers,
    parse_directory_entry,
    parse_event,
    parse_ticket,
)
from streams.envelopes import envelopes
from streams.settings import Settings
from streams.sources.adapters import (
    LINE_FORMATS,
    TICKET_FORMATS,
    adapt,
    records_of,
    with_customer,
)
from streams.sources.compacted import latest_values
from streams.sources.files import Line, read_csv_lines, read_records
from streams.sources.producer import EventProducer

# kind -> (validator, key field)
KINDS = {
    "events": (lambda raw, zone: parse_event(raw), "user"),
    "directory": (parse_directory_entry, "user"),
    "tickets": (parse_ticket, "ticket_id"),
}


@dataclass
class IngestSummary:
    sent: int = 0
    rejected: int = 0
    reasons: Counter = field(default_factory=Counter)
    examples: list[tuple[str, str]] = field(default_factory=list)  # (file:line, reason) of the first rejects

    def reject(self, where: str, reason: str) -> None:
        self.rejected += 1
        self.reasons[reason.split(":")[0]] += 1
        if len(self.examples) < 20:
            self.examples.append((where, reason))


def progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, transient=False)


def ingest_file(settings: Settings, path: Path, kind: str, console: Console, fmt: str | None = None) -> IngestSummary:
    """Validate each record (mapped from `fmt` first, if given); send the valid ones keyed, the invalid ones to the
    dead-letter topic with the reason and where they came from (``file:line``, and the record within a line)."""
    summary = IngestSummary()
    customers = ticket_customers(settings) if fmt in TICKET_FORMATS else {}
    read = read_csv_lines if fmt in LINE_FORMATS else read_records
    total = sum(1 for _ in read(path))
    with EventProducer(settings) as producer, progress(console) as bar:
        task = bar.add_task(f"ingest {path.name}", total=total)
        for line in read(path):
            for where, raw, outcome in _checked(line, kind, fmt, settings.date_tz, customers):
                if isinstance(outcome, InvalidRecord):
                    producer.send("deadletter", None, raw, headers=dead_letter_headers(outcome.reason, where))
                    summary.reject(where, outcome.reason)
                else:
                    topic, messages = outcome
                    for key, value in messages:
                        producer.send(topic, key, value)
                    summary.sent += len(messages)
            bar.advance(task)
    return summary


def ticket_customers(settings: Settings) -> dict[str, str]:
    """Ticket id → customer id, from the ticket feed (for sources that name a ticket, not its customer)."""
    customers = {}
    for value in latest_values(settings, "tickets").values():
        try:
            ticket = parse_ticket(value, settings.date_tz)
        except InvalidRecord:
            continue
        customers[ticket["ticket_id"]] = ticket["customer_id"]
    return customers


def _checked(line: Line, kind: str, fmt: str | None, zone: tzinfo, customers: dict[str, str]):
    """(where, raw bytes, (topic, [(key, value)]) to send or the InvalidRecord) for each record of a line."""
    if fmt is None:
        validate, key_field = KINDS[kind]
        try:
            validate(line.obj if line.obj is not None else line.raw, zone)
        except InvalidRecord as bad:
            return [(line.where, line.raw, bad)]
        return [(line.where, line.raw, (kind, [(line.obj[key_field], line.raw)]))]
    try:
        records = records_of(fmt, line.raw)
    except InvalidRecord as bad:
        return [(line.where, line.raw, bad)]
    checked = []
    for n, record in enumerate(records):
        where, raw = (line.where, line.raw) if len(records) == 1 else (f"{line.where} record {n + 1}", orjson.dumps(record))
        try:
            events = [with_customer(e, customers) for e in adapt(fmt, record)]
            checked.append((where, raw, ("events", [(e["user"], e) for e in events])))
        except InvalidRecord as bad:
            checked.append((where, raw, bad))
    return checked


def send_context(settings: Settings, org) -> int:
    """Send a simulation's directory and ticket assignments; return the number of tickets."""
    with EventProducer(settings) as producer:
        producer.send_all("directory", org.directory(), "user")
        return producer.send_all("tickets", org.ticket_log, "ticket_id")


def send_events(settings: Settings, events: list[dict], console: Console) -> int:
    """Send events in batch envelopes (in the order given: event time), with a progress bar."""
    with EventProducer(settings) as producer, progress(console) as bar:
        task = bar.add_task("send events", total=len(events))
        for one in envelopes(events, producer.event_partitions()):
            bar.advance(task, producer.send_envelopes([one]))
    return len(events)
