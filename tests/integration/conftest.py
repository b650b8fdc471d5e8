"""Fixtures that run the real thing: an Apache Kafka 4 broker and `vigil worker` processes.

The broker starts once per test session on free loopback ports and is stopped
by pid at the end. Each worker gets its own topic prefix, app id, data dir and
web port, so tests do not see each other's events.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer

from streams.ops.local_kafka import LocalKafka, free_ports
from streams.ops.query import query_worker
from streams.settings import Settings
from streams.worker.topics import create_topics


def free_port() -> int:
    return free_ports(1)[0]


def wait_for(condition, timeout: float = 90, interval: float = 0.5, what: str = "condition"):
    """Poll `condition` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.fixture(scope="session")
def kafka(tmp_path_factory) -> str:
    """Bootstrap address of a real broker: VIGIL_TEST_BOOTSTRAP if CI started one, else our own."""
    if bootstrap := os.environ.get("VIGIL_TEST_BOOTSTRAP"):
        yield bootstrap
        return
    home = tmp_path_factory.mktemp("kafka")
    broker_port, controller_port = free_ports(2)
    settings = Settings(data_dir=home, kafka_bootstrap=f"127.0.0.1:{broker_port}", kafka_controller_port=controller_port)
    broker = LocalKafka(settings)
    broker.start()
    try:
        yield settings.kafka_bootstrap
    finally:
        broker.stop()


@dataclass
class Worker:
    """A `vigil worker` subprocess and the settings it runs with."""

    settings: Settings
    env: dict[str, str]
    log: Path
    command: tuple[str, ...] = ("-m", "streams.ops.cli")  # what `python` runs, before `worker`
    process: subprocess.Popen | None = None
    producer: KafkaProducer | None = field(default=None, repr=False)

    def start(self) -> Worker:
        self.process = subprocess.Popen(
            [sys.executable, *self.command, "worker", "--loglevel", "info"],
            env=self.env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        wait_for(self._healthy, timeout=120, what="the worker's /health")
        return self

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"worker exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(f"{self.settings.web_url}/health", timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    # -- talking to it -----------------------------------------------------------------
    def send(self, topic: str, value: bytes | dict, key: str | bytes | None = None, partition: int | None = None) -> None:
        if self.producer is None:
            self.producer = KafkaProducer(bootstrap_servers=self.settings.kafka_bootstrap, acks="all")
        if isinstance(value, dict):
            value = orjson.dumps(value)
        if isinstance(key, str):
            key = key.encode()
        self.producer.send(self.settings.topic(topic), key=key, value=value, partition=partition)

    def flush(self) -> None:
        self.producer.flush()

    def health(self) -> dict:
        with urllib.request.urlopen(f"{self.settings.web_url}/health", timeout=5) as response:
            return orjson.loads(response.read())

    def query(self, sql: str, parameters: dict | None = None) -> list[list]:
        return query_worker(self.settings, sql, parameters).rows

    def scalar(self, sql: str, parameters: dict | None = None):
        return self.query(sql, parameters)[0][0]

    def consume(self, topic: str, count: int, timeout: float = 60) -> list:
        consumer = KafkaConsumer(self.settings.topic(topic), bootstrap_servers=self.settings.kafka_bootstrap,
                                 auto_offset_reset="earliest", enable_auto_commit=False,
                                 group_id=f"test-{uuid.uuid4().hex[:8]}")
        messages = []
        deadline = time.monotonic() + timeout
        try:
            while len(messages) < count and time.monotonic() < deadline:
                for batch in consumer.poll(timeout_ms=500).values():
                    messages.extend(batch)
        finally:
            consumer.close()
        return messages


@pytest.fixture
def make_worker(kafka, tmp_path):
    """Factory of workers, each isolated; every worker started is stopped after the test."""
    made: list[Worker] = []

    def make(partitions: int = 2, like: Worker | None = None, bootstrap: str | None = None, **overrides) -> Worker:
        """A worker of its own; `like` another worker: a second member of that worker's group."""
        name = f"t{uuid.uuid4().hex[:8]}"
        group = like.settings.app_id if like else name
        env_settings = {
            "VIGIL_DATA_DIR": str(tmp_path / name),
            "VIGIL_KAFKA_BOOTSTRAP": bootstrap or kafka,
            "VIGIL_TOPIC_PREFIX": group,
            "VIGIL_APP_ID": group,
            "VIGIL_PARTITIONS": str(partitions),
            "VIGIL_WEB_PORT": str(free_port()),
            "VIGIL_SINK_FLUSH_SECONDS": "0.3",
        }
        env_settings |= {f"VIGIL_{k.upper()}": json.dumps(v) if isinstance(v, list) else str(v) for k, v in overrides.items()}
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")} | env_settings
        settings = Settings(**{k[6:].lower(): v for k, v in env_settings.items() if k[6:].lower() not in overrides},
                            **overrides)
        create_topics(settings)
        worker = Worker(settings, env, tmp_path / f"{name}.log")
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.stop()
        if worker.producer:
            worker.producer.close()
        if worker.log.exists():  # pytest shows this only when the test failed
            print(f"--- last lines of {worker.log.name}\n" + "\n".join(worker.log.read_text().splitlines()[-80:]))


def event(n: int, user: str = "ann", hour: float = 10.0, **fields) -> dict:
    """A valid access event, `n` minutes after 2026-11-02 `hour`:00 UTC."""
    ts_ms = int((1793577600 + hour * 3600 + n * 60) * 1000)
    return {"event_id": f"{user}-{n}", "ts": ts_ms, "user": user, "action": "record.view",
            "resource": "crm.customers", "record_id": f"C{n:06d}", "device": "laptop-1", "src_ip": "10.0.0.1", **fields}


# -- a real SCIM 2.0 server (scim2-server), for automation and directory tests ---------------
SCIM_TOKEN = "scim-test-token"


class Scim:
    """A scim2-server process: create users, read whether they are active."""

    def __init__(self, port: int, process: subprocess.Popen) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.process = process

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(self.url + path, method=method, data=orjson.dumps(body) if body else None,
                                         headers={"Authorization": f"Bearer {SCIM_TOKEN}",
                                                  "Content-Type": "application/scim+json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            data = response.read()
        return orjson.loads(data) if data else {}

    def create(self, user: str) -> None:
        self.call("POST", "/Users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user,
                                     "active": True})

    def active(self, user: str) -> bool:
        from urllib.parse import quote

        query = quote('userName eq "%s"' % user)
        found = self.call("GET", f"/Users?filter={query}")["Resources"]
        return found[0]["active"]


@pytest.fixture
def scim():
    port = free_port()
    server = shutil.which("scim2-server") or str(__import__("pathlib").Path(sys.executable).with_name("scim2-server"))
    process = subprocess.Popen([server, "--hostname", "127.0.0.1", "--port", str(port), "--bearer-token", SCIM_TOKEN],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s = Scim(port, process)
    wait_for(lambda: _answers(s), timeout=30, what="the SCIM server")
    yield s
    process.terminate()
    process.wait(10)


def _answers(s: Scim) -> bool:
    try:
        s.call("GET", "/ServiceProviderConfig")
        return True
    except OSError:
        return False
