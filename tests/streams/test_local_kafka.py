"""The local broker refuses to start on ports another process holds, rather than answer with that process."""

from __future__ import annotations

import socket

import pytest

from streams.ops.local_kafka import KafkaSetupError, LocalKafka
from streams.settings import Settings


def test_start_says_which_port_is_taken(tmp_path):
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    taken, controller = squatter.getsockname()[1], free.getsockname()[1]
    free.close()
    try:
        broker = LocalKafka(Settings(data_dir=tmp_path, kafka_bootstrap=f"127.0.0.1:{taken}", kafka_controller_port=controller))
        with pytest.raises(KafkaSetupError, match=rf"127\.0\.0\.1:{taken} is in use by another process"):
            broker.start()
        assert broker.pid() is None  # nothing was started
    finally:
        squatter.close()
