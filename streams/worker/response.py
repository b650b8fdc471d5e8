"""The response agent: alerts at or above the response band run the hooks, safely.

vigil.alerts → (band ≥ respond_at) → vigil.responses (one partition) → hooks → vigil.actions

- webhook: signed JSON POST (HMAC-SHA256 over timestamp and body) with an idempotency key;
- SCIM 2.0: ``PATCH /Users/{id}`` setting ``active`` to false (RFC 7644);
- safety: dry-run, a never-suspend allowlist, a pause a responder can set (`Controls`), a circuit
  breaker that stops suspensions when there are too many in a short time (a model bug must not lock out
  the company), and four eyes: a suspension that rests on a person's verdict alone waits until a second
  person approves it (``POST /api/approvals``, which resends the alert here marked approved).

Every step goes to vigil.actions: requested, succeeded, failed, skipped, with why.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections import deque

import aiohttp
import faust
import msgspec
import orjson

from models.risk import BANDS
from streams.access.pseudonyms import Pseudonyms
from streams.contract import dead_letter_headers
from streams.records import ActionRecord, AlertRecord
from streams.settings import Settings
from streams.worker.controls import Controls
from streams.worker.counters import WorkerCounters
from streams.worker.findings import FORMATS
from streams.worker.inbox import Inbox

log = logging.getLogger(__name__)
SYSTEM_USER = "vigil-automation"
VERDICT_FAMILY = "verdict"  # the evidence of an alert raised by an analyst's malicious verdict
APPROVED_BY = "vigil-approved-by"  # header of an approved alert on vigil.responses


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The webhook signature: ``sha256=`` + HMAC-SHA256 of ``timestamp + "." + body``.

    Examples
    --------
    >>> sign(b"k", "1700000000", b'{"a":1}').startswith("sha256=")
    True

    """
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class CircuitBreaker:
    """Opens when more than `limit` suspensions happen within `window` seconds (wall clock).

    Examples
    --------
    >>> breaker = CircuitBreaker(limit=2, window=60)
    >>> [breaker.allow(now) for now in (0, 1, 2, 3)]
    [True, True, False, False]
    >>> breaker.allow(100)  # stays open: a person has to look
    False

    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self.recent: deque[float] = deque()
        self.open = False
        self.announced = False

    def allow(self, now: float) -> bool:
        if self.open:
            return False
        while self.recent and self.recent[0] < now - self.window:
            self.recent.popleft()
        if len(self.recent) >= self.limit:
            self.open = True
            return False
        self.recent.append(now)
        return True


class ScimClient:
    """Just enough SCIM 2.0 to find a user by userName and set ``active``."""

    def __init__(self, base_url: str, token: str | None, session: aiohttp.ClientSession) -> None:
        self.base = base_url.rstrip("/")
        self.headers = {"Content-Type": "application/scim+json", **({"Authorization": f"Bearer {token}"} if token else {})}
        self.session = session

    async def set_active(self, user: str, active: bool) -> str:
        async with self.session.get(f"{self.base}/Users", params={"filter": f'userName eq "{_scim_quote(user)}"'},
                                    headers=self.headers) as response:
            response.raise_for_status()
            found = (await response.json(content_type=None)).get("Resources", [])
        if not found:
            raise LookupError(f"no SCIM user with userName {user!r}")
        scim_id = found[0]["id"]
        patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                 "Operations": [{"op": "replace", "path": "active", "value": active}]}
        async with self.session.patch(f"{self.base}/Users/{scim_id}", data=orjson.dumps(patch),
                                      headers=self.headers) as response:
            response.raise_for_status()
        return scim_id


def _scim_quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


class Responder:
    """Runs the hooks for one alert at a time: webhook, then SCIM, each step recorded in vigil.actions."""

    def __init__(self, settings: Settings, topics: dict[str, faust.TopicT], counters: WorkerCounters,
                 controls: Controls, pseudonyms: Pseudonyms) -> None:
        self.settings = settings
        self.controls = controls
        self.pseudonyms = pseudonyms
        self.topics = topics
        self.counters = counters
        self.threshold = BANDS.index(settings.respond_at)
        self.breaker = CircuitBreaker(settings.breaker_max, settings.breaker_minutes * 60)
        self.secret = settings.webhook_secret.get_secret_value().encode() if settings.webhook_secret else None
        self.allowlist = set(settings.never_suspend)

    def wants(self, alert: AlertRecord) -> bool:
        """Whether the alert is one automation acts on (never on Vigil's own alerts about automation)."""
        return alert.user != SYSTEM_USER and BANDS.index(alert.band) >= self.threshold

    async def respond(self, alert: AlertRecord, session: aiohttp.ClientSession, scim: ScimClient | None,
                      approved_by: str = "") -> None:
        if self.settings.webhook_url and not approved_by:  # the webhook went out when the alert first came
            if self.settings.dry_run:
                await self.record(alert, "webhook", "skipped", "dry-run")
            else:
                await self.attempt(alert, "webhook", lambda: self.post_webhook(session, alert))
        if scim is not None:
            await self.suspend(alert, scim, approved_by)

    async def suspend(self, alert: AlertRecord, scim: ScimClient, approved_by: str = "") -> None:
        settings, user, switch = self.settings, alert.user, self.controls.automation
        if user in self.allowlist:
            await self.record(alert, "scim", "skipped", "never-suspend allowlist")
        elif settings.dry_run:
            await self.record(alert, "scim", "skipped", "dry-run: would deactivate")
        elif switch.paused:
            await self.record(alert, "scim", "skipped", f"automation paused by {switch.by}: {switch.reason}")
        elif alert.families == [VERDICT_FAMILY] and not approved_by:
            await self.record(alert, "scim", "awaiting-approval", "rests on a person's verdict alone: a second "
                              "person with the responder role approves it (POST /api/approvals)")
        elif not self.breaker.allow(time.time()):
            await self.record(alert, "scim", "skipped", "circuit breaker open")
            if not self.breaker.announced:
                self.breaker.announced = True
                await self.system_alert(f"automation stopped: more than {settings.breaker_max} suspensions in "
                                        f"{settings.breaker_minutes:g} min; review, then restart the worker")
        else:
            if approved_by:
                await self.record(alert, "scim", "approved", f"approved by {approved_by}")
            await self.attempt(alert, "scim", lambda: self.deactivate(scim, user))

    async def attempt(self, alert: AlertRecord, hook: str, call) -> None:
        """Run `call` with retries and exponential backoff; dead-letter it when every try failed."""
        await self.record(alert, hook, "requested", "")
        error, tries = "", self.settings.hook_attempts
        for n in range(1, tries + 1):
            try:
                detail = await call()
                await self.record(alert, hook, "succeeded", detail, n)
                return
            except (aiohttp.ClientError, asyncio.TimeoutError, LookupError, OSError) as e:
                error = f"{type(e).__name__}: {e}"
                await self.record(alert, hook, "failed", error, n)
                if n < tries:
                    await asyncio.sleep(min(0.25 * 2 ** (n - 1), 10.0))
        reason = f"{hook} failed {tries} times for alert {alert.alert_id}: {error}"
        await self.topics["deadletter"].send(key=alert.user.encode(), value=msgspec.json.encode(alert),
                                             headers=dead_letter_headers(reason, "response"))
        await self.system_alert(reason)

    async def record(self, alert: AlertRecord, hook: str, status: str, detail: str, attempt: int = 0) -> None:
        self.counters.actions[f"{hook}:{status}"] = self.counters.actions.get(f"{hook}:{status}", 0) + 1
        action = ActionRecord(action_id=f"{alert.alert_id}:{hook}", ts=time.time(), alert_id=alert.alert_id,
                              user=alert.user, hook=hook, status=status, detail=detail, attempt=attempt)
        await self.topics["actions"].send(key=alert.user.encode(), value=msgspec.json.encode(action))

    async def system_alert(self, reason: str) -> None:
        now = time.time()
        alert = AlertRecord(alert_id=f"automation:{now:.3f}", ts=now, user=SYSTEM_USER, band="critical",
                            previous="low", risk=100.0, reasons=[reason], techniques=[], families=["automation"],
                            event_id="")
        await self.topics["alerts"].send(key=SYSTEM_USER.encode(), value=msgspec.json.encode(alert))

    async def post_webhook(self, session: aiohttp.ClientSession, alert: AlertRecord) -> str:
        if self.settings.webhook_pseudonyms:
            alert = msgspec.structs.replace(alert, user=self.pseudonyms.of(alert.user))
        body = orjson.dumps(FORMATS[self.settings.webhook_format](alert))
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "Idempotency-Key": alert.alert_id,
                   "X-Vigil-Timestamp": stamp, "X-Vigil-Signature": sign(self.secret, stamp, body)}
        async with session.post(self.settings.webhook_url, data=body, headers=headers) as response:
            response.raise_for_status()
            return f"HTTP {response.status}"

    @staticmethod
    async def deactivate(scim: ScimClient, user: str) -> str:
        scim_id = await scim.set_active(user, False)
        return f"SCIM user {scim_id} active=false"


async def reinstate(settings: Settings, user: str, by: str) -> ActionRecord:
    """Reactivate `user` at the identity provider (SCIM active=true); the action to record. Raises
    aiohttp.ClientError, LookupError or OSError when the provider does not do it."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        token = settings.scim_token.get_secret_value() if settings.scim_token else None
        scim_id = await ScimClient(settings.scim_url, token, session).set_active(user, True)
    now = time.time()
    return ActionRecord(action_id=f"reinstate:{user}:{now:.0f}", ts=now, alert_id="", user=user, hook="scim",
                        status="succeeded", detail=f"SCIM user {scim_id} active=true (reinstated by {by})", attempt=1)


def register(app: faust.App, settings: Settings, topics: dict[str, faust.TopicT], inbox: Inbox,
             counters: WorkerCounters, controls: Controls, pseudonyms: Pseudonyms) -> None:
    responder = Responder(settings, topics, counters, controls, pseudonyms)
    scim_token = settings.scim_token.get_secret_value() if settings.scim_token else None

    @app.agent(topics["alerts"], name="route-responses")
    async def route_responses(stream: faust.StreamT) -> None:
        async for event in stream.events():
            alert = await inbox.decode(event, AlertRecord, dead_letter=False)  # the sink keeps it
            if alert is not None and responder.wants(alert):
                await topics["responses"].send(key=event.message.key, value=event.message.value)

    @app.agent(topics["responses"], name="respond")
    async def respond(stream: faust.StreamT) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            scim = ScimClient(settings.scim_url, scim_token, session) if settings.scim_url else None
            async for event in stream.events():
                if (alert := await inbox.decode(event, AlertRecord)) is not None:
                    approved_by = dict(event.message.headers or {}).get(APPROVED_BY, b"").decode(errors="replace")
                    await responder.respond(alert, session, scim, approved_by)
