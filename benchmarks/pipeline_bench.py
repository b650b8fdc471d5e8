"""End-to-end, side by side: events produced to Kafka → scored by a worker → stored in ClickHouse.

    vigil bench [--users 200] [--days 7] [--rate 0] [--partitions 4] [--modes …] [--json FILE]

One broker (started here, loopback) and the same simulated events for every
mode, each mode with its own topics, worker and data dir:

- ``envelopes``: Vigil's producers' way, batch envelopes of events sharing a partition;
- ``single``: one event per message, as any other producer may send;
- ``intake``: one ECS document per message on a source topic, unkeyed as a shipper sends them, mapped and
  re-keyed by the worker's intake agent (``VIGIL_SOURCES``) before it is scored;
- ``ceilings``: consumers that only decode the single-event topic — a raw
  aiokafka loop, a Faust agent (as Faust ships, and on Vigil's transport,
  streams/worker/kafka_driver.py) and a Quix Streams app (``pip install .[bench]``).

Throughput is from the first produce to the last row stored. Latency is per
event, from the moment the bench hands it to the producer (for envelopes,
before it waits for its envelope) to the moment a consumer of vigil.scored
receives its scored record, both on this machine's clock.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import orjson
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from streams.contract import envelope, partition_for
from streams.ops.local_kafka import LocalKafka
from streams.settings import Settings
from streams.sources.simulator import SupportOrg
from streams.worker.topics import create_topics

ENVELOPE_WINDOW = 0.02  # seconds; Vigil's EventProducer lingers as long
SOURCE_TOPIC = "bench-intake.logs-ecs"


def run_bench(*, users: int, days: int, rate: float, partitions: int, modes: list[str], json_out: Path | None) -> dict:
    """Every mode in `modes` on one broker of its own, the same events each; print and return the results."""
    home = Path(tempfile.mkdtemp(prefix="vigil-pipeline-"))
    base = {"VIGIL_KAFKA_BOOTSTRAP": "127.0.0.1:39092", "VIGIL_KAFKA_CONTROLLER_PORT": "39093",
            "VIGIL_PARTITIONS": str(partitions)}
    broker = LocalKafka(Settings(data_dir=home, **{k[6:].lower(): v for k, v in base.items()}))
    broker.start()
    org = SupportOrg(users=users, days=days, seed=3)
    events = list(org.events())
    results = {"events": len(events), "users": users, "partitions": partitions, "rate": rate or "max"}
    try:
        for mode in modes:
            env = base | {"VIGIL_DATA_DIR": str(home / mode), "VIGIL_TOPIC_PREFIX": f"bench-{mode}",
                          "VIGIL_APP_ID": f"bench-{mode}", "VIGIL_WEB_PORT": "36066",
                          "VIGIL_SOURCES": f"ecs:{SOURCE_TOPIC}" if mode == "intake" else ""}
            os.environ.update(env)
            settings = Settings()
            create_topics(settings)
            results[mode] = ceilings(settings, events, home) if mode == "ceilings" else run(settings, org, events, mode, rate, home)
            print(mode, json.dumps(results[mode]), flush=True)
    finally:
        broker.stop()
    if "single" in results and "intake" in results:
        results["intake_vs_single"] = round(results["intake"]["events_per_second"] / results["single"]["events_per_second"], 2)
    if "single" in results and "envelopes" in results:
        results["envelopes_vs_single"] = round(results["envelopes"]["events_per_second"] / results["single"]["events_per_second"], 1)
    for engine, ceiling in results.get("ceilings", {}).items():
        for mode in ("envelopes", "single"):
            if mode in results and "events_per_second" in ceiling:
                results[f"{mode}_vs_{engine}"] = round(results[mode]["events_per_second"] / ceiling["events_per_second"], 3)
    print(json.dumps(results, indent=2))
    if json_out:
        json_out.write_text(json.dumps(results, indent=2))
    return results


def produce(settings: Settings, events: list[dict], mode: str, rate: float, handed: dict[str, float] | None = None) -> float:
    """Send `events` (at `rate`/s, or as fast as possible); `handed` gets each event's hand-over time."""
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=5, batch_size=256 * 1024,
                             max_request_size=4 * 1024 * 1024)
    topic, partitions = settings.topic("events"), settings.partitions
    started = time.time()
    pending: dict[int, list[dict]] = {}
    for i, e in enumerate(events):
        if rate and (ahead := started + i / rate - time.time()) > 0:
            time.sleep(ahead)
        if handed is not None:
            handed[e["event_id"]] = time.time()
        if mode == "single":
            producer.send(topic, key=e["user"].encode(), value=orjson.dumps(e))
            continue
        if mode == "intake":  # as a shipper sends: no key, round-robin over the source topic's partitions
            producer.send(SOURCE_TOPIC, value=orjson.dumps(ecs_document(e)))
            continue
        p = partition_for(e["user"].encode(), partitions)
        batch = pending.setdefault(p, [])
        batch.append(e)
        # At a fixed rate an envelope goes out every ENVELOPE_WINDOW, as a collector's producer lingers.
        if len(batch) >= 500 or (rate and len(batch) >= max(1, rate / partitions * ENVELOPE_WINDOW)):
            producer.send(topic, value=envelope(batch), partition=p)
            pending[p] = []
    for p, batch in pending.items():
        if batch:
            producer.send(topic, value=envelope(batch), partition=p)
    producer.flush()
    producer.close()
    return started


def ecs_document(event: dict) -> dict:
    """A contract event as Filebeat or Vector would ship it in ECS."""
    return {"@timestamp": event["ts"],
            "event": {"id": event["event_id"], "action": event["action"], "outcome": event.get("outcome", "success")},
            "user": {"name": event["user"]}, "source": {"ip": event.get("src_ip")}, "host": {"name": event.get("device")},
            "process": {"name": event.get("app")},
            "vigil": {k: event.get(k) for k in ("resource", "record_id", "records", "ticket_id") if event.get(k) is not None}}


def run(settings: Settings, org: SupportOrg, events: list[dict], mode: str, rate: float, home: Path) -> dict:
    worker = subprocess.Popen([sys.executable, "-m", "streams.ops.cli", "worker"], stdout=open(home / f"{mode}.log", "wb"),
                              stderr=subprocess.STDOUT)
    try:
        _wait(lambda: _health(settings) is not None, 120)
        context = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=5)
        booking = time.time()
        for t in org.ticket_log:
            context.send(settings.topic("tickets"), key=t["ticket_id"].encode(), value=orjson.dumps(t))
        for d in org.directory():
            context.send(settings.topic("directory"), key=d["user"].encode(), value=orjson.dumps(d))
        context.flush()
        context.close()
        _wait(lambda: (_health(settings) or {}).get("tickets_booked", 0) >= len(org.ticket_log), 300)
        tickets_per_second = round(len(org.ticket_log) / (time.time() - booking))
        handed: dict[str, float] = {}
        with ScoredWatch(settings) as watch:
            started = produce(settings, events, mode, rate, handed)
            _wait(lambda: (_health(settings) or {}).get("stored", 0) >= len(events), 1800)
            stored = time.time()
            try:
                _wait(lambda: len(watch.received) >= len(events), 60)
            except TimeoutError:
                pass  # reported below as fewer latency samples than events
        latency = _percentiles([watch.received[k] - handed[k] for k in watch.received if k in handed])
        # Where the time went: until the worker produced the scored record, and from there to its reader.
        scoring = _percentiles([watch.written[k] - handed[k] for k in watch.written if k in handed])
        reading = _percentiles([watch.received[k] - watch.written[k] for k in watch.written])
        return {"events_per_second": round(len(events) / (stored - started)), "seconds": round(stored - started, 1),
                "latency_ms": latency, "until_scored_written_ms": scoring, "scored_written_to_read_ms": reading,
                "latency_samples": len(watch.received), "tickets_booked_per_second": tickets_per_second}
    finally:
        worker.terminate()
        worker.wait(60)


def _percentiles(seconds: list[float]) -> dict:
    ms = sorted(1000 * s for s in seconds)
    if not ms:
        return {}
    at = lambda p: round(ms[min(int(p * len(ms)), len(ms) - 1)])  # noqa: E731
    return {"p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "max": round(ms[-1])}


def ceilings(settings: Settings, events: list[dict], home: Path) -> dict:
    """Consumers that only decode the same single-event messages: the most each could do on this broker."""
    produce(settings, events, "single", 0)
    topic, count = settings.topic("events"), len(events)
    results = {"aiokafka": _raw_aiokafka(settings.kafka_bootstrap, topic, count)}
    for engine in ("faust", "faust-vigil", "quix"):
        result = home / f"{engine}.seconds"
        with open(home / f"{engine}.log", "wb") as log:
            process = subprocess.Popen([sys.executable, "-m", "benchmarks.decode_only", engine, settings.kafka_bootstrap,
                                        topic, str(count), str(result)], stdout=log, stderr=subprocess.STDOUT)
            try:
                process.wait(600)
            except subprocess.TimeoutExpired:
                process.kill()
        if result.exists():
            seconds = float(result.read_text())
            results[engine] = {"events_per_second": round(count / seconds), "seconds": round(seconds, 2)}
        else:
            results[engine] = {"error": f"did not finish; see {home / f'{engine}.log'}"}
        print(engine, json.dumps(results[engine]), flush=True)
    return results


def _raw_aiokafka(bootstrap: str, topic: str, count: int) -> dict:
    from aiokafka import AIOKafkaConsumer

    async def consume() -> float:
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
        await consumer.start()
        n, started = 0, 0.0
        try:
            while n < count:
                for records in (await consumer.getmany(timeout_ms=1000, max_records=10000)).values():
                    started = started or time.perf_counter()
                    for record in records:
                        orjson.loads(record.value)
                        n += 1
        finally:
            await consumer.stop()
        return time.perf_counter() - started

    seconds = asyncio.run(consume())
    return {"events_per_second": round(count / seconds), "seconds": round(seconds, 2)}


class ScoredWatch:
    """Receives vigil.scored as it is written and notes when each event's scored record arrived."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.received: dict[str, float] = {}
        self.written: dict[str, float] = {}  # when the worker produced each scored record (the record's CreateTime)
        self.stopping, self.ready = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ScoredWatch:
        self.thread.start()
        self.ready.wait(60)
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.thread.join(30)

    def _watch(self) -> None:
        consumer = KafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap, enable_auto_commit=False,
                                 group_id=None, fetch_max_wait_ms=10)
        partitions = [TopicPartition(self.settings.topic("scored"), p) for p in range(self.settings.partitions)]
        consumer.assign(partitions)
        consumer.seek_to_end(*partitions)
        for p in partitions:
            consumer.position(p)
        self.ready.set()
        while not self.stopping.is_set():
            for messages in consumer.poll(timeout_ms=100).values():
                now = time.time()
                for message in messages:
                    value = orjson.loads(message.value)
                    for item in value.get("scored", [value]):
                        self.received.setdefault(item["event_id"], now)
                        self.written.setdefault(item["event_id"], message.timestamp / 1000)
        consumer.close()


def _health(settings: Settings) -> dict | None:
    try:
        with urllib.request.urlopen(f"{settings.web_url}/health", timeout=2) as response:
            return orjson.loads(response.read())
    except OSError:
        return None


def _wait(condition, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise TimeoutError(f"condition not met within {timeout:.0f} s")


if __name__ == "__main__":
    from streams.ops.cli import app

    app(["bench", *sys.argv[1:]])
