"""The worker's web API and dashboard: thin views over the live board, the store and the feedback topic.

Each view names the role each of its methods needs (`VigilView.needs`); `streams.worker.guard` checks it
before the view runs. Users appear as pseudonyms in every answer but an investigator's raw query
(`streams.worker.people` reveals one identity at a time). Query parameters and request bodies are typed
structs, so a bad request is a 400 that says why.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.resources
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Callable, Literal, TypeVar

import faust
import msgspec
import orjson
from aiohttp import web as aioweb
from faust.exceptions import SameNode
from faust.web import Request, Response, View
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from models.risk import BANDS
from streams.access.audit import audit_record
from streams.access.pseudonyms import Pseudonyms
from streams.errors import VigilError
from streams.settings import Settings
from streams.store.clickhouse import QueryRejected
from streams.worker import kafka_driver
from streams.worker.controls import Controls
from streams.worker.counters import WorkerCounters
from streams.worker.feedback import FIND_ALERT, FeedbackError, verdict_record
from streams.worker.guard import Gate
from streams.worker.live import LiveBoard
from streams.worker.sink import ClickHouseSink

DASHBOARD = Path(__file__).parent / "dashboard"
PLOTLY_JS = Path(str(importlib.resources.files("plotly"))) / "package_data" / "plotly.min.js"
STATIC = {"dashboard.js": (DASHBOARD / "dashboard.js", "text/javascript"),
          "dashboard.css": (DASHBOARD / "dashboard.css", "text/css"),
          "plotly.min.js": (PLOTLY_JS, "text/javascript")}


# -- what requests may say ---------------------------------------------------------------
class ClientGone(Exception):
    """The client closed the connection before its answer was ready."""


class BadRequest(VigilError, ValueError):
    """A request that does not fit its endpoint; the message says which field and why (a 400, never a 500)."""


@aioweb.middleware
async def refuse_bad_requests(request: aioweb.Request, handler):
    """A request that does not fit its endpoint is a 400 that says why, whichever view it reached."""
    try:
        return await handler(request)
    except BadRequest as e:
        return aioweb.json_response({"error": str(e)}, status=400)


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


ALERTS_SQL = """
SELECT a.alert_id AS alert_id, a.ts AS ts, a.user AS user, a.band AS band, a.previous AS previous, a.risk AS risk,
       a.reasons AS reasons, a.techniques AS techniques, if(f.verdict = '', 'open', f.verdict) AS status,
       r.automation AS automation
FROM vigil.alerts AS a
LEFT JOIN (SELECT alert_id, argMax(verdict, ts) AS verdict FROM vigil.feedback GROUP BY alert_id) AS f
       ON f.alert_id = a.alert_id
LEFT JOIN (SELECT alert_id, argMax(status, (ts, attempt)) AS automation FROM vigil.actions WHERE hook = 'scim'
           GROUP BY alert_id) AS r ON r.alert_id = a.alert_id
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
    """What the views read and write: the worker's app, settings, store, live board and topics, and the gate."""

    app: faust.App
    settings: Settings
    sink: ClickHouseSink
    counters: WorkerCounters
    board: LiveBoard
    detector_now: Callable  # user key → the live detector, or None
    topics: dict[str, faust.TopicT]
    gate: Gate
    pseudonyms: Pseudonyms
    controls: Controls
    user_table: str = ""  # the users' state table, whose owner answers a profile
    query_lane: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "analyst-query"))
    _users_learned: float = 0.0

    async def rows(self, sql: str, parameters: dict) -> list[dict]:
        result = await self.sink.run(self.sink.store.query_readonly, sql, parameters)
        return [dict(zip(result.columns, row)) for row in result.rows]

    def shown(self, record: dict) -> dict:
        """`record` as people see it: its user a pseudonym."""
        return self.pseudonyms.hide(record)

    async def learn_users(self, at_most_every: float = 10.0) -> None:
        """Meet every user ClickHouse and this worker know, so pseudonyms map back (at most every few seconds)."""
        self.pseudonyms.learn(self.board.users)
        if time.monotonic() - self._users_learned > at_most_every:
            self._users_learned = time.monotonic()
            self.pseudonyms.learn(r["user"] for r in await self.rows(USERS_SQL, {}))

    async def resolve(self, pseudonym: str) -> str | None:
        """The user behind `pseudonym`, if Vigil has met them."""
        if (user := self.pseudonyms.user(pseudonym)) is None:
            await self.learn_users()
            user = self.pseudonyms.user(pseudonym)
        return user

    async def audit(self, request: Request, action: str, subject: str = "", reason: str = "", outcome: str = "ok",
                    detail: str = "") -> None:
        principal = request["principal"]
        entry = audit_record(principal.name, principal.roles, action, subject, reason, outcome, detail)
        await self.topics["audit"].send(key=principal.name.encode(), value=msgspec.json.encode(entry))


USERS_SQL = "SELECT DISTINCT user FROM vigil.user_hourly"


class VigilView(View):
    """A view of Vigil's API; `register` gives each app's views its `WebContext`.

    `needs` maps each method to the role it takes (`streams.worker.guard` checks it).
    """

    ctx: WebContext
    needs: dict[str, str] = {}

    def json(self, body: object, status: int = 200) -> Response:
        return self.bytes(orjson.dumps(body, default=str), content_type="application/json", status=status)

    def refuse(self, error: Exception | str, status: int = 400) -> Response:
        return self.json({"error": str(error)}, status=status)


class Health(VigilView):
    """Liveness and the worker's counters (no credentials)."""

    async def get(self, request: Request) -> Response:
        return self.json({"status": "ok", **self.ctx.counters.to_dict()})


class Metrics(VigilView):
    """Prometheus text format: events, dead-letters, alerts, hook outcomes, consumer lag."""

    needs = {"GET": "viewer"}

    async def get(self, request: Request) -> Response:
        registry = CollectorRegistry()
        registry.register(_Collector(self.ctx.app, self.ctx.counters, self.ctx.settings.topic("events")))
        return self.bytes(generate_latest(registry), content_type="text/plain; version=0.0.4")


class Query(VigilView):
    """POST {"sql": "...", "parameters": {...}, "format": …} → {"columns": [...], "rows": [[...]]}, read-only.

    Analysts get users as pseudonyms (columns and values); investigators get the rows as stored, and the
    ClickHouse output formats. Every query is in the audit trail; at most `query_concurrency` run at once,
    in threads of their own, and a query whose client goes away is stopped (KILL QUERY).
    """

    needs = {"POST": "analyst|investigator"}

    async def post(self, request: Request) -> Response:
        ctx, raw = self.ctx, request["principal"].has("investigator")
        body = json_body(await request.read(), QueryBody)
        if body.format is not None and not raw:
            return self.refuse(f"{body.format} output is as stored, with real names: it needs the investigator "
                               "role; ask without a format for pseudonymised rows", status=403)
        try:
            result = await self.run(request, body)
        except ClientGone:
            await ctx.audit(request, "query", outcome="cancelled", detail=f"{body.sql}\n-- the client went away")
            return self.refuse("cancelled: the client went away", status=499)
        except QueryRejected as e:
            await ctx.audit(request, "query", reason="", outcome="refused", detail=f"{body.sql}\n-- {e}")
            return self.refuse(e)
        await ctx.audit(request, "query", detail=body.sql)
        if isinstance(result, bytes):
            return self.bytes(result, content_type="application/octet-stream")
        rows = result.rows if raw else await self.hide(result)
        return self.json({"columns": result.columns, "rows": rows})

    async def run(self, request: Request, body: QueryBody):
        """In the analysts' own lane (`query_concurrency` threads), not the sink's; stopped if the client leaves."""
        store, tag, loop = self.ctx.sink.store, uuid.uuid4().hex, asyncio.get_running_loop()
        if body.format is not None:  # a ClickHouse output format, e.g. Parquet: bytes as ClickHouse wrote them
            call = functools.partial(store.query_readonly_raw, body.sql, body.parameters, body.format, tag)
        else:
            call = functools.partial(store.query_readonly, body.sql, body.parameters, tag)
        answer = loop.run_in_executor(self.ctx.query_lane, call)
        while not (await asyncio.wait({answer}, timeout=0.25))[0]:
            if request.transport is None or request.transport.is_closing():  # the client went away
                answer.add_done_callback(lambda done: done.exception())  # its refusal is expected: not an error
                while not answer.done():  # again until it stops: it may not have started when first asked
                    await loop.run_in_executor(None, store.cancel, tag)
                    await asyncio.wait({answer}, timeout=0.25)
                raise ClientGone
        return answer.result()

    async def hide(self, result) -> list[list]:
        """Every value that is a user's name, in any column (arrays too), replaced by the user's pseudonym."""
        await self.ctx.learn_users()
        return mask(result.rows, {user: pseudonym for pseudonym, user in self.ctx.pseudonyms.met.items()})


def mask(value, names: dict[str, str]):
    """`value` with every string that is a key of `names` replaced, at any depth of lists and tuples.

    >>> mask([["ann", 3, ["bob", "x"]]], {"ann": "u-1", "bob": "u-2"})
    [['u-1', 3, ['u-2', 'x']]]
    """
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, (list, tuple)):
        return [mask(v, names) for v in value]
    return value


class Leaderboard(VigilView):
    """This worker's users by current risk."""

    needs = {"GET": "viewer"}

    async def get(self, request: Request) -> Response:
        limit = query_params(request.query, LeaderboardQuery).limit
        return self.json([self.ctx.shown(r) for r in self.ctx.board.leaderboard(limit)])


class Alerts(VigilView):
    """?band=high (that band and above) &status=open|benign|malicious|any &user=PSEUDONYM &limit=…"""

    needs = {"GET": "viewer"}

    async def get(self, request: Request) -> Response:
        query = query_params(request.query, AlertsQuery)
        user = await self.ctx.resolve(query.user) if query.user else ""
        if user is None:
            return self.json([])
        rows = await self.ctx.rows(ALERTS_SQL, {
            "bands": list(BANDS[BANDS.index(query.band):]), "status": query.status, "user": user,
            "limit": query.limit})
        return self.json([self.ctx.shown(r) for r in rows])


class UserProfile(VigilView):
    """A user's (by pseudonym) risk history, what weighs in their risk now, recent events and alerts; answered by
    the worker that owns the user's partition."""

    needs = {"GET": "viewer"}

    async def get(self, request: Request, user: str) -> Response:
        ctx = self.ctx
        if (real := await ctx.resolve(user)) is None:
            return self.refuse(f"no user is known as {user!r}", status=404)
        try:
            return await ctx.app.router.route_req(ctx.user_table, real, self.web, request)
        except SameNode:
            pass
        # The live detector, not the table: the table is saved about once a second, at offset commits.
        detector, reasons = ctx.detector_now(real.encode()), []
        if detector is not None:
            latest = ctx.board.users.get(real, {}).get("ts") or detector.ledger_ts()
            reasons = [{"family": f, "points": p, "reason": r, "technique": t}
                       for f, p, r, t in detector.ledger.top(latest, 5)]
        now = ctx.board.users.get(real)
        alerts = await ctx.rows(ALERTS_SQL, {"bands": list(BANDS), "status": "any", "user": real, "limit": 20})
        return self.json({
            "user": user, "now": now and ctx.shown(now), "reasons": reasons,
            "history": await ctx.rows(HISTORY_SQL, {"user": real}), "events": await ctx.rows(EVENTS_SQL, {"user": real}),
            "alerts": [ctx.shown(a) for a in alerts],
        })


class StreamTicket(VigilView):
    """POST → {"ticket": …}: a single-use ticket, valid 30 s, to open the live stream with (``/api/stream?ticket=``)."""

    needs = {"POST": "viewer"}

    async def post(self, request: Request) -> Response:
        tickets = self.ctx.gate.tickets
        return self.json({"ticket": tickets.issue(request["principal"], time.time()), "expires_in": tickets.ttl})


class Stream(VigilView):
    """Server-Sent Events: every alert and risk change as it happens (opened with a ticket, see `StreamTicket`)."""

    needs = {"GET": "viewer"}

    async def get(self, request: Request) -> aioweb.StreamResponse:
        response = aioweb.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        queue = self.ctx.board.subscribe()
        try:
            await response.write(b": connected\n\n")
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), timeout=15)
                    await response.write(b"data: " + orjson.dumps(self.ctx.shown(message), default=str) + b"\n\n")
                except asyncio.TimeoutError:
                    await response.write(b": keep-alive\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.ctx.board.unsubscribe(queue)
        return response


class Feedback(VigilView):
    """POST {"alert_id", "verdict": benign|malicious|clear, "note"} → vigil.feedback, signed by whoever sent it."""

    needs = {"POST": "analyst"}

    async def post(self, request: Request) -> Response:
        store, run, analyst = self.ctx.sink.store, self.ctx.sink.run, request["principal"].name
        try:
            body = json_body(await request.read(), FeedbackBody)
            found = await run(store.query_readonly, FIND_ALERT, {"alert_id": body.alert_id})
            record = verdict_record(body.alert_id, found.rows, body.verdict, analyst, body.note)
        except FeedbackError as e:
            return self.refuse(e)
        await self.ctx.topics["feedback"].send(key=record["user"].encode(), value=orjson.dumps(record))
        await self.ctx.audit(request, "verdict", body.alert_id, body.note, detail=body.verdict)
        return self.json({"ok": True, "feedback_id": record["feedback_id"]})


class Dashboard(VigilView):
    """The page shell (no credentials); it signs in and then talks to the API."""

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
    "/api/users/{user}": UserProfile, "/api/stream-ticket": StreamTicket, "/api/stream": Stream,
    "/api/feedback": Feedback, "/dashboard": Dashboard, "/static/{name}": Static,
}


def register(app: faust.App, ctx: WebContext, routes: dict[str, type[VigilView]]) -> dict[tuple[str, str], str]:
    """Serve every route on `app`; return the role each (method, route) needs, for `guard`."""
    needs = {}
    for path, view in routes.items():
        app.page(path)(type(view.__name__, (view,), {"ctx": ctx}))
        needs |= {(method, path): role for method, role in view.needs.items()}
    return needs


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
