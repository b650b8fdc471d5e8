"""The scenario matrix through the product: Kafka and a real `vigil worker`, beside `vigil eval` on the same data.

    python -m benchmarks.worker_matrix [--set tuned] [--partitions 4] [--workers 1] [--seeds 1,2] [--out docs/matrix]

For each seed of a matrix set (`streams/ops/matrix.py`) one broker (started here
on loopback ports, stopped by pid) and a fresh worker with its own topics:
the directory and every ticket go in first, then the events in batch
envelopes as fast as the producer can send them (a backfill, the hardest
case for the organisation-wide population: each partition reads the
others' parts wherever their envelopes have got to). The worker's alerts are
read back from `vigil.alerts` and scored with exactly the metrics of
`vigil eval --matrix`; the same data replayed by `vigil eval` is scored
beside them, so every figure shows how far the evaluator stands from the
product.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import orjson
from kafka import KafkaConsumer
from rich.console import Console

from models import DetectorConfig
from streams.ops import matrix
from streams.ops.evaluation import RunResult, replay, simulated
from streams.ops.local_kafka import LocalKafka, free_ports
from streams.settings import Settings
from streams.sources import loading
from streams.worker.topics import create_topics


class WorkerRun:
    """`workers` `vigil worker` processes in one consumer group, on topics of their own, fed one labelled organisation.

    Each process has a data folder and web port of its own; they share the topics, the group and the secret key,
    as the workers of one deployment do.
    """

    def __init__(self, bootstrap: str, partitions: int, home: Path, workers: int = 1) -> None:
        name = f"wm{uuid.uuid4().hex[:8]}"
        group = {"VIGIL_KAFKA_BOOTSTRAP": bootstrap, "VIGIL_TOPIC_PREFIX": name, "VIGIL_APP_ID": name,
                 "VIGIL_PARTITIONS": str(partitions), "VIGIL_SECRET_KEY": secrets.token_hex(32)}
        self.envs = [group | {"VIGIL_DATA_DIR": str(home / f"{name}-{i}"), "VIGIL_WEB_PORT": str(port)}
                     for i, port in enumerate(free_ports(workers))]
        self.members = [Settings(**{k[6:].lower(): v for k, v in env.items()}) for env in self.envs]
        self.settings = self.members[0]
        self.logs = [home / f"{name}-{i}.log" for i in range(workers)]
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> WorkerRun:
        create_topics(self.settings)
        for env, log in zip(self.envs, self.logs):
            env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")} | env
            self.processes.append(subprocess.Popen([sys.executable, "-m", "streams.ops.cli", "worker"], env=env,
                                                   stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                                                   stdin=subprocess.DEVNULL))
        self._wait(lambda: self.health() is not None, 120, "every worker's /health")
        return self

    def __exit__(self, *exc) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def health(self) -> list[dict] | None:
        """Every worker's /health, or None while one does not answer yet."""
        found = []
        for process, settings, log in zip(self.processes, self.members, self.logs):
            if process.poll() is not None:
                raise RuntimeError(f"worker exited with {process.returncode}; see {log}")
            try:
                with urllib.request.urlopen(f"{settings.web_url}/health", timeout=2) as response:
                    found.append(orjson.loads(response.read()))
            except OSError:
                return None
        return found

    def _wait(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.5)
        raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}; see {self.logs}")

    def alerts_for(self, data) -> list[dict]:
        """Feed `data` (context first, then the events) and return every alert the worker raised."""
        with loading.EventProducer(self.settings) as producer:
            producer.send_all("directory", data.directory, "user")
            producer.send_all("tickets", data.tickets, "ticket_id")
        total = lambda key: sum(h[key] for h in self.health() or [])  # noqa: E731  (tickets and events split by partition)
        everyone = lambda key: min((h[key] for h in self.health() or []), default=0)  # noqa: E731  (each follows all)
        self._wait(lambda: total("tickets_booked") >= len(data.tickets), 600, "tickets booked")
        self._wait(lambda: everyone("directory_users") >= len(data.directory), 120, "the directory")
        loading.send_events(self.settings, data.events, Console(quiet=True))
        self._wait(lambda: total("scored") >= len(data.events), 1800, f"{len(data.events):,} events scored")
        return self._read_alerts(total("alerts"))

    def _read_alerts(self, count: int) -> list[dict]:
        consumer = KafkaConsumer(self.settings.topic("alerts"), bootstrap_servers=self.settings.kafka_bootstrap,
                                 auto_offset_reset="earliest", enable_auto_commit=False, group_id=None)
        alerts: list[dict] = []
        deadline = time.monotonic() + 120
        try:
            while len(alerts) < count and time.monotonic() < deadline:
                for batch in consumer.poll(timeout_ms=500).values():
                    alerts += [orjson.loads(m.value) for m in batch]
        finally:
            consumer.close()
        # A partition that changed hands mid-stream is re-read from its last commit: an alert raised again has the
        # same id, and counts once (as the SOC's sink and the hooks take it).
        return list({alert["alert_id"]: alert for alert in alerts}.values())


def run_seed(bootstrap: str, seed: int, m: matrix.MatrixSet, partitions: int, home: Path,
             workers: int = 1) -> tuple[RunResult, RunResult]:
    """(the workers' run, eval's run) of one seed; both carry eval's labels, each its own alerts."""
    data = simulated(seed, m.users, m.days, m.insiders)
    evaluated = replay(data, DetectorConfig(), partitions=partitions)
    with WorkerRun(bootstrap, partitions, home, workers) as worker:
        started = time.monotonic()
        alerts = worker.alerts_for(data)
        seconds = time.monotonic() - started
    print(f"seed {seed}: {len(data.events):,} events through the worker in {seconds:.0f} s; alerts: worker "
          f"{len(alerts)}, eval {len(evaluated.alerts)}", flush=True)
    return dataclasses.replace(evaluated, alerts=alerts), evaluated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="tuned", choices=sorted(matrix.SETS))
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="worker processes in the one consumer group")
    parser.add_argument("--seeds", help="comma-separated seeds of the set (default: all)")
    parser.add_argument("--out", type=Path, default=Path("docs/matrix"))
    args = parser.parse_args()
    chosen = matrix.SETS[args.set]
    if args.seeds:
        chosen = dataclasses.replace(chosen, seeds=tuple(int(s) for s in args.seeds.split(",")))

    home = Path(tempfile.mkdtemp(prefix="vigil-worker-matrix-"))
    broker_port, controller_port = free_ports(2)
    broker = LocalKafka(Settings(data_dir=home / "kafka", kafka_bootstrap=f"127.0.0.1:{broker_port}",
                                 kafka_controller_port=controller_port))
    broker.start()
    try:
        pairs = [run_seed(broker.settings.kafka_bootstrap, seed, chosen, args.partitions, home, args.workers)
                 for seed in chosen.seeds]
    finally:
        broker.stop()
        shutil.rmtree(home, ignore_errors=True)  # the broker's log and the workers' stores: 1.5 GB a set
    workers = "worker" if args.workers == 1 else f"{args.workers} workers"
    summaries = [matrix.summary(f"{args.set}, {driver}, {args.partitions} partitions", chosen, [p[i] for p in pairs])
                 for i, driver in enumerate((workers, "vigil eval"))]
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / (f"worker-{args.set}-{args.partitions}p" + (f"-{args.workers}w" if args.workers > 1 else ""))
    stem.with_suffix(".json").write_text(json.dumps(summaries, indent=2))
    stem.with_suffix(".md").write_text(matrix.markdown(summaries))
    matrix.plot(summaries, stem.with_suffix(".png"))
    print(matrix.markdown(summaries))
    print(f"written: {stem}.md, .json, .png")


if __name__ == "__main__":
    main()
