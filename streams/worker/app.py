"""The Faust app: topics, the scoring agent and its table, the ClickHouse sink, the web API."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import faust

from streams.access.keys import KeyRing
from streams.access.oidc import OidcVerifier
from streams.access.pseudonyms import Pseudonyms
from streams.access.sessions import SessionSigner
from streams.settings import Settings, api_token, secret_key
from streams.store.clickhouse import ClickHouseStore
from streams.worker import (
    findings,
    guard,
    intake,
    kafka_driver,
    live,
    people,
    pseudonym_feed,
    response,
    scoring,
    sink,
    web,
)
from streams.worker.controls import Controls
from streams.worker.counters import WorkerCounters
from streams.worker.directory import Directory
from streams.worker.follower import Follower
from streams.worker.inbox import Inbox
from streams.worker.topics import TOPICS


class App(faust.App):
    """Faust's app without its Monitor sensor in the path of every message.

    Faust calls each sensor several times per message and per stream event;
    its Monitor keeps per-topic and per-partition statistics for Faust's own
    web views, which Vigil does not serve (its counters feed `/health` and
    `/metrics`). The monitor object stays (Faust reports commits and end
    offsets to it directly); it just no longer sees every event.
    """

    def on_init_dependencies(self):
        dependencies = super().on_init_dependencies()
        self.sensors.remove(self.monitor)
        return dependencies


def create_app(settings: Settings, store: ClickHouseStore) -> faust.App:
    """Build the worker's app from `settings`. Data flows events → score → scored/alerts → sink."""
    gate, needs = _gate(settings), {}
    app = App(
        settings.app_id,
        broker=f"{kafka_driver.SCHEME}://{settings.kafka_bootstrap}",
        store=settings.store,
        datadir=str(settings.data_dir / "faust"),
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        topic_allow_declare=True,
        web_enabled=True,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port,
        # Commit about once a second: each commit first saves the users' state the scoring agent changed
        # (streams/worker/scoring.py), and a restart replays (and the sink deduplicates) at most that second.
        broker_commit_every=100_000,
        broker_commit_interval=1.0,
        # `needs` is filled below, once the views are registered
        web_application_options={"middlewares": [guard.guard(gate, needs), web.refuse_bad_requests]},
        # Scored records, alerts, dead letters and rerouted events are sent as they come; without a
        # linger aiokafka sends each as its own request, and socket writes dominate the profile.
        producer_linger_ms=5,
        producer_max_batch_size=256 * 1024,
    )
    topics = {
        t.name: app.topic(
            settings.topic(t.name),
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=t.partitions or settings.partitions,
        )
        for t in TOPICS
    }
    counters = WorkerCounters()
    directory = Directory(settings.kafka_bootstrap, settings.topic("directory"), counters, settings.date_tz)
    app.task(directory.follow)
    controls, pseudonyms = Controls(), Pseudonyms(secret_key(settings))
    for name, apply in (("access", gate.keys.apply), ("controls", controls.apply)):
        app.task(Follower(settings.kafka_bootstrap, settings.topic(name), apply).follow)
    board = live.LiveBoard()
    user_state, detector_now = scoring.register(app, settings, topics, directory, counters, board)
    inbox = Inbox(topics["deadletter"], counters)
    intake.register(app, settings, topics["events"], inbox)
    live.register(app, topics, inbox, board)
    pseudonym_feed.register(app, settings, topics["pseudonyms"], board, pseudonyms)
    response.register(app, settings, topics, inbox, counters, controls, pseudonyms)
    findings.register(app, settings, topics["alerts"], inbox)
    clickhouse = sink.ClickHouseSink(store, counters, inbox,
                                     lambda: store.migrate(settings.clickhouse_cluster, settings.retention_days))
    sink.register(app, settings, topics, clickhouse)
    context = web.WebContext(app=app, settings=settings, sink=clickhouse, counters=counters, board=board,
                             detector_now=detector_now, topics=topics, gate=gate, pseudonyms=pseudonyms,
                             controls=controls, user_table=user_state.name,
                             query_lane=ThreadPoolExecutor(settings.query_concurrency, "analyst-query"))
    needs.update(web.register(app, context, web.ROUTES | people.ROUTES))
    return app


def _gate(settings: Settings) -> guard.Gate:
    """Who may ask: people's keys (followed from the access topic), the break-glass token, sessions, OIDC."""
    oidc = None
    if settings.oidc_jwks_url:
        oidc = OidcVerifier(settings.oidc_jwks_url, settings.oidc_audience, settings.oidc_issuer,
                            settings.oidc_role_claim)
    return guard.Gate(api_token(settings), KeyRing(), SessionSigner(secret_key(settings), settings.session_hours * 3600),
                      guard.StreamTickets(), oidc)
