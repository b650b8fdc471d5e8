"""The organisation-wide population: each worker publishes its partitions' parts, and folds in everyone else's."""

from __future__ import annotations

import logging
from collections.abc import Callable

from streams.worker.follower import Follower

log = logging.getLogger(__name__)


class PopulationFeed:
    """Follows ``vigil.population`` (compacted, key = partition number): every worker's parts of the population.

    The scoring agent publishes the part of each partition it owns when it saves its state (about once a
    second); `adopt(partition, state)` takes the others'. Peer baselines, prevalence and what people do
    today are then the whole organisation's in every worker, whatever the partition count.
    """

    def __init__(self, bootstrap: str, topic: str, adopt: Callable[[int, bytes], None]) -> None:
        self.adopt = adopt
        self.follower = Follower(bootstrap, topic, self.apply)
        self.follow = self.follower.follow

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        try:
            partition = int(key or b"")
        except ValueError:
            log.warning("vigil.population record with key %r skipped: keys are partition numbers", key)
            return
        if not value:
            return
        try:
            self.adopt(partition, value)
        except (ValueError, KeyError, TypeError, AttributeError) as bad:  # orjson's decode error is a ValueError
            log.warning("vigil.population part of partition %d skipped: %s", partition, bad)
