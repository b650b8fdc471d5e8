"""The scenario matrix through the product: Kafka and a real `vigil worker`, beside `vigil eval` on the same data.

    python -m benchmarks.worker_matrix [--set tuned] [--partitions 4] [--seeds 1,2] [--out docs/matrix]

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
    """One `vigil worker` process on topics of its own, fed one labelled organisation."""

    def __init__(self, bootstrap: str, partitions: int, home: Path) -> None:
        name = f"wm{uuid.uuid4().hex[:8]}"
        self.env = {"VIGIL_DATA_DIR": str(home / name), "VIGIL_KAFKA_BOOTSTRAP": bootstrap, "VIGIL_TOPIC_PREFIX": name,
                    "VIGIL_APP_ID": name, "VIGIL_PARTITIONS": str(partitions), "VIGIL_WEB_PORT": str(free_ports(1)[0])}
        self.settings = Settings(**{k[6:].lower(): v for k, v in self.env.items()})
        self.log = home / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> WorkerRun:
        create_topics(self.settings)
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")} | self.env
        self.process = subprocess.Popen([sys.executable, "-m", "streams.ops.cli", "worker"], env=env,
                                        stdout=open(self.log, "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._wait(lambda: self.health() is not None, 120, "the worker's /health")
        return self

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def health(self) -> dict | None:
        if self.process.poll() is not None:
            raise RuntimeError(f"worker exited with {self.process.returncode}; see {self.log}")
        try:
            with urllib.request.urlopen(f"{self.settings.web_url}/health", timeout=2) as response:
                return orjson.loads(response.read())
        except OSError:
            return None

    def _wait(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.5)
        raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}; see {self.log}")

    def alerts_for(self, data) -> list[dict]:
        """Feed `data` (context first, then the events) and return every alert the worker raised."""
        with loading.EventProducer(self.settings) as producer:
            producer.send_all("directory", data.directory, "user")
            producer.send_all("tickets", data.tickets, "ticket_id")
        counted = lambda key, n: lambda: (self.health() or {}).get(key, 0) >= n  # noqa: E731
        self._wait(counted("tickets_booked", len(data.tickets)), 600, "tickets booked")
        self._wait(counted("directory_users", len(data.directory)), 120, "the directory")
        loading.send_events(self.settings, data.events, Console(quiet=True))
        self._wait(counted("scored", len(data.events)), 1800, f"{len(data.events):,} events scored")
        raised = self.health()["alerts"]
        return self._read_alerts(raised)

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
        return alerts


def run_seed(bootstrap: str, seed: int, m: matrix.MatrixSet, partitions: int, home: Path) -> tuple[RunResult, RunResult]:
    """(the worker's run, eval's run) of one seed; both carry eval's labels, each its own alerts."""
    data = simulated(seed, m.users, m.days, m.insiders)
    evaluated = replay(data, DetectorConfig(), partitions=partitions)
    with WorkerRun(bootstrap, partitions, home) as worker:
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
        pairs = [run_seed(broker.settings.kafka_bootstrap, seed, chosen, args.partitions, home) for seed in chosen.seeds]
    finally:
        broker.stop()
    summaries = [matrix.summary(f"{args.set}, {driver}, {args.partitions} partitions", chosen, [p[i] for p in pairs])
                 for i, driver in enumerate(("worker", "vigil eval"))]
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"worker-{args.set}-{args.partitions}p"
    stem.with_suffix(".json").write_text(json.dumps(summaries, indent=2))
    stem.with_suffix(".md").write_text(matrix.markdown(summaries))
    matrix.plot(summaries, stem.with_suffix(".png"))
    print(matrix.markdown(summaries))
    print(f"written: {stem}.md, .json, .png")


if __name__ == "__main__":
    main()
