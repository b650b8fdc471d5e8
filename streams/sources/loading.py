"""Loading records into Kafka with progress: files (validated, rejects dead-lettered) and simulations."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

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
    parse_directory_entry,
    parse_event,
    parse_ticket,
)
from streams.settings import Settings
from streams.sources.files import read_records
from streams.sources.producer import EventProducer

# kind -> (validator, key field)
KINDS = {
    "events": (parse_event, "user"),
    "directory": (parse_directory_entry, "user"),
    "tickets": (parse_ticket, "ticket_id"),
}


@dataclass
class IngestSummary:
    sent: int = 0
    rejected: int = 0
    reasons: Counter = field(default_factory=Counter)


def progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, transient=False)


def ingest_file(settings: Settings, path: Path, kind: str, console: Console) -> IngestSummary:
    """Validate each record; send the valid ones keyed, the invalid ones to the dead-letter topic."""
    validate, key_field = KINDS[kind]
    summary = IngestSummary()
    total = sum(1 for _ in read_records(path))
    with EventProducer(settings) as producer, progress(console) as bar:
        task = bar.add_task(f"ingest {path.name}", total=total)
        for line in read_records(path):
            try:
                validate(line.obj if line.obj is not None else line.raw)
            except InvalidRecord as bad:
                producer.send("deadletter", None, line.raw,
                              headers={"vigil.reason": bad.reason.encode(), "vigil.source": line.where.encode()})
                summary.rejected += 1
                summary.reasons[bad.reason.split(":")[0]] += 1
            else:
                producer.send(kind, line.obj[key_field], line.raw)
                summary.sent += 1
            bar.advance(task)
    return summary


def send_context(settings: Settings, org) -> int:
    """Send a simulation's directory and ticket assignments; return the number of tickets."""
    with EventProducer(settings) as producer:
        producer.send_all("directory", org.directory(), "user")
        return producer.send_all("tickets", org.ticket_log, "ticket_id")


def send_events(settings: Settings, events: list[dict], console: Console, chunk: int = 5000) -> int:
    """Send events in batch envelopes (in the order given: event time), with a progress bar."""
    with EventProducer(settings) as producer, progress(console) as bar:
        task = bar.add_task("send events", total=len(events))
        for start in range(0, len(events), chunk):
            producer.send_events(events[start:start + chunk])
            bar.update(task, completed=min(start + chunk, len(events)))
    return len(events)
