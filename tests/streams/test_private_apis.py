"""The private names of Faust and aiokafka that `streams/worker/kafka_driver.py` relies on, each by name.

A new faust-streaming or aiokafka that renames or reshapes one fails here,
saying which and what to check, before it can fail a worker in a subtle way.
"""

from __future__ import annotations

import contextvars
import hashlib
import inspect

import aiokafka
import faust
import pytest
from aiokafka.consumer.fetcher import Fetcher
from faust.streams import _current_event
from faust.tables.manager import TableManager
from faust.transport import consumer as faust_consumer
from faust.transport.conductor import Conductor
from faust.transport.drivers import aiokafka as faust_aiokafka

#: faust.transport.consumer.Consumer._drain_messages as copied into kafka_driver.Consumer._drain_messages.
DRAIN_MESSAGES_SHA256 = "44a2500309e83c630493f6828af50166ec8d96a0b3e4fb2bab735f704ae93417"


def source_of(fn) -> str:
    return inspect.getsource(fn)


def test_the_pinned_versions_are_the_ones_the_driver_was_written_for():
    assert faust.__version__.startswith("0.1"), faust.__version__
    assert aiokafka.__version__.split(".")[0] == "0", aiokafka.__version__


def test_the_acked_count_the_driver_resets_is_still_a_class_attribute():
    assert isinstance(faust_consumer.Consumer._n_acked, int), "Consumer._n_acked changed: check kafka_driver's loop"


def test_the_current_event_is_a_context_variable():
    assert isinstance(_current_event, contextvars.ContextVar), (
        "faust.streams._current_event is no longer a ContextVar: kafka_driver.handling must change")


@pytest.mark.parametrize("owner, method, names", [
    (faust_consumer.Consumer, "__init__", ["_committed_offset", "_read_offset", "_commit_every"]),
    (faust_consumer.Consumer, "_drain_messages", ["_add_gap", "wait_first", "suspend_flow", "_read_offset"]),
    (faust_aiokafka.AIOKafkaConsumerThread, "_create_worker_consumer", ["fetch_max_wait_ms"]),
    (aiokafka.AIOKafkaConsumer, "__init__", ["_fetch_max_wait_ms"]),
    (Fetcher, "__init__", ["_fetch_max_wait_ms"]),
    (Conductor, "__init__", ["_tp_index"]),
])
def test_the_private_names_the_driver_uses_are_still_set_where_it_expects(owner, method, names):
    source = source_of(getattr(owner, method))
    missing = [n for n in names if n not in source]
    assert not missing, f"{owner.__module__}.{owner.__qualname__}.{method} no longer mentions {missing}: " \
                        "check streams/worker/kafka_driver.py against the new version"


@pytest.mark.parametrize("owner, name", [
    (faust_aiokafka.AIOKafkaConsumerThread, "_create_worker_consumer"),
    (faust_aiokafka.AIOKafkaConsumerThread, "_ensure_consumer"),
    (faust_aiokafka.Consumer, "_new_consumer_thread"),
    (faust_consumer.Consumer, "_handle_attached"),
    (faust_consumer.Consumer, "_drain_messages"),
    (faust_consumer.Consumer, "_add_gap"),
    (TableManager, "changelog_topics"),
])
def test_the_private_methods_the_driver_overrides_or_calls_still_exist(owner, name):
    assert hasattr(owner, name), f"{owner.__qualname__}.{name} is gone: streams/worker/kafka_driver.py overrides or calls it"


def test_drain_messages_is_still_the_loop_the_driver_copied():
    digest = hashlib.sha256(source_of(faust_consumer.Consumer._drain_messages).encode()).hexdigest()
    assert digest == DRAIN_MESSAGES_SHA256, (
        "faust.transport.consumer.Consumer._drain_messages changed: re-copy it into "
        "streams/worker/kafka_driver.py Consumer._drain_messages (keeping the cheaper delivery), then record its "
        f"new sha256 here ({digest})")
