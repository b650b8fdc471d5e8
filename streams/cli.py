"""The `vigil` command."""

from __future__ import annotations

import atexit
import csv
import functools
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from streams.settings import Settings

app = typer.Typer(help="Vigil: catch insiders while they act.", no_args_is_help=True, pretty_exceptions_enable=False)
kafka_app = typer.Typer(help="The local Apache Kafka broker (KRaft, one node, 127.0.0.1).", no_args_is_help=True)
app.add_typer(kafka_app, name="kafka")
console = Console()
err = Console(stderr=True)


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


def friendly(fn):
    """Turn the errors a person can fix into one clear message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from kafka.errors import KafkaTimeoutError

        from streams.clickhouse import QueryRejected
        from streams.demo import DemoError
        from streams.local_kafka import KafkaSetupError
        from streams.query import WorkerUnreachable

        try:
            return fn(*args, **kwargs)
        except ValidationError as e:
            lines = [f"  {'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors()]
            fail("invalid settings (VIGIL_* variables or vigil.toml):\n" + "\n".join(lines))
        except KafkaTimeoutError:
            fail("no Kafka broker answers at the bootstrap address; start one with `vigil kafka start` "
                 "or set VIGIL_KAFKA_BOOTSTRAP")
        except (KafkaSetupError, QueryRejected, WorkerUnreachable, DemoError, FileNotFoundError) as e:
            fail(str(e))

    return wrapper


def fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(2)


# -- configuration -------------------------------------------------------------------
@app.command()
@friendly
def config() -> None:
    """Print the effective settings (secrets masked)."""
    table = Table("setting", "value", "environment variable", title="Vigil settings")
    for name, value in Settings().masked().items():
        table.add_row(name, value, f"VIGIL_{name.upper()}")
    console.print(table)


# -- kafka --------------------------------------------------------------------------
@kafka_app.command("fetch")
@friendly
def kafka_fetch() -> None:
    """Fetch the broker's jars from Maven Central (once)."""
    from streams.local_kafka import LocalKafka

    with console.status("fetching Kafka jars with mvn…"):
        libs = LocalKafka(Settings()).fetch()
    console.print(f"Kafka jars in {libs}")


@kafka_app.command("start")
@friendly
def kafka_start() -> None:
    """Start the local broker (fetching jars and formatting storage the first time) and create topics."""
    from streams.local_kafka import LocalKafka
    from streams.topics import create_topics

    settings = Settings()
    broker = LocalKafka(settings)
    with console.status("starting Kafka…"):
        pid = broker.start()
        created = create_topics(settings)
    console.print(f"Kafka is up at {settings.kafka_bootstrap} (pid {pid}); topics created: {', '.join(created) or 'none needed'}")


@kafka_app.command("stop")
@friendly
def kafka_stop() -> None:
    """Stop the local broker."""
    from streams.local_kafka import LocalKafka

    stopped = LocalKafka(Settings()).stop()
    console.print("Kafka stopped" if stopped else "no local broker was running")


@kafka_app.command("status")
@friendly
def kafka_status() -> None:
    """Say whether the local broker runs and answers."""
    from streams.local_kafka import LocalKafka

    broker = LocalKafka(Settings())
    pid = broker.pid()
    if pid is None:
        console.print("not running")
        raise typer.Exit(1)
    console.print(f"running (pid {pid}), {'answering' if broker.ready() else 'NOT answering'} at {broker.settings.kafka_bootstrap}")


@app.command()
@friendly
def topics() -> None:
    """Create Vigil's topics on the configured cluster (those missing)."""
    from streams.topics import create_topics

    created = create_topics(Settings())
    console.print(f"created: {', '.join(created) or 'none needed'}")


# -- worker -------------------------------------------------------------------------
@app.command()
@friendly
def worker(loglevel: str = typer.Option("warning", help="Faust log level.")) -> None:
    """Run a worker: score vigil.events, store to ClickHouse, serve the web API."""
    import faust

    from streams.app import create_app
    from streams.clickhouse import ClickHouseStore
    from streams.query import worker_pid
    from streams.topics import create_topics

    settings = Settings()
    if settings.embedded_clickhouse and (other := worker_pid(settings)):
        fail(f"worker pid {other} already owns {settings.data_dir}; the embedded ClickHouse allows one. "
             "Use another VIGIL_DATA_DIR, or a ClickHouse server for several workers.")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    pid_file = settings.data_dir / "worker.pid"
    pid_file.write_text(str(os.getpid()))
    atexit.register(pid_file.unlink, missing_ok=True)
    store = ClickHouseStore(settings.dsn)
    store.migrate()
    create_topics(settings)
    err.print(f"vigil worker: {settings.kafka_bootstrap} → {settings.topic('events')} → ClickHouse "
              f"({_masked_dsn(settings)}); web API on {settings.web_url}", highlight=False)
    faust.Worker(create_app(settings, store), loglevel=loglevel, quiet=True).execute_from_commandline()


def _masked_dsn(settings: Settings) -> str:
    return settings.masked()["clickhouse_dsn"]


# -- query --------------------------------------------------------------------------
@app.command()
@friendly
def query(
    sql: str = typer.Argument(..., help="One read-only SQL statement."),
    format: Format = typer.Option(Format.table, "--format", "-f"),
) -> None:
    """Run read-only SQL against Vigil's ClickHouse (through the worker while it owns the embedded store)."""
    from streams.query import run_query

    print_result(run_query(Settings(), sql), format)


def print_result(result, format: Format) -> None:
    if format is Format.json:
        sys.stdout.write(orjson.dumps([dict(zip(result.columns, r)) for r in result.rows], default=str).decode() + "\n")
    elif format is Format.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(result.columns)
        writer.writerows(result.rows)
    else:
        table = Table(*result.columns)
        for row in result.rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        console.print(table)
        console.print(f"{len(result.rows)} row(s)", style="dim")


# -- sources ------------------------------------------------------------------------
@app.command()
@friendly
def simulate(
    users: int = typer.Option(200, min=2),
    days: int = typer.Option(14, min=1),
    seed: int = typer.Option(42),
    out: Optional[Path] = typer.Option(None, help="Write NDJSON files to this folder instead of Kafka."),
) -> None:
    """Simulate a support organisation with an insider: to Kafka, or to NDJSON with a ground-truth file."""
    from streams.sources.simulator import SupportOrg

    org = SupportOrg(users=users, days=days, seed=seed)
    with console.status("simulating…"):
        events = list(org.events())
    if out is None:
        from streams.sources import loading

        settings = Settings()
        loading.send_context(settings, org)
        sent = loading.send_events(settings, events, console)
        console.print(f"sent {sent} events for {users} users over {days} days to Kafka")
    else:
        out.mkdir(parents=True, exist_ok=True)
        _write_ndjson(out / "events.ndjson", events)
        _write_ndjson(out / "directory.ndjson", org.directory())
        _write_ndjson(out / "tickets.ndjson", org.ticket_log)
        (out / "truth.json").write_bytes(orjson.dumps(org.truth.to_dict(), option=orjson.OPT_INDENT_2))
        console.print(f"wrote {len(events)} events, {len(org.agents)} directory entries, {len(org.ticket_log)} tickets "
                      f"and truth.json to {out}")


def _write_ndjson(path: Path, records) -> None:
    with open(path, "wb") as f:
        for r in records:
            f.write(orjson.dumps(r) + b"\n")


class Kind(str, Enum):
    events = "events"
    directory = "directory"
    tickets = "tickets"


@app.command()
@friendly
def ingest(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="NDJSON (.ndjson/.jsonl) or CSV (.csv)."),
    kind: Kind = typer.Option(Kind.events, help="What the file holds."),
) -> None:
    """Send a file's records to Kafka. Invalid ones go to the dead-letter topic with the reason; nothing is dropped."""
    from streams.sources import loading

    summary = loading.ingest_file(Settings(), file, kind.value, console)
    table = Table("outcome", "count", title=f"ingest {file.name}")
    table.add_row("sent", str(summary.sent))
    table.add_row("rejected (to dead-letter)", str(summary.rejected))
    for reason, n in summary.reasons.most_common(10):
        table.add_row(f"  {reason}", str(n))
    console.print(table)


@app.command("eval")
@friendly
def evaluate(
    seeds: int = typer.Option(5, min=1, help="Simulated runs (seeds 1..N)."),
    users: int = typer.Option(500, min=20),
    days: int = typer.Option(30, min=2),
    insiders: int = typer.Option(2, min=1, help="Insiders per scenario in each run."),
    events: Optional[Path] = typer.Option(None, exists=True, help="Labelled NDJSON events instead of the simulator."),
    truth: Optional[Path] = typer.Option(None, exists=True, help="With --events: JSON with insiders and malicious_event_ids."),
    directory: Optional[Path] = typer.Option(None, exists=True, help="With --events: directory NDJSON."),
    tickets: Optional[Path] = typer.Option(None, exists=True, help="With --events: ticket assignments NDJSON."),
    budget: int = typer.Option(5, min=1, help="Alerts a SOC can look at per day, for precision at budget."),
    out: Path = typer.Option(Path("eval-results"), help="Folder for report.json and the chart."),
    plot_user: Optional[str] = typer.Option(None, help="User whose risk to chart (default: the first insider)."),
    jobs: int = typer.Option(2, min=1, help="Runs replayed in parallel."),
) -> None:
    """Replay labelled events through the models (no Kafka) and measure detection per scenario."""
    from streams import evaluation

    if events is not None and truth is None:
        fail("--events needs --truth (a JSON file with insiders and malicious_event_ids)")
    evaluation.run_cli(console, Settings().detector, seeds=seeds, users=users, days=days, insiders=insiders,
                       events=events, truth=truth, directory=directory, tickets=tickets, budget=budget, out=out,
                       plot_user=plot_user, jobs=jobs)


@app.command()
@friendly
def demo(
    users: int = typer.Option(200, min=2),
    days: int = typer.Option(14, min=1),
    seed: int = typer.Option(42),
) -> None:
    """The whole stack on this machine: Kafka, a worker, a simulated organisation; then the riskiest users."""
    from streams.demo import run_demo

    run_demo(Settings(), users=users, days=days, seed=seed, console=console)


if __name__ == "__main__":
    app()
