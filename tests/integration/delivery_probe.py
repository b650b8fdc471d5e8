"""A Faust agent on Vigil's transport that writes down every message it receives (run by test_kafka_driver).

    python -m tests.integration.delivery_probe BOOTSTRAP TOPIC COUNT OUT

Its agent is slow and its buffer small, so deliveries take both paths of the
transport: the plain `await` and, when the buffer is full, Faust's own. After
COUNT messages it writes them (partition, value) and how often each path was
taken as JSON to OUT and exits.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections import Counter
from pathlib import Path


def main(bootstrap: str, topic: str, count: int, out: Path) -> None:
    import faust

    from streams.worker import kafka_driver

    paths: Counter[str] = Counter()
    check = kafka_driver.Consumer._delivery_check

    def counting_check(self):
        cannot_block = check(self)

        def counted(tp) -> bool:
            at_once = cannot_block(tp)
            paths["await" if at_once else "wait_first"] += 1
            return at_once
        return counted

    kafka_driver.Consumer._delivery_check = counting_check
    app = faust.App(f"probe-{uuid.uuid4().hex[:8]}", broker=f"{kafka_driver.SCHEME}://{bootstrap}", store="memory://",
                    datadir=str(out.parent / "probe-data"), web_enabled=False,
                    consumer_auto_offset_reset="earliest", stream_buffer_maxsize=16)
    source = app.topic(topic, key_serializer="raw", value_serializer="raw")
    received: list[tuple[int, str]] = []

    @app.agent(source)
    async def record(stream):
        async for event in stream.events():
            received.append((event.message.partition, event.value.decode()))
            if len(received) % 25 == 0:
                await asyncio.sleep(0.005)  # slower than the fetcher: the buffer fills
            if len(received) == count:
                out.write_text(json.dumps({"received": received, "paths": paths}))
                os._exit(0)

    sys.argv = [sys.argv[0], "worker", "--loglevel", "warn"]
    app.main()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
