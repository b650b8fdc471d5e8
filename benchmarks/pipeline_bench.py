"""End-to-end, side by side: events produced to Kafka → scored by a worker → stored in ClickHouse.

    python -m benchmarks.pipeline_bench [--users 200] [--days 7] [--rate 0] [--json FILE]

One broker (started here, loopback) and the same simulated events for every
mode, each mode with its own topics, worker and data dir:

- ``envelopes``: Vigil's producers' way, batch envelopes of events sharing a partition;
- ``single``: one event per message, as any other producer may send;
- ``ceiling``: a raw aiokafka consumer loop that only decodes the single-event topic.

Throughput is from the first produce to the last row stored; latency is per
event, from its produce to its scored record (the two Kafka message timestamps).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import orjson
from kafka import KafkaConsumer, KafkaProducer

from streams.contract import envelope, partition_for
from streams.local_kafka import LocalKafka
from streams.settings import Settings
from streams.sources.simulator import SupportOrg
from streams.topics import create_topics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--rate", type=float, default=0.0, help="events/s to produce; 0 = as fast as possible")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--modes", default="envelopes,single,ceiling")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="vigil-pipeline-"))
    base = {"VIGIL_KAFKA_BOOTSTRAP": "127.0.0.1:39092", "VIGIL_KAFKA_CONTROLLER_PORT": "39093",
            "VIGIL_PARTITIONS": str(args.partitions)}
    broker = LocalKafka(Settings(data_dir=home, **{k[6:].lower(): v for k, v in base.items()}))
    broker.start()
    org = SupportOrg(users=args.users, days=args.days, seed=3)
    events = list(org.events())
    results = {"events": len(events), "users": args.users, "partitions": args.partitions, "rate": args.rate or "max"}
    try:
        for mode in args.modes.split(","):
            env = base | {"VIGIL_DATA_DIR": str(home / mode), "VIGIL_TOPIC_PREFIX": f"bench-{mode}",
                          "VIGIL_APP_ID": f"bench-{mode}", "VIGIL_WEB_PORT": "36066"}
            os.environ.update(env)
            settings = Settings()
            create_topics(settings)
            results[mode] = ceiling(settings, events) if mode == "ceiling" else run(settings, org, events, mode, args.rate, home)
            print(mode, json.dumps(results[mode]), flush=True)
    finally:
        broker.stop()
    if "single" in results and "envelopes" in results:
        results["envelopes_vs_single"] = round(results["envelopes"]["events_per_second"] / results["single"]["events_per_second"], 1)
    if "ceiling" in results:
        for mode in ("envelopes", "single"):
            if mode in results:
                results[f"{mode}_vs_ceiling"] = round(results[mode]["events_per_second"] / results["ceiling"]["events_per_second"], 3)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def produce(settings: Settings, events: list[dict], mode: str, rate: float) -> float:
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=5, batch_size=256 * 1024,
                             max_request_size=4 * 1024 * 1024)
    topic, partitions = settings.topic("events"), settings.partitions
    started = time.time()
    pending: dict[int, list[dict]] = {}
    for i, e in enumerate(events):
        if rate and (ahead := started + i / rate - time.time()) > 0:
            time.sleep(ahead)
        if mode == "single":
            producer.send(topic, key=e["user"].encode(), value=orjson.dumps(e))
            continue
        p = partition_for(e["user"].encode(), partitions)
        batch = pending.setdefault(p, [])
        batch.append(e)
        # At a fixed rate, an envelope goes out at least every 100 ms: batching must not add latency.
        if len(batch) >= 500 or (rate and len(batch) >= max(1, rate / partitions / 10)):
            producer.send(topic, value=envelope(batch), partition=p)
            pending[p] = []
    for p, batch in pending.items():
        if batch:
            producer.send(topic, value=envelope(batch), partition=p)
    producer.flush()
    producer.close()
    return started


def run(settings: Settings, org: SupportOrg, events: list[dict], mode: str, rate: float, home: Path) -> dict:
    worker = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker"], stdout=open(home / f"{mode}.log", "wb"),
                              stderr=subprocess.STDOUT)
    try:
        _wait(lambda: _health(settings) is not None, 120)
        context = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=5)
        for t in org.ticket_log:
            context.send(settings.topic("tickets"), key=t["ticket_id"].encode(), value=orjson.dumps(t))
        for d in org.directory():
            context.send(settings.topic("directory"), key=d["user"].encode(), value=orjson.dumps(d))
        context.flush()
        context.close()
        _wait(lambda: (_health(settings) or {}).get("tickets_booked", 0) >= len(org.ticket_log), 300)
        started = produce(settings, events, mode, rate)
        _wait(lambda: (_health(settings) or {}).get("stored", 0) >= len(events), 1800)
        stored = time.time()
        sent = _timestamps(settings, "events", lambda v: v.get("events", [v]))
        scored = _timestamps(settings, "scored", lambda v: v.get("scored", [v]))
        latency = sorted(scored[k] - sent[k] for k in scored if k in sent)
        q = lambda p: latency[min(int(p * len(latency)), len(latency) - 1)]  # noqa: E731
        return {"events_per_second": round(len(events) / (stored - started)), "seconds": round(stored - started, 1),
                "latency_ms": {"p50": q(0.5), "p95": q(0.95), "p99": q(0.99), "max": latency[-1]}}
    finally:
        worker.terminate()
        worker.wait(60)


def ceiling(settings: Settings, events: list[dict]) -> dict:
    """A raw aiokafka loop that only decodes: the most any consumer of this broker could do."""
    from aiokafka import AIOKafkaConsumer

    produce(settings, events, "single", 0)

    async def consume() -> float:
        consumer = AIOKafkaConsumer(settings.topic("events"), bootstrap_servers=settings.kafka_bootstrap,
                                    group_id=None, auto_offset_reset="earliest")
        await consumer.start()
        n, started = 0, time.time()
        try:
            while n < len(events):
                for records in (await consumer.getmany(timeout_ms=1000, max_records=10000)).values():
                    for record in records:
                        orjson.loads(record.value)
                        n += 1
        finally:
            await consumer.stop()
        return time.time() - started

    seconds = asyncio.run(consume())
    return {"events_per_second": round(len(events) / seconds), "seconds": round(seconds, 2)}


def _timestamps(settings: Settings, topic: str, unpack) -> dict[str, int]:
    """event_id → Kafka timestamp (ms) of the message that carried it."""
    consumer = KafkaConsumer(settings.topic(topic), bootstrap_servers=settings.kafka_bootstrap,
                             auto_offset_reset="earliest", enable_auto_commit=False, group_id=None,
                             consumer_timeout_ms=5000)
    seen = {}
    for message in consumer:
        for item in unpack(orjson.loads(message.value)):
            seen[item["event_id"]] = message.timestamp
    consumer.close()
    return seen


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
    raise TimeoutError("condition not met in time")


if __name__ == "__main__":
    main()
