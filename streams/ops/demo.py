"""`vigil demo`: Kafka, a worker and a simulated organisation on this machine, then the riskiest users."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
import urllib.request

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from streams.errors import VigilError
from streams.ops.local_kafka import LocalKafka
from streams.ops.query import query_worker, worker_pid
from streams.settings import Settings
from streams.sources.loading import progress, send_context, send_events
from streams.sources.simulator import SupportOrg
from streams.worker.topics import create_topics

MARKER = "DEMO"
RISKIEST = """
SELECT user, round(max(risk), 1) AS peak_risk, argMax(band, risk) AS band,
       countIf(score > 0) AS flagged_events, count() AS events
FROM vigil.scored_events GROUP BY user ORDER BY peak_risk DESC LIMIT {n:UInt32}
"""
REASONS = """
SELECT argMax(reason, score) AS strongest, count() AS times
FROM vigil.scored_events ARRAY JOIN signals AS signal, reasons AS reason
WHERE user = {user:String} GROUP BY signal ORDER BY sum(score) DESC LIMIT 3
"""


class DemoError(VigilError, RuntimeError):
    pass


def run_demo(settings: Settings, users: int, days: int, seed: int, console: Console) -> None:
    """Run the whole pipeline from a clean slate and stop everything it started, whatever happens."""
    _clean_slate(settings)
    broker = LocalKafka(settings)
    worker: subprocess.Popen | None = None
    # Ctrl-C and SIGTERM unwind through `finally`, which stops what we started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        with console.status("starting Kafka (the first run fetches its jars with mvn)…"):
            broker.start()
            create_topics(settings)
        console.print(f"[green]✓[/] Kafka 4 (KRaft) at {settings.kafka_bootstrap}")
        worker = _start_worker(settings, console)
        org = SupportOrg(users=users, days=days, seed=seed)
        with console.status("simulating the support organisation…"):
            events = list(org.events())
        started = time.monotonic()
        tickets = send_context(settings, org)
        _wait_for_tickets(settings, tickets, console)
        send_events(settings, events, console)
        _wait_until_stored(settings, len(events), worker, console)
        elapsed = time.monotonic() - started
        console.print(f"[green]✓[/] {len(events):,} events scored and stored in {elapsed:.1f}s "
                      f"({len(events) / elapsed:,.0f} events/s end to end)")
        _report(settings, org, console)
    finally:
        if worker is not None:
            _stop(worker)
        broker.stop()
        console.print("stopped the worker and the broker")


def _clean_slate(settings: Settings) -> None:
    """Start from an empty data dir, but never wipe one that is not the demo's own."""
    data = settings.data_dir
    if worker_pid(settings) or LocalKafka(settings).pid():
        raise DemoError(f"a worker or broker is running on {data}; stop it first (`vigil kafka stop`, Ctrl-C the worker)")
    if data.exists() and any(data.iterdir()) and not (data / MARKER).exists():
        raise DemoError(f"{data} holds data that is not the demo's; set VIGIL_DATA_DIR to an empty folder")
    for part in ("kafka", "faust", "clickhouse", "worker.log"):
        path = data / part
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    data.mkdir(parents=True, exist_ok=True)
    (data / MARKER).write_text("This folder belongs to `vigil demo`, which empties it at each run.\n")


def _start_worker(settings: Settings, console: Console) -> subprocess.Popen:
    log = open(settings.data_dir / "worker.log", "ab")
    # The worker reads the same environment and vigil.toml as this process: the same settings.
    worker = subprocess.Popen([sys.executable, "-m", "streams.ops.cli", "worker"], stdout=log, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)
    with console.status("starting the Vigil worker…"):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                raise DemoError(f"the worker exited with {worker.returncode}; see {settings.data_dir / 'worker.log'}")
            try:
                urllib.request.urlopen(f"{settings.web_url}/health", timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise DemoError("the worker did not come up within 120 s")
    console.print(f"[green]✓[/] Vigil worker (pid {worker.pid}), web API on {settings.web_url}")
    return worker


def _wait_for_tickets(settings: Settings, expected: int, console: Console) -> None:
    """Tickets must be booked before the events they justify are scored."""
    with console.status(f"booking {expected:,} ticket assignments…"):
        deadline = time.monotonic() + 300
        while (health := _health(settings)).get("tickets_booked", 0) < expected or not health.get("directory_users"):
            if time.monotonic() > deadline:
                raise DemoError("the worker did not book the tickets within 300 s")
            time.sleep(0.5)
    console.print(f"[green]✓[/] directory and {expected:,} ticket assignments loaded")


def _health(settings: Settings) -> dict:
    import orjson

    with urllib.request.urlopen(f"{settings.web_url}/health", timeout=5) as response:
        return orjson.loads(response.read())


def _wait_until_stored(settings: Settings, expected: int, worker: subprocess.Popen, console: Console) -> None:
    with progress(console) as bar:
        task = bar.add_task("scored and stored", total=expected)
        stored = 0
        while stored < expected:
            if worker.poll() is not None:
                raise DemoError(f"the worker exited with {worker.returncode}; see {settings.data_dir / 'worker.log'}")
            time.sleep(1)
            stored = query_worker(settings, "SELECT count() FROM vigil.scored_events").rows[0][0]
            bar.update(task, completed=stored)


def _report(settings: Settings, org: SupportOrg, console: Console) -> None:
    insiders = org.truth.insiders
    top = query_worker(settings, RISKIEST, {"n": len(insiders) + 3})
    table = Table("#", "user", "peak risk", "band", "flagged / events", title="Riskiest users", show_lines=True)
    table.add_column("strongest reason per signal", ratio=1, min_width=40)
    for rank, (user, risk, band, flagged, events) in enumerate(top.rows, 1):
        reasons = query_worker(settings, REASONS, {"user": user}).rows
        label = f"{user}\n[bold red]insider: {insiders[user]}[/]" if user in insiders else user
        table.add_row(str(rank), label, str(risk), band, f"{flagged} / {events}", "\n".join(f"• {r} (×{n})" for r, n in reasons))
    console.print(table)
    caught = sum(user in insiders for user, *_ in top.rows[: len(insiders)])
    console.print(f"{caught} of the {len(insiders)} simulated insiders are the {len(insiders)} riskiest users.")
    console.print(Panel.fit(
        "vigil query \"SELECT count() FROM vigil.scored_events\"\n"
        "vigil query \"SELECT user, band, risk, reasons FROM vigil.alerts ORDER BY ts\"\n"
        f"vigil query \"SELECT action, count() FROM vigil.scored_events WHERE user = '{next(iter(insiders))}' GROUP BY action\"\n"
        "vigil eval --seeds 1 --users 200 --days 14   # the same models, replayed without Kafka, measured\n"
        "vigil simulate --out sim/   # the same organisation as NDJSON, with truth.json",
        title="try next", border_style="cyan"))


def _stop(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
