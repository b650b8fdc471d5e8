"""Decode-only consumers, the ceilings `pipeline_bench` compares Vigil's worker against.

    python -m benchmarks.decode_only faust|faust-vigil|quix BOOTSTRAP TOPIC COUNT RESULT_FILE

Each reads TOPIC from the beginning, decodes every message with orjson and
does nothing else; after COUNT messages it writes the seconds from its first
message to its last to RESULT_FILE and exits. Faust is the agent Vigil is
built on, iterating its stream one message at a time as any Faust agent
does; Quix Streams (a benchmark-only extra) is the other Python
stream-processing library its design was weighed against.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson


class Clock:
    """Counts decoded messages; the time from the first to the `count`-th goes to `result`."""

    def __init__(self, count: int, result: Path) -> None:
        self.count, self.result, self.seen, self.started = count, result, 0, 0.0

    def tick(self) -> bool:
        """True once the last message has been counted (the result is written then)."""
        if self.seen == 0:
            self.started = time.perf_counter()
        self.seen += 1
        if self.seen == self.count:
            self.result.write_text(str(time.perf_counter() - self.started))
            return True
        return False


def faust_agent(bootstrap: str, topic: str, clock: Clock, scheme: str = "kafka", spinner: bool = True,
                app_type: type | None = None) -> None:
    import faust

    app = (app_type or faust.App)(f"decode-{uuid.uuid4().hex[:8]}", broker=f"{scheme}://{bootstrap}", store="memory://",
                    datadir=tempfile.mkdtemp(prefix="faust-decode-"), web_enabled=False,
                    consumer_auto_offset_reset="earliest", topic_disable_leader=True)
    source = app.topic(topic, value_serializer="raw", key_serializer="raw")

    @app.agent(source)
    async def decode(stream):
        async for value in stream:
            orjson.loads(value)
            if clock.tick():
                os._exit(0)  # measured: leave at once rather than time Faust's shutdown

    worker = faust.Worker(app, loglevel="warn", quiet=True)
    if not spinner:
        worker.spinner = None  # as `vigil worker` runs (its handler sets the root logger to DEBUG)
    worker.execute_from_commandline()


def vigil_transport(bootstrap: str, topic: str, clock: Clock) -> None:
    """The same Faust agent as Vigil runs it: on Vigil's transport (streams/worker/kafka_driver.py), without the spinner,
    and without Faust's Monitor sensor (streams/worker/app.py)."""
    from streams.worker import kafka_driver
    from streams.worker.app import App

    faust_agent(bootstrap, topic, clock, scheme=kafka_driver.SCHEME, spinner=False, app_type=App)


def quix_app(bootstrap: str, topic: str, clock: Clock) -> None:
    from quixstreams import Application

    app = Application(broker_address=bootstrap, consumer_group=f"decode-{uuid.uuid4().hex[:8]}",
                      auto_offset_reset="earliest", use_changelog_topics=False,
                      state_dir=tempfile.mkdtemp(prefix="quix-decode-"))
    source = app.topic(topic, value_deserializer="bytes", key_deserializer="bytes")

    def decode(value: bytes) -> None:
        orjson.loads(value)
        if clock.tick():
            os._exit(0)

    app.dataframe(source).update(decode)
    app.run()


if __name__ == "__main__":
    engine, bootstrap, topic, count, result = sys.argv[1:6]
    run = {"faust": faust_agent, "quix": quix_app, "faust-vigil": vigil_transport}[engine]
    run(bootstrap, topic, Clock(int(count), Path(result)))
