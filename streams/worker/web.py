"""The worker's web API and dashboard. Bearer token on everything but /health and the page shell."""

from __future__ import annotations

import asyncio
import hmac
import importlib.resources
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import faust
import msgspec
import orjson
from aiohttp import web as aioweb
from faust.web import Request, Response, View
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from models.risk import BANDS
from streams.settings import Settings
from streams.store.clickhouse import QueryRejected
from streams.worker.counters import WorkerCounters
from streams.worker.feedback import FIND_ALERT, FeedbackError, verdict_record
from streams.worker.live import LiveBoard
from streams.worker.sink import ClickHouseSink

RAW_FORMATS = ("Parquet", "CSVWithNames", "JSONEachRow")
DASHBOARD = Path(__file__).parent / "dashboard"
PLOTLY_JS = Path(str(importlib.resources.files("plotly"))) / "package_data" / "plotly.min.js"
STATIC = {"dashboard.js": (DASHBOARD / "dashboard.js", "text/javascript"),
          "dashboard.css": (DASHBOARD / "dashboard.css", "text/css"),
          "plotly.min.js": (PLOTLY_JS, "text/javascript")}

class LeaderboardQuery(msgspec.Struct, forbid_unknown_fields=True):
    """``/api/leaderboard`` query parameters."""

    limit: Annotated[int, msgspec.Meta(ge=1, le=500)] = 20


class AlertsQuery(msgspec.Struct, forbid_unknown_fields=True):
    """``/api/alerts`` query parameters.

    >>> query_params({"band": "high", "limit": "5"}, AlertsQuery)
    AlertsQuery(band='high', status='any', user='', limit=5)
    >>> query_params({"limit": "lots"}, AlertsQuery)
    Traceback (most recent call last):
    ...
    streams.worker.web.BadQuery: Expected `int`, got `str` - at `$.limit`
    """

    band: Literal[BANDS] = "medium"
    status: Literal["open", "benign", "malicious", "any"] = "any"
    user: str = ""
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 100


class BadQuery(ValueError):
    """A query parameter that does not fit its endpoint; the message says which and why (a 400, never a 500)."""


Shape = TypeVar("Shape")


def query_params(query, shape: type[Shape]) -> Shape:
    """The request's query parameters as `shape`, numbers converted from text; `BadQuery` if they do not fit."""
    try:
        return msgspec.convert(dict(query), shape, strict=False)
    except msgspec.ValidationError as e:
        raise BadQuery(str(e)) from None


ALERTS_SQL = """
SELECT a.alert_id AS alert_id, a.ts AS ts, a.user AS user, a.band AS band, a.previous AS previous, a.risk AS risk,
       a.reasons AS reasons, a.techniques AS techniques, if(f.verdict = '', 'open', f.verdict) AS status
FROM vigil.alerts AS a
LEFT JOIN (SELECT alert_id, argMax(verdict, ts) AS verdict FROM vigil.feedback GROUP BY alert_id) AS f
       ON f.alert_id = a.alert_id
WHERE a.band IN {bands:Array(String)} AND ({status:String} = 'any' OR status = {status:String})
  AND ({user:String} = '' OR a.user = {user:String})
ORDER BY a.ts DESC
LIMIT {limit:UInt32}
"""
HISTORY_SQL = ("SELECT hour, max(peak_risk) AS risk FROM vigil.user_hourly WHERE user = {user:String} "
               "GROUP BY hour ORDER BY hour")
EVENTS_SQL = ("SELECT ts, action, resource, record_id, records, src_ip, device, score, risk, band, reasons "
              "FROM vigil.scored_events WHERE user = {user:String} ORDER BY ts DESC LIMIT 50")


def register(app: faust.App, settings: Settings, sink: ClickHouseSink, counters: WorkerCounters, board: LiveBoard,
             user_state, detector_now, topics: dict[str, faust.TopicT], token: str) -> None:
    expected = f"Bearer {token}".encode()

    def authorized(request: Request, allow_query_token: bool = False) -> bool:
        given = request.headers.get("Authorization", "")
        if not given and allow_query_token:  # EventSource cannot send headers
            given = f"Bearer {request.query.get('token', '')}"
        return hmac.compare_digest(given.encode(), expected)

    def json(view: View, body: object, status: int = 200) -> Response:
        return view.bytes(orjson.dumps(body, default=str), content_type="application/json", status=status)

    def denied(view: View) -> Response:
        return json(view, {"error": "missing or wrong bearer token"}, status=401)

    async def rows(sql: str, parameters: dict) -> list[dict]:
        result = await sink.run(sink.store.query_readonly, sql, parameters)
        return [dict(zip(result.columns, row)) for row in result.rows]

    @app.page("/health")
    class Health(View):
        """Unauthenticated liveness probe."""

        async def get(self, request: Request) -> Response:
            return json(self, {"status": "ok", **counters.to_dict()})

    @app.page("/metrics")
    class Metrics(View):
        """Prometheus text format: events, dead-letters, alerts, hook outcomes, consumer lag."""

        async def get(self, request: Request) -> Response:
            if not authorized(request):
                return denied(self)
            registry = CollectorRegistry()
            registry.register(_Collector(app, counters, settings.topic("events")))
            return self.bytes(generate_latest(registry), content_type="text/plain; version=0.0.4")

    @app.page("/query")
    class Query(View):
        """POST {"sql": "...", "parameters": {...}} → {"columns": [...], "rows": [[...]]}, read-only."""

        async def post(self, request: Request) -> Response:
            if not authorized(request):
                return denied(self)
            try:
                body = orjson.loads(await request.read())
                sql, parameters, fmt = body["sql"], body.get("parameters"), body.get("format")
            except (orjson.JSONDecodeError, KeyError, TypeError):
                return json(self, {"error": 'expected a JSON body {"sql": "...", "parameters": {...}}'}, status=400)
            try:
                if fmt is not None:  # a ClickHouse output format, e.g. Parquet: bytes as ClickHouse wrote them
                    if fmt not in RAW_FORMATS:
                        return json(self, {"error": f"format must be one of {', '.join(RAW_FORMATS)}"}, status=400)
                    data = await sink.run(sink.store.query_readonly_raw, sql, parameters, fmt)
                    return self.bytes(data, content_type="application/octet-stream")
                result = await sink.run(sink.store.query_readonly, sql, parameters)
            except QueryRejected as e:
                return json(self, {"error": str(e)}, status=400)
            return json(self, {"columns": result.columns, "rows": result.rows})

    @app.page("/api/leaderboard")
    class Leaderboard(View):
        """This worker's users by current risk."""

        async def get(self, request: Request) -> Response:
            if not authorized(request):
                return denied(self)
            try:
                limit = query_params(request.query, LeaderboardQuery).limit
            except BadQuery as e:
                return json(self, {"error": str(e)}, status=400)
            return json(self, board.leaderboard(limit))

    @app.page("/api/alerts")
    class Alerts(View):
        """?band=high (that band and above) &status=open|benign|malicious|any &user=… &limit=…"""

        async def get(self, request: Request) -> Response:
            if not authorized(request):
                return denied(self)
            try:
                query = query_params(request.query, AlertsQuery)
            except BadQuery as e:
                return json(self, {"error": str(e)}, status=400)
            parameters = {"bands": list(BANDS[BANDS.index(query.band):]), "status": query.status, "user": query.user,
                          "limit": query.limit}
            return json(self, await rows(ALERTS_SQL, parameters))

    @app.page("/api/users/{user}")
    class UserProfile(View):
        """A user's risk history, what weighs in their risk now, recent events and alerts."""

        @app.table_route(table=user_state, match_info="user")
        async def get(self, request: Request, user: str) -> Response:
            if not authorized(request):
                return denied(self)
            # The live detector, not the table: the table is saved about once a second, at offset commits.
            detector = detector_now(user.encode())
            reasons = []
            if detector is not None:
                latest = board.users.get(user, {}).get("ts") or detector.ledger_ts()
                reasons = [{"family": f, "points": p, "reason": r, "technique": t} for f, p, r, t in detector.ledger.top(latest, 5)]
            parameters = {"user": user}
            return json(self, {
                "user": user, "now": board.users.get(user), "reasons": reasons,
                "history": await rows(HISTORY_SQL, parameters), "events": await rows(EVENTS_SQL, parameters),
                "alerts": await rows(ALERTS_SQL, {"bands": list(BANDS), "status": "any", "user": user, "limit": 20}),
            })

    @app.page("/api/stream")
    class Stream(View):
        """Server-Sent Events: every alert and risk change as it happens."""

        async def get(self, request: Request) -> aioweb.StreamResponse:
            if not authorized(request, allow_query_token=True):
                return denied(self)
            response = aioweb.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
            await response.prepare(request)
            queue = board.subscribe()
            try:
                await response.write(b": connected\n\n")
                while True:
                    try:
                        message = await asyncio.wait_for(queue.get(), timeout=15)
                        await response.write(b"data: " + orjson.dumps(message, default=str) + b"\n\n")
                    except asyncio.TimeoutError:
                        await response.write(b": keep-alive\n\n")
            except (ConnectionResetError, asyncio.CancelledError):
                pass
            finally:
                board.unsubscribe(queue)
            return response

    @app.page("/api/feedback")
    class Feedback(View):
        """POST {"alert_id", "verdict": benign|malicious|clear, "note", "analyst"}."""

        async def post(self, request: Request) -> Response:
            if not authorized(request):
                return denied(self)
            try:
                body = orjson.loads(await request.read())
                alert_id = str(body["alert_id"])
                found = await sink.run(sink.store.query_readonly, FIND_ALERT, {"alert_id": alert_id})
                record = verdict_record(alert_id, found.rows, str(body.get("verdict")), str(body.get("analyst", "dashboard")),
                                        str(body.get("note", "")))
            except (orjson.JSONDecodeError, KeyError, TypeError) as e:
                return json(self, {"error": f"expected a JSON body with alert_id and verdict ({e})"}, status=400)
            except FeedbackError as e:
                return json(self, {"error": str(e)}, status=400)
            await topics["feedback"].send(key=record["user"].encode(), value=orjson.dumps(record))
            return json(self, {"ok": True, "feedback_id": record["feedback_id"]})

    @app.page("/dashboard")
    class Dashboard(View):
        """The page shell; it asks for the token and then talks to the API."""

        async def get(self, request: Request) -> Response:
            return self.bytes((DASHBOARD / "index.html").read_bytes(), content_type="text/html")

    @app.page("/static/{name}")
    class Static(View):
        async def get(self, request: Request, name: str) -> Response:
            if name not in STATIC:
                return json(self, {"error": "not found"}, status=404)
            path, content_type = STATIC[name]
            return self.bytes(path.read_bytes(), content_type=content_type)


class _Collector:
    """Reads the counters and the consumer's lag at scrape time."""

    def __init__(self, app: faust.App, counters: WorkerCounters, events_topic: str) -> None:
        self.app, self.counters, self.events_topic = app, counters, events_topic

    def collect(self):
        c = self.counters
        for name, value, what in (("events_scored", c.scored, "Events scored"), ("dead_letters", c.dead_letters,
                                  "Messages sent to the dead-letter topic"), ("alerts", c.alerts, "Alerts raised"),
                                  ("rows_stored", c.stored, "Rows written to ClickHouse"),
                                  ("feedback_applied", c.feedback_applied, "Analyst verdicts applied")):
            yield CounterMetricFamily(f"vigil_{name}", what, value=value)
        hooks = CounterMetricFamily("vigil_hook_outcomes", "Response hook outcomes", labels=["hook", "status"])
        for key, value in c.actions.items():
            hooks.add_metric(key.split(":", 1), value)
        yield hooks
        lag = GaugeMetricFamily("vigil_consumer_lag", "Messages of vigil.events not yet committed", labels=["partition"])
        consumer = self.app.consumer
        for tp in sorted(consumer.assignment()):
            if tp.topic == self.events_topic:
                committed = consumer._committed_offset.get(tp) or 0
                highwater = consumer.highwater(tp) or 0  # None until the partition is first fetched
                lag.add_metric([str(tp.partition)], max(highwater - committed, 0))
        yield lag
