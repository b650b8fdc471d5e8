"""The worker's web API and dashboard: thin views over the live board, the store and the feedback topic.

A bearer token guards everything but ``/health`` and the page shell (`bearer_auth`, an aiohttp middleware), and
the live stream opens with a single-use ticket, so no key ever travels in a URL;
query parameters and request bodies are typed structs, so a bad request is a 400 that says why.
"""

from __future__ import annotations

import asyncio
import hmac
import importlib.resources
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Callable, Literal, TypeVar

import faust
import msgspec
import orjson
from aiohttp import web as aioweb
from faust.web import Request, Response, View
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from models.risk import BANDS
from streams.errors import VigilError
from streams.settings import Settings
from streams.store.clickhouse import QueryRejected
from streams.worker import kafka_driver
from streams.worker.counters import WorkerCounters
from streams.worker.feedback import FIND_ALERT, FeedbackError, verdict_record
from streams.worker.live import LiveBoard
from streams.worker.sink import ClickHouseSink

DASHBOARD = Path(__file__).parent / "dashboard"
PLOTLY_JS = Path(str(importlib.resources.files("plotly"))) / "package_data" / "plotly.min.js"
STATIC = {"dashboard.js": (DASHBOARD / "dashboard.js", "text/javascript"),
          "dashboard.css": (DASHBOARD / "dashboard.css", "text/css"),
          "plotly.min.js": (PLOTLY_JS, "text/javascript")}
PUBLIC_PATHS = ("/health", "/dashboard")  # and /static/…: the page shell asks for the token itself


class StreamTickets:
    """Short-lived, single-use tickets for the live stream: a browser's EventSource cannot send a header, and a
    key in a URL ends up in logs and histories, so the page trades its header for a ticket first.

    >>> tickets = StreamTickets(ttl=30)
    >>> ticket = tickets.issue(now=100.0)
    >>> tickets.redeem(ticket, now=110.0), tickets.redeem(ticket, now=111.0)  # once only
    (True, False)
    >>> tickets.redeem(tickets.issue(now=100.0), now=131.0)  # too late
    False
    """

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self.open: dict[str, float] = {}  # ticket -> expiry (wall clock)

    def issue(self, now: float) -> str:
        self.open = {t: until for t, until in self.open.items() if until > now}  # forget the unused
        ticket = secrets.token_urlsafe(24)
        self.open[ticket] = now + self.ttl
        return ticket

    def redeem(self, ticket: str, now: float) -> bool:
        return self.open.pop(ticket, 0.0) > now


def bearer_auth(token: str, tickets: StreamTickets):
    """aiohttp middleware: every path but the public ones needs ``Authorization: Bearer <token>``; the live stream
    takes a ticket from `tickets` instead (``?ticket=``), never the token."""
    expected = f"Bearer {token}".encode()

    @aioweb.middleware
    async def authorize(request: aioweb.Request, handler):
        if request.path in PUBLIC_PATHS or request.path.startswith("/static/"):
            return await handler(request)
        if request.path == "/api/stream" and tickets.redeem(request.query.get("ticket", ""), time.time()):
            return await handler(request)
        if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected):
            return aioweb.json_response({"error": "missing or wrong bearer token"}, status=401)
        return await handler(request)

    return authorize


# -- what requests may say ---------------------------------------------------------------
class BadRequest(VigilError, ValueError):
    """A request that does not fit its endpoint; the message says which field and why (a 400, never a 500)."""


Shape = TypeVar("Shape")


def query_params(query, shape: type[Shape]) -> Shape:
    """The request's query parameters as `shape`, numbers converted from text; `BadRequest` if they do not fit."""
    try:
        return msgspec.convert(dict(query), shape, strict=False)
    except msgspec.ValidationError as e:
        raise BadRequest(str(e)) from None


def json_body(raw: bytes, shape: type[Shape]) -> Shape:
    """A JSON request body as `shape`; `BadRequest` naming the field if it does not fit.

    >>> json_body(b'{"sql": "SELECT 1"}', QueryBody)
    QueryBody(sql='SELECT 1', parameters=None, format=None)
    >>> json_body(b'{"sql": 1}', QueryBody)
    Traceback (most recent call last):
    ...
    streams.worker.web.BadRequest: Expected `str`, got `int` - at `$.sql`
    """
    try:
        return msgspec.json.decode(raw, type=shape)
    except (msgspec.ValidationError, msgspec.DecodeError) as e:
        raise BadRequest(str(e)) from None


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
    streams.worker.web.BadRequest: Expected `int`, got `str` - at `$.limit`
    """

    band: Literal[BANDS] = "medium"
    status: Literal["open", "benign", "malicious", "any"] = "any"
    user: str = ""
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 100


class QueryBody(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /query``: one read-only statement, its bound parameters, and optionally a ClickHouse output format."""

    sql: str
    parameters: dict[str, Any] | None = None
    format: Literal["Parquet", "CSVWithNames", "JSONEachRow"] | None = None


class FeedbackBody(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /api/feedback``: an analyst's verdict on an alert."""

    alert_id: str
    verdict: str  # checked by `verdict_record`, whose refusal lists the verdicts
    note: str = ""
    analyst: str = "dashboard"


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


@dataclass
class WebContext:
    """What the views read and write: the worker's app, settings, store, counters, live board and feedback topic."""

    app: faust.App
    settings: Settings
    sink: ClickHouseSink
    counters: WorkerCounters
    board: LiveBoard
    detector_now: Callable  # user key → the live detector, or None
    feedback: faust.TopicT
    stream_tickets: StreamTickets

    async def rows(self, sql: str, parameters: dict) -> list[dict]:
        result = await self.sink.run(self.sink.store.query_readonly, sql, parameters)
        return [dict(zip(result.columns, row)) for row in result.rows]


class VigilView(View):
    """A view of Vigil's API; `register` gives each app's views its `WebContext`."""

    ctx: WebContext

    def json(self, body: object, status: int = 200) -> Response:
        return self.bytes(orjson.dumps(body, default=str), content_type="application/json", status=status)

    def refuse(self, error: Exception | str) -> Response:
        return self.json({"error": str(error)}, status=400)


class Health(VigilView):
    """Liveness and the worker's counters (no token)."""

    async def get(self, request: Request) -> Response:
        return self.json({"status": "ok", **self.ctx.counters.to_dict()})


class Metrics(VigilView):
    """Prometheus text format: events, dead-letters, alerts, hook outcomes, consumer lag."""

    async def get(self, request: Request) -> Response:
        registry = CollectorRegistry()
        registry.register(_Collector(self.ctx.app, self.ctx.counters, self.ctx.settings.topic("events")))
        return self.bytes(generate_latest(registry), content_type="text/plain; version=0.0.4")


class Query(VigilView):
    """POST {"sql": "...", "parameters": {...}, "format": …} → {"columns": [...], "rows": [[...]]}, read-only."""

    async def post(self, request: Request) -> Response:
        store, run = self.ctx.sink.store, self.ctx.sink.run
        try:
            body = json_body(await request.read(), QueryBody)
            if body.format is not None:  # a ClickHouse output format, e.g. Parquet: bytes as ClickHouse wrote them
                data = await run(store.query_readonly_raw, body.sql, body.parameters, body.format)
                return self.bytes(data, content_type="application/octet-stream")
            result = await run(store.query_readonly, body.sql, body.parameters)
        except (BadRequest, QueryRejected) as e:
            return self.refuse(e)
        return self.json({"columns": result.columns, "rows": result.rows})


class Leaderboard(VigilView):
    """This worker's users by current risk."""

    async def get(self, request: Request) -> Response:
        try:
            limit = query_params(request.query, LeaderboardQuery).limit
        except BadRequest as e:
            return self.refuse(e)
        return self.json(self.ctx.board.leaderboard(limit))


class Alerts(VigilView):
    """?band=high (that band and above) &status=open|benign|malicious|any &user=… &limit=…"""

    async def get(self, request: Request) -> Response:
        try:
            query = query_params(request.query, AlertsQuery)
        except BadRequest as e:
            return self.refuse(e)
        return self.json(await self.ctx.rows(ALERTS_SQL, {
            "bands": list(BANDS[BANDS.index(query.band):]), "status": query.status, "user": query.user,
            "limit": query.limit}))


class UserProfile(VigilView):
    """A user's risk history, what weighs in their risk now, recent events and alerts (served by the user's worker)."""

    async def get(self, request: Request, user: str) -> Response:
        ctx = self.ctx
        # The live detector, not the table: the table is saved about once a second, at offset commits.
        detector, reasons = ctx.detector_now(user.encode()), []
        if detector is not None:
            latest = ctx.board.users.get(user, {}).get("ts") or detector.ledger_ts()
            reasons = [{"family": f, "points": p, "reason": r, "technique": t}
                       for f, p, r, t in detector.ledger.top(latest, 5)]
        return self.json({
            "user": user, "now": ctx.board.users.get(user), "reasons": reasons,
            "history": await ctx.rows(HISTORY_SQL, {"user": user}), "events": await ctx.rows(EVENTS_SQL, {"user": user}),
            "alerts": await ctx.rows(ALERTS_SQL, {"bands": list(BANDS), "status": "any", "user": user, "limit": 20}),
        })


class StreamTicket(VigilView):
    """POST → {"ticket": …}: a single-use ticket, valid 30 s, to open the live stream with (``/api/stream?ticket=``)."""

    async def post(self, request: Request) -> Response:
        tickets = self.ctx.stream_tickets
        return self.json({"ticket": tickets.issue(time.time()), "expires_in": tickets.ttl})


class Stream(VigilView):
    """Server-Sent Events: every alert and risk change as it happens (opened with a ticket, see `StreamTicket`)."""

    async def get(self, request: Request) -> aioweb.StreamResponse:
        response = aioweb.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        queue = self.ctx.board.subscribe()
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
            self.ctx.board.unsubscribe(queue)
        return response


class Feedback(VigilView):
    """POST {"alert_id", "verdict": benign|malicious|clear, "note", "analyst"} → vigil.feedback."""

    async def post(self, request: Request) -> Response:
        store, run = self.ctx.sink.store, self.ctx.sink.run
        try:
            body = json_body(await request.read(), FeedbackBody)
            found = await run(store.query_readonly, FIND_ALERT, {"alert_id": body.alert_id})
            record = verdict_record(body.alert_id, found.rows, body.verdict, body.analyst, body.note)
        except (BadRequest, FeedbackError) as e:
            return self.refuse(e)
        await self.ctx.feedback.send(key=record["user"].encode(), value=orjson.dumps(record))
        return self.json({"ok": True, "feedback_id": record["feedback_id"]})


class Dashboard(VigilView):
    """The page shell (no token); it asks for the token and then talks to the API."""

    async def get(self, request: Request) -> Response:
        return self.bytes((DASHBOARD / "index.html").read_bytes(), content_type="text/html")


class Static(VigilView):
    async def get(self, request: Request, name: str) -> Response:
        if name not in STATIC:
            return self.json({"error": "not found"}, status=404)
        path, content_type = STATIC[name]
        return self.bytes(path.read_bytes(), content_type=content_type)


ROUTES: dict[str, type[VigilView]] = {
    "/health": Health, "/metrics": Metrics, "/query": Query, "/api/leaderboard": Leaderboard, "/api/alerts": Alerts,
    "/api/users/{user}": UserProfile, "/api/stream-ticket": StreamTicket, "/api/stream": Stream, "/api/feedback": Feedback, "/dashboard": Dashboard,
    "/static/{name}": Static,
}


def register(app: faust.App, ctx: WebContext, user_state: faust.Table) -> None:
    """Serve every route on `app`; a user's profile is answered by the worker that owns the user's partition."""
    for path, view in ROUTES.items():
        bound = type(view.__name__, (view,), {"ctx": ctx})
        if view is UserProfile:
            bound.get = app.table_route(table=user_state, match_info="user")(view.get)
        app.page(path)(bound)


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
                committed = kafka_driver.committed_offset(consumer, tp)
                highwater = consumer.highwater(tp) or 0  # None until the partition is first fetched
                lag.add_metric([str(tp.partition)], max(highwater - committed, 0))
        yield lag
