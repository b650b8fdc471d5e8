"""Vigil's topics, created explicitly with the partition count from settings."""

from __future__ import annotations

from dataclasses import dataclass

from streams.settings import Settings


@dataclass(frozen=True)
class TopicSpec:
    name: str  # short name; the full name is <prefix>.<name>
    what: str
    compacted: bool = False
    partitions: int | None = None  # None: settings.partitions


TOPICS = (
    TopicSpec("events", "access events in, key = user"),
    TopicSpec("scored", "each event with its score, risk and reasons"),
    TopicSpec("alerts", "risk-band crossings"),
    TopicSpec("deadletter", "messages that broke the contract, with the reason and raw bytes"),
    TopicSpec("directory", "who each user is (role, team, …), key = user", compacted=True),
    TopicSpec("tickets", "ticket assignments, key = ticket_id", compacted=True),
    TopicSpec("tickets-by-user", "ticket assignments re-keyed by assignee (internal)"),
    TopicSpec("feedback", "analysts' verdicts on alerts, key = user"),
    TopicSpec("population", "each partition's part of the organisation-wide population, key = partition (internal)",
              compacted=True),
    # One partition: one worker decides on automation, so one circuit breaker counts every suspension.
    TopicSpec("responses", "alerts at or above the response band, in order (internal)", partitions=1),
    TopicSpec("actions", "what automation did: requested, succeeded, failed, skipped and why"),
    TopicSpec("audit", "who revealed, queried, judged, approved, reinstated, paused or changed keys", partitions=1),
    TopicSpec("access", "people's API keys (hashed) and roles, key = key id", compacted=True, partitions=1),
    TopicSpec("pseudonyms", "the user behind each pseudonym, key = pseudonym (internal: any worker maps one back)",
              compacted=True, partitions=1),
    TopicSpec("controls", "switches every worker follows, e.g. automation paused, key = switch", compacted=True,
              partitions=1),
)


def create_topics(settings: Settings) -> list[str]:
    """Create any of Vigil's topics (and the source and findings topics it is set to use) that are missing; return
    the names created."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="vigil-admin")
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(
                settings.topic(t.name),
                num_partitions=t.partitions or settings.partitions,
                replication_factor=1,
                topic_configs={"cleanup.policy": "compact"} if t.compacted else {},
            )
            for t in TOPICS
            if settings.topic(t.name) not in existing
        ]
        # The source topics shippers write to and the findings topic for a SIEM, if they are not there yet.
        outside = [topic for _, topic in settings.source_topics] + [settings.findings_topic or ""]
        wanted += [NewTopic(name, num_partitions=settings.partitions, replication_factor=1)
                   for name in dict.fromkeys(outside) if name and name not in existing]
        if wanted:
            admin.create_topics(wanted)
        return [t.name for t in wanted]
    finally:
        admin.close()
