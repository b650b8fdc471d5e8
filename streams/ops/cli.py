"""The `vigil` command."""

from __future__ import annotations

import atexit
import csv
import gc
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import orjson
import typer
from rich.console import Console
from rich.table import Table

from streams.ops.access import access_app, audit
from streams.ops.terminal import console, err, fail, friendly
from streams.settings import Settings

app = typer.Typer(help="Vigil: catch insiders while they act.", no_args_is_help=True, pretty_exceptions_enable=False)
kafka_app = typer.Typer(help="The local Apache Kafka broker (KRaft, one node, 127.0.0.1).", no_args_is_help=True)
app.add_typer(kafka_app, name="kafka")
db_app = typer.Typer(help="Vigil's ClickHouse schema: versioned migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
report_app = typer.Typer(help="Reports for investigations.", no_args_is_help=True)
app.add_typer(report_app, name="report")
directory_app = typer.Typer(help="Who each user is: the directory the models read roles, teams and dates from.",
                            no_args_is_help=True)
app.add_typer(directory_app, name="directory")
app.add_typer(access_app, name="access")
app.command()(audit)
GC_THRESHOLDS = (50_000, 20, 100)  # the worker's: allocations before a young collection, young before middle, middle before full


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


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
    from streams.ops.local_kafka import LocalKafka

    with console.status("fetching Kafka jars with mvn…"):
        libs = LocalKafka(Settings()).fetch()
    console.print(f"Kafka jars in {libs}")


@kafka_app.command("start")
@friendly
def kafka_start() -> None:
    """Start the local broker (fetching jars and formatting storage the first time) and create topics."""
    from streams.ops.local_kafka import LocalKafka
    from streams.worker.topics import create_topics

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
    from streams.ops.local_kafka import LocalKafka

    stopped = LocalKafka(Settings()).stop()
    console.print("Kafka stopped" if stopped else "no local broker was running")


@kafka_app.command("status")
@friendly
def kafka_status() -> None:
    """Say whether the local broker runs and answers."""
    from streams.ops.local_kafka import LocalKafka

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
    from streams.worker.topics import create_topics

    created = create_topics(Settings())
    console.print(f"created: {', '.join(created) or 'none needed'}")


# -- worker -------------------------------------------------------------------------
@app.command()
@friendly
def worker(loglevel: str = typer.Option("warning", help="Faust log level.")) -> None:
    """Run a worker: score vigil.events, store to ClickHouse, serve the web API."""
    import faust
    from clickhouse_connect.driver.exceptions import OperationalError

    from streams.ops.query import worker_pid
    from streams.store.clickhouse import ClickHouseStore
    from streams.worker.app import create_app
    from streams.worker.topics import create_topics

    settings = Settings()
    if settings.embedded_clickhouse and (other := worker_pid(settings)):
        fail(f"worker pid {other} already owns {settings.data_dir}; the embedded ClickHouse allows one. "
             "Use another VIGIL_DATA_DIR, or a ClickHouse server for several workers.")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    pid_file = settings.data_dir / "worker.pid"
    pid_file.write_text(str(os.getpid()))
    atexit.register(pid_file.unlink, missing_ok=True)
    store = ClickHouseStore.of(settings)
    try:
        store.migrate(settings.clickhouse_cluster, settings.retention_days)
    except OperationalError as e:  # unreachable, not refusing: detection must not wait for the analytics store
        err.print(f"[yellow]warning:[/] ClickHouse is unreachable ({str(e).splitlines()[0][:300]}); scoring starts "
                  "now and the sink stores everything once ClickHouse answers", highlight=False)
    create_topics(settings)
    err.print(f"vigil worker: {settings.kafka_bootstrap} → {settings.topic('events')} → ClickHouse "
              f"({_masked_dsn(settings)}); web API on {settings.web_url}", highlight=False)
    # The heap is mostly long-lived detectors: with Python's default thresholds the collector walked all of
    # them every couple of seconds (180–320 ms each with 1,100 users, 5 % of the CPU and the latency tail).
    gc.set_threshold(*GC_THRESHOLDS)
    faust_worker = faust.Worker(create_app(settings, store), loglevel=loglevel, quiet=True)
    # Faust's start-up spinner logs through a handler that sets the root logger to DEBUG, so every debug line of
    # Faust and aiokafka (several per message) was built and then dropped: 2 % of the worker's CPU.
    faust_worker.spinner = None
    faust_worker.execute_from_commandline()


def _masked_dsn(settings: Settings) -> str:
    return settings.masked()["clickhouse_dsn"]


# -- query --------------------------------------------------------------------------
@app.command()
@friendly
def query(
    sql: Optional[str] = typer.Argument(None, help="One read-only SQL statement."),
    saved: Optional[str] = typer.Option(None, "--saved", "-s", help="Run a saved hunting query by name."),
    param: list[str] = typer.Option([], "--param", "-p", help="name=value for a saved query (repeatable)."),
    list_saved: bool = typer.Option(False, "--list", help="List the saved hunting queries and their parameters."),
    format: Format = typer.Option(Format.table, "--format", "-f"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write here instead of the terminal."),
) -> None:
    """Read-only SQL or a saved hunting query on Vigil's ClickHouse (through the worker while it owns the embedded store)."""
    from streams.store import hunting

    if list_saved:
        table = Table("name", "answers", "parameters", title="Saved hunting queries", show_lines=True)
        for q in hunting.library().values():
            table.add_row(q.name, q.description, "\n".join(f"{p.name} {p.type}" + (f" = {p.default}" if p.default else "")
                                                            for p in q.parameters))
        console.print(table)
        return
    if (sql is None) == (saved is None):
        fail("give either SQL or --saved NAME (see `vigil query --list`)")
    parameters = None
    if saved is not None:
        query = hunting.saved(saved)
        sql, parameters = query.sql, query.bind(hunting.parse_params(param))
    elif param:
        fail("--param goes with --saved; in your own SQL write the values, or use {name:Type} with a saved query")
    emit(Settings(), sql, parameters, format, output)


def emit(settings: Settings, sql: str, parameters: dict | None, format: Format, output: Path | None):
    """Run the query and write it in `format` to `output` or the terminal; return the result (None for parquet)."""
    from streams.ops.query import run_query, run_query_raw

    if format is Format.parquet:
        if output is None:
            fail("--format parquet writes a file: add --output FILE.parquet")
        output.write_bytes(run_query_raw(settings, sql, parameters, "Parquet"))
        err.print(f"wrote {output}")
        return None
    result = run_query(settings, sql, parameters)
    if output is None:
        print_result(result, format)
    else:
        with open(output, "w", newline="") as f:
            print_result(result, format, f)
        err.print(f"wrote {len(result.rows)} row(s) to {output}")
    return result


def print_result(result, format: Format, out=None) -> None:
    out = out or sys.stdout
    if format is Format.json:
        out.write(orjson.dumps([dict(zip(result.columns, r)) for r in result.rows], default=str).decode() + "\n")
    elif format is Format.csv:
        writer = csv.writer(out)
        writer.writerow(result.columns)
        writer.writerows(result.rows)
    else:
        table = Table(*result.columns)
        for row in result.rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        Console(file=out).print(table) if out is not sys.stdout else console.print(table)
        err.print(f"{len(result.rows)} row(s)", style="dim")


@report_app.command("breach")
@friendly
def report_breach(
    user: str = typer.Argument(..., help="The user whose access to report."),
    since: str = typer.Option("2000-01-01", help="From (date or ISO-8601 time, UTC when no zone)."),
    until: str = typer.Option("2100-01-01", help="Until (exclusive)."),
    format: Format = typer.Option(Format.csv, "--format", "-f"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="The notification list goes here."),
) -> None:
    """Which customers must we warn? Every customer whose records USER touched: how, when, how often."""
    from streams.ops.access import record
    from streams.ops.query import run_query
    from streams.store import hunting

    settings = Settings()
    record(settings, "report", user, detail=f"breach report {since} to {until}")
    window = {"user": user, "since": since, "until": until}
    touched = hunting.saved("customers-touched-by")
    bulk = hunting.saved("unattributed-bulk")
    result = emit(settings, touched.sql, touched.bind(window), format, output)
    unattributed = run_query(settings, bulk.sql, bulk.bind(window))
    if result is None:  # parquet: count for the summary
        result = run_query(settings, touched.sql, touched.bind(window))
    rows = [dict(zip(result.columns, r)) for r in result.rows]
    summary = Table("", "", title=f"Breach report: {user}", show_header=False)
    summary.add_row("customers touched", f"{len(rows):,}")
    summary.add_row("  viewed / updated", f"{sum(r['views'] > 0 for r in rows):,} / {sum(r['updates'] > 0 for r in rows):,}")
    summary.add_row("  exported by name", f"{sum(r['exports'] > 0 for r in rows):,}")
    summary.add_row("  touched without a ticket", f"{sum(r['without_ticket'] > 0 for r in rows):,}")
    if rows:
        summary.add_row("first / last access", f"{min(r['first'] for r in rows)} / {max(r['last'] for r in rows)}")
    for action, resource, times, records, *_ in unattributed.rows:
        summary.add_row(f"[yellow]not itemised[/]: {action} on {resource}",
                        f"{times:,} time(s), {records:,} records — the source names no customers; ask its owner")
    err.print(summary)


@report_app.command("subject")
@friendly
def report_subject(
    user: str = typer.Argument(..., help="The person who asked what Vigil holds about them."),
    output: Path = typer.Option(..., "--output", "-o", file_okay=False, help="A folder for the files."),
) -> None:
    """A subject access request: everything Vigil holds about USER (events, alerts, actions, verdicts, directory)."""
    from streams.ops.access import record
    from streams.ops.subject import export_subject

    settings = Settings()
    record(settings, "report", user, detail=f"subject access export to {output}")
    counts = export_subject(settings, user, output)
    summary = Table("what", "records", title=f"Subject access: {user} → {output}")
    for kind, n in counts.items():
        summary.add_row(kind, f"{n:,}")
    console.print(summary)


# -- live ---------------------------------------------------------------------------
@app.command()
@friendly
def watch(
    interval: float = typer.Option(2.0, min=0.2, help="Seconds between refreshes."),
    band: str = typer.Option("high", help="Show alerts at this band and above."),
    once: bool = typer.Option(False, "--once", help="Print one frame and exit (for scripts)."),
) -> None:
    """The live leaderboard and alert feed, in the terminal."""
    import time as clock

    from rich.columns import Columns
    from rich.live import Live

    from streams.ops.query import get_worker

    settings = Settings()
    styles = {"low": "green", "medium": "yellow", "high": "dark_orange", "critical": "bold red"}

    def frame():
        board = Table("user", "risk", "band", title="Leaderboard")
        for row in get_worker(settings, "/api/leaderboard?limit=15"):
            board.add_row(row["user"], f"{row['risk']:.1f}", f"[{styles[row['band']]}]{row['band']}[/]")
        alerts = Table("time (UTC)", "user", "band", "why", title=f"Alerts ({band}+)", expand=True)
        for a in get_worker(settings, f"/api/alerts?band={band}&limit=12"):
            alerts.add_row(str(a["ts"])[:16], a["user"], f"[{styles[a['band']]}]{a['band']}[/]",
                           "\n".join(a["reasons"][:2]))
        return Columns([board, alerts])

    if once:
        console.print(frame())
        return
    with Live(frame(), console=console, refresh_per_second=4, screen=False) as live:
        while True:
            clock.sleep(interval)
            live.update(frame())


# -- response -----------------------------------------------------------------------
class Verdict(str, Enum):
    benign = "benign"
    malicious = "malicious"
    clear = "clear"


@app.command()
@friendly
def feedback(
    alert_id: str = typer.Argument(..., help="The alert (its alert_id)."),
    verdict: Verdict = typer.Option(..., "--verdict", help="benign: silence this evidence for the user; "
                                    "malicious: pin the user at critical; clear: unpin."),
    note: str = typer.Option("", "--note"),
    analyst: str = typer.Option(os.environ.get("USER", "analyst"), "--analyst"),
) -> None:
    """Tell Vigil what an alert was. The worker applies it; ClickHouse keeps it."""
    from streams.ops.access import record as audit
    from streams.ops.query import run_query
    from streams.sources.producer import EventProducer
    from streams.worker.feedback import FIND_ALERT, verdict_record

    settings = Settings()
    rows = run_query(settings, FIND_ALERT, {"alert_id": alert_id}).rows
    record = verdict_record(alert_id, rows, verdict.value, analyst, note)
    with EventProducer(settings) as producer:
        producer.send("feedback", record["user"], record)
    audit(settings, "verdict", alert_id, note, detail=verdict.value)
    console.print(f"{verdict.value} verdict on {alert_id} ({record['user']}) sent")


@app.command()
@friendly
def reinstate(user: str = typer.Argument(..., help="The user to reactivate at the identity provider.")) -> None:
    """Reactivate a user that automation suspended (SCIM active=true), and record it."""
    import asyncio

    import aiohttp

    from streams.ops.access import operator, record
    from streams.sources.producer import EventProducer
    from streams.worker.response import reinstate as reactivate

    settings = Settings()
    if not settings.scim_url:
        fail("no SCIM endpoint configured: set VIGIL_SCIM_URL (and VIGIL_SCIM_TOKEN)")
    try:
        action = asyncio.run(reactivate(settings, user, operator()))
    except (aiohttp.ClientError, LookupError, OSError) as e:
        fail(f"could not reinstate {user}: {e}")
    with EventProducer(settings) as producer:
        producer.send("actions", user, action.to_dict())
    record(settings, "reinstate", user, detail=action.detail)
    console.print(f"{user} reinstated ({action.detail})")


# -- schema -------------------------------------------------------------------------
@db_app.command("migrate")
@friendly
def db_migrate() -> None:
    """Apply pending ClickHouse migrations (safe to repeat)."""
    settings = Settings()
    applied = _store(settings).migrate(settings.clickhouse_cluster, settings.retention_days)
    console.print(f"applied: {', '.join(applied)}" if applied else "schema up to date")


@db_app.command("status")
@friendly
def db_status() -> None:
    """List migrations: applied (when) or pending."""
    settings = Settings()
    store = _store(settings)
    table = Table("version", "migration", "state", "applied at", title=f"schema of {settings.masked()['clickhouse_dsn']}")
    for s in store.schema(settings.clickhouse_cluster, settings.retention_days).status():
        table.add_row(str(s.migration.version), s.migration.name, s.state, str(s.applied_at or ""))
    console.print(table)


def _store(settings: Settings):
    from streams.ops.query import worker_pid
    from streams.store.clickhouse import ClickHouseStore

    if settings.embedded_clickhouse and (pid := worker_pid(settings)):
        fail(f"worker pid {pid} owns the embedded store (it migrates when it starts); stop it to run db commands")
    return ClickHouseStore.of(settings)


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


SourceFormat = Enum("SourceFormat", {name: name for name in ("ecs", "ocsf", "okta", "cloudtrail", "salesforce", "pgaudit",
                                                             "zendesk")}, type=str)


class DataFormat(str, Enum):
    cert = "cert"


class Kind(str, Enum):
    events = "events"
    directory = "directory"
    tickets = "tickets"


@app.command()
@friendly
def ingest(
    file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                help="NDJSON (.ndjson/.jsonl/.json), CSV (.csv), or one JSON document (.json, .json.gz)."),
    kind: Kind = typer.Option(Kind.events, help="What the file holds."),
    source_format: Optional[SourceFormat] = typer.Option(None, "--format", help="Map each record from this source "
                                                         "format into events first (docs/sources.md)."),
) -> None:
    """Send a file's records to Kafka. Invalid ones go to the dead-letter topic with the reason; nothing is dropped."""
    from streams.sources import loading

    fmt = source_format.value if source_format else None
    summary = loading.ingest_file(Settings(), file, kind.value, console, fmt=fmt)
    table = Table("outcome", "count", title=f"ingest {file.name}" + (f" ({fmt})" if fmt else ""))
    table.add_row("sent", str(summary.sent))
    table.add_row("rejected (to dead-letter)", str(summary.rejected))
    for reason, n in summary.reasons.most_common(10):
        table.add_row(f"  {reason}", str(n))
    console.print(table)
    for where, reason in summary.examples:
        err.print(f"[yellow]{where}[/]: {reason}", highlight=False, soft_wrap=True)
    if summary.rejected > len(summary.examples):
        err.print(f"… and {summary.rejected - len(summary.examples)} more, each in the dead-letter topic with its reason")


@directory_app.command("pull")
@friendly
def directory_pull() -> None:
    """Read every user from the identity provider over SCIM 2.0 (VIGIL_SCIM_URL) into vigil.directory."""
    import urllib.error

    from streams.contract import InvalidRecord
    from streams.sources.producer import EventProducer
    from streams.sources.scim import directory_entry, scim_users

    settings = Settings()
    if not settings.scim_url:
        fail("no SCIM endpoint configured: set VIGIL_SCIM_URL (and VIGIL_SCIM_TOKEN)")
    token = settings.scim_token.get_secret_value() if settings.scim_token else None
    sent, refused = 0, []
    try:
        with EventProducer(settings) as producer:
            for user in scim_users(settings.scim_url, token):
                try:
                    entry = directory_entry(user)
                except InvalidRecord as bad:
                    refused.append(bad.reason)
                    continue
                producer.send("directory", entry["user"], entry)
                sent += 1
    except (urllib.error.URLError, OSError) as e:
        fail(f"the SCIM endpoint {settings.scim_url} did not answer: {e}")
    console.print(f"{sent} users from {settings.scim_url} sent to {settings.topic('directory')}")
    for reason in refused:
        err.print(f"[yellow]left out[/]: {reason}", highlight=False, soft_wrap=True)


@directory_app.command("resignations")
@friendly
def directory_resignations(
    file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                help="CSV with EmailAddress, ResignationDate, LastWorkingDate (Purview's HR connector)."),
) -> None:
    """Set each leaver's leaving date in vigil.directory, from HR's resignations file."""
    from streams.contract import InvalidRecord, parse_ts
    from streams.sources.files import read_records
    from streams.sources.hr import read_directory, resign
    from streams.sources.producer import EventProducer

    settings = Settings()
    rows = []
    for line in read_records(file):
        try:
            for column in ("ResignationDate", "LastWorkingDate"):
                parse_ts((line.obj or {}).get(column), column, zone=settings.date_tz)
            rows.append(line.obj)
        except InvalidRecord as bad:
            err.print(f"[yellow]left out[/] {line.where}: {bad.reason}", highlight=False, soft_wrap=True)
    leavers, unknown = resign(read_directory(settings), rows)
    with EventProducer(settings) as producer:
        for entry in leavers:
            producer.send("directory", entry["user"], entry)
    console.print(f"{len(leavers)} leavers' entries updated in {settings.topic('directory')}")
    for address in unknown:
        err.print(f"[yellow]not in the directory[/]: {address} (pull the directory first: vigil directory pull)",
                  highlight=False)


@app.command("eval")
@friendly
def evaluate(
    seeds: int = typer.Option(5, min=1, help="Simulated runs (seeds 1..N)."),
    users: int = typer.Option(500, min=20),
    days: int = typer.Option(30, min=2),
    insiders: int = typer.Option(2, min=1, help="Insiders per scenario in each run."),
    events: Optional[Path] = typer.Option(None, exists=True, help="Labelled NDJSON events instead of the simulator; "
                                          "with --format cert, a CERT release's folder."),
    truth: Optional[Path] = typer.Option(None, exists=True, help="With --events: JSON with insiders and malicious_event_ids; "
                                         "with --format cert, the answers folder (optional)."),
    data_format: Optional[DataFormat] = typer.Option(None, "--format", help="cert: --events is a CERT Insider Threat "
                                                     "release (logon, device, file, email, http CSVs and LDAP/)."),
    cert_files: str = typer.Option("logon,device,file,email,http", help="With --format cert: which CSVs to replay."),
    directory: Optional[Path] = typer.Option(None, exists=True, help="With --events: directory NDJSON."),
    tickets: Optional[Path] = typer.Option(None, exists=True, help="With --events: ticket assignments NDJSON."),
    budget: int = typer.Option(5, min=1, help="Alerts a SOC can look at per day, for precision at budget."),
    out: Path = typer.Option(Path("eval-results"), help="Folder for report.json and the chart."),
    plot_user: Optional[str] = typer.Option(None, help="User whose risk to chart (default: the first insider)."),
    jobs: int = typer.Option(2, min=1, help="Runs replayed in parallel."),
    partitions: int = typer.Option(0, min=0, help="Partitions of vigil.events to replay as (default: VIGIL_PARTITIONS)."),
    alerts: Optional[Path] = typer.Option(None, help="Write every alert to this NDJSON file."),
    matrix: bool = typer.Option(False, help="The scenario matrix: tuned and report-only sets, detection against "
                                            "intensity (table and chart), false alerts per confounder."),
    matrix_set: list[str] = typer.Option([], "--set", help="With --matrix: only these sets (tuned, tuned-large, tuned-wide, held-out, sealed, fresh, many-short, many-more, kept-back, held-back, set-aside, reserve, spare; standby only when named)."),
) -> None:
    """Replay labelled events through the worker's scorer (no Kafka) and measure detection per scenario."""
    from streams.ops import evaluation

    if events is not None and truth is None and data_format is None:
        fail("--events needs --truth (a JSON file with insiders and malicious_event_ids)")
    if data_format is not None and (events is None or not events.is_dir()):
        fail("--format cert needs --events DIR, the folder of a CERT release (logon.csv, device.csv, …, LDAP/)")
    settings = Settings()
    if matrix:
        from streams.ops import matrix as scenario_matrix

        try:
            chosen = scenario_matrix.chosen(matrix_set)
        except ValueError as unknown:
            fail(str(unknown))
        scenario_matrix.run_cli(console, settings.detector, partitions=partitions or settings.partitions, jobs=jobs,
                                out=out, sets=chosen)
        return
    evaluation.run_cli(console, settings.detector, seeds=seeds, users=users, days=days, insiders=insiders,
                       events=events, truth=truth, directory=directory, tickets=tickets, budget=budget, out=out,
                       plot_user=plot_user, jobs=jobs, partitions=partitions or settings.partitions, alerts_file=alerts,
                       zone=settings.date_tz,
                       data_format=data_format.value if data_format else None, cert_files=tuple(cert_files.split(",")))


@app.command()
def bench(
    users: int = typer.Option(200, min=2, help="Simulated users."),
    days: int = typer.Option(7, min=1, help="Simulated days."),
    rate: float = typer.Option(0.0, min=0, help="Events per second to produce; 0 = as fast as possible."),
    partitions: int = typer.Option(4, min=1, help="Partitions of the bench's event topics."),
    modes: str = typer.Option("envelopes,single,intake,ceilings", help="Comma-separated: envelopes, single, intake, ceilings."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the results to this JSON file."),
) -> None:
    """End-to-end benchmark on a broker of its own: envelopes vs one event per message vs decode-only ceilings."""
    from benchmarks.pipeline_bench import run_bench

    run_bench(users=users, days=days, rate=rate, partitions=partitions, modes=modes.split(","), json_out=json_out)


@app.command()
@friendly
def demo(
    users: int = typer.Option(200, min=2),
    days: int = typer.Option(14, min=1),
    seed: int = typer.Option(42),
) -> None:
    """The whole stack on this machine: Kafka, a worker, a simulated organisation; then the riskiest users."""
    from streams.ops.demo import run_demo

    run_demo(Settings(), users=users, days=days, seed=seed, console=console)


if __name__ == "__main__":
    app()
