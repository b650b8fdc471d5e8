"""Every worker follows the whole compacted directory topic: who each user is, kept in memory."""

from __future__ import annotations

import logging
from datetime import timezone, tzinfo

from models import Profile
from streams.contract import InvalidRecord, parse_directory_entry
from streams.worker.counters import WorkerCounters
from streams.worker.follower import Follower

log = logging.getLogger(__name__)


class Directory:
    """Profiles by user, from ``vigil.directory`` read from the beginning and followed by every worker.

    A tombstone removes a user; an invalid entry is logged and skipped,
    leaving the previous one.
    """

    def __init__(self, bootstrap: str, topic: str, counters: WorkerCounters, zone: tzinfo = timezone.utc) -> None:
        self.counters = counters
        self.zone = zone  # of date-only dates
        self.profiles: dict[bytes, Profile] = {}
        self.follower = Follower(bootstrap, topic, self.apply)
        self.loaded = self.follower.loaded  # set once the topic has been read to its end at start
        self.follow = self.follower.follow

    def profile(self, user: bytes) -> Profile:
        return self.profiles.get(user) or Profile()

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        if value is None:
            self.profiles.pop(key, None)
        else:
            try:
                self.profiles[key] = Profile.from_entry(parse_directory_entry(value, self.zone))
            except InvalidRecord as bad:
                self.counters.directory_rejected += 1
                log.warning("directory entry for %r rejected: %s", key, bad.reason)
        self.counters.directory_users = len(self.profiles)
